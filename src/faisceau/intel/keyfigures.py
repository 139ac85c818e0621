"""Key figures in the shape of the national plan's "chiffres clés" page: networks dismantled,
suspects and victims identified (share by nationality, share of minors), criminal assets
seized and confiscated, the daily volume of ads, and what monitoring and analysts made of
the networks; with trends (case figures per month or year, ads per day) and ads by
département for the map.

Figures are aggregates: no record leaves this module, so every account may read them. They
are computed from what the store holds, in a handful of set-based queries (no per-record
round trip), so that a national month of ads and a national year of case files take well
under a second or two; callers that serve them often should cache them for a short while.

Conventions, the units' own (see ``csv_layout.yml``):

- a network is dismantled when its case's status or outcome says so ("réseau démantelé",
  "démantèlement"); it is dated by its arrests, else its closing, else its opening;
- suspects and victims are *resolved* people (``canonical_id``): one person in two case
  files counts once. A victim is identified unless every record of hers says "présumée";
  a suspect is "mis en cause" when one of their records says so;
- an asset is seized when it has a seizure date or its status is "saisi" or "confisqué"
  (a confiscated asset was seized first), confiscated when it has a confiscation date or
  that status; amounts are the assets' values in euros. Seizures by the central office are
  those whose seizing service is its code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any

from babel import Locale  # followthemoney's own dependency: country names
from sqlalchemy.engine import Connection

from faisceau.store.bulk import fetch, iso_utc, mark, utc_now

TOP_NATIONALITIES = 5
AD_DAYS = 60  # the ads-per-day series: the last days that have sightings
MONTHLY_UP_TO = 36  # case trends per month up to this many months, then per year
PRESUMED = "présum"
DISMANTLED = "démant"  # "démantelé", "démantèlement"
CHARGED = "mis en cause"
# ISO 3166 codes of Latin America and the Caribbean (the plan counts victims from there).
LATIN_AMERICA_CARIBBEAN = frozenset((
    "AG", "AI", "AR", "AW", "BB", "BL", "BO", "BQ", "BR", "BS", "BZ", "CL", "CO", "CR", "CU",
    "CW", "DM", "DO", "EC", "FK", "GD", "GF", "GP", "GT", "GY", "HN", "HT", "JM", "KN", "KY",
    "LC", "MF", "MQ", "MS", "MX", "NI", "PA", "PE", "PR", "PY", "SR", "SV", "SX", "TC", "TT",
    "UY", "VC", "VE", "VG", "VI"))
OTHERS = "autres"
UNKNOWN = "inconnue"


@dataclass(frozen=True)
class Share:
    code: str  # ISO country code, "autres" or "inconnue"
    label: str
    count: int
    share: float


@dataclass(frozen=True)
class Period:
    period: str  # "2026-03" (month) or "2026" (year)
    cases_opened: int
    networks_dismantled: int
    seized_eur: float


@dataclass(frozen=True)
class Day:
    day: str  # ISO date
    ads_seen: int
    ads_new: int


@dataclass
class KeyFigures:
    computed_at: str
    # Case files
    cases: int = 0
    cases_open: int = 0
    networks_dismantled: int = 0
    suspects: int = 0
    suspects_charged: int = 0
    victims: int = 0
    victims_presumed: int = 0
    victims_minor: int = 0
    victims_french: int = 0
    minor_share: float = 0.0
    french_share: float = 0.0
    french_minor_share: float = 0.0
    latin_america_share: float = 0.0
    nationalities: list[Share] = field(default_factory=list)
    assets_identified_eur: float = 0.0
    seized_eur: float = 0.0
    seized_central_eur: float = 0.0
    confiscated_eur: float = 0.0
    trend_step: str = "month"  # month, year
    trend: list[Period] = field(default_factory=list)
    # Monitoring
    ads: int = 0
    ads_per_day: list[Day] = field(default_factory=list)
    ads_per_day_mean: float = 0.0
    ads_by_departement: dict[str, int] = field(default_factory=dict)
    networks: int = 0
    networks_suspected: int = 0
    networks_minor_suspected: int = 0
    decisions: dict[str, int] = field(default_factory=dict)  # latest decision per network
    networks_decided: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def key_figures(conn: Connection, *, central_unit: str = "OCRTEH",
                ad_days: int = AD_DAYS) -> KeyFigures:
    """Every figure of the dashboard, from what the store holds now."""
    figures = KeyFigures(computed_at=iso_utc(utc_now()) or "")
    cases = _case_rows(conn)
    assets = _asset_rows(conn)
    _cases(cases, figures)
    _people(conn, figures)
    _assets(assets, figures, central_unit)
    _trend(cases, assets, figures)
    _ads(conn, figures, ad_days)
    _networks(conn, figures)
    return figures


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


# -- case files ------------------------------------------------------------------------------


@dataclass
class _Case:
    status: str = ""
    outcome: str = ""
    opened: str | None = None
    closed: str | None = None
    arrests: str | None = None

    @property
    def dismantled(self) -> bool:
        return DISMANTLED in self.status.lower() or DISMANTLED in self.outcome.lower()

    @property
    def dismantled_on(self) -> str | None:
        return self.arrests or self.closed or self.opened


def _case_rows(conn: Connection) -> dict[str, _Case]:
    rows = fetch(conn, "SELECT entity_id, prop, value FROM intel_statement "
                 "WHERE schema = 'CourtCase' AND prop IN "
                 "('status', 'fileDate', 'closeDate', 'keywords')", ())
    cases: dict[str, _Case] = {}
    for case_id, prop, value in rows:
        case = cases.setdefault(case_id, _Case())
        if prop == "status":
            case.status = max(case.status, value)
        elif prop == "fileDate":
            case.opened = min(filter(None, (case.opened, value[:10])))
        elif prop == "closeDate":
            case.closed = max(filter(None, (case.closed, value[:10])))
        else:
            key, _, word = value.partition(":")
            if key == "outcome":
                case.outcome = max(case.outcome, word)
            elif key == "arrests" and word:
                case.arrests = max(filter(None, (case.arrests, word[:10])))
    return cases


def _cases(cases: dict[str, _Case], figures: KeyFigures) -> None:
    figures.cases = len(cases)
    figures.cases_open = sum(1 for c in cases.values() if c.closed is None and not c.dismantled)
    figures.networks_dismantled = sum(1 for c in cases.values() if c.dismantled)


def _people(conn: Connection, figures: KeyFigures) -> None:
    rows = fetch(conn, "SELECT e.canonical_id, e.category, e.status, e.minor, s.value "
                 "FROM intel_entity e LEFT JOIN intel_statement s ON s.entity_id = e.id "
                 "AND s.prop = 'nationality' WHERE e.schema = 'Person' "
                 "AND e.category IN ('suspect', 'victim')", ())
    suspects: dict[str, bool] = {}
    presumed: dict[str, bool] = {}  # victim -> every record says "présumée"
    minor: dict[str, bool] = {}
    nationality: dict[str, Counter[str]] = {}
    for canonical, category, status, is_minor, country in rows:
        status = (status or "").lower()
        if category == "suspect":
            suspects[canonical] = suspects.get(canonical, False) or CHARGED in status
            continue
        presumed[canonical] = presumed.get(canonical, True) and PRESUMED in status
        minor[canonical] = minor.get(canonical, False) or bool(is_minor)
        counts = nationality.setdefault(canonical, Counter())
        if country:
            counts[str(country).upper()] += 1
    figures.suspects = len(suspects)
    figures.suspects_charged = sum(suspects.values())
    identified = [v for v, p in presumed.items() if not p]
    figures.victims = len(identified)
    figures.victims_presumed = len(presumed) - len(identified)
    of: dict[str, str] = {}
    for victim in identified:
        counts = nationality[victim]
        # The most frequent of her records' nationalities; ties go to the smallest code.
        of[victim] = min(counts, key=lambda c: (-counts[c], c)) if counts else UNKNOWN
    figures.victims_minor = sum(1 for v in identified if minor[v])
    french = [v for v in identified if of[v] == "FR"]
    figures.victims_french = len(french)
    figures.minor_share = _share(figures.victims_minor, figures.victims)
    figures.french_share = _share(len(french), figures.victims)
    figures.french_minor_share = _share(sum(1 for v in french if minor[v]), len(french))
    figures.latin_america_share = _share(
        sum(1 for v in identified if of[v] in LATIN_AMERICA_CARIBBEAN), figures.victims)
    figures.nationalities = nationality_shares(Counter(of.values()))


def nationality_shares(counts: Counter[str], top: int = TOP_NATIONALITIES) -> list[Share]:
    """The ``top`` most frequent nationalities, then the others, then the unknown; the
    shares sum to 1 (when there is anyone)."""
    total = sum(counts.values())
    known = sorted(((c, n) for c, n in counts.items() if c != UNKNOWN),
                   key=lambda item: (-item[1], item[0]))
    out = [Share(code, country_name(code), n, _share(n, total)) for code, n in known[:top]]
    rest = sum(n for _, n in known[top:])
    if rest:
        out.append(Share(OTHERS, "autres nationalités", rest, _share(rest, total)))
    if counts.get(UNKNOWN):
        out.append(Share(UNKNOWN, "nationalité inconnue", counts[UNKNOWN],
                         _share(counts[UNKNOWN], total)))
    return out


@cache
def _french_territories() -> dict[str, str]:
    return {str(k): str(v) for k, v in Locale("fr").territories.items()}


def country_name(code: str) -> str:
    """The country's French name (the code itself when unknown)."""
    return _french_territories().get(code.upper(), code)


