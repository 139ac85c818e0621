"""The indicator catalogue and model settings, read from ``indicators.toml``."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

LEVELS = ("ad", "network")


@dataclass(frozen=True)
class Indicator:
    """One named indicator: how much it weighs (log-odds), what analysts read, and why."""

    name: str
    level: str
    weight: float
    label: str
    short: str  # a few French words, for lists
    rationale: str
    params: dict[str, Any] = field(default_factory=dict)

    def param(self, key: str) -> Any:
        if key not in self.params:
            raise KeyError(f"indicator {self.name}: parameter {key!r} missing")
        return self.params[key]


@dataclass(frozen=True)
class ScoreSettings:
    intercept: float
    trafficking_threshold: float
    max_evidence: int
    limit_age_max: int
    indicators: tuple[Indicator, ...]
    fingerprint: str = ""  # hash of the catalogue's text: scores made with another differ
    # The scam category (section ``[scam]``): the markers and what each weighs, the total
    # at which a network is suspected of being a scam, and the indicators a scam explains.
    scam_markers: tuple[tuple[str, float], ...] = ()
    scam_threshold: float = float("inf")
    scam_explained: frozenset[str] = frozenset()

    def indicator(self, name: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.name == name:
                return indicator
        raise KeyError(name)


def load_settings(path: Path | None = None) -> ScoreSettings:
    """The shipped catalogue, or another file of the same shape."""
    if path is None:
        text = (resources.files(__package__) / "indicators.toml").read_text("utf-8")
    else:
        text = path.read_text("utf-8")
    raw = tomllib.loads(text)
    indicators = []
    for name, entry in raw["indicators"].items():
        entry = dict(entry)
        level = entry.pop("level")
        if level not in LEVELS:
            raise ValueError(f"indicator {name}: level must be one of {LEVELS}")
        indicators.append(Indicator(
            name=name, level=level, weight=float(entry.pop("weight")),
            label=str(entry.pop("label")), short=str(entry.pop("short")),
            rationale=" ".join(str(entry.pop("rationale")).split()),
            params=entry))
    limit_age_max = int(raw["minor"]["limit_age_max"])
    # One limit for the indicator shown and the minor rule.
    indicators = [Indicator(i.name, i.level, i.weight, i.label, i.short, i.rationale,
                            {**i.params, "max_age": limit_age_max})
                  if i.name == "age_at_limit" else i for i in indicators]
    threshold = float(raw["model"]["trafficking_threshold"])
    if not 0 < threshold < 1:
        raise ValueError("model.trafficking_threshold must lie in (0, 1)")
    names = {i.name for i in indicators}
    scam = raw.get("scam", {})
    markers = tuple((str(k), float(v)) for k, v in scam.get("markers", {}).items())
    explained = frozenset(str(n) for n in scam.get("explained", ()))
    unknown = sorted(({k for k, _ in markers} | explained) - names)
    if unknown:
        raise ValueError(f"scam: unknown indicators {unknown}")
    return ScoreSettings(
        intercept=float(raw["model"]["intercept"]),
        trafficking_threshold=threshold,
        max_evidence=int(raw["model"]["max_evidence"]),
        limit_age_max=limit_age_max,
        indicators=tuple(indicators),
        fingerprint=hashlib.sha256(text.encode()).hexdigest(),
        scam_markers=markers,
        scam_threshold=float(scam.get("threshold", float("inf"))),
        scam_explained=explained,
    )
