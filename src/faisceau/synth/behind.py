"""The world behind the ads: case files, money, assets, runaway reports, client fines and
partner signals, consistent with a synthetic ads world (``faisceau.synth.world``).

``write_behind`` reads ``OUT/truth/controllers.jsonl`` once, streaming (only the trafficking
controllers, a bounded sample of touring independents and a few counters stay in memory),
then:

1. selects the controllers the units investigate: networks dismantled and pimping cases
   concluded within the world's days (their ads stop on the day of the arrests), cases dropped,
   and cases still open at the end; calibrated on the national plan's 2023 figures
   (``data/behind.toml``), with quota sampling so that the victims' totals and shares hold
   even in mid-size worlds;
2. builds each case (``casefiles.py``) and its money (``money.py``), then scales the fungible
   seized assets so that the seizures match the plan's figures (central office and
   territorial units apart);
3. writes the intelligence (``OUT/intel/ftm.jsonl`` and ``OUT/intel/csv/``,
   ``intel_writer.py``), runaway reports, client fines and partner signals (``alerts.py``),
   and the ground truth (``OUT/truth/cases.jsonl``, ``patterns.jsonl``, ``runaways.jsonl``,
   ``signals.jsonl``, ``behind.json``).

Same inputs and seed, same bytes: every case draws from a random stream named after its
controller, so the cases do not depend on each other's draws.
"""

from __future__ import annotations

import bisect
import gzip
import itertools
import random
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import IO, Any, cast

import orjson

from faisceau.synth import alerts, casefiles, money
from faisceau.synth.alerts import Geography, sround
from faisceau.synth.casefiles import LATIN_AMERICA, Case, Context, Controller, PersonRec, Places
from faisceau.synth.intel_writer import IntelWriter

TRAFFICKING = frozenset({"pimp", "network"})
INDEPENDENT_SAMPLE = 3_000


@dataclass
class BehindSummary:
    """What was written, and the figures to compare with the calibration (``targets``:
    the plan's yearly figures scaled to this world's size and days)."""

    days: int
    scale: float
    controllers_read: int
    trafficking_controllers: int
    cases: int
    cases_by_outcome: dict[str, int]
    networks_dismantled: int
    suspects_identified: int
    victims_identified: int
    victims_french_share: float
    french_minor_share: float
    latin_america_share: float
    seized_eur: float
    seized_central_eur: float
    confiscated_eur: float
    identified_not_seized_eur: float
    transactions: int
    patterns: dict[str, int]
    runaway_reports: int
    runaway_reports_of_victims: int
    client_fines: int
    partner_signals: int
    partner_signals_true: int
    rows: dict[str, int]
    entities: dict[str, int]
    targets: dict[str, float]
    files: list[Path] = field(default_factory=list)


def _load_data() -> tuple[dict[str, Any], dict[str, Any]]:
    data = resources.files("faisceau.synth") / "data"
    cal = tomllib.loads((data / "behind.toml").read_text("utf-8"))
    lex = orjson.loads((data / "behind_lexicon.json").read_bytes())
    return cal, dict(lex)


# -- reading the ads world --------------------------------------------------------------------

@dataclass
class _Read:
    trafficking: list[Controller]
    independents: list[Controller]
    geography: dict[str, dict[str, list[object]]]
    phones: set[int]
    count: int
    last_city_day: int


def _lines(path: Path) -> Iterator[bytes]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        for line in cast(IO[bytes], handle):
            if line.strip():
                yield line


def _read_controllers(path: Path, seed: int) -> _Read:
    rng = random.Random(f"{seed}:reservoir")
    trafficking: list[Controller] = []
    sample: list[Controller] = []
    geography: dict[str, dict[str, list[object]]] = {}
    phones: set[int] = set()
    count = 0
    touring_seen = 0
    last_city_day = -1
    for line in _lines(path):
        row = orjson.loads(line)
        count += 1
        for number in row.get("phones") or ():
            phones.add(int(number[1:]))
        for city in row.get("cities") or ():
            entry = geography.setdefault(city["departement"], {}).setdefault(
                city["commune"], [city["name"], 0])
            entry[1] = cast(int, entry[1]) + 1
            last_city_day = max(last_city_day, int(city["day"]))
        kind = row["kind"]
        if kind in TRAFFICKING:
            trafficking.append(Controller.from_row(row))
        elif kind == "independent" and row.get("touring"):
            # Reservoir sample: touring independents, for partners' false alarms.
            touring_seen += 1
            if len(sample) < INDEPENDENT_SAMPLE:
                sample.append(Controller.from_row(row))
            else:
                slot = rng.randrange(touring_seen)
                if slot < INDEPENDENT_SAMPLE:
                    sample[slot] = Controller.from_row(row)
    trafficking.sort(key=lambda c: c.id)
    sample.sort(key=lambda c: c.id)
    return _Read(trafficking, sample, geography, phones, count, last_city_day)


