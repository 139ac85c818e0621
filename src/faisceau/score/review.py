"""The review queue and analysts' decisions: the API the command line and the web app share.

The queue lists scored, active networks by risk, highest first, each with its top reasons
and its review status:

- ``new``: no analyst has decided on it yet;
- ``returned``: its latest decision dismissed it, but it changed materially since (the
  rule is data: the ``[review]`` section of ``indicators.toml``), with what changed;
- ``investigate``, ``dismissed``, ``known``: its latest decision, listed only on request.

A decision keeps a snapshot of the score the analyst decided on (risk, ads, indicators,
minor suspicion): that is what a later change is measured against. Decisions are only ever
appended; the store itself refuses to update or delete them (migration 0003).

A network absorbed by a merge loses its identifier, so its decisions do not follow its ads:
the surviving network is ``new``, and its entry shows the decisions taken on the networks
it absorbed (``earlier_decisions``) so that the analyst does not start from nothing.
"""

from __future__ import annotations

import functools
import tomllib
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, and_, or_, select

from faisceau.score.settings import load_settings as load_score_settings
from faisceau.store.bulk import iso_utc, note_change, utc_now
from faisceau.store.schema import network, network_event, network_score, review_decision

DECISIONS = ("investigate", "dismissed", "known")
NEW = "new"
RETURNED = "returned"
STATUSES = (NEW, RETURNED, *DECISIONS)
# Shown by default: what still needs an analyst.
OPEN_STATUSES = (NEW, RETURNED)
TOP_REASONS = 3
# The queue's categories: each keeps the networks its flag marks (a scam is another crime
# than exploitation, reviewed apart so that it does not crowd the exploitation out).
CATEGORIES = {"trafficking": network_score.c.trafficking_suspected,
              "scam": network_score.c.scam_suspected,
              "minor": network_score.c.minor_suspected}
# Scores read per query: the queue pages through ``network_score`` by risk and stops as
# soon as it has enough entries, so a national store is never read whole.
PAGE = 200
MAX_TEXT = 100  # the width of ``review_decision.case_ref`` and ``analyst``
# Risks are stored rounded to 6 decimals: a rise equal to the threshold must count.
_EPSILON = 1e-9


class ReviewError(ValueError):
    """A decision that cannot be recorded; the message is one line, in French, for the user."""


@dataclass(frozen=True)
class ReviewSettings:
    """When a dismissed network comes back (see ``[review]`` in ``indicators.toml``)."""

    min_new_ads: int
    min_growth: float
    min_risk_rise: float

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> ReviewSettings:
        settings = cls(min_new_ads=int(raw["min_new_ads"]), min_growth=float(raw["min_growth"]),
                       min_risk_rise=float(raw["min_risk_rise"]))
        if settings.min_new_ads < 1 or settings.min_growth < 0 or settings.min_risk_rise <= 0:
            raise ValueError("review: min_new_ads must be >= 1, min_growth >= 0, "
                             "min_risk_rise > 0")
        return settings


def load_review_settings(path: Path | None = None) -> ReviewSettings:
    """The ``[review]`` section of the shipped catalogue, or of another file."""
    if path is None:
        text = (resources.files(__package__) / "indicators.toml").read_text("utf-8")
    else:
        text = path.read_text("utf-8")
    return ReviewSettings.from_mapping(tomllib.loads(text)["review"])


@functools.cache
def _shipped_settings() -> ReviewSettings:
    return load_review_settings()


@functools.cache
def _indicator_labels() -> dict[str, str]:
    """French label of each indicator of the shipped catalogue."""
    return {i.name: i.label for i in load_score_settings().indicators}


def _lowering_indicators() -> frozenset[str]:
    """Indicators that do not point towards trafficking (weight zero or negative): one
    appearing is no reason to look at a dismissed network again."""
    return frozenset(i.name for i in load_score_settings().indicators if i.weight <= 0)


