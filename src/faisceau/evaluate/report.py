"""The evaluation report: a synthetic world's ground truth against faisceau's exports.

Three JSON Lines files (optionally gzip-compressed) go in: the ground truth (one line per
ad: who controls it, of what kind, whether the person is a minor, the presented origin),
the ``export ads`` file and, optionally, the ``export networks`` file of ``shared/spec``.
Ads are joined on ``(source, ad_id)``; every metric is computed over the *evaluated* ads,
present on both sides, and the ads missing from either side are counted beside.

Memory and time stay linear: the truth is held as one small tuple per ad, the ads export is
streamed once and folded into counters, and the metrics (``metrics``) work on those counts.

Without a networks export no network is suspected of trafficking and a network's risk is the
highest risk of its ads. A network named by ads but absent from a networks export gets the
same defaults; both cases are counted in the report.

Scam figures: ``scam_suspected`` on the networks lines marks fake ads that defraud clients.
When no networks line carries it (an export from before the field, or no networks export),
scam recall and precision are undefined (``None``); when some lines carry it, a line
without it counts as not suspected of a scam, and those lines are counted.
"""

from __future__ import annotations

import gzip
import io
import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import orjson
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from faisceau.evaluate.metrics import (
    BCubed,
    Ratio,
    Share,
    Spread,
    bcubed,
    false_minor_rate,
    kind_flag_rate,
    majority_controller,
    minor_recall,
    precision,
    rate_ratio,
    rates_by,
    recall,
    roc_auc,
    spread,
    top_k_precision,
    top_networks,
)

CONTROLLER_KINDS = ("independent", "pimp", "network", "scam")
TRAFFICKING_KINDS = frozenset({"pimp", "network"})
ORIGIN_GROUPS = ("french", "foreign", "unknown")
TOP_COUNTRIES = 10
# Presented origins with fewer independent workers' ads than this are left out of the
# highest / lowest flag-rate ratio across origins. The target is a ratio within 1.25 at a
# flag rate of at most 2 %, i.e. rates 0.5 percentage point apart; below 200 ads, a single
# flagged ad moves an origin's rate by more than that (1/200 = 0.5 point), so one ad could
# make or break the target alone. Sampling noise is larger still (about ±1 point at 2 % on
# 200 ads, more since a worker's ads go together): on small worlds the ratio is indicative,
# on national ones most origins have thousands of ads.
ORIGIN_MIN_ADS = 200
NO_SPREAD = Spread(None, None, 0, Ratio(None, "too_few_groups"))

# Looking a value up here both validates it and swaps it for one shared string object.
_KINDS = {kind: kind for kind in CONTROLLER_KINDS}
_GROUPS = {group: group for group in ORIGIN_GROUPS}

# controller, controller kind, minor, origin country, origin group
TruthAd = tuple[str, str, bool, str | None, str]


class NetworkLine(NamedTuple):
    """What the evaluation reads of an ``export networks`` line."""

    risk: float
    trafficking_suspected: bool
    scam_suspected: bool | None  # None: the line does not carry the field


