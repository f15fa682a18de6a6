"""``python -m flai``: the ``flai`` command."""

from flai.cli import main

raise SystemExit(main())
