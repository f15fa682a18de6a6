"""Streaming import: a file or a stream of any size is imported in bounded memory, and
however the bytes arrive (one piece, odd pieces, short reads) the CID is the same."""

from __future__ import annotations

import hashlib
import io
import random
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from flai.storage import ImportOptions, LocalStore, import_bytes
from flai.storage.unixfs import DEFAULT_CHUNK_SIZE, DagBuilder, import_stream

MIB = 1 << 20


class _Generated(io.RawIOBase):
    """``size`` pseudo-random bytes made on demand: byte ``i`` is ``pattern[i % len]``
    for a random pattern whose length is no multiple of the chunk size, so no two chunks
    of the stream are equal and nothing but the pattern is held."""

    def __init__(self, *, size: int, seed: int, max_read: int | None = None) -> None:
        self._pattern = memoryview(random.Random(seed).randbytes(MIB + 4099))
        self._size = size
        self._position = 0
        self._max_read = max_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        count = min(len(view), self._size - self._position)
        if self._max_read is not None:
            count = min(count, self._max_read)
        filled = 0
        period = len(self._pattern)
        while filled < count:
            offset = (self._position + filled) % period
            take = min(period - offset, count - filled)
            view[filled : filled + take] = self._pattern[offset : offset + take]
            filled += take
        self._position += count
        return count


def _pieces(source: _Generated, sizes: list[int]) -> Iterator[bytearray]:
    """The stream as fresh buffers of the given sizes, in turn."""
    index = 0
    while True:
        piece = bytearray(sizes[index % len(sizes)])
        count = source.readinto(memoryview(piece))
        if not count:
            return
        del piece[count:]
        yield piece
        del piece
        index += 1


def _peak_traced(run: object) -> tuple[object, int]:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        result = run()  # type: ignore[operator]
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    return result, peak


@pytest.mark.parametrize("version", [1, 0])
def test_a_few_hundred_mib_stream_imports_in_bounded_memory(version: int) -> None:
    size = 320 * MIB + 12_345
    options = ImportOptions(cid_version=version)

    file_source = _Generated(size=size, seed=7)
    largest = 3 * MIB - 7
    pieces_source = _pieces(_Generated(size=size, seed=7), [MIB + 1, 100_003, largest])

    from_file, file_peak = _peak_traced(lambda: import_stream(file_source, options=options))
    from_pieces, pieces_peak = _peak_traced(lambda: import_stream(pieces_source, options=options))

    assert from_file.file_size == from_pieces.file_size == size  # type: ignore[attr-defined]
    assert from_file.cid == from_pieces.cid  # type: ignore[attr-defined]
    # One chunk buffer plus the link lists of the tree; the input is never held.
    assert file_peak < MIB, file_peak
    # Plus the stream's own pieces: the one being made and the one just consumed.
    assert pieces_peak < MIB + 2 * largest, pieces_peak


def test_local_store_add_streams_to_disk_in_bounded_memory(tmp_path: Path) -> None:
    size = 96 * MIB + 3
    store = LocalStore(root=tmp_path / "repo", fsync=False)
    source = _Generated(size=size, seed=11)

    result, peak = _peak_traced(lambda: store.add(source))

    expected = hashlib.sha256()
    reference = _Generated(size=size, seed=11)
    while piece := reference.read(MIB):
        expected.update(piece)
    read_back = hashlib.sha256()
    for chunk in store.get_stream(str(result.cid)):  # type: ignore[attr-defined]
        read_back.update(chunk)
    assert read_back.digest() == expected.digest()
    assert peak < MIB, peak


@pytest.mark.parametrize("version", [1, 0])
def test_short_reads_odd_pieces_and_one_piece_agree(version: int) -> None:
    size = 3 * DEFAULT_CHUNK_SIZE + DEFAULT_CHUNK_SIZE // 2
    data = _Generated(size=size, seed=3).read(size)
    options = ImportOptions(cid_version=version)

    whole = import_bytes(data, options=options).cid
    short_reads = import_stream(_Generated(size=size, seed=3, max_read=1000), options=options)
    pieces = import_stream(_pieces(_Generated(size=size, seed=3), [1, 7, 65_537]), options=options)
    buffered = import_stream(io.BufferedReader(_Generated(size=size, seed=3)), options=options)

    assert short_reads.cid == pieces.cid == buffered.cid == whole


def test_write_does_not_keep_the_callers_buffer() -> None:
    """The builder copies what it must keep (a chunk's unfinished tail), so a caller may
    reuse its buffer right after ``write``."""
    data = random.Random(4).randbytes(DEFAULT_CHUNK_SIZE + 100)
    buffer = bytearray(data)
    builder = DagBuilder()

    builder.write(buffer)
    buffer[:] = bytes(len(buffer))  # overwrite the caller's buffer

    assert builder.finish().cid == import_bytes(data).cid


def test_non_bytes_from_an_iterable_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="str"):
        import_stream(iter([b"ok", "not bytes"]))  # type: ignore[list-item]