def _world_days(out_dir: Path, read: _Read) -> int:
    meta = out_dir / "world.json"
    if meta.exists():
        params = orjson.loads(meta.read_bytes()).get("params") or {}
        if params.get("days"):
            return int(params["days"])
    return max(1, read.last_city_day + 1)


# -- choosing the cases -----------------------------------------------------------------------

@dataclass
class _Candidate:
    controller: Controller
    identified: dict[str, bool]
    victims: int
    french: int
    french_minors: int
    latin: int


def _candidate(ctx: Context, c: Controller) -> _Candidate:
    rng = random.Random(f"{ctx.seed}:identified:{c.id}")
    share = ctx.cal["cases"]["identified_share"][c.kind]
    identified = {str(p["id"]): rng.random() < share for p in c.persons}
    if c.persons and not any(identified.values()):
        identified[str(c.persons[0]["id"])] = True
    chosen = [p for p in c.persons if identified[str(p["id"])]]
    return _Candidate(
        c, identified, len(chosen), sum(p.get("origin") == "FR" for p in chosen),
        sum(p.get("origin") == "FR" and bool(p.get("minor")) for p in chosen),
        sum(p.get("origin") in LATIN_AMERICA for p in chosen))


class _Pool:
    """Controllers not yet taken, drawn by weight."""

    def __init__(self, ctx: Context, controllers: list[Controller]) -> None:
        cal = ctx.cal["cases"]
        self.items = controllers
        self.weights = [max(1, c.ads) ** cal["visibility_power"] *
                        (cal["minor_bonus"] if c.has_minor else 1.0) for c in controllers]
        self.cumulative = list(itertools.accumulate(self.weights))
        self.used: set[str] = set()

    def available(self) -> int:
        return len(self.items) - len(self.used)

    def draw(self, rng: random.Random, k: int) -> list[Controller]:
        """Up to ``k`` distinct controllers not taken yet, by weight."""
        wanted = min(k, self.available())
        picked: dict[str, Controller] = {}
        if not wanted:
            return []
        # Rejection on the whole pool first (cheap while most of it is free).
        for _ in range(wanted * 8):
            c = self.items[bisect.bisect(self.cumulative, rng.random() * self.cumulative[-1])]
            if c.id not in self.used:
                picked.setdefault(c.id, c)
            if len(picked) >= wanted:
                return list(picked.values())
        free = [(c, w) for c, w in zip(self.items, self.weights, strict=True)
                if c.id not in self.used and c.id not in picked]
        cumulative = list(itertools.accumulate(w for _, w in free))
        for _ in range(wanted * 8):
            if len(picked) >= wanted or not free:
                break
            c = free[bisect.bisect(cumulative, rng.random() * cumulative[-1])][0]
            picked.setdefault(c.id, c)
        return list(picked.values())