@dataclass(frozen=True)
class Snapshot:
    """The part of a network's score a material change is measured on."""

    risk: float
    ads: int
    indicators: dict[str, int]  # indicator name -> count, for the indicators that fired
    minor_suspected: bool


@dataclass(frozen=True)
class Decision:
    id: int
    network_id: str
    decision: str
    reason: str | None
    case_ref: str | None
    analyst: str
    decided_at: datetime
    seen: Snapshot  # the score when it was taken

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "network_id": self.network_id, "decision": self.decision,
                "reason": self.reason, "case_ref": self.case_ref, "analyst": self.analyst,
                "decided_at": iso_utc(self.decided_at), "risk": self.seen.risk,
                "ads": self.seen.ads, "indicators": self.seen.indicators,
                "minor_suspected": self.seen.minor_suspected}


@dataclass(frozen=True)
class Reason:
    indicator: str
    label: str  # French, as the scorer wrote it
    contribution: float  # its part of the risk, signed


@dataclass
class QueueEntry:
    rank: int
    network_id: str
    risk: float
    trafficking_suspected: bool
    minor_suspected: bool
    ads: int
    scored_at: datetime
    status: str  # one of STATUSES
    reasons: list[Reason] = field(default_factory=list)  # the TOP_REASONS largest
    minor_reasons: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # French; only when "returned"
    decision: Decision | None = None  # the latest
    earlier_decisions: list[Decision] = field(default_factory=list)  # on absorbed networks
    scam_suspected: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank, "network_id": self.network_id, "risk": self.risk,
            "trafficking_suspected": self.trafficking_suspected,
            "minor_suspected": self.minor_suspected,
            "scam_suspected": self.scam_suspected, "ads": self.ads,
            "scored_at": iso_utc(self.scored_at), "status": self.status,
            "reasons": [{"indicator": r.indicator, "label": r.label,
                         "contribution": r.contribution} for r in self.reasons],
            "minor_reasons": self.minor_reasons, "changes": self.changes,
            "decision": self.decision.to_dict() if self.decision else None,
            "earlier_decisions": [d.to_dict() for d in self.earlier_decisions],
        }


def _utc_naive(value: datetime | None) -> datetime:
    """The store keeps UTC without offset."""
    if value is None:
        return utc_now()
    if value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _indicator_counts(text: str) -> dict[str, int]:
    """``network_score.indicators``: an object {name: count}; a bare list of names is read
    too (the schema's comment describes one)."""
    value = orjson.loads(text)
    if isinstance(value, dict):
        return {str(k): int(v) for k, v in value.items()}
    return {str(name): 0 for name in value}


# --- Decisions -----------------------------------------------------------------------------


def _cleaned(value: str | None) -> str | None:
    """Surrounding blanks dropped; blank is missing. The text itself is kept as typed."""
    if value is None:
        return None
    return value.strip() or None


def _check_text(value: str | None, what: str) -> None:
    if value is not None and len(value) > MAX_TEXT:
        raise ReviewError(f"{what} trop long ({len(value)} caractères, {MAX_TEXT} au plus)")


def _validated(decision: str, analyst: str, reason: str | None,
               case_ref: str | None) -> tuple[str, str | None, str | None]:
    """The analyst's name, reason and case reference, cleaned; or a ReviewError."""
    if decision not in DECISIONS:
        raise ReviewError(f"décision inconnue « {decision} » (attendu : {', '.join(DECISIONS)})")
    name, reason, case_ref = _cleaned(analyst), _cleaned(reason), _cleaned(case_ref)
    if name is None:
        raise ReviewError("le nom de l'analyste est obligatoire")
    if decision == "dismissed" and reason is None:
        raise ReviewError("classer un réseau sans suite exige un motif")
    if decision == "known" and case_ref is None:
        raise ReviewError("un réseau déjà connu exige la référence de la procédure")
    _check_text(name, "nom de l'analyste")
    _check_text(case_ref, "référence de procédure")
    return name, reason, case_ref


