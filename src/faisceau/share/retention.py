"""Retention: erase case-file people and monitoring's ads whose time is up, per category
(``retention.toml``).

A person record is due when its category's period has run from its case's closing date
(people of open cases are kept), or, for reports outside cases, from the report's date. A
record resolved to the same person as a record still kept is kept too: the person is still
in a live file. Erasing removes the record's statements and its entity row, the links that
name it (case party, family, ownership...) and its leads; judgements stay (they name ids
only). ``apply_retention(..., dry_run=True)`` says what would go without touching anything.
"""

from __future__ import annotations

import tomllib
from calendar import monthrange
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from importlib import resources

from sqlalchemy.engine import Connection

from faisceau.ingest import fulltext
from faisceau.store import Store
from faisceau.store.bulk import delete_in, fetch, fetch_in, mark, note_change, utc_now


@dataclass(frozen=True)
class RetentionRules:
    case_files: Mapping[str, int]  # category -> years after the case closed
    reports: Mapping[str, int]  # category -> years after the report
    # ad: months after last seen; ad_decided: the same for ads of networks decided
    # "investigate" or "known".
    monitoring: Mapping[str, int] = field(default_factory=lambda: {"ad": 12, "ad_decided": 60})


@cache
def rules() -> RetentionRules:
    raw = tomllib.loads((resources.files(__package__) / "retention.toml").read_text("utf-8"))
    return RetentionRules({k: int(v) for k, v in raw["case_files"].items()},
                          {k: int(v) for k, v in raw["reports"].items()},
                          {k: int(v) for k, v in raw["monitoring"].items()})


@dataclass
class RetentionSummary:
    due: dict[str, int] = field(default_factory=dict)  # category -> records
    kept_as_resolved: int = 0  # due, but the same person is in a live file
    erased_entities: int = 0
    erased_statements: int = 0
    dry_run: bool = True


def _years_before(today: date, years: int) -> str:
    try:
        return today.replace(year=today.year - years).isoformat()
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28).isoformat()


def due_records(conn: Connection, today: date,
                settings: RetentionRules | None = None) -> tuple[dict[str, str], set[str]]:
    """(record id -> category) of the person records whose time is up, and the ids kept
    because they are resolved to a person still kept."""
    settings = settings or rules()
    closed = {r[0]: r[1] for r in fetch(
        conn, "SELECT entity_id, MAX(value) FROM intel_statement WHERE schema = 'CourtCase' "
        "AND prop = 'closeDate' GROUP BY entity_id", ())}
    people = fetch(conn, "SELECT id, category, case_id, canonical_id FROM intel_entity "
                   "WHERE schema = 'Person'", ())
    report_dates = {r[0]: r[1] for r in fetch(
        conn, "SELECT s.value, MAX(COALESCE(e.last_date, e.first_date)) FROM intel_statement s "
        "JOIN intel_entity e ON e.id = s.entity_id WHERE s.prop IN ('involved', 'entity') "
        "GROUP BY s.value", ())}
    due: dict[str, str] = {}
    for pid, category, case_id, _canonical in people:
        if category in settings.case_files and case_id:
            ended = closed.get(case_id)
            limit = _years_before(today, settings.case_files[category])
            if ended and ended[:10] < limit:
                due[pid] = category
        elif category in settings.reports:
            when = report_dates.get(pid)
            if when and when[:10] < _years_before(today, settings.reports[category]):
                due[pid] = category
    canonical_of = {pid: canonical for pid, _category, _case, canonical in people}
    members: dict[str, list[str]] = {}
    for pid, canonical in canonical_of.items():
        members.setdefault(canonical, []).append(pid)
    kept = {pid for pid in due
            if any(other not in due for other in members[canonical_of[pid]])}
    return {pid: c for pid, c in due.items() if pid not in kept}, kept


def apply_retention(store: Store, today: date | None = None, *, dry_run: bool = True,
                    settings: RetentionRules | None = None) -> RetentionSummary:
    today = today or date.today()
    summary = RetentionSummary(dry_run=dry_run)
    with store.begin() as conn:
        due, kept = due_records(conn, today, settings)
        summary.kept_as_resolved = len(kept)
        for category in due.values():
            summary.due[category] = summary.due.get(category, 0) + 1
        if dry_run or not due:
            return summary
        ids = sorted(due)
        # The links that name an erased person (case party, family, ownership) go with it.
        naming = {r[0] for r in fetch_in(conn, "SELECT entity_id, prop_type FROM "
                                         "intel_statement", "value", ids) if r[1] == "entity"}
        schemata = dict(fetch_in(conn, "SELECT id, schema FROM intel_entity", "id",
                                 sorted(naming - set(ids))))
        from faisceau.intel.casefiles import link_schemata  # followthemoney: only when due

        links = sorted(i for i, schema in schemata.items() if schema in link_schemata())
        doomed = ids + links
        summary.erased_statements = sum(int(r[0]) for r in fetch_in(
            conn, "SELECT COUNT(*) FROM intel_statement", "entity_id", doomed))
        delete_in(conn, "intel_statement", "entity_id", doomed)
        delete_in(conn, "intel_entity", "id", doomed)
        delete_in(conn, "intel_lead", "entity_id", ids)
        note_change(conn, "case_files")
        summary.erased_entities = len(doomed)
    return summary


