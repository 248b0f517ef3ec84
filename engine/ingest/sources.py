"""Opening inputs: files, gzip, stdin, BOM; the first line is kept for format detection.

Everything is read as bytes line by line, so a file of millions of events is
never held in memory twice and a stray invalid byte spoils only its own line.
"""

from __future__ import annotations

import gzip
import io
import itertools
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import BinaryIO, cast

from engine.errors import InputError

__all__ = ["READ_ERRORS", "cannot_read", "display_name", "open_lines", "read_error_reason", "replayable_stdin"]

_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"

# What a broken or truncated file raises while being read.
READ_ERRORS = (OSError, EOFError, zlib.error)


def display_name(path: str) -> str:
    """How a path is shown in problems and in the ``file`` column."""
    if path == "-":
        return "<stdin>"
    # Undecodable file names (surrogate-escaped by the OS layer) cannot go into arrow.
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class _Relay(io.RawIOBase):
    """Reads a stream it does not own (closing the relay leaves it open), copying what it reads if asked."""

    def __init__(self, stream: BinaryIO, copy: BinaryIO | None = None) -> None:
        super().__init__()
        self._stream = stream
        self._copy = copy

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        read1 = getattr(self._stream, "read1", None)
        data = read1(len(buffer)) if read1 is not None else self._stream.read(len(buffer))
        count = len(data)
        buffer[:count] = data
        if self._copy is not None and count:
            self._copy.write(data)
        return count


def _buffered(stream: BinaryIO, copy: BinaryIO | None = None) -> BinaryIO:
    return cast(BinaryIO, io.BufferedReader(_Relay(stream, copy), 1 << 16))


def _open_binary(path: str, stdin: BinaryIO | None, stack: ExitStack) -> BinaryIO:
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        if not hasattr(stream, "peek"):
            stream = _buffered(stream)
        return stream
    return cast(BinaryIO, stack.enter_context(open(path, "rb")))


def replayable_stdin(stdin: BinaryIO | None, keep: ExitStack) -> tuple[BinaryIO, Callable[[], BinaryIO]]:
    """stdin to read now, and how to read its bytes again from the same start later.

    The loader reads an input a second time only to fetch the few records it
    must reject after the fact (two records sharing an id, see ``loader``);
    files are simply opened again. A seekable stdin (a redirected file, a
    BytesIO) is sought back; a pipe is copied, as it is read, to an anonymous
    temporary file that lives until ``keep`` is closed.
    """
    stream = stdin if stdin is not None else sys.stdin.buffer
    try:
        offset = stream.tell() if stream.seekable() else -1
    except (OSError, ValueError):
        offset = -1
    if offset >= 0:

        def seek_back() -> BinaryIO:
            stream.seek(offset)
            return stream

        return stream, seek_back
    copy = cast(BinaryIO, keep.enter_context(tempfile.TemporaryFile()))  # noqa: SIM115 (closed with keep)

    def from_copy() -> BinaryIO:
        copy.seek(0)
        return copy

    return _buffered(stream, copy), from_copy


def open_lines(path: str, stdin: BinaryIO | None, stack: ExitStack) -> tuple[bytes, Iterator[bytes]]:
    """The input's first non-blank line (b"" if none) and all its physical lines as bytes (BOM removed).

    Compression is recognised by the gzip magic bytes, not trusted to the
    name. The first line lets the reader registry tell formats apart when
    the name does not.
    """
    try:
        stream = _open_binary(path, stdin, stack)
        head = cast(io.BufferedReader, stream).peek(2)[:2]
        if head == _GZIP_MAGIC:
            unzipped = gzip.GzipFile(fileobj=stream, mode="rb")
            stack.enter_context(unzipped)
            stream = cast(BinaryIO, io.BufferedReader(cast(io.RawIOBase, unzipped), 1 << 16))
        lines: Iterator[bytes] = iter(stream)
        # Pull the leading blank lines (and the first real one) to strip the
        # BOM and keep the first line for detection; then put them back in front.
        pending: list[bytes] = []
        first = b""
        for line in lines:
            if not pending and line.startswith(_BOM):
                line = line[len(_BOM) :]
            pending.append(line)
            if not line.isspace() and line:
                first = line
                break
    except READ_ERRORS as exc:
        raise cannot_read(path, exc) from exc
    return first, itertools.chain(pending, lines)


def cannot_read(path: str, exc: BaseException) -> InputError:
    """The error for an input that failed while being opened or read."""
    return InputError.at(display_name(path), f"cannot read: {read_error_reason(exc)}")


def read_error_reason(exc: BaseException) -> str:
    """The OS's own words for an I/O failure ('No such file or directory'), else the error text."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
