"""Linking thresholds, read from ``settings.toml`` (or another file given by the caller)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

WEAK_KINDS = ("text", "image", "persona", "colocation")


@dataclass(frozen=True)
class LinkSettings:
    shingle_words: int
    permutations: int
    bands: int
    min_similarity: float
    max_bucket_ads: int
    max_phash_distance: int
    max_image_groups: int
    stock_text_communes: int
    corroborations: tuple[frozenset[str], ...]
    bridge_min_ads: int
    handover: bool


def load_settings(path: Path | None = None) -> LinkSettings:
    raw: dict[str, Any]
    if path is None:
        raw = tomllib.loads((resources.files(__package__) / "settings.toml").read_text("utf-8"))
    else:
        raw = tomllib.loads(path.read_text("utf-8"))
    pairs = tuple(frozenset(pair) for pair in raw["weak"]["corroborations"])
    for pair in pairs:
        unknown = pair - set(WEAK_KINDS)
        if unknown or len(pair) < 2:
            raise ValueError(f"corroboration {sorted(pair)}: two or more of "
                             + ", ".join(WEAK_KINDS))
    settings = LinkSettings(
        shingle_words=int(raw["text"]["shingle_words"]),
        permutations=int(raw["text"]["permutations"]),
        bands=int(raw["text"]["bands"]),
        min_similarity=float(raw["text"]["min_similarity"]),
        max_bucket_ads=int(raw["text"]["max_bucket_ads"]),
        max_phash_distance=int(raw["image"]["max_phash_distance"]),
        max_image_groups=int(raw["image"]["max_groups"]),
        stock_text_communes=int(raw["weak"]["stock_text_communes"]),
        corroborations=pairs,
        bridge_min_ads=int(raw["weak"]["bridge_min_ads"]),
        handover=bool(raw["handover"]["enabled"]),
    )
    if settings.permutations % settings.bands:
        raise ValueError("text.permutations must be a multiple of text.bands")
    return settings
