"""An on-disk content-addressed blockstore with atomic writes and verified reads.

Blocks are files named by their multihash, as in Kubo's ``flatfs`` datastore: the key is
the multihash in unpadded upper-case base32 and files are sharded into directories by
the two characters before the last one (flatfs' ``next-to-last/2``). Keying by multihash
rather than by CID means a block is stored once whatever CID version or codec names it.

Writes go to a temporary file in the destination directory that is flushed (and
``fsync``-ed unless disabled) and then moved into place with :func:`os.replace`, which is
atomic on POSIX: a reader, another process, or a crash never observes a half-written
block. Reads re-hash the bytes and raise :class:`~flai.storage.errors.IntegrityError`
naming the CID when they do not match.
"""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from multiformats import CID

from flai.storage.errors import CIDNotFoundError
from flai.storage.unixfs import verify_block

__all__ = ["Blockstore", "atomic_write"]

_SUFFIX = ".data"


def atomic_write(path: Path, data: bytes, *, fsync: bool = True) -> None:
    """Write ``data`` to ``path`` so that ``path`` is either absent/old or complete.

    The bytes go to a uniquely named temporary file in the same directory, which is then
    renamed over ``path``. On any failure the temporary file is removed and ``path`` is
    left untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise


class Blockstore:
    """Blocks on disk under ``root``, addressed by CID.

    Parameters
    ----------
    root
        Directory holding the blocks (created if missing).
    fsync
        ``fsync`` every block before it becomes visible (durable across power loss).
    """

    def __init__(self, *, root: Path, fsync: bool = True) -> None:
        self._root = Path(root)
        self._root.mkdir(parents=True, exist_ok=True)
        self._fsync = fsync

    @property
    def root(self) -> Path:
        """The directory holding the blocks."""
        return self._root

    @staticmethod
    def key(cid: CID) -> str:
        """The file key of ``cid``: its multihash in unpadded upper-case base32."""
        return base64.b32encode(bytes(cid.digest)).decode("ascii").rstrip("=")

    def path(self, cid: CID) -> Path:
        """Where the block for ``cid`` lives (whether or not it exists)."""
        key = self.key(cid)
        return self._root / key[-3:-1] / f"{key}{_SUFFIX}"

    def has(self, cid: CID) -> bool:
        """Whether a block for ``cid`` is stored (without verifying it)."""
        return self.path(cid).is_file()

    def put(self, cid: CID, data: bytes) -> bool:
        """Store ``data`` as the block of ``cid``; returns ``False`` if it was present.

        The caller vouches that ``data`` hashes to ``cid`` (see :meth:`put_verified`).
        """
        path = self.path(cid)
        if path.is_file():
            return False
        atomic_write(path, data, fsync=self._fsync)
        return True

    def put_verified(self, cid: CID, data: bytes) -> bool:
        """Like :meth:`put`, after checking that ``data`` hashes to ``cid``."""
        verify_block(cid, data)
        return self.put(cid, data)

    def get(self, cid: CID) -> bytes:
        """Return the verified block of ``cid``.

        Raises
        ------
        CIDNotFoundError
            If no block is stored for ``cid``.
        IntegrityError
            If the stored bytes do not hash to ``cid``.
        """
        try:
            data = self.path(cid).read_bytes()
        except FileNotFoundError:
            raise CIDNotFoundError(str(cid)) from None
        verify_block(cid, data)
        return data

    def size(self, cid: CID) -> int:
        """Size in bytes of the stored block of ``cid`` (not verified)."""
        try:
            return self.path(cid).stat().st_size
        except FileNotFoundError:
            raise CIDNotFoundError(str(cid)) from None

    def delete(self, cid: CID) -> bool:
        """Remove the block of ``cid``; returns ``False`` if there was none."""
        try:
            self.path(cid).unlink()
        except FileNotFoundError:
            return False
        return True

    def iter_keys(self) -> Iterator[str]:
        """Iterate over the keys (see :meth:`key`) of all stored blocks."""
        for shard in sorted(self._root.iterdir()):
            if shard.is_dir():
                for entry in sorted(shard.iterdir()):
                    if entry.name.endswith(_SUFFIX) and not entry.name.startswith("."):
                        yield entry.name[: -len(_SUFFIX)]

    def delete_key(self, key: str) -> bool:
        """Remove the block stored under ``key``; returns ``False`` if there was none."""
        try:
            (self._root / key[-3:-1] / f"{key}{_SUFFIX}").unlink()
        except FileNotFoundError:
            return False
        return True
