"""Text helpers shared by the normalisers.

Owns ``lower_aligned``: a text in lower case, character for character, so that offsets
found in it are offsets in the text. Every finder of free text reads the same title and
text in lower case one after the other; the last few are kept, so it is lowered once.
"""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=8)
def lower_aligned(text: str) -> str:
    """``text`` in lower case, character for character (a character whose lower case is
    longer, such as "İ", is kept as it is)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