def _successor(conn: Connection, network_id: str) -> str | None:
    """The network that absorbed this one (following later merges), if known."""
    current, seen = network_id, {network_id}
    while True:
        row = conn.execute(
            select(network_event.c.network_id)
            .where(network_event.c.kind == "merged",
                   network_event.c.others.contains(f'"{current}"', autoescape=True))
            .order_by(network_event.c.id.desc()).limit(1)).first()
        if row is None or row.network_id in seen:
            return current if current != network_id else None
        current = row.network_id
        seen.add(current)


def _score_to_decide_on(conn: Connection, network_id: str) -> Snapshot:
    row = conn.execute(
        select(network.c.status, network_score.c.risk, network_score.c.ads,
               network_score.c.indicators, network_score.c.minor_suspected)
        .select_from(network.outerjoin(network_score,
                                       network_score.c.network_id == network.c.id))
        .where(network.c.id == network_id)).first()
    if row is None:
        raise ReviewError(f"réseau inconnu : {network_id}")
    if row.status == "merged":
        into = _successor(conn, network_id)
        where = f" dans {into}" if into else ""
        raise ReviewError(f"le réseau {network_id} a été fusionné{where} : décider sur le "
                          "réseau qui l'a absorbé")
    if row.status != "active":  # emptied: its ads went to several other networks
        raise ReviewError(f"le réseau {network_id} n'existe plus : ses annonces sont passées "
                          "dans d'autres réseaux")
    if row.risk is None:
        raise ReviewError(f"le réseau {network_id} n'a pas encore de score : lancer "
                          "« faisceau detect »")
    return Snapshot(float(row.risk), int(row.ads), _indicator_counts(row.indicators),
                    bool(row.minor_suspected))


def record_decision(conn: Connection, network_id: str, decision: str, analyst: str, *,
                    reason: str | None = None, case_ref: str | None = None,
                    now: datetime | None = None) -> int:
    """Record an analyst's decision on a scored network, with the score it was taken on;
    returns its id. ``dismissed`` needs a reason, ``known`` a case reference. Nothing is
    ever updated: a new decision is appended and the latest one counts."""
    name, reason, case_ref = _validated(decision, analyst, reason, case_ref)
    seen = _score_to_decide_on(conn, network_id)
    note_change(conn, "decisions")
    result = conn.execute(review_decision.insert().values(
        network_id=network_id, decision=decision, reason=reason, case_ref=case_ref,
        analyst=name, decided_at=_utc_naive(now), risk=seen.risk, ads=seen.ads,
        indicators=orjson.dumps(seen.indicators).decode(),
        minor_suspected=seen.minor_suspected))
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def _decision(row: Any) -> Decision:
    return Decision(
        id=int(row.id), network_id=row.network_id, decision=row.decision, reason=row.reason,
        case_ref=row.case_ref, analyst=row.analyst, decided_at=row.decided_at,
        seen=Snapshot(float(row.risk), int(row.ads), _indicator_counts(row.indicators),
                      bool(row.minor_suspected)))


def _decisions_on(conn: Connection, network_ids: Collection[str]) -> list[Decision]:
    """Every decision on these networks, in time order."""
    if not network_ids:
        return []
    rows = conn.execute(select(review_decision)
                        .where(review_decision.c.network_id.in_(sorted(network_ids)))
                        .order_by(review_decision.c.decided_at, review_decision.c.id)).all()
    return [_decision(r) for r in rows]


def network_exists(conn: Connection, network_id: str) -> bool:
    """Whether detection ever gave this identifier (active, merged or emptied)."""
    return conn.execute(select(network.c.id).where(network.c.id == network_id)).first() \
        is not None


def history(conn: Connection, network_id: str) -> list[Decision]:
    """The decisions taken on this network, oldest first."""
    return _decisions_on(conn, [network_id])