def _select(ctx: Context, scale: float, trafficking: list[Controller]) -> list[Case]:
    """The cases: which controllers, with which outcome."""
    cal, year = ctx.cal["cases"], ctx.cal["year"]
    rng = random.Random(f"{ctx.seed}:select")
    days = ctx.days
    f = scale * days / 365
    ended = [c for c in trafficking if 0 <= c.last_day <= ctx.snapshot]
    alive = [c for c in trafficking if c.last_day > ctx.snapshot and c.first_day <= days - 5]
    networks = _Pool(ctx, [c for c in ended if c.kind == "network"])
    pimps = _Pool(ctx, [c for c in ended if c.kind == "pimp"])
    n_networks = min(sround(year["networks_dismantled"] * f, rng), networks.available())
    n_pimps = min(sround(year["pimping_cases_concluded"] * f, rng), pimps.available())
    slots = sorted([((i + 0.5) / n_networks, "network") for i in range(n_networks)] +
                   [((i + 0.5) / n_pimps, "pimp") for i in range(n_pimps)])
    target_victims = max(1.0, year["victims_identified"] * f)
    totals = [0, 0, 0, 0]  # victims, French, French minors, Latin America
    cases: list[Case] = []
    for i, (_, kind) in enumerate(slots):
        pool = networks if kind == "network" else pimps
        options = [_candidate(ctx, c) for c in pool.draw(rng, int(cal["steer_candidates"]))]
        if not options:
            continue
        expected = target_victims * (i + 1) / len(slots)
        best = min(options, key=lambda o: _score(year, totals, o, expected))
        pool.used.add(best.controller.id)
        chosen = [best]
        if kind == "pimp" and rng.random() < cal["joint_share"]:
            dep = best.controller.city_on(best.controller.last_day)[3]
            partners = [c for c in pimps.items if c.id not in pimps.used and
                        c.city_on(c.last_day)[3] == dep]
            if partners:
                other = _candidate(ctx, rng.choice(partners))
                pimps.used.add(other.controller.id)
                chosen.append(other)
        for option in chosen:
            totals[0] += option.victims
            totals[1] += option.french
            totals[2] += option.french_minors
            totals[3] += option.latin
        identified: dict[str, bool] = {}
        for option in chosen:
            identified.update(option.identified)
        cases.append(Case(id="", kind=kind, controllers=[o.controller for o in chosen],
                          outcome="dismantled" if kind == "network" else "arrests",
                          identified=identified))
    # Dropped: the set-up vanished before anyone was identified.
    late = _Pool(ctx, [c for c in ended if c.last_day <= ctx.snapshot - 15 and
                       c.id not in networks.used | pimps.used])
    for c in late.draw(rng, sround(year["cases_dropped"] * f, rng)):
        cases.append(Case(id="", kind=c.kind, controllers=[c], outcome="dropped"))
    # Still open at the end of the world (a stock: it depends on the scale, not the days).
    still = _Pool(ctx, alive)
    for c in still.draw(rng, sround(cal["open_stock"] * scale, rng)):
        cases.append(Case(id="", kind=c.kind, controllers=[c], outcome="open"))
    return cases


def _score(year: dict[str, Any], totals: list[int], o: _Candidate, expected: float) -> float:
    v, fr, frm, la = (totals[0] + o.victims, totals[1] + o.french, totals[2] + o.french_minors,
                      totals[3] + o.latin)
    score = 0.5 * (v / expected - 1) ** 2
    if v:
        score += (fr / v - year["french_share"]) ** 2 + (la / v - year["latin_america_share"]) ** 2
    if fr:
        score += (frm / fr - year["french_minor_share"]) ** 2
    return score


# -- dating and staffing the cases ------------------------------------------------------------

def _span(rng: random.Random, bounds: list[int]) -> int:
    return rng.randint(int(bounds[0]), int(bounds[1]))


def _frame(ctx: Context, case: Case, start: date) -> None:
    """Dates, unit, framework, origin of a case (its number comes later, in id order)."""
    cal, lex = ctx.cal["cases"], ctx.lex
    rng = random.Random(f"{ctx.seed}:frame:{case.controllers[0].id}")
    first = case.controllers[0]
    if case.outcome in ("dismantled", "arrests"):
        case.arrests = max(c.last_day for c in case.controllers)
        case.facts_day = case.arrests
        case.opened = case.arrests - _span(rng, cal["investigation_days"][case.kind])
        case.closed = min(ctx.snapshot, case.arrests + _span(rng, cal["closing_days"]))
        if case.outcome == "arrests":
            judged = case.arrests + _span(rng, cal["judgment_days"])
            judged = max(judged, case.closed)
            case.judgment = judged if judged <= ctx.snapshot else None
    elif case.outcome == "dropped":
        case.facts_day = first.last_day
        case.opened = first.last_day - rng.randint(20, 120)
        case.closed = min(ctx.snapshot, first.last_day + rng.randint(15, 60))
    else:
        case.facts_day = ctx.snapshot
        opened = ctx.snapshot - _span(rng, cal["investigation_days"]["open"])
        case.opened = min(ctx.snapshot - 1, max(opened, first.first_day + 1))
    _, code, name, dep = first.city_on(case.facts_day)
    case.commune_code, case.commune, case.departement = code, name, dep
    minors = any(p.get("minor") for c in case.controllers for p in c.persons)
    central = case.kind == "network" and case.outcome in ("dismantled", "open") and \
        rng.random() < cal["central_share"]
    if central:
        unit = lex["central_unit"]
        case.unit_code, case.unit_name, case.force = unit["code"], unit["name"], unit["force"]
        case.central = True
    else:
        units = [u for u in lex["territorial_units"] if minors or not u["code"].startswith("BPM")]
        unit = rng.choices(units, weights=[u["weight"] for u in units])[0]
        case.unit_code = unit["code"].format(dep=dep)
        case.unit_name = unit["name"].format(dep=dep)
        case.force = unit["force"]
    frameworks = lex["frameworks"]
    if case.kind == "network":
        case.framework = "information judiciaire" if rng.random() < 0.7 else frameworks[0]
    else:
        case.framework = rng.choice(frameworks[:3])
    origins = lex["origins"]
    case.origin = "signalement de fugue" if minors and rng.random() < 0.25 else rng.choice(origins)


