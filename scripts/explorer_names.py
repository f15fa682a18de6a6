"""Display names of a scenario's parties, for ``flai explorer --names``.

Usage::

    flai run --rpc http://127.0.0.1:PORT scripts/explorer_names.py main configs/scenario.yaml names.json

Writes ``{address: name}`` for the accounts :func:`flai.chain.lifecycle_roles` gives the
scenario's parties on the connected chain (deployer, operator, requester, hospitals,
validators, external users, platform members), so the explorer shows ``st-mary`` instead of
an address. Names are a display aid only; the explorer reads everything else from the chain.
"""

from __future__ import annotations

import json
from pathlib import Path

from brownie import accounts

from flai.chain import lifecycle_roles
from flai.pipeline.config import load_config


def main(config_path: str = "configs/scenario.yaml", out: str = "names.json") -> dict[str, str]:
    roles = lifecycle_roles(load_config(config_path), list(accounts))
    names = {str(account.address): name for name, account in roles.parties.items()}
    names[str(roles.deployer.address)] = "deployer"
    names[str(roles.operator.address)] = "operator"
    for i, member in enumerate(roles.members):
        names[str(member.address)] = f"member-{i}"
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(names, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(names)} names to {out}")
    return names
