"""Values as text: canonical JSON for attrs/source, short renderings for messages,
and the UTF-8 test every stored string must pass."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["compact_json", "describe", "python_text", "utf8_ok"]


def utf8_ok(text: str) -> bool:
    """False when the text holds lone surrogates (from a ``\\ud800`` escape), which
    cannot be stored as UTF-8 and would break the arrow table later."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def python_text(value: object) -> str:
    """Python's own rendering of a value, for values JSON cannot show; never raises.

    Values too deep to render, or numbers with more digits than Python turns
    into text, get a short placeholder naming their type instead.
    """
    try:
        return repr(value)
    except (RecursionError, ValueError, MemoryError):
        return f"<{type(value).__name__} too deep or too large to show>"
    except Exception:  # a repr of someone else's class may raise anything
        return f"<{type(value).__name__} that cannot be shown>"


def describe(value: object) -> str:
    """Show a rejected value briefly: strings quoted, everything else as JSON."""
    if isinstance(value, str):
        text = repr(value)
    else:
        try:
            text = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError, RecursionError, MemoryError):
            text = python_text(value)
        if not utf8_ok(text):  # lone surrogates inside: show them escaped
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= 80 else text[:77] + "..."


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
# JSONEncoder.encode builds a fresh C encoder on every call; for millions of
# small attrs objects building it once is twice as fast. Same output: sorted
# keys, compact separators, no ASCII escaping, NaN/Infinity refused.
_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODE: Any = (
    _c_make_encoder(None, None, json.encoder.encode_basestring, None, ":", ",", True, False, False)
    if _c_make_encoder is not None
    else None
)


def compact_json(value: object) -> str:
    """Canonical JSON text for attrs/source, so equal objects give equal strings.

    Raises ValueError for non-finite numbers (JSON has none), for nesting too
    deep to encode, and for values JSON has no form for: other types, circular
    references, integers too long to write (possible only for records handed
    over from memory, never for parsed JSON).
    """
    try:
        if _C_ENCODE is not None:
            return "".join(_C_ENCODE(value, 0))
        return _ENCODER.encode(value)
    except RecursionError:
        raise ValueError("is nested too deeply") from None
    except TypeError:
        raise ValueError("holds a value that JSON cannot represent") from None
    except MemoryError:
        raise ValueError("is too large to store") from None
    except ValueError as exc:
        if "float" in str(exc):
            raise ValueError("holds a non-finite number (NaN or Infinity)") from None
        if "ircular" in str(exc):
            raise ValueError("holds itself (a circular reference)") from None
        raise ValueError("holds a number too long to convert") from None