def earlier_decisions(conn: Connection, network_ids: Collection[str],
                      ) -> dict[str, list[Decision]]:
    """For each network, the decisions taken on the networks it absorbed, directly or
    through networks that had absorbed others, oldest first."""
    root_of: dict[str, str] = {}  # absorbed network -> the given network it ended up in
    frontier = {n: n for n in network_ids}
    seen = set(network_ids)
    while frontier:
        rows = conn.execute(select(network_event.c.network_id, network_event.c.others)
                            .where(network_event.c.kind == "merged",
                                   network_event.c.network_id.in_(sorted(frontier)))).all()
        found: dict[str, str] = {}
        for row in rows:
            for other in orjson.loads(row.others):
                if other not in seen:
                    seen.add(other)
                    found[other] = frontier[row.network_id]
        root_of.update(found)
        frontier = found
    out: dict[str, list[Decision]] = defaultdict(list)
    for decision in _decisions_on(conn, list(root_of)):
        out[root_of[decision.network_id]].append(decision)
    return dict(out)


# --- Material change -----------------------------------------------------------------------


def french_risk(value: float) -> str:
    """A risk with two decimals and a decimal comma, rounded down: 0.995 is not shown as a
    certainty (1,00)."""
    shown = Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    return str(shown).replace(".", ",")


def material_changes(seen: Snapshot, now: Snapshot, settings: ReviewSettings | None = None,
                     labels: Mapping[str, str] | None = None) -> list[str]:
    """What changed materially between the score a decision was taken on and the current
    one, in French; empty when nothing did."""
    settings = settings or _shipped_settings()
    labels = _indicator_labels() if labels is None else labels
    changes = []
    more = now.ads - seen.ads
    if more >= settings.min_new_ads and more >= settings.min_growth * seen.ads - _EPSILON:
        changes.append(f"{more} annonce{'s' if more > 1 else ''} de plus (était {seen.ads})")
    for name in sorted(set(now.indicators) - set(seen.indicators) - _lowering_indicators()):
        changes.append(f"nouvel indicateur : {labels.get(name, name)}")
    if now.risk - seen.risk >= settings.min_risk_rise - _EPSILON:
        changes.append(f"risque passé de {french_risk(seen.risk)} à {french_risk(now.risk)}")
    if now.minor_suspected and not seen.minor_suspected:
        changes.append("mineur désormais suspecté")
    return changes


def review_status(latest: Decision | None, now: Snapshot,
                  settings: ReviewSettings | None = None) -> tuple[str, list[str]]:
    """A network's status in the queue given its latest decision, and what changed."""
    if latest is None:
        return NEW, []
    if latest.decision == "dismissed":
        changes = material_changes(latest.seen, now, settings)
        if changes:
            return RETURNED, changes
    return latest.decision, []


# --- The queue -----------------------------------------------------------------------------


def _page(conn: Connection, after: Any, size: int, only: str | None = None
          ) -> Sequence[Any]:
    """The next ``size`` scores of active networks after ``after``, by risk, then ads, then
    identifier, all descending (a total order, so that paging neither skips nor repeats a
    network)."""
    # EXISTS rather than a join: with a join SQLite drives from ``network`` and sorts every
    # score; this way both backends walk the risk index and stop after ``size`` rows.
    active = select(network.c.id).where(network.c.id == network_score.c.network_id,
                                        network.c.status == "active").exists()
    query = (select(network_score.c.network_id, network_score.c.risk,
                    network_score.c.trafficking_suspected, network_score.c.minor_suspected,
                    network_score.c.scam_suspected, network_score.c.ads,
                    network_score.c.indicators, network_score.c.scored_at)
             .where(active)
             # One direction throughout: the index (risk, ads, network_id) read backwards.
             .order_by(network_score.c.risk.desc(), network_score.c.ads.desc(),
                       network_score.c.network_id.desc())
             .limit(size))
    if only is not None:
        query = query.where(CATEGORIES[only].is_(True))
    if after is not None:
        risk, ads, network_id = after.risk, after.ads, after.network_id
        query = query.where(
            network_score.c.risk <= risk,  # lets the risk index bound the scan
            or_(network_score.c.risk < risk,
                and_(network_score.c.risk == risk,
                     or_(network_score.c.ads < ads,
                         and_(network_score.c.ads == ads,
                              network_score.c.network_id < network_id)))))
    return conn.execute(query).all()


