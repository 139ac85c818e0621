"""The one way faisceau writes JSON for others to read: valid JSON, one line when asked, for
any value the store can hold.

- NaN and the infinities are not JSON: they are written ``null``.
- A lone surrogate (``"\\ud800"`` read from outside) cannot be encoded in UTF-8: it is
  written U+FFFD, the replacement character.
- U+2028, U+2029 and U+0085 are line ends to many readers (Python's ``str.splitlines``,
  some JSON-lines tools, JavaScript before ES2019): they are written as ``\\u`` escapes, so
  that a JSON line stays one line whatever an ad's text holds. Control characters, NUL
  included, are escaped by JSON itself.

``dumps`` gives the bytes; ``line`` adds the newline of a JSON-lines record.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import orjson

# In UTF-8 these byte sequences only occur as the characters themselves, and in JSON text
# characters only occur inside strings, where the escape means the same.
_LINE_ENDS = {b"\xe2\x80\xa8": b"\\u2028", b"\xe2\x80\xa9": b"\\u2029", b"\xc2\x85": b"\\u0085"}
_LINE_END = re.compile(b"|".join(_LINE_ENDS))
_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean(value: Any) -> Any:
    """``value`` with its lone surrogates replaced and non-finite floats as None."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def escape_line_ends(data: bytes) -> bytes:
    """JSON text with U+2028, U+2029 and U+0085 written as escapes (same meaning)."""
    return _LINE_END.sub(lambda m: _LINE_ENDS[m[0]], data) if _LINE_END.search(data) else data


def dumps(value: Any, *, indent: bool = False,
          default: Callable[[Any], Any] | None = None) -> bytes:
    """``value`` as UTF-8 JSON (orjson: NaN and infinities as ``null``), lone surrogates
    replaced, line separators escaped; ``indent`` for two-space indentation."""
    option = orjson.OPT_INDENT_2 if indent else 0
    try:
        data = orjson.dumps(value, default=default, option=option)
    except orjson.JSONEncodeError:
        # Surrogates are the known cause; cleaning costs a copy, so only when needed.
        data = orjson.dumps(_clean(value), default=default, option=option)
    return escape_line_ends(data)


def line(value: Any, *, default: Callable[[Any], Any] | None = None) -> bytes:
    """One JSON-lines record: ``dumps`` and a newline."""
    return dumps(value, default=default) + b"\n"


def text(value: Any, *, indent: bool = False,
         default: Callable[[Any], Any] | None = None) -> str:
    """``dumps`` as a string, for standard output."""
    return dumps(value, indent=indent, default=default).decode("utf-8")
