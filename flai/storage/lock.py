"""The repository's GC lock: adds and pins share it, garbage collection takes it alone.

As Kubo's ``GCLocker``: an add writes its blocks before the pin that makes them
reachable exists, so a collection running in between would delete them. Every writer
(add, pin, block put) holds the lock *shared* from its first block to its pin; a
collection (and anything else that deletes blocks or sweeps temporary files) holds it
*exclusively*, so it runs only when no writer is between a block and its pin.

The lock is an ``flock`` on the repository directory, so it holds between threads and
between processes that open the same repository (each acquisition opens its own file
description; ``flock`` locks of different descriptions conflict even within one process).
Within a process a waiting collection also stops new writers from entering (a turnstile),
so a steady stream of adds cannot starve it; across processes ``flock`` gives no such
preference.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["GCLock"]


class GCLock:
    """Shared (pin) and exclusive (GC) locking of the repository at ``path``.

    Parameters
    ----------
    path
        The repository directory (must exist).
    """

    def __init__(self, *, path: Path) -> None:
        self._path = Path(path)
        self._turnstile = threading.Lock()
        self._local = threading.local()

    @contextmanager
    def pin_lock(self) -> Iterator[None]:
        """Hold the lock shared (re-entrant within a thread) for the duration."""
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth -= 1
            return
        with self._turnstile:  # wait behind a collection that is waiting or running
            pass
        fd = self._acquire(fcntl.LOCK_SH)
        self._local.depth = 1
        try:
            yield
        finally:
            self._local.depth = 0
            os.close(fd)  # closing the last descriptor releases the flock

    @contextmanager
    def gc_lock(self) -> Iterator[None]:
        """Hold the lock exclusively: no add or pin runs meanwhile, in any process."""
        if getattr(self._local, "depth", 0):
            raise RuntimeError("the GC lock cannot be taken while this thread holds a pin lock")
        with self._turnstile:
            fd = self._acquire(fcntl.LOCK_EX)
            try:
                yield
            finally:
                os.close(fd)

    @contextmanager
    def try_gc_lock(self) -> Iterator[bool]:
        """Take the lock exclusively if nobody holds it; yields whether it was taken."""
        if getattr(self._local, "depth", 0) or not self._turnstile.acquire(blocking=False):
            yield False
            return
        try:
            try:
                fd = self._acquire(fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                os.close(fd)
        finally:
            self._turnstile.release()

    def _acquire(self, operation: int) -> int:
        fd = os.open(self._path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, operation)
        except BaseException:
            os.close(fd)
            raise
        return fd
