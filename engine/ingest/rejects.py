"""The rejects file: every refused record with its reason, lossless, ready to be fixed and fed back."""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Sequence

from engine.events import utf8_ok
from engine.ingest.results import InputProblem

__all__ = ["reject_line", "write_rejects"]

_LINE_BREAKS = {ord(char): f"\\u{ord(char):04x}" for char in "\x85\u2028\u2029"}


def reject_line(problem: InputProblem) -> str:
    """One line of the rejects file (with its newline)."""
    record = {
        "file": problem.path,
        "line": problem.line,
        "reason": problem.message,
        "raw": problem.raw,
        "raw_b64": base64.b64encode(problem.raw_bytes()).decode("ascii"),
    }
    text = json.dumps(record, ensure_ascii=False)
    if not utf8_ok(text):  # a lone surrogate in a message: escaped, so the file stays UTF-8
        text = json.dumps(record)
    # Characters some readers take for line breaks (Python's str.splitlines does) are
    # escaped too, so that one line of the file is always one record.
    return text.translate(_LINE_BREAKS) + "\n"


def write_rejects(path: str, problems: Sequence[InputProblem]) -> None:
    """Write one JSON object per refused record, in input order; ``-`` writes to stdout.

    Each object has, in this order:

    - ``file``, ``line``: where the record was (``<stdin>`` for stdin; the
      record's first physical line, 1-based; a record from memory: its position);
    - ``reason``: every problem of the record, joined by ``; ``;
    - ``raw``: the record as text, without its line ending; exact whenever
      the record was valid UTF-8, else each byte that was not is written as
      the four characters ``\\xNN`` (so it is for reading, not for restoring);
    - ``raw_b64``: the record's bytes exactly as read, without its line ending
      (``\\n`` or ``\\r\\n``), base64: always present and always exact. (A byte
      order mark that started the file and gzip compression are not part of
      any record.) A CSV record is its row, over several lines when a quoted
      cell spans them; its header is not included. A record given from
      memory is its JSON text.

    To feed rejects back, fix them and write the records out again, one per
    line, e.g. ``jq -r .raw rejects.jsonl`` (when ``raw`` is exact) or
    ``python -c 'import base64,json,sys; [sys.stdout.buffer.write(base64.b64decode(json.loads(l)["raw_b64"]) + b"\\n") for l in sys.stdin]' < rejects.jsonl``
    (byte for byte). Rejects from a CSV input need its header line in front.
    The file is UTF-8 with ``\\n`` line endings, one record per line (U+0085,
    U+2028 and U+2029 are written as escapes); no problems: an empty file.
    """
    out_lines = [reject_line(problem) for problem in problems]
    if path == "-":
        binary = getattr(sys.stdout, "buffer", None)
        if binary is None:  # a text-only stand-in for stdout
            sys.stdout.writelines(out_lines)
            return
        sys.stdout.flush()  # the UTF-8 bytes whatever the terminal's encoding
        binary.write("".join(out_lines).encode("utf-8"))
        binary.flush()
        return
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.writelines(out_lines)