def _staff(ctx: Context, cases: list[Case], scale: float) -> None:
    """How many suspects of each role; the concluded cases' total follows the plan."""
    roles = ctx.cal["roles"]
    rng = random.Random(f"{ctx.seed}:staff")
    for case in cases:
        crng = random.Random(f"{ctx.seed}:roles:{case.controllers[0].id}")
        if case.concluded:
            case.role_counts = {r: _span(crng, b) for r, b in roles[case.kind].items()}
        elif case.outcome == "open":
            counts = {"head": int(crng.random() < 0.7)}
            extra = ("operator", "logistics") if case.kind == "network" else ("accomplice",)
            for role in extra:
                counts[role] = int(crng.random() < 0.4)
            case.role_counts = counts
    concluded = [c for c in cases if c.concluded]
    if not concluded:
        return
    target = sround(ctx.cal["year"]["suspects_identified"] * scale * ctx.days / 365, rng)
    total = sum(sum(c.role_counts.values()) for c in concluded)
    slots = [(c, r) for c in concluded for r in roles[c.kind] if r != "head"]
    while total != target:
        up = total < target
        movable = [(c, r) for c, r in slots if
                   (c.role_counts[r] < roles[c.kind][r][1] if up else
                    c.role_counts[r] > roles[c.kind][r][0])]
        if not movable:
            break
        c, r = rng.choice(movable)
        c.role_counts[r] += 1 if up else -1
        total += 1 if up else -1


def _offences(ctx: Context, case: Case) -> list[str]:
    names = ctx.lex["offences"]
    victims = [p for c in case.controllers for p in c.persons]
    minors = any(p.get("minor") for p in victims)
    foreign = any(p.get("origin") not in (None, "FR") for p in victims)
    out = []
    if case.kind == "network":
        out += ["teh_organised", "pimping_organised", "conspiracy"]
        if foreign:
            out.append("irregular_stay")
    else:
        out.append("pimping_aggravated" if len(victims) > 1 else "pimping")
    if minors:
        out += ["teh_minor", "pimping_minor"]
    if case.typologies:
        out.append("laundering")
    return [names[o] for o in out]


def _build(ctx: Context, case: Case, national: money.National) -> None:
    rng = random.Random(f"{ctx.seed}:case:{case.controllers[0].id}")
    casefiles.add_victims(ctx, rng, case)
    casefiles.add_suspects(ctx, rng, case)
    clients = 0
    if case.outcome != "dropped":
        bounds = ctx.cal["money"]["clients_per_case"]
        clients = _span(rng, bounds[case.kind] if case.concluded else bounds["open"])
    casefiles.add_witnesses(ctx, rng, case, clients)
    platform = rng.choice(national.platforms).name
    casefiles.add_stays(ctx, rng, case, platform)
    casefiles.add_vehicles(ctx, rng, case)
    money.plan_money(ctx, rng, case, national)
    casefiles.add_phones(ctx, rng, case)
    casefiles.add_online(rng, case)
    case.offences = _offences(ctx, case)


