"""Where a live stream comes from: stdin, a growing file, or a directory where JSONL files land.

Every source hands out :class:`Batch` es of complete lines, each with its
1-based line number and the byte offset just after it, so that a restart can
resume a file exactly where the last acknowledged line ended. A batch holds
whatever was readily available (up to ``max_lines``): a quiet pipe gives
small batches at once instead of waiting to fill a big one, while a busy
pipe or a file being replayed is read on for as long as more is ready at
once, so each batch is big (a pipe hands out 64 KB at a time, a few hundred
lines, and each batch has a cost of its own: a transaction, a look-up of its
ids). Only whole lines are handed out while a file may
still grow; a last line without a newline is taken once the input is known
to have ended.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

__all__ = ["Batch", "Offsets", "directory_batches", "file_batches", "stream_batches"]

_READ = 1 << 20  # bytes read at a time
DEFAULT_MAX_LINES = 20_000


@dataclass
class Batch:
    """Complete lines of one input: (line number, bytes without the line end), and where reading stopped."""

    key: str  # the input as given (a path, or '-'): the key of its offset in the state
    name: str  # as shown in problems and in the ``file`` column
    lines: list[tuple[int, bytes]] = field(default_factory=list)
    offset: int = 0  # bytes of the input consumed once these lines are taken
    line: int = 0  # the input's last line number once these lines are taken


Offsets = dict[str, tuple[int, int]]
"""Per input key: (byte offset, lines read) already acknowledged."""


class _Lines:
    """Splits bytes of one input into numbered lines, keeping an unfinished last line for later."""

    def __init__(self, key: str, name: str, offset: int = 0, line: int = 0) -> None:
        self.key, self.name = key, name
        self.offset, self.line = offset, line
        self._chunks: list[bytes] = []
        self._complete = 0  # newlines in the chunks

    @property
    def pending(self) -> bytes:
        """What was read and not yet handed out."""
        if len(self._chunks) > 1:
            self._chunks = [b"".join(self._chunks)]
        return self._chunks[0] if self._chunks else b""

    def add(self, data: bytes) -> int:
        """Keep bytes for the next :meth:`take`; the complete lines now pending."""
        if data:
            self._chunks.append(data)
            self._complete += data.count(b"\n")
        return self._complete

    def take(self, data: bytes, max_lines: int, *, final: bool = False, full_only: bool = False) -> Iterator[Batch]:
        """Batches of the complete lines in what was read so far (and, when ``final``, the rest).

        ``full_only``: only batches of ``max_lines``; the lines after the last
        full one stay pending (more is about to be read).
        """
        self.add(data)
        buffer = self.pending
        keep = self._complete % max_lines if full_only and not final else 0
        batch = Batch(self.key, self.name, offset=self.offset, line=self.line)
        start = 0
        for _ in range(self._complete - keep):
            end = buffer.find(b"\n", start)
            self.line += 1
            raw = buffer[start:end]
            batch.lines.append((self.line, raw[:-1] if raw.endswith(b"\r") else raw))
            self.offset += end + 1 - start
            start = end + 1
            if len(batch.lines) >= max_lines:
                batch.offset, batch.line = self.offset, self.line
                yield batch
                batch = Batch(self.key, self.name, offset=self.offset, line=self.line)
        rest = buffer[start:]
        self._chunks = [rest] if rest else []
        self._complete = keep
        if final and rest:
            self.line += 1
            batch.lines.append((self.line, rest[:-1] if rest.endswith(b"\r") else rest))
            self.offset += len(rest)
            self._chunks = []
        if batch.lines:
            batch.offset, batch.line = self.offset, self.line
            yield batch


def _fd(stream: BinaryIO) -> int:
    """The stream's file descriptor, or -1 when it has none (an in-memory stream)."""
    try:
        return stream.fileno()
    except (OSError, AttributeError, ValueError):
        return -1


def _read_some(stream: BinaryIO) -> bytes:
    """Whatever the stream has now (blocking only while it has nothing): a pipe's ``os.read``, else ``read1``."""
    fd = _fd(stream)
    if fd >= 0:
        return os.read(fd, _READ)
    read1 = getattr(stream, "read1", None)
    return bytes(read1(_READ)) if read1 is not None else bytes(stream.read(_READ))


