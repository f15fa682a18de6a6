"""An on-disk content-addressed blockstore with atomic writes and verified reads.

Blocks are files named by their multihash, as in Kubo's ``flatfs`` datastore: the key is
the multihash in unpadded upper-case base32 and files are sharded into directories by
the two characters before the last one (flatfs' ``next-to-last/2``). Keying by multihash
rather than by CID means a block is stored once whatever CID version or codec names it.

Writes go to a temporary file in the destination directory that is flushed (and
``fsync``-ed unless disabled) and then moved into place with :func:`os.replace`, which is
atomic on POSIX: a reader, another process, or a crash never observes a half-written
block. Reads re-hash the bytes and raise :class:`~flai.storage.errors.IntegrityError`
naming the CID when they do not match. A process killed between creating and renaming a
temporary file leaves it behind (``.tmp-*.partial``); :meth:`Blockstore.remove_temp_files`
sweeps them, which the local store does whenever it holds the repository's GC lock
alone (at open when no writer is active, and at every collection).
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from multiformats import CID, multihash

from flai.storage.base import BytesLike
from flai.storage.cid import cid_string, verify_block
from flai.storage.errors import CIDNotFoundError

__all__ = ["TEMP_PREFIX", "TEMP_SUFFIX", "Blockstore", "atomic_write", "remove_temp_files"]

_SUFFIX = ".data"
TEMP_PREFIX = ".tmp-"
"""Name prefix of the temporary files :func:`atomic_write` renames into place."""
TEMP_SUFFIX = ".partial"
"""Name suffix of those temporary files."""


def atomic_write(path: Path, data: BytesLike | Sequence[BytesLike], *, fsync: bool = True) -> None:
    """Write ``data`` to ``path`` so that ``path`` is either absent/old or complete.

    ``data`` is bytes or a sequence of pieces written back to back. The bytes go to a
    uniquely named temporary file in the same directory, which is then renamed over
    ``path``. On any failure the temporary file is removed and ``path`` is left untouched.
    """
    pieces = (data,) if isinstance(data, bytes | bytearray | memoryview) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            for piece in pieces:
                handle.write(piece)
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


def remove_temp_files(directory: Path) -> list[Path]:
    """Delete the :func:`atomic_write` temporary files directly inside ``directory``.

    Only safe while no writer can be between creating and renaming one (the caller holds
    the repository's GC lock exclusively).
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return removed
    for entry in entries:
        name = entry.name
        if name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX):
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                continue
            removed.append(Path(entry.path))
    return removed


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
        return Blockstore.multihash_key(bytes(cid.digest))

    @staticmethod
    def multihash_key(digest: bytes) -> str:
        """The file key of a multihash (see :meth:`key`)."""
        return base64.b32encode(digest).decode("ascii").rstrip("=")

    @staticmethod
    def key_multihash(key: str) -> bytes:
        """The multihash a file key names (the inverse of :meth:`multihash_key`)."""
        return base64.b32decode(key + "=" * (-len(key) % 8))

    @staticmethod
    def key_cid(key: str) -> str:
        """A key as Kubo prints blockstore keys: the CIDv1 ``raw`` of the multihash."""
        return cid_string(b"\x01\x55" + Blockstore.key_multihash(key))

    def path(self, cid: CID) -> Path:
        """Where the block for ``cid`` lives (whether or not it exists)."""
        return self.key_path(self.key(cid))

    def key_path(self, key: str) -> Path:
        """Where the block stored under ``key`` lives (whether or not it exists)."""
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

    def put_multihash(self, digest: bytes, pieces: Sequence[BytesLike]) -> bool:
        """Store the block whose multihash is ``digest`` from its ``pieces`` (written back
        to back); returns ``False`` if it was present. The caller vouches for the hash."""
        path = self.key_path(self.multihash_key(digest))
        if path.is_file():
            return False
        atomic_write(path, pieces, fsync=self._fsync)
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
            self.key_path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    def read_key(self, key: str) -> bytes:
        """The stored bytes under ``key``, unverified.

        Raises
        ------
        CIDNotFoundError
            If nothing is stored under ``key`` (named by its key).
        """
        try:
            return self.key_path(key).read_bytes()
        except FileNotFoundError:
            raise CIDNotFoundError(key) from None

    def check_key(self, key: str, data: bytes) -> str | None:
        """Why ``data`` is not the block named by ``key``, or ``None`` if it is."""
        digest = self.key_multihash(key)
        if digest[:2] == b"\x12\x20":
            matches = hashlib.sha256(data).digest() == digest[2:]
        else:
            try:
                matches = (
                    bytes(multihash.digest(data, multihash.from_digest(digest).name)) == digest
                )
            except Exception as exc:  # noqa: BLE001 - unknown or malformed multihash
                return f"cannot verify its hash: {exc}"
        return None if matches else "block bytes do not hash to the CID"

    def remove_temp_files(self) -> list[Path]:
        """Delete leftover temporary files in every shard (see :func:`remove_temp_files`)."""
        removed = remove_temp_files(self._root)
        for shard in os.scandir(self._root):
            if shard.is_dir() and not shard.name.startswith("."):
                removed.extend(remove_temp_files(Path(shard.path)))
        return removed