def _calibrate_seizures(ctx: Context, cases: list[Case], scale: float) -> None:
    """Scale the fungible seized assets (cash, balances, goods) so the year's seizures match
    the plan, the central office's and the territorial units' apart."""
    year = ctx.cal["year"]
    f = scale * ctx.days / 365
    targets = {True: year["seized_central_eur"] * f,
               False: (year["seized_eur"] - year["seized_central_eur"]) * f}
    for central in (True, False):
        seized = [a for c in cases if c.concluded and c.central == central for a in c.assets
                  if a.seized is not None]
        fixed = sum(a.value for a in seized if not a.fungible)
        fungible = sum(a.value for a in seized if a.fungible)
        if fungible <= 0:
            continue
        # In a small world one flat can outweigh the year's budget: the largest goods stay
        # identified, not seized (a seizure still pending), until cash and balances have room.
        for asset in sorted((a for a in seized if not a.fungible),
                            key=lambda a: (-a.value, a.id)):
            if fixed <= 0.7 * targets[central]:
                break
            asset.status, asset.seized, asset.seized_by = "identifié", None, ""
            fixed -= asset.value
        factor = max(0.05, (targets[central] - fixed) / fungible)
        for asset in seized:
            if asset.fungible:
                asset.value = round(asset.value * factor, 2)


def _confiscate(ctx: Context, case: Case) -> None:
    if case.judgment is None:
        return
    rng = random.Random(f"{ctx.seed}:confiscation:{case.id}")
    for asset in case.assets:
        if asset.seized is not None and rng.random() < ctx.cal["cases"]["confiscation_share"]:
            asset.status = "confisqué"
            asset.confiscated = case.judgment


# -- the whole ---------------------------------------------------------------------------------