def _latest_decisions(conn: Connection, network_ids: list[str]) -> dict[str, Decision]:
    latest: dict[str, Decision] = {}
    for decision in _decisions_on(conn, network_ids):
        latest[decision.network_id] = decision  # time order: the last one wins
    return latest


def _reasons(conn: Connection, network_ids: list[str],
             ) -> dict[str, tuple[list[Reason], list[str]]]:
    """Top risk reasons and minor reasons of these networks (read only for the entries
    shown: reasons carry evidence and are the wide column)."""
    out = {}
    for row in conn.execute(select(network_score.c.network_id, network_score.c.reasons)
                            .where(network_score.c.network_id.in_(network_ids))):
        reasons = orjson.loads(row.reasons)
        risk = sorted(reasons.get("risk", []), key=lambda r: -abs(r["contribution"]))
        out[row.network_id] = (
            [Reason(r["indicator"], r["label"], float(r["contribution"]))
             for r in risk[:TOP_REASONS]],
            [r["label"] for r in reasons.get("minor", [])])
    return out


def queue(conn: Connection, *, limit: int = 20, include_decided: bool = False,
          only: str | None = None, settings: ReviewSettings | None = None
          ) -> list[QueueEntry]:
    """The first ``limit`` networks to review, highest risk first (ties: more ads, then
    identifier). By default only networks never decided on or returned after a dismissal;
    ``include_decided`` lists every scored active network with its latest decision;
    ``only`` keeps one category (``CATEGORIES``: suspected of trafficking, of being a scam,
    of showing a minor)."""
    if limit < 1:
        raise ReviewError("la limite doit être d'au moins 1")
    if only is not None and only not in CATEGORIES:
        raise ReviewError(f"catégorie inconnue : {only} (au choix : {', '.join(CATEGORIES)})")
    settings = settings or _shipped_settings()
    entries: list[QueueEntry] = []
    after = None
    while len(entries) < limit:
        rows = _page(conn, after, max(PAGE, limit) if after is None else PAGE, only)
        if not rows:
            break
        latest = _latest_decisions(conn, [r.network_id for r in rows])
        for row in rows:
            now = Snapshot(float(row.risk), int(row.ads), _indicator_counts(row.indicators),
                           bool(row.minor_suspected))
            decision = latest.get(row.network_id)
            status, changes = review_status(decision, now, settings)
            if status not in OPEN_STATUSES and not include_decided:
                continue
            entries.append(QueueEntry(
                rank=len(entries) + 1, network_id=row.network_id, risk=now.risk,
                trafficking_suspected=bool(row.trafficking_suspected),
                scam_suspected=bool(row.scam_suspected),
                minor_suspected=now.minor_suspected, ads=now.ads, scored_at=row.scored_at,
                status=status, changes=changes, decision=decision))
            if len(entries) == limit:
                break
        after = rows[-1]
    _add_reasons_and_earlier(conn, entries)
    return entries


def _add_reasons_and_earlier(conn: Connection, entries: list[QueueEntry]) -> None:
    ids = [e.network_id for e in entries]
    reasons = _reasons(conn, ids)
    earlier = earlier_decisions(conn, ids)
    for entry in entries:
        entry.reasons, entry.minor_reasons = reasons.get(entry.network_id, ([], []))
        entry.earlier_decisions = earlier.get(entry.network_id, [])