def stream_batches(
    stream: BinaryIO, *, key: str = "-", name: str = "<stdin>", line: int = 0, max_lines: int = DEFAULT_MAX_LINES
) -> Iterator[Batch]:
    """Lines of a stream read until it ends (stdin): nothing can be sought back, so only line numbers carry on."""
    lines = _Lines(key, name, 0, line)
    while True:
        data = _read_some(stream)
        if not data:
            yield from lines.take(b"", max_lines, final=True)
            return
        ended = False
        while lines.add(data) < max_lines and _ready(stream):
            data = _read_some(stream)
            if not data:
                ended = True
                break
        yield from lines.take(b"", max_lines, final=ended)
        if ended:
            return


def _ready(stream: BinaryIO) -> bool:
    """Whether more can be read at once, without waiting (a stream without a descriptor: always)."""
    fd = _fd(stream)
    if fd < 0:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], 0)
    except (OSError, ValueError):
        return False
    return bool(readable)


def file_batches(
    path: str,
    *,
    offsets: Offsets,
    follow: bool = False,
    poll: float = 0.5,
    idle_exit: float | None = None,
    max_lines: int = DEFAULT_MAX_LINES,
    warn: Callable[[str], None] = lambda _: None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Batch]:
    """Lines of a file from its acknowledged offset; with ``follow``, keep reading what is appended.

    Following ends after ``idle_exit`` seconds without new bytes (None: never).
    A file that shrinks below what was read was replaced or truncated: that is
    said and it is read again from its start, as a new input would be.
    """
    offset, line = offsets.get(path, (0, 0))
    reader = _Lines(path, path, offset, line)
    idle = 0.0
    with open(path, "rb") as handle:
        handle.seek(offset)
        while True:
            data = handle.read(_READ)
            if data:
                idle = 0.0
                pending = reader.add(data)
                while len(data) == _READ and pending < max_lines:  # more is there: a whole batch of it
                    data = handle.read(_READ)
                    pending = reader.add(data)
                yield from reader.take(b"", max_lines, full_only=len(data) == _READ)
                continue
            yield from reader.take(b"", max_lines)  # lines held back for a full batch: nothing more came
            if not follow:
                yield from reader.take(b"", max_lines, final=True)
                return
            if os.stat(path).st_size < reader.offset:
                warn(f"{path} shrank below the {reader.offset:,} bytes already read; reading it again from its start")
                handle.seek(0)
                reader = _Lines(path, path, 0, 0)
                continue
            if idle_exit is not None and idle >= idle_exit:
                yield from reader.take(b"", max_lines, final=True)
                return
            sleep(poll)
            idle += poll


def _landed(directory: str) -> list[str]:
    """The JSONL files in a directory, in name order (producers name them so: a timestamp or sequence number)."""
    names = [n for n in os.listdir(directory) if n.endswith((".jsonl", ".ndjson")) and not n.startswith(".")]
    return [os.path.join(directory, n) for n in sorted(names)]


def directory_batches(
    directory: str,
    *,
    offsets: Offsets,
    follow: bool = False,
    poll: float = 0.5,
    idle_exit: float | None = None,
    max_lines: int = DEFAULT_MAX_LINES,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Batch]:
    """Lines of each JSONL file in the directory, in name order, each from its acknowledged offset.

    A file is read as far as its last complete line on every pass, so a file
    still being written is picked up where it was left. Without ``follow``
    one pass is made over the files present (their unfinished last lines
    taken as they are); with it, the directory is watched for new files and
    for appends until ``idle_exit`` seconds pass with neither.
    """
    readers: dict[str, _Lines] = {}
    idle = 0.0
    while True:
        grew = False
        for path in _landed(directory):
            reader = readers.get(path)
            if reader is None:
                offset, line = offsets.get(path, (0, 0))
                reader = readers[path] = _Lines(path, path, offset, line)
            try:
                with open(path, "rb") as handle:
                    handle.seek(reader.offset + len(reader.pending))
                    data = handle.read()
            except FileNotFoundError:  # moved away between the listing and the read
                continue
            if data:
                grew = True
                yield from reader.take(data, max_lines)
        if not follow or (not grew and idle_exit is not None and idle >= idle_exit):
            for reader in readers.values():
                yield from reader.take(b"", max_lines, final=True)
            return
        if grew:
            idle = 0.0
        else:
            sleep(poll)
            idle += poll
