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
    min_posterior: float
    min_m: float
    max_m: float
    default_m: dict[str, float]
    passes: int
    bridge_min_ads: int
    handover: bool


def load_settings(path: Path | None = None) -> LinkSettings:
    raw: dict[str, Any]
    if path is None:
        raw = tomllib.loads((resources.files(__package__) / "settings.toml").read_text("utf-8"))
    else:
        raw = tomllib.loads(path.read_text("utf-8"))
    weak = raw["weak"]
    default_m = {str(k): float(v) for k, v in weak["default_m"].items()}
    if set(default_m) != set(WEAK_KINDS):
        raise ValueError("weak.default_m: one value for each of " + ", ".join(WEAK_KINDS))
    settings = LinkSettings(
        shingle_words=int(raw["text"]["shingle_words"]),
        permutations=int(raw["text"]["permutations"]),
        bands=int(raw["text"]["bands"]),
        min_similarity=float(raw["text"]["min_similarity"]),
        max_bucket_ads=int(raw["text"]["max_bucket_ads"]),
        max_phash_distance=int(raw["image"]["max_phash_distance"]),
        max_image_groups=int(raw["image"]["max_groups"]),
        stock_text_communes=int(weak["stock_text_communes"]),
        min_posterior=float(weak["min_posterior"]),
        min_m=float(weak["min_m"]),
        max_m=float(weak["max_m"]),
        default_m=default_m,
        passes=int(weak["passes"]),
        bridge_min_ads=int(raw["bridges"]["min_ads"]),
        handover=bool(raw["handover"]["enabled"]),
    )
    if not 0.5 <= settings.min_posterior < 1:
        raise ValueError("weak.min_posterior must lie in [0.5, 1)")
    if not 0 < settings.min_m <= settings.max_m < 1:
        raise ValueError("weak: 0 < min_m <= max_m < 1")
    if settings.permutations % settings.bands:
        raise ValueError("text.permutations must be a multiple of text.bands")
    return settings
