"""The unit every normaliser returns: a canonical value beside what the ad showed."""

from __future__ import annotations

from typing import Any, NamedTuple


class Found(NamedTuple):
    """One value understood in an ad.

    ``value`` is canonical and comparable across ads (E.164 phone, ``service:handle``,
    INSEE code, ISO country code...); ``shown`` is the exact text it was read from, so an
    analyst can always see what the ad said beside what faisceau understood.
    ``detail`` holds structured extras (a price's amount and minutes, a place's
    département...), JSON-serialisable.
    """

    value: str
    shown: str
    detail: dict[str, Any] | None = None
