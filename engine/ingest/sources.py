"""Opening inputs: files, gzip, stdin, and deciding JSONL versus CSV.

Everything is read as bytes line by line, so a file of millions of events is
never held in memory twice and a stray invalid byte spoils only its own line.
"""

from __future__ import annotations

import gzip
import io
import itertools
import os
import sys
import zlib
from collections.abc import Iterator
from contextlib import ExitStack
from typing import BinaryIO, Literal, cast

from engine.ingest.results import InputError

__all__ = ["READ_ERRORS", "Format", "display_name", "open_lines", "read_error_reason"]

Format = Literal["jsonl", "csv"]

_EXTENSIONS: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
}
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


def _format_from_name(path: str) -> Format | None:
    name = path.lower()
    name = name.removesuffix(".gz")
    return _EXTENSIONS.get(os.path.splitext(name)[1])


def _open_binary(path: str, stdin: BinaryIO | None, stack: ExitStack) -> BinaryIO:
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        if not hasattr(stream, "peek"):
            stream = cast(BinaryIO, io.BufferedReader(cast(io.RawIOBase, stream)))
        return stream
    return cast(BinaryIO, stack.enter_context(open(path, "rb")))


def open_lines(path: str, stdin: BinaryIO | None, stack: ExitStack) -> tuple[Format, Iterator[bytes]]:
    """The input's format and its physical lines as bytes (BOM removed).

    Compression is recognised by the gzip magic bytes, not trusted to the
    name; the format comes from the extension (ignoring ``.gz``) or, for stdin
    and unknown extensions, from the first non-blank character.
    """
    shown = display_name(path)
    try:
        stream = _open_binary(path, stdin, stack)
        head = cast(io.BufferedReader, stream).peek(2)[:2]
        if head == _GZIP_MAGIC:
            unzipped = gzip.GzipFile(fileobj=stream, mode="rb")
            stack.enter_context(unzipped)
            stream = cast(BinaryIO, io.BufferedReader(cast(io.RawIOBase, unzipped), 1 << 16))
        lines: Iterator[bytes] = iter(stream)
        # Pull the leading blank lines (and the first real one) to strip the
        # BOM and, when needed, sniff the format; then put them back in front.
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
        raise InputError(f"{shown}: cannot read: {read_error_reason(exc)}") from exc
    fmt = _format_from_name(path) if path != "-" else None
    if fmt is None:
        fmt = "jsonl" if first.lstrip()[:1] == b"{" else "csv"
    return fmt, itertools.chain(pending, lines)


def read_error_reason(exc: BaseException) -> str:
    """The OS's own words for an I/O failure ('No such file or directory'), else the error text."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