def _amount(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return 0.0


@dataclass
class _Asset:
    status: str = ""
    value: float = 0.0
    seized: str | None = None
    confiscated: str | None = None
    seized_by: str = ""

    @property
    def is_seized(self) -> bool:
        return self.seized is not None or self.status in ("saisi", "confisqué") \
            or self.is_confiscated

    @property
    def is_confiscated(self) -> bool:
        return self.confiscated is not None or self.status == "confisqué"


def _asset_rows(conn: Connection) -> dict[str, _Asset]:
    rows = fetch(conn, "SELECT e.id, e.status, s.prop, s.value FROM intel_entity e "
                 "JOIN intel_statement s ON s.entity_id = e.id "
                 "WHERE e.schema IN ('Asset', 'RealEstate') "
                 "AND s.prop IN ('amountEur', 'keywords')", ())
    assets: dict[str, _Asset] = {}
    for asset_id, status, prop, value in rows:
        asset = assets.setdefault(asset_id, _Asset(status=(status or "").lower()))
        if prop == "amountEur":
            asset.value = max(asset.value, _amount(value))
            continue
        key, _, word = value.partition(":")
        if key == "seized" and word:
            asset.seized = word[:10]
        elif key == "confiscated" and word:
            asset.confiscated = word[:10]
        elif key == "seized_by":
            asset.seized_by = word
    return assets


def _assets(by_id: dict[str, _Asset], figures: KeyFigures, central_unit: str) -> None:
    assets = by_id.values()
    figures.assets_identified_eur = round(sum(a.value for a in assets), 2)
    figures.seized_eur = round(sum(a.value for a in assets if a.is_seized), 2)
    figures.seized_central_eur = round(sum(a.value for a in assets
                                           if a.is_seized and a.seized_by == central_unit), 2)
    figures.confiscated_eur = round(sum(a.value for a in assets if a.is_confiscated), 2)


def _months_between(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last[:7]:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _trend(cases: dict[str, _Case], assets: dict[str, _Asset], figures: KeyFigures) -> None:
    """Cases opened, networks dismantled and euros seized per month (per year when the
    data spans more than ``MONTHLY_UP_TO`` months), every period between the first and the
    last shown, empty ones included."""
    opened: Counter[str] = Counter()
    dismantled: Counter[str] = Counter()
    seized: Counter[str] = Counter()
    for case in cases.values():
        if case.opened and len(case.opened) >= 7:
            opened[case.opened[:7]] += 1
        when = case.dismantled_on
        if case.dismantled and when and len(when) >= 7:
            dismantled[when[:7]] += 1
    for asset in assets.values():
        if asset.is_seized and asset.seized and len(asset.seized) >= 7:
            seized[asset.seized[:7]] += round(asset.value * 100)  # cents: exact sums
    months = sorted(set(opened) | set(dismantled) | set(seized))
    if not months:
        figures.trend = []
        return
    periods = _months_between(months[0], months[-1])
    step = "month"
    if len(periods) > MONTHLY_UP_TO:
        step = "year"
        for counter in (opened, dismantled, seized):
            by_year: Counter[str] = Counter()
            for month, n in counter.items():
                by_year[month[:4]] += n
            counter.clear()
            counter.update(by_year)
        periods = [str(y) for y in range(int(months[0][:4]), int(months[-1][:4]) + 1)]
    figures.trend_step = step
    figures.trend = [Period(p, opened[p], dismantled[p], seized[p] / 100) for p in periods]


# -- monitoring ------------------------------------------------------------------------------


def _day(conn: Connection, column: str) -> str:
    if conn.dialect.name == "sqlite":
        return f"substr({column}, 1, 10)"
    return f"CAST({column} AS date)"  # to_char would take three times as long


def _ads(conn: Connection, figures: KeyFigures, days: int) -> None:
    figures.ads = int(fetch(conn, "SELECT COUNT(*) FROM ad", ())[0][0])
    figures.ads_by_departement = {str(dep): int(n) for dep, n in fetch(
        conn, "SELECT v.departement, COUNT(*) FROM ad a JOIN ad_version v "
        "ON v.id = a.current_version_id WHERE v.departement IS NOT NULL "
        "GROUP BY v.departement", ())}
    last = fetch(conn, f"SELECT MAX({_day(conn, 'last_seen')}) FROM ad", ())[0][0]
    if not last:
        figures.ads_per_day = []
        return
    end = date.fromisoformat(str(last))
    start = end - timedelta(days=days - 1)
    low = start.isoformat()
    # The day's text compares as the date: on SQLite the column is ISO text, and PostgreSQL
    # compares the timestamp with the date's midnight.
    where = (f"seen_at >= {mark(conn)}" if conn.dialect.name == "sqlite"
             else f"seen_at >= CAST({mark(conn)} AS date)")
    seen = {str(d): n for d, n in fetch(
        conn, f"SELECT {_day(conn, 'seen_at')} d, COUNT(DISTINCT ad_pk) FROM sighting "
        f"WHERE {where} GROUP BY d", (low,))}
    first_where = where.replace("seen_at", "first_seen")
    new = {str(d): n for d, n in fetch(
        conn, f"SELECT {_day(conn, 'first_seen')} d, COUNT(*) FROM ad "
        f"WHERE {first_where} GROUP BY d", (low,))}
    observed = sorted(seen)
    if not observed:
        figures.ads_per_day = []
        return
    first = date.fromisoformat(str(observed[0]))
    series = [first + timedelta(days=i) for i in range((end - first).days + 1)]
    figures.ads_per_day = [Day(d.isoformat(), int(seen.get(d.isoformat(), 0)),
                               int(new.get(d.isoformat(), 0))) for d in series]
    figures.ads_per_day_mean = round(
        sum(d.ads_seen for d in figures.ads_per_day) / len(figures.ads_per_day), 1)


def _networks(conn: Connection, figures: KeyFigures) -> None:
    row = fetch(conn, "SELECT COUNT(*), "
                "SUM(CASE WHEN s.trafficking_suspected THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN s.minor_suspected THEN 1 ELSE 0 END) "
                "FROM network n LEFT JOIN network_score s ON s.network_id = n.id "
                "WHERE n.status = 'active'", ())[0]
    figures.networks, figures.networks_suspected, figures.networks_minor_suspected = (
        int(v or 0) for v in row)
    latest: Sequence[tuple[Any, ...]] = fetch(
        conn, "SELECT d.decision, COUNT(*) FROM review_decision d JOIN "
        "(SELECT network_id, MAX(id) AS id FROM review_decision GROUP BY network_id) l "
        "ON l.id = d.id GROUP BY d.decision", ())
    figures.decisions = {str(k): int(n) for k, n in sorted(latest)}
    figures.networks_decided = sum(figures.decisions.values())
