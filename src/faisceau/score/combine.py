"""From indicators to a risk per network, a minor suspicion per ad, and reasons in French.

The risk is logistic: ``risk = σ(intercept + Σ weight_i)`` over the indicators that fire.
It decomposes exactly into contributions: each fired indicator gets the share of the
change from the base risk ``σ(intercept)`` that its weight is of the summed weights, so
that the contributions of a network's reasons add up to ``risk − base`` and carry the sign
of their weight (an indicator that points away from trafficking lowers the risk).

Scams are their own category: a network whose scam markers weigh at least the ``[scam]``
threshold is suspected of being a scam, and there the indicators a scam explains by
itself (one contact for several stolen identities, one script...) weigh nothing toward
trafficking: it is suspected of trafficking only on what remains.

An ad is suspected of showing a minor when its stated age is under 18, or at the legal
limit (18 to ``limit_age_max``) together with youth cues in the ad or a network suspected
of trafficking. A network is suspected when one of its ads is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from faisceau.score.cues import Cue
from faisceau.score.indicators import LEGAL_AGE, Finding, Ints, ScoringInput, evaluate
from faisceau.score.settings import Indicator, ScoreSettings

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


def sigmoid(x: Floats | float) -> Any:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


@dataclass
class Scores:
    risk: Floats  # per network
    trafficking: Bools  # per network
    minor: Bools  # per network
    ad_minor: Bools  # per ad
    minor_why: Ints  # per ad: 0 none, 1 stated under 18, 2 youth cues, 3 suspected network
    findings: dict[str, Finding] = field(default_factory=dict)
    base: float = 0.0
    scam: Bools | None = None  # per network
    # Per indicator, per network: the weight it carries there (0 where it did not fire, or
    # where a scam explains it).
    weights: dict[str, Floats] = field(default_factory=dict)


def scam_suspected(findings: dict[str, Finding], settings: ScoreSettings,
                   networks: int) -> Bools:
    """Per network, whether its scam markers weigh at least the scam threshold."""
    points = np.zeros(networks)
    for name, weight in settings.scam_markers:
        points += weight * findings[name].fired
    return points >= settings.scam_threshold


def combine(data: ScoringInput, settings: ScoreSettings) -> Scores:
    findings = {i.name: evaluate(data, i) for i in settings.indicators}
    scam = scam_suspected(findings, settings, data.networks)
    log_odds = np.full(data.networks, settings.intercept)
    weights: dict[str, Floats] = {}
    for indicator in settings.indicators:
        carried = findings[indicator.name].fired.astype(np.float64)
        if indicator.name in settings.scam_explained:
            carried[scam] = 0.0
        weights[indicator.name] = indicator.weight * carried
        log_odds += weights[indicator.name]
    risk = sigmoid(log_odds)
    trafficking = risk >= settings.trafficking_threshold

    age = data.stated_age
    at_limit = (age >= LEGAL_AGE) & (age <= settings.limit_age_max)
    youth = (data.cues & int(Cue.YOUTH)) != 0
    in_suspected = trafficking[data.network]
    why = np.zeros(data.ads, dtype=np.int64)
    why[at_limit & in_suspected] = 3
    why[at_limit & youth] = 2
    why[(age >= 0) & (age < LEGAL_AGE)] = 1
    ad_minor = why > 0
    minor = np.bincount(data.network, weights=ad_minor, minlength=data.networks) > 0
    return Scores(risk, trafficking, minor, ad_minor, why, findings,
                  float(sigmoid(settings.intercept)), scam, weights)


def contribution_factors(scores: Scores, settings: ScoreSettings) -> Floats:
    """Per network, what each carried weight is multiplied by to give its contribution:
    ``(risk − base) / Σ carried weights`` (0 when nothing fired or the weights cancel), so
    that contributions add up to ``risk − base`` (see the module docstring)."""
    summed = np.zeros(len(scores.risk))
    for indicator in settings.indicators:
        summed += scores.weights[indicator.name]
    return np.divide(scores.risk - scores.base, summed, out=np.zeros(len(summed)),
                     where=summed != 0)


MINOR_WHY = {
    1: "Âge annoncé inférieur à 18 ans",
    2: "Âge annoncé à la limite de la majorité, avec des mots ou emoji suggérant la jeunesse",
    3: "Âge annoncé à la limite de la majorité, dans un réseau suspecté d'exploitation",
}


def describe(indicator: Indicator, count: int, ads: int) -> str:
    """The French sentence of a reason: its label and how strongly it holds."""
    if indicator.level == "ad":
        return f"{indicator.label} : {count} annonce{'s' if count > 1 else ''} sur {ads}"
    return f"{indicator.label} : {count} {indicator.params.get('unit', '')}".rstrip()


def evidence_by_network(data: ScoringInput, scores: Scores, name: str,
                        networks: Bools, limit: int) -> dict[int, list[int]]:
    """The first ``limit`` ads in time showing indicator ``name``, for each of the given
    networks where it fired."""
    finding = scores.findings[name]
    return _first_ads(data, finding.evidence & (finding.fired & networks)[data.network], limit)


def minor_evidence(data: ScoringInput, shown: Bools, networks: Bools,
                   limit: int) -> dict[int, list[int]]:
    """The first ``limit`` ads in time among ``shown``, for each of the given networks."""
    return _first_ads(data, shown & networks[data.network], limit)


def _first_ads(data: ScoringInput, chosen: Bools, limit: int) -> dict[int, list[int]]:
    ads = np.flatnonzero(chosen)
    if len(ads) == 0:
        return {}
    order = np.lexsort((ads, data.first_day[ads], data.network[ads]))
    ads = ads[order]
    networks = data.network[ads]
    starts = np.flatnonzero(np.r_[True, networks[1:] != networks[:-1]])
    ends = np.r_[starts[1:], len(ads)]
    return {int(networks[s]): ads[s : min(e, s + limit)].tolist()
            for s, e in zip(starts.tolist(), ends.tolist(), strict=True)}