# --- Monitoring: ads -------------------------------------------------------------------------

# Every table that holds an ad's data, by the column that names it (versions' rows first).
_BY_VERSION = ("ad_value", "ad_image", "link_features", "link_key", "score_features")
_BY_AD = ("sighting", "ad_minor", "ad_network")
EXPIRED = "expired"  # a network all of whose ads were erased


@dataclass
class AdRetentionSummary:
    due: int = 0
    due_decided: int = 0  # of which ads of networks decided "investigate" or "known"
    erased_versions: int = 0
    expired_networks: int = 0
    dry_run: bool = True


def _months_before(today: date, months: int) -> datetime:
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    return datetime(year, month + 1, min(today.day, monthrange(year, month + 1)[1]))


def due_ads(conn: Connection, today: date,
            settings: RetentionRules | None = None) -> tuple[list[int], int]:
    """The ads whose time is up (their pks), and how many of them had a decided network."""
    settings = settings or rules()
    plain = _months_before(today, settings.monitoring["ad"])
    decided = _months_before(today, settings.monitoring["ad_decided"])
    # A network's latest decision counts: a network dismissed after an investigation
    # decision goes back to the plain period.
    rows = fetch(conn, f"""
        SELECT a.id, CASE WHEN d.decision IN ('investigate', 'known') THEN 1 ELSE 0 END
        FROM ad a
        LEFT JOIN ad_network an ON an.ad_pk = a.id
        LEFT JOIN review_decision d ON d.network_id = an.network_id AND d.id = (
            SELECT MAX(id) FROM review_decision r WHERE r.network_id = an.network_id)
        WHERE a.last_seen < {mark(conn)}""", (plain,))
    due: list[int] = []
    due_decided = 0
    last_seen: dict[int, object] = {}
    if any(r[1] for r in rows):
        last_seen = dict(fetch_in(conn, "SELECT id, last_seen FROM ad", "id",
                                  [int(r[0]) for r in rows if r[1]]))
    for pk, is_decided in rows:
        if not is_decided:
            due.append(int(pk))
        elif _naive(last_seen[pk]) < decided:
            due.append(int(pk))
            due_decided += 1
    return sorted(due), due_decided


def _naive(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def erase_ads(conn: Connection, pks: list[int]) -> tuple[int, int]:
    """Erase these ads from every table, in the caller's transaction; the networks left
    without ads are marked expired, and the next detection (made to start over) recounts
    and re-links the others. Returns (versions erased, networks expired)."""
    versions = [int(r[0]) for r in fetch_in(conn, "SELECT id FROM ad_version", "ad_pk", pks)]
    networks = sorted({str(r[0]) for r in fetch_in(conn, "SELECT network_id FROM ad_network",
                                                   "ad_pk", pks)})
    for table in _BY_VERSION:
        delete_in(conn, table, "version_id", versions)
    for table in _BY_AD:
        delete_in(conn, table, "ad_pk", pks)
    fulltext.forget(conn, versions)
    delete_in(conn, "ad_version", "id", versions)
    delete_in(conn, "ad", "id", pks)
    note_change(conn, "networks")
    still = {str(r[0]) for r in fetch_in(conn, "SELECT network_id FROM ad_network",
                                         "network_id", networks)}
    expired = [n for n in networks if n not in still]
    if expired:
        delete_in(conn, "network_evidence", "network_id", expired)
        delete_in(conn, "network_score", "network_id", expired)
        conn.exec_driver_sql(
            f"UPDATE network SET status = '{EXPIRED}', ads = 0, updated_at = {mark(conn)} "
            f"WHERE id IN ({', '.join([mark(conn)] * len(expired))})",
            (utc_now(), *expired))
    if pks:
        # Detection then sees every network as touched (counts, dates and evidence are
        # rewritten) and scoring, as after a failed run, scores everything again.
        conn.exec_driver_sql(f"UPDATE detect_state SET last_run_at = {mark(conn)}",
                             (datetime(1970, 1, 1),))
        conn.exec_driver_sql("UPDATE score_state SET detect_runs = -1")
    return len(versions), len(expired)


def apply_ad_retention(store: Store, today: date | None = None, *, dry_run: bool = True,
                       settings: RetentionRules | None = None) -> AdRetentionSummary:
    """Erase the ads whose time is up, then link and score again (in full) so that networks,
    evidence and scores no longer hold them."""
    from faisceau.score.run import detect_and_score

    today = today or date.today()
    summary = AdRetentionSummary(dry_run=dry_run)
    with store.begin() as conn:
        due, summary.due_decided = due_ads(conn, today, settings)
        summary.due = len(due)
        if dry_run or not due:
            return summary
        summary.erased_versions, summary.expired_networks = erase_ads(conn, due)
    detect_and_score(store)
    return summary