class EvaluationInputError(ValueError):
    """A line of an input file that cannot be evaluated: its file, line number and why."""

    def __init__(self, path: Path, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class Counts:
    truth_ads: int
    export_ads: int
    evaluated_ads: int
    missing_from_export: int
    missing_from_truth: int
    controllers: dict[str, int]  # kind -> distinct controllers among the evaluated ads
    trafficking_controllers: int
    predicted_networks: int
    suspected_networks: int
    networks_export: bool
    networks_without_summary: int  # named by an ad, absent from the networks export
    networks_without_ads: int  # in the networks export, named by no ad
    # networks export lines carrying scam_suspected, those where it is true, and those
    # without it while others have it (counted as not suspected of a scam)
    networks_with_scam_field: int = 0
    scam_suspected_networks: int = 0
    networks_without_scam_field: int = 0


@dataclass(frozen=True)
class Ranking:
    k: int  # number of trafficking controllers among the evaluated ads
    top_k: Share  # top-k networks whose majority controller is a trafficking one, out of k
    ad_roc_auc: float | None


@dataclass(frozen=True)
class IndependentFlags:
    """Independent workers' ads sitting in a network suspected of trafficking."""

    overall: Share
    by_origin_group: dict[str, Share]
    by_country: list[tuple[str, Share]]  # the most frequent presented origins, most first
    foreign_french: Ratio
    # Mean risk of their ads by origin group, and its foreign / French ratio: a disparity
    # that stays measurable when (almost) nobody is flagged.
    mean_risk: dict[str, float | None] = field(default_factory=dict)
    mean_risk_ratio: float | None = None
    # Every presented origin (not only the most frequent), most ads first, and the highest
    # over the lowest flag rate among the origins with at least ``origin_min_ads`` ads.
    by_origin: list[tuple[str, Share]] = field(default_factory=list)
    origin_min_ads: int = ORIGIN_MIN_ADS
    origin_spread: Spread = NO_SPREAD


@dataclass(frozen=True)
class ScamFigures:
    """Ads of scam controllers (fake ads defrauding clients, not exploitation)."""

    flagged_as_trafficking: Share  # scam ads in a network suspected of trafficking
    # Scam ads in a network suspected of a scam, and the share of the ads of such networks
    # that are scam ads; None when no networks line carries scam_suspected.
    recall: Share | None
    precision: Share | None


@dataclass(frozen=True)
class EvaluationReport:
    counts: Counts
    clustering: BCubed | None
    ranking: Ranking
    minor_recall: Share
    false_minor_rate: Share
    independent_flags: IndependentFlags
    scam: ScamFigures

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable, stable English keys; undefined values are ``null``."""
        c = self.counts
        flags = self.independent_flags
        return {
            "counts": {
                "truth_ads": c.truth_ads,
                "export_ads": c.export_ads,
                "evaluated_ads": c.evaluated_ads,
                "missing_from_export": c.missing_from_export,
                "missing_from_truth": c.missing_from_truth,
                "controllers": dict(c.controllers),
                "trafficking_controllers": c.trafficking_controllers,
                "predicted_networks": c.predicted_networks,
                "suspected_networks": c.suspected_networks,
                "networks_export": c.networks_export,
                "networks_without_summary": c.networks_without_summary,
                "networks_without_ads": c.networks_without_ads,
                "networks_with_scam_field": c.networks_with_scam_field,
                "scam_suspected_networks": c.scam_suspected_networks,
                "networks_without_scam_field": c.networks_without_scam_field,
            },
            "clustering": {
                "bcubed_precision": self.clustering.precision if self.clustering else None,
                "bcubed_recall": self.clustering.recall if self.clustering else None,
                "bcubed_f1": self.clustering.f1 if self.clustering else None,
            },
            "ranking": {
                "k": self.ranking.k,
                "top_k_precision": _share_dict(self.ranking.top_k),
                "ad_roc_auc": self.ranking.ad_roc_auc,
            },
            "minors": {
                "recall": _share_dict(self.minor_recall),
                "false_rate_independent": _share_dict(self.false_minor_rate),
            },
            "independent_flags": {
                "overall": _share_dict(flags.overall),
                "by_origin_group": {group: _share_dict(s)
                                    for group, s in flags.by_origin_group.items()},
                "by_country": [{"country": country, **_share_dict(s)}
                               for country, s in flags.by_country],
                "foreign_french_ratio": {"value": flags.foreign_french.value,
                                         "note": flags.foreign_french.note},
                "mean_risk_by_origin_group": flags.mean_risk,
                "mean_risk_foreign_french_ratio": flags.mean_risk_ratio,
                "by_origin": [{"origin": origin, **_share_dict(s)}
                              for origin, s in flags.by_origin],
                "origin_ratio": {
                    "value": flags.origin_spread.ratio.value,
                    "note": flags.origin_spread.ratio.note,
                    "highest": flags.origin_spread.highest,
                    "lowest": flags.origin_spread.lowest,
                    "origins_counted": flags.origin_spread.groups,
                    "min_ads": flags.origin_min_ads,
                },
            },
            "scam": {
                "flagged_as_trafficking": _share_dict(self.scam.flagged_as_trafficking),
                "recall": (None if self.scam.recall is None
                           else _share_dict(self.scam.recall)),
                "precision": (None if self.scam.precision is None
                              else _share_dict(self.scam.precision)),
            },
        }


def _share_dict(s: Share) -> dict[str, Any]:
    return {"rate": s.value, "hits": s.hits, "total": s.total}


# --- reading -----------------------------------------------------------------------------


def _open(path: Path) -> io.BufferedIOBase:
    if path.suffix == ".gz":
        return gzip.open(path, "rb")  # the caller closes it
    return open(path, "rb")


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSON Lines file."""
    with _open(path) as handle:
        for number, line in enumerate(handle, 1):
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                if line.isspace():  # checked only on failure: blank lines are rare
                    continue
                raise EvaluationInputError(path, number, f"invalid JSON: {exc}") from None
            if type(row) is not dict:
                raise EvaluationInputError(path, number, "not a JSON object")
            yield number, row


def _is_risk(value: Any) -> bool:
    # type() rather than isinstance(): a JSON true is not a risk. NaN fails the comparison.
    return (type(value) is float or type(value) is int) and 0 <= value <= 1


def load_truth(path: Path) -> tuple[dict[tuple[str, str], TruthAd], dict[str, str]]:
    """The ground truth: ``(source, ad_id)`` -> its ``TruthAd``, and controller -> kind.
    A duplicate ad, a missing or mistyped field or a controller given two kinds is an
    ``EvaluationInputError``."""
    ads: dict[tuple[str, str], TruthAd] = {}
    kinds: dict[str, str] = {}
    for number, row in _records(path):
        try:
            source, ad_id = row["source"], row["ad_id"]
            controller, kind = row["controller"], row["controller_kind"]
            minor, origin, group = row["minor"], row["origin"], row["origin_group"]
        except KeyError as exc:
            raise EvaluationInputError(path, number, f"missing field {exc.args[0]!r}") from None
        if type(source) is not str or type(ad_id) is not str or type(controller) is not str:
            raise EvaluationInputError(path, number, "source, ad_id and controller must be "
                                                     "strings")
        kind = _KINDS.get(kind) if type(kind) is str else None
        if kind is None:
            raise EvaluationInputError(path, number, f"controller_kind must be one of "
                                                     f"{', '.join(CONTROLLER_KINDS)}")
        group = _GROUPS.get(group) if type(group) is str else None
        if group is None:
            raise EvaluationInputError(path, number, f"origin_group must be one of "
                                                     f"{', '.join(ORIGIN_GROUPS)}")
        if type(minor) is not bool:
            raise EvaluationInputError(path, number, "minor must be true or false")
        if origin is not None:
            if type(origin) is not str:
                raise EvaluationInputError(path, number, "origin must be a string or null")
            origin = sys.intern(origin)
        controller = sys.intern(controller)  # shared by all of a controller's ads
        known = kinds.setdefault(controller, kind)
        if known != kind:
            raise EvaluationInputError(path, number, f"controller {controller!r} is "
                                                     f"{known!r} on an earlier line, not {kind!r}")
        key = (source, ad_id)
        if key in ads:
            raise EvaluationInputError(path, number, f"duplicate ad {source}:{ad_id}")
        ads[key] = (controller, kind, minor, origin, group)
    return ads, kinds


def load_networks(path: Path) -> dict[str, NetworkLine]:
    """The networks export: network_id -> its ``NetworkLine``."""
    networks: dict[str, NetworkLine] = {}
    for number, row in _records(path):
        try:
            network, risk, suspected = (row["network_id"], row["risk"],
                                        row["trafficking_suspected"])
        except KeyError as exc:
            raise EvaluationInputError(path, number, f"missing field {exc.args[0]!r}") from None
        if type(network) is not str:
            raise EvaluationInputError(path, number, "network_id must be a string")
        if not _is_risk(risk):
            raise EvaluationInputError(path, number, "risk must be a number from 0 to 1")
        if type(suspected) is not bool:
            raise EvaluationInputError(path, number, "trafficking_suspected must be true or "
                                                     "false")
        scam = row.get("scam_suspected")
        if "scam_suspected" in row and type(scam) is not bool:
            raise EvaluationInputError(path, number, "scam_suspected must be true or false")
        if network in networks:
            raise EvaluationInputError(path, number, f"duplicate network {network}")
        networks[network] = NetworkLine(float(risk), suspected, scam)
    return networks


# --- computing ---------------------------------------------------------------------------


@dataclass
class _Tally:
    """What one pass over the ads export keeps: counts only, never a row per ad."""

    export_ads: int = 0
    missing_from_truth: int = 0
    max_risk: dict[str, float] = field(default_factory=dict)  # network -> highest ad risk
    cells: dict[tuple[str, str], int] = field(default_factory=dict)  # (network, controller)
    scores: dict[tuple[float, bool], int] = field(default_factory=dict)  # (risk, trafficking)
    minors: dict[tuple[bool, bool], int] = field(default_factory=dict)  # (minor, suspected)
    kind_minors: dict[tuple[str, bool], int] = field(default_factory=dict)  # (kind, suspected)
    # independent workers' ads: (origin group, origin, in a suspected network)
    independents: dict[tuple[str, str | None, bool], int] = field(default_factory=dict)
    # (origin group, risk) -> independent workers' ads; summed exactly at the end (fsum),
    # so that the mean does not depend on the order of the lines.
    independent_risk: dict[tuple[str, float], int] = field(default_factory=dict)
    # (controller kind, in a network suspected of trafficking)
    kind_trafficking: dict[tuple[str, bool], int] = field(default_factory=dict)
    # (a scam ad, in a network suspected of a scam)
    scams: dict[tuple[bool, bool], int] = field(default_factory=dict)


def _fold_ads(path: Path, truth: dict[tuple[str, str], TruthAd],
              suspected: set[str], scam_suspected: set[str]) -> tuple[_Tally, int]:
    """Stream the ads export into a ``_Tally``; also return how many truth ads it lacks.
    Consumes ``truth``: a matched ad leaves it, so memory does not grow while streaming."""
    tally = _Tally()
    max_risk, cells, scores = tally.max_risk, tally.cells, tally.scores
    minors, kind_minors, independents = tally.minors, tally.kind_minors, tally.independents
    kind_trafficking, scams = tally.kind_trafficking, tally.scams
    matched: set[tuple[str, str]] = set()
    extra: set[tuple[str, str]] = set()
    for number, row in _records(path):
        try:
            source, ad_id, network = row["source"], row["ad_id"], row["network_id"]
            risk, minor_suspected = row["risk"], row["minor_suspected"]
        except KeyError as exc:
            raise EvaluationInputError(path, number, f"missing field {exc.args[0]!r}") from None
        if type(source) is not str or type(ad_id) is not str or type(network) is not str:
            raise EvaluationInputError(path, number, "source, ad_id and network_id must be "
                                                     "strings")
        if not _is_risk(risk):
            raise EvaluationInputError(path, number, "risk must be a number from 0 to 1")
        if type(minor_suspected) is not bool:
            raise EvaluationInputError(path, number, "minor_suspected must be true or false")
        tally.export_ads += 1
        if risk > max_risk.get(network, -1.0):
            max_risk[network] = risk
        key = (source, ad_id)
        truth_ad = truth.pop(key, None)
        if truth_ad is None:
            if key in matched or key in extra:
                raise EvaluationInputError(path, number, f"duplicate ad {source}:{ad_id}")
            extra.add(key)
            tally.missing_from_truth += 1
            continue
        matched.add(key)
        controller, kind, minor, origin, group = truth_ad
        cell = (network, controller)
        cells[cell] = cells.get(cell, 0) + 1
        score = (float(risk), kind in TRAFFICKING_KINDS)
        scores[score] = scores.get(score, 0) + 1
        minor_cell = (minor, minor_suspected)
        minors[minor_cell] = minors.get(minor_cell, 0) + 1
        kind_cell = (kind, minor_suspected)
        kind_minors[kind_cell] = kind_minors.get(kind_cell, 0) + 1
        flagged = network in suspected
        trafficking_cell = (kind, flagged)
        kind_trafficking[trafficking_cell] = kind_trafficking.get(trafficking_cell, 0) + 1
        scam_cell = (kind == "scam", network in scam_suspected)
        scams[scam_cell] = scams.get(scam_cell, 0) + 1
        if kind == "independent":
            flag_cell = (group, origin, flagged)
            independents[flag_cell] = independents.get(flag_cell, 0) + 1
            risk_cell = (group, float(risk))
            tally.independent_risk[risk_cell] = tally.independent_risk.get(risk_cell, 0) + 1
    return tally, len(truth)


def _independent_flags(independents: dict[tuple[str, str | None, bool], int],
                       risks: dict[tuple[str, float], int],
                       top_countries: int, origin_min_ads: int) -> IndependentFlags:
    by_group_cells: dict[tuple[str, bool], int] = {}
    by_country_cells: dict[tuple[str, bool], int] = {}
    overall_cells: dict[tuple[str, bool], int] = {}
    for (group, origin, flagged), c in independents.items():
        by_group_cells[group, flagged] = by_group_cells.get((group, flagged), 0) + c
        overall_cells["all", flagged] = overall_cells.get(("all", flagged), 0) + c
        if origin is not None:
            by_country_cells[origin, flagged] = by_country_cells.get((origin, flagged), 0) + c
    by_group = rates_by(by_group_cells)
    by_group = {group: by_group.get(group, Share(0, 0)) for group in ORIGIN_GROUPS}
    by_country = rates_by(by_country_cells)
    countries = sorted(by_country.items(), key=lambda item: (-item[1].total, item[0]))
    mean_risk = {group: math.fsum(risk * c for (g, risk), c in risks.items() if g == group)
                 / share.total if share.total else None for group, share in by_group.items()}
    foreign, french = mean_risk["foreign"], mean_risk["french"]
    return IndependentFlags(
        overall=rates_by(overall_cells).get("all", Share(0, 0)),
        by_origin_group=by_group,
        by_country=countries[:top_countries],
        foreign_french=rate_ratio(by_group["foreign"], by_group["french"]),
        mean_risk=mean_risk,
        mean_risk_ratio=foreign / french if foreign is not None and french else None,
        by_origin=countries,
        origin_min_ads=origin_min_ads,
        origin_spread=spread(by_country, origin_min_ads),
    )


def evaluate_paths(truth: Path, ads_export: Path, networks_export: Path | None,
                   *, top_countries: int = TOP_COUNTRIES,
                   origin_min_ads: int = ORIGIN_MIN_ADS) -> EvaluationReport:
    """Evaluate the exports against the ground truth of a synthetic world.

    Raises ``EvaluationInputError`` (file, line, reason) on a line that cannot be read or
    breaks its contract, ``OSError`` on a file that cannot be opened.
    """
    truth_ads, kinds = load_truth(truth)
    networks = load_networks(networks_export) if networks_export is not None else {}
    suspected = {network for network, line in networks.items() if line.trafficking_suspected}
    scam_suspected = {network for network, line in networks.items() if line.scam_suspected}
    truth_count = len(truth_ads)
    tally, missing_from_export = _fold_ads(ads_export, truth_ads, suspected, scam_suspected)
    del truth_ads  # what is left of it: the ads missing from the export
    return _report(truth_count, kinds, networks, suspected, tally, missing_from_export,
                   networks_export is not None, top_countries, origin_min_ads)


def _report(truth_count: int, kinds: dict[str, str], networks: dict[str, NetworkLine],
            suspected: set[str], tally: _Tally, missing_from_export: int,
            has_networks_export: bool, top_countries: int,
            origin_min_ads: int) -> EvaluationReport:
    """The figures, from the counts one pass over the files left."""
    # Network risk: from the networks export when it has the network, else the highest
    # risk of its ads (the contract's default when there is no networks export).
    risks = dict(tally.max_risk)
    risks.update((network, line.risk) for network, line in networks.items())

    controllers = {controller for _, controller in tally.cells}
    per_kind = dict.fromkeys(CONTROLLER_KINDS, 0)
    for controller in controllers:
        per_kind[kinds[controller]] += 1
    trafficking = {c for c in controllers if kinds[c] in TRAFFICKING_KINDS}
    k = len(trafficking)

    ranked = top_networks(risks, k)
    in_top = set(ranked)
    top_counts: dict[str, dict[str, int]] = {network: {} for network in ranked}
    for (network, controller), c in tally.cells.items():
        if network in in_top:
            top_counts[network][controller] = c
    hits = [majority_controller(top_counts[network], trafficking) in trafficking
            for network in ranked]

    evaluated = sum(tally.cells.values())
    with_scam_field = sum(1 for line in networks.values() if line.scam_suspected is not None)
    counts = Counts(
        truth_ads=truth_count,
        export_ads=tally.export_ads,
        evaluated_ads=evaluated,
        missing_from_export=missing_from_export,
        missing_from_truth=tally.missing_from_truth,
        controllers=per_kind,
        trafficking_controllers=k,
        predicted_networks=len(risks),
        suspected_networks=len(suspected),
        networks_export=has_networks_export,
        networks_without_summary=(sum(1 for n in tally.max_risk if n not in networks)
                                  if has_networks_export else 0),
        networks_without_ads=sum(1 for n in networks if n not in tally.max_risk),
        networks_with_scam_field=with_scam_field,
        scam_suspected_networks=sum(1 for line in networks.values() if line.scam_suspected),
        networks_without_scam_field=len(networks) - with_scam_field if with_scam_field else 0,
    )
    scam_field = with_scam_field > 0
    return EvaluationReport(
        counts=counts,
        clustering=bcubed(tally.cells),
        ranking=Ranking(k=k, top_k=top_k_precision(hits, k), ad_roc_auc=roc_auc(tally.scores)),
        minor_recall=minor_recall(tally.minors),
        false_minor_rate=false_minor_rate(tally.kind_minors),
        independent_flags=_independent_flags(tally.independents, tally.independent_risk,
                                             top_countries, origin_min_ads),
        scam=ScamFigures(
            flagged_as_trafficking=kind_flag_rate(tally.kind_trafficking, "scam"),
            recall=recall(tally.scams) if scam_field else None,
            precision=precision(tally.scams) if scam_field else None,
        ),
    )


# --- rendering (French: this is what users read) -----------------------------------------

_KIND_LABELS = {"independent": "indépendants", "pimp": "proxénètes", "network": "réseaux",
                "scam": "arnaques"}
_GROUP_LABELS = {"french": "origine française", "foreign": "origine étrangère",
                 "unknown": "origine inconnue"}
_RATIO_NOTES = {
    "no_ads": "indéfini : aucune annonce d'indépendant dans l'un des deux groupes",
    "both_zero": "indéfini : aucun signalement ni d'un côté ni de l'autre (0/0)",
    "infinite": "infini : aucune annonce d'origine française signalée, "
                "mais des annonces d'origine étrangère le sont",
}
_SPREAD_NOTES = {
    "too_few_groups": "indéfini : moins de deux origines présentées avec assez d'annonces",
    "both_zero": "indéfini : aucun signalement dans aucune de ces origines (0/0)",
    "infinite": "infini : une de ces origines n'a aucun signalement, d'autres en ont",
}
UNDEFINED = "indéfini"
NO_SCAM_FIELD = "indéfini : aucun réseau exporté ne porte scam_suspected"


def _number(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _score(x: float | None) -> str:
    return UNDEFINED if x is None else f"{x:.3f}".replace(".", ",")


def _rate(s: Share) -> str:
    return UNDEFINED if s.value is None else f"{100 * s.value:.1f} %".replace(".", ",")


def _percent(s: Share) -> str:
    return f"{_rate(s)} ({_number(s.hits)} / {_number(s.total)})"


def _spread(flags: IndependentFlags) -> str:
    """The highest / lowest ratio of flag rates across origins, with the two origins."""
    spread_ = flags.origin_spread
    rates = dict(flags.by_origin)
    if spread_.ratio.value is None:
        text = _SPREAD_NOTES.get(spread_.ratio.note or "", UNDEFINED)
    else:
        text = f"{spread_.ratio.value:.2f}".replace(".", ",")
    if spread_.highest is None or spread_.lowest is None:
        return text
    return (f"{text} ({spread_.highest} {_rate(rates[spread_.highest])} / "
            f"{spread_.lowest} {_rate(rates[spread_.lowest])}, {spread_.groups} origines)")


def _table(sections: list[tuple[str, list[tuple[str, str]]]]) -> Table:
    """One table, one titled section per group of measures, so that columns line up."""
    table = Table(title="Évaluation contre la vérité terrain", show_header=False,
                  title_justify="left")
    table.add_column("mesure")
    table.add_column("valeur", justify="right")
    for index, (title, rows) in enumerate(sections):
        if index:
            table.add_section()
        table.add_row(Text(title, style="bold"), "")
        for label, value in rows:
            table.add_row(f"  {label}", value)
    return table


def render(report: EvaluationReport) -> RenderableType:
    """The report as rich tables, labelled in French, for ``console.print``."""
    c = report.counts
    volumes = [
        ("Annonces (vérité terrain)", _number(c.truth_ads)),
        ("Annonces exportées", _number(c.export_ads)),
        ("Annonces évaluées (des deux côtés)", _number(c.evaluated_ads)),
        ("Absentes de l'export", _number(c.missing_from_export)),
        ("Absentes de la vérité terrain", _number(c.missing_from_truth)),
    ]
    volumes += [(f"Contrôleurs réels : {_KIND_LABELS[kind]}", _number(n))
                for kind, n in c.controllers.items()]
    volumes += [
        ("Contrôleurs de traite (proxénètes + réseaux)", _number(c.trafficking_controllers)),
        ("Réseaux prédits", _number(c.predicted_networks)),
        ("Réseaux signalés (traite suspectée)", _number(c.suspected_networks)),
    ]
    clustering = report.clustering
    regroupement = [
        ("Précision B-cubed", _score(clustering.precision if clustering else None)),
        ("Rappel B-cubed", _score(clustering.recall if clustering else None)),
        ("F1 B-cubed", _score(clustering.f1 if clustering else None)),
    ]
    ranking = [
        (f"Précision top-k (k = {_number(report.ranking.k)})", _percent(report.ranking.top_k)),
        ("AUC ROC du risque des annonces", _score(report.ranking.ad_roc_auc)),
    ]
    minors = [
        ("Rappel mineurs (annonces)", _percent(report.minor_recall)),
        ("Faux signalements mineurs (annonces d'indépendants)",
         _percent(report.false_minor_rate)),
    ]
    flags_report = report.independent_flags
    flags = [("Toutes origines", _percent(flags_report.overall))]
    flags += [(_GROUP_LABELS[group].capitalize(), _percent(s))
              for group, s in flags_report.by_origin_group.items()]
    flags += [(f"Pays : {country}", _percent(s)) for country, s in flags_report.by_country]
    ratio = flags_report.foreign_french
    flags.append(("Rapport étrangère / française",
                  f"{ratio.value:.2f}".replace(".", ",") if ratio.value is not None
                  else _RATIO_NOTES.get(ratio.note or "", UNDEFINED)))
    flags += [(f"Risque moyen, {_GROUP_LABELS[group]}", _score(value))
              for group, value in flags_report.mean_risk.items()]
    flags.append(("Rapport des risques moyens étrangère / française",
                  _score(flags_report.mean_risk_ratio)))
    flags.append((f"Rapport max / min entre origines présentées "
                  f"(≥ {_number(flags_report.origin_min_ads)} annonces)",
                  _spread(flags_report)))
    scam = report.scam
    scams = [
        ("Annonces d'arnaque dans un réseau signalé pour traite",
         _percent(scam.flagged_as_trafficking)),
        ("Rappel arnaques (annonces d'arnaque dans un réseau signalé comme arnaque)",
         NO_SCAM_FIELD if scam.recall is None else _percent(scam.recall)),
        ("Précision arnaques (annonces des réseaux signalés comme arnaque)",
         NO_SCAM_FIELD if scam.precision is None else _percent(scam.precision)),
        ("Réseaux signalés comme arnaque",
         _number(c.scam_suspected_networks) if c.networks_with_scam_field else NO_SCAM_FIELD),
    ]

    notes: list[str] = []
    if c.missing_from_export or c.missing_from_truth:
        notes.append("Attention : les mesures portent sur les seules annonces présentes des "
                     "deux côtés.")
    if not c.networks_export:
        notes.append("Sans export des réseaux : aucun réseau n'est signalé et le risque d'un "
                     "réseau est le risque maximal de ses annonces.")
    if c.networks_without_summary:
        notes.append(f"{_number(c.networks_without_summary)} réseau(x) de l'export des "
                     "annonces absent(s) de l'export des réseaux : non signalé(s), risque "
                     "maximal de leurs annonces.")
    if c.networks_without_ads:
        notes.append(f"{_number(c.networks_without_ads)} réseau(x) de l'export des réseaux "
                     "sans aucune annonce.")
    if c.networks_without_scam_field:
        notes.append(f"{_number(c.networks_without_scam_field)} réseau(x) de l'export des "
                     "réseaux sans scam_suspected : compté(s) comme non signalé(s) pour "
                     "arnaque.")
    return Group(
        _table([
            ("Volumes", volumes),
            ("Regroupement des annonces en réseaux", regroupement),
            ("Classement des réseaux par risque", ranking),
            ("Mineurs", minors),
            ("Annonces d'indépendants dans un réseau signalé", flags),
            ("Arnaques (fausses annonces escroquant les clients)", scams),
        ]),
        *(Text(note) for note in notes),
    )