def write_behind(out_dir: Path, seed: int, start: date, scale: float) -> BehindSummary:
    """Write the world behind the ads of the ads world in ``out_dir`` (see the module
    docstring); ``seed``, ``start`` and ``scale`` are the ads world's."""
    cal, lex = _load_data()
    read = _read_controllers(out_dir / "truth" / "controllers.jsonl", seed)
    days = _world_days(out_dir, read)
    ctx = Context(seed=seed, days=days, cal=cal, lex=lex, places=Places(),
                  taken_phones=read.phones)
    cases = _select(ctx, scale, read.trafficking)
    for case in cases:
        _frame(ctx, case, start)
    cases.sort(key=lambda c: (c.opened, c.controllers[0].id))
    per_unit_year: Counter[tuple[str, int]] = Counter()
    for i, case in enumerate(cases, 1):
        case.id = f"C{i:05d}"
        year = (start + timedelta(days=case.opened)).year
        per_unit_year[(case.unit_code, year)] += 1
        case.number = f"{year}/{case.unit_code}/{per_unit_year[(case.unit_code, year)]:04d}"
    _staff(ctx, cases, scale)
    national = money.National.make(seed)
    for case in cases:
        _build(ctx, case, national)
    _calibrate_seizures(ctx, cases, scale)
    for case in cases:
        _confiscate(ctx, case)

    intel = IntelWriter(out_dir, start, lex)
    truth_dir = out_dir / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    patterns: Counter[str] = Counter()
    transactions = 0
    try:
        intel.national(national)
        with open(truth_dir / "cases.jsonl", "wb") as truth_cases, \
                open(truth_dir / "patterns.jsonl", "wb") as truth_patterns:
            for case in cases:
                rng = random.Random(f"{seed}:ledger:{case.controllers[0].id}")
                txns, found = money.ledger(ctx, rng, case, national)
                intel.case(case, txns)
                transactions += len(txns)
                for pattern in found:
                    patterns[pattern.typology] += 1
                    truth_patterns.write(orjson.dumps(asdict(pattern)) + b"\n")
                truth_cases.write(orjson.dumps(_case_truth(case, found)) + b"\n")
        victims = {p.person_ref: (c, p) for c in cases for p in c.people
                   if p.category == "victim"}
        runaways = alerts.runaway_reports(ctx, scale, read.trafficking, victims)
        with open(truth_dir / "runaways.jsonl", "wb") as truth_runaways:
            for report in runaways:
                intel.runaway(report)
                truth_runaways.write(orjson.dumps({
                    "report": report.id, "person": report.person_ref or None,
                    "controller": report.controller or None,
                    "same_name": report.same_name if report.person_ref else None}) + b"\n")
        geo = Geography(read.geography)
        fines = 0
        for fine in alerts.client_fines(ctx, scale, geo, cases):
            intel.fine(fine)
            fines += 1
        case_of = {c.id: case for case in cases for c in case.controllers}
        signals = alerts.partner_signals(ctx, scale, geo, read.trafficking, read.independents,
                                         case_of)
        with open(truth_dir / "signals.jsonl", "wb") as truth_signals:
            for signal in signals:
                intel.signal(signal)
                truth_signals.write(orjson.dumps({
                    "signal": signal.id, "partner": signal.partner_kind,
                    "controller": signal.controller or None,
                    "controller_kind": signal.controller_kind or None,
                    "trafficking": signal.trafficking,
                    "false_alarm": signal.false_reason or None,
                    "case": signal.case or None}) + b"\n")
    finally:
        intel.close()

    summary = _summary(ctx, scale, read, cases, transactions, patterns, runaways, fines,
                       signals, intel)
    summary.files = [*intel.paths, *(truth_dir / n for n in (
        "cases.jsonl", "patterns.jsonl", "runaways.jsonl", "signals.jsonl", "behind.json"))]
    data = {k: v for k, v in asdict(summary).items() if k != "files"}
    (truth_dir / "behind.json").write_bytes(orjson.dumps(
        data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    return summary


def _case_truth(case: Case, found: list[money.PatternRec]) -> dict[str, Any]:
    return {
        "case": case.id, "controllers": [c.id for c in case.controllers],
        "controller_kinds": [c.kind for c in case.controllers], "outcome": case.outcome,
        "unit": case.unit_code, "central": case.central,
        "victims": [{"entity": p.id, "person": p.person_ref, "controller": p.controller,
                     "identified": p.status == "victime"} for p in case.people
                    if p.category == "victim"],
        "suspects": [{"entity": p.id, "role": p.role, "arrested": p.status == "mis en cause"}
                     for p in case.people if p.category == "suspect"],
        "phones": sorted({p.number for p in case.phones if p.source == "annonces"}),
        "typologies": case.typologies, "patterns": [p.id for p in found],
    }


def _summary(ctx: Context, scale: float, read: _Read, cases: list[Case], transactions: int,
             patterns: Counter[str], runaways: list[alerts.RunawayRec], fines: int,
             signals: list[alerts.SignalRec], intel: IntelWriter) -> BehindSummary:
    year = ctx.cal["year"]
    f = scale * ctx.days / 365
    concluded = [c for c in cases if c.concluded]
    victims: list[PersonRec] = [p for c in concluded for p in c.people
                                if p.category == "victim" and p.status == "victime"]
    french = [p for p in victims if p.nationality == "FR"]
    seized = [a for c in cases for a in c.assets if a.seized is not None]

    def share(part: int, whole: int) -> float:
        return round(part / whole, 4) if whole else 0.0

    return BehindSummary(
        days=ctx.days, scale=scale, controllers_read=read.count,
        trafficking_controllers=len(read.trafficking), cases=len(cases),
        cases_by_outcome=dict(sorted(Counter(c.outcome for c in cases).items())),
        networks_dismantled=sum(c.outcome == "dismantled" for c in cases),
        suspects_identified=sum(1 for c in concluded for p in c.people
                                if p.category == "suspect"),
        victims_identified=len(victims),
        victims_french_share=share(len(french), len(victims)),
        french_minor_share=share(sum(p.minor for p in french), len(french)),
        latin_america_share=share(sum(p.nationality in LATIN_AMERICA for p in victims),
                                  len(victims)),
        seized_eur=round(sum(a.value for a in seized), 2),
        seized_central_eur=round(sum(a.value for a in seized if a.seized_by == "OCRTEH"), 2),
        confiscated_eur=round(sum(a.value for a in seized if a.confiscated is not None), 2),
        identified_not_seized_eur=round(sum(a.value for c in cases for a in c.assets
                                            if a.seized is None), 2),
        transactions=transactions, patterns=dict(sorted(patterns.items())),
        runaway_reports=len(runaways),
        runaway_reports_of_victims=sum(1 for r in runaways if r.person_ref),
        client_fines=fines, partner_signals=len(signals),
        partner_signals_true=sum(s.trafficking for s in signals),
        rows=dict(sorted(intel.rows.items())), entities=dict(sorted(intel.entities.items())),
        targets={
            "networks_dismantled": round(year["networks_dismantled"] * f, 2),
            "suspects_identified": round(year["suspects_identified"] * f, 2),
            "victims_identified": round(year["victims_identified"] * f, 2),
            "victims_french_share": year["french_share"],
            "french_minor_share": year["french_minor_share"],
            "latin_america_share": year["latin_america_share"],
            "seized_eur": round(year["seized_eur"] * f, 2),
            "seized_central_eur": round(year["seized_central_eur"] * f, 2),
        })
