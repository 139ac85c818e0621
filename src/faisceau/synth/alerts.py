"""What reaches the units outside their case files: reports of runaway minors (fugues),
fines of clients for buying sex, and signals from partners (hotels, short-term rental
platforms, money-transfer services).

- Runaway reports: a share of the minor victims of trafficking controllers were reported
  missing some days or weeks before their first ad (under the name the ads use, or another
  given name), among many more unrelated reports; a report is closed when the minor comes back
  or when a case identifies her.
- Client fines: one row per fine, by département, where enforcement varies a lot.
- Partner signals: some point at a trafficking controller (its booking phone, its city, the
  name used), the others are false alarms: independent workers on tour, families, students,
  people sending money home.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from faisceau.synth import identity
from faisceau.synth.casefiles import Case, Context, Controller, PersonRec


@dataclass(slots=True)
class RunawayRec:
    id: str
    day: int
    departement: str
    commune_code: str
    commune: str
    unit: str
    first: str
    last: str
    sex: str
    birth_day: int
    age: int
    placement: str
    status: str
    return_day: int | None
    person_ref: str = ""     # truth: the ads world's person, if any
    controller: str = ""
    same_name: bool = True


@dataclass(slots=True)
class FineRec:
    id: str
    day: int
    departement: str
    commune_code: str
    commune: str
    unit: str
    client_id: str
    client_age: int
    qualification: str
    amount: float
    course: bool
    case: str


@dataclass(slots=True)
class SignalRec:
    id: str
    day: int
    partner_kind: str
    partner: str
    reason: str
    departement: str
    commune_code: str
    commune: str
    phone: str
    email: str
    name_given: str
    amount: float
    # Truth only.
    controller: str = ""
    controller_kind: str = ""
    trafficking: bool = False
    false_reason: str = ""
    case: str = ""


def sround(x: float, rng: random.Random) -> int:
    """Stochastic rounding: the expected value is ``x``, small worlds still get some."""
    whole = math.floor(x)
    return whole + (1 if rng.random() < x - whole else 0)


class Geography:
    """Where the ads are, by département and commune (from every controller's cities)."""

    def __init__(self, counts: dict[str, dict[str, list[object]]]) -> None:
        # counts: dep -> commune code -> [name, count]
        self.deps = sorted(counts)
        self.weights = [sum(int(v[1]) for v in counts[d].values())  # type: ignore[call-overload]
                        for d in self.deps]
        self.communes = {d: sorted(counts[d]) for d in self.deps}
        self.names = {code: str(v[0]) for d in self.deps for code, v in counts[d].items()}
        self.commune_cumulative = {
            d: list(itertools.accumulate(int(counts[d][c][1])  # type: ignore[call-overload]
                                         for c in self.communes[d])) for d in self.deps}

    def pick(self, rng: random.Random, factor: dict[str, float] | None = None) -> tuple[str, str]:
        """A (département, commune code) drawn by ads volume, times ``factor`` by département."""
        weights = [w * (factor.get(d, 1.0) if factor else 1.0)
                   for d, w in zip(self.deps, self.weights, strict=True)]
        cumulative = list(itertools.accumulate(weights))
        dep = self.deps[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
        return dep, self.commune_in(rng, dep)

    def commune_in(self, rng: random.Random, dep: str) -> str:
        cumulative = self.commune_cumulative[dep]
        return self.communes[dep][bisect.bisect(cumulative, rng.random() * cumulative[-1])]


def _local_unit(ctx: Context, code: str) -> str:
    """The police station of a town, the gendarmerie brigade of a smaller commune."""
    force = "PN" if ctx.places.population.get(code, 0) >= 20_000 else "GN"
    return str(ctx.lex["local_units"][force]).format(commune=ctx.places.names.get(code, ""))


def runaway_reports(ctx: Context, scale: float, trafficking: list[Controller],
                    victims: dict[str, tuple[Case, PersonRec]]) -> list[RunawayRec]:
    """Runaway reports from ``lookback_days`` before the world to its last day, in date order.
    ``victims`` maps an ads person id to its case and victim record, when a case holds it."""
    cal = ctx.cal["runaways"]
    lex = ctx.lex
    lookback = int(cal["lookback_days"])
    out: list[RunawayRec] = []
    places = ctx.places
    # Related: minor victims reported before their first ad.
    for controller in trafficking:
        for person in controller.persons:
            if not person.get("minor"):
                continue
            rng = random.Random(f"{ctx.seed}:runaway:{person['id']}")
            origin = person.get("origin")
            group = "french" if origin == "FR" else "foreign"
            if rng.random() >= cal["victim_report_share"][group]:
                continue
            day = controller.first_day - rng.randint(*cal["report_days_before"])
            if day < -lookback or day > ctx.snapshot:
                continue
            same = rng.random() < cal["same_name_share"]
            first = str(person["name"]) if same else identity.given_name(rng, origin, True)
            found = victims.get(str(person["id"]))
            status, back = lex["runaway_statuses"]["open"], None
            if found is not None:
                case, victim = found
                last, birth = victim.last, victim.birth_day
                if case.concluded and case.arrests is not None and victim.status == "victime" \
                        and case.arrests <= ctx.snapshot:
                    status, back = lex["runaway_statuses"]["found"], case.arrests
            else:
                last, birth = "", None
            last = last or identity.surname(rng, origin)
            age = int(person["age"])
            if birth is None:
                birth = day - age * 365 - rng.randint(0, 300)
            dep = controller.cities[0][3] if controller.cities else places.pick_dep(rng)
            code = places.commune_in(rng, dep)
            name = places.names.get(code, "")
            out.append(RunawayRec(
                id="", day=day, departement=dep, commune_code=code, commune=name,
                unit=_local_unit(ctx, code), first=first, last=last, sex="F",
                birth_day=birth, age=age,
                placement=rng.choice(["foyer (ASE)", "foyer (ASE)", "domicile familial",
                                      "famille d'accueil (ASE)"]),
                status=status, return_day=back, person_ref=str(person["id"]),
                controller=controller.id, same_name=same))
    # Unrelated reports.
    rng = random.Random(f"{ctx.seed}:runaways")
    count = sround(cal_rate(ctx, "runaway_reports") * scale * (ctx.days + lookback) / 365, rng)
    ages = list(range(int(cal["age"][0]), int(cal["age"][1]) + 1))
    age_weights = [1 + 2 * max(0, a - 12) for a in ages]
    for _ in range(count):
        day = rng.randint(-lookback, ctx.snapshot)
        female = rng.random() < cal["female_share"]
        country = rng.choices(["FR", "MA", "DZ", "SN", "CI", "RO"],
                              weights=[80, 6, 5, 3, 3, 3])[0]
        age = rng.choices(ages, weights=age_weights)[0]
        dep = places.pick_dep(rng)
        code = places.commune_in(rng, dep)
        name = places.names.get(code, "")
        back = day + rng.randint(*cal["return_days"]) if rng.random() < cal["returned_share"] \
            else None
        if back is not None and back > ctx.snapshot:
            back = None
        out.append(RunawayRec(
            id="", day=day, departement=dep, commune_code=code, commune=name,
            unit=_local_unit(ctx, code),
            first=identity.given_name(rng, country, female), last=identity.surname(rng, country),
            sex="F" if female else "M", birth_day=day - age * 365 - rng.randint(0, 364),
            age=age, placement=rng.choice(lex["placements"]),
            status=lex["runaway_statuses"]["returned" if back is not None else "open"],
            return_day=back))
    out.sort(key=lambda r: (r.day, r.departement, r.last, r.first, r.person_ref))
    for i, rec in enumerate(out, 1):
        rec.id = f"F{i:07d}"
    return out


def cal_rate(ctx: Context, key: str) -> float:
    return float(ctx.cal["year"][key])


def client_fines(ctx: Context, scale: float, geo: Geography,
                 cases: list[Case]) -> Iterator[FineRec]:
    """Fines of clients, by département weighted by ads and by each parquet's zeal."""
    cal = ctx.cal["fines"]
    rng = random.Random(f"{ctx.seed}:fines")
    if not geo.deps:
        return
    zeal = {d: random.Random(f"{ctx.seed}:zeal:{d}").lognormvariate(0, cal["zeal_sigma"])
            for d in geo.deps}
    count = sround(cal_rate(ctx, "client_fines") * scale * ctx.days / 365, rng)
    by_dep: dict[str, list[Case]] = {}
    for case in cases:
        by_dep.setdefault(case.departement, []).append(case)
    rows = []
    for _ in range(count):
        day = rng.randint(0, ctx.snapshot)
        dep, code = geo.pick(rng, zeal)
        repeat = rng.random() < cal["repeat_share"]
        bounds = cal["repeat_amount_eur" if repeat else "amount_eur"]
        amount = float(rng.randrange(int(bounds[0]), int(bounds[1]) + 1, 50))
        linked = ""
        if rng.random() < cal["case_share"]:
            open_then = [c for c in by_dep.get(dep, []) if c.opened <= day <= c.facts_day]
            if open_then:
                linked = rng.choice(open_then).id
        name = geo.names.get(code, "")
        rows.append(FineRec(
            id="", day=day, departement=dep, commune_code=code, commune=name,
            unit=_local_unit(ctx, code), client_id="", client_age=rng.randint(19, 74),
            qualification=ctx.lex["fine_qualifications"]["repeat" if repeat else "contravention"],
            amount=amount, course=rng.random() < cal["course_share"], case=linked))
    rows.sort(key=lambda r: (r.day, r.departement, r.commune_code, r.amount, r.client_age))
    for i, row in enumerate(rows, 1):
        row.id = f"AM{i:06d}"
        row.client_id = f"CL{i:06d}"
        yield row


def partner_signals(ctx: Context, scale: float, geo: Geography, trafficking: list[Controller],
                    independents: list[Controller],
                    case_of: dict[str, Case]) -> list[SignalRec]:
    """Signals from hotels, rental platforms and money-transfer services, true and false."""
    cal = ctx.cal["year"]
    lex = ctx.lex
    national = identity.lexicon()["national_counterparties"]
    out: list[SignalRec] = []
    visible = [c for c in trafficking if c.last_day >= 0 and c.first_day <= ctx.snapshot]
    pools = {
        "hotel": [c for c in visible if c.accommodation == "hotel"],
        "rental": [c for c in visible if c.accommodation == "short_term_rental"],
        "money_transfer": [c for c in visible if any(p.get("origin") not in (None, "FR")
                                                     for p in c.persons)],
    }
    touring = [c for c in independents if c.cities]
    for kind in ("hotel", "rental", "money_transfer"):
        rng = random.Random(f"{ctx.seed}:signals:{kind}")
        pool = pools[kind]
        cumulative = list(itertools.accumulate(max(1, c.ads) for c in pool))
        count = sround(float(cal["partner_signals"][kind]) * scale * ctx.days / 365, rng)
        for _ in range(count):
            if kind == "hotel":
                partner = rng.choice(lex["hotel_groups"])
            elif kind == "rental":
                partner = rng.choice(national["platforms"])["name"]
            else:
                partner = rng.choice(national["mts"])["name"]
            reason = rng.choice(lex["signal_kinds"][kind])
            true = bool(pool) and rng.random() < cal["partner_true_share"][kind]
            if true:
                controller = pool[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
                out.append(_true_signal(ctx, rng, kind, partner, reason, controller,
                                        case_of.get(controller.id)))
            elif kind != "money_transfer" and touring and rng.random() < 0.6:
                out.append(_independent_signal(ctx, rng, kind, partner, reason,
                                               rng.choice(touring)))
            else:
                out.append(_unrelated_signal(ctx, rng, kind, partner, reason, geo))
    out.sort(key=lambda s: (s.day, s.partner_kind, s.departement, s.phone, s.name_given))
    for i, rec in enumerate(out, 1):
        rec.id = f"SIG{i:06d}"
    return out


def _active_day(rng: random.Random, ctx: Context, c: Controller) -> int:
    return rng.randint(max(0, c.first_day), max(0, min(ctx.snapshot, c.last_day)))


def _amount(rng: random.Random, kind: str, threshold: float) -> float:
    if kind == "money_transfer":
        return float(sum(rng.randrange(int(threshold * 0.5), int(threshold) - 5, 5)
                         for _ in range(rng.randint(3, 10))))
    return round(rng.randint(2, 10) * rng.uniform(55, 160), 2)


def _true_signal(ctx: Context, rng: random.Random, kind: str, partner: str, reason: str,
                 controller: Controller, case: Case | None) -> SignalRec:
    day = _active_day(rng, ctx, controller)
    _, code, name, dep = controller.city_on(day)
    person = rng.choice(controller.persons)
    email = ""
    if case is not None:
        # The name the partner saw is one the case knows: the booker's, or a victim's.
        bookers = [s for s in case.stays if s.controller == controller.id and s.booker]
        people = {p.id: p for p in case.people}
        if bookers and kind != "money_transfer":
            stay = rng.choice(bookers)
            booker = people[stay.booker]
            given, email = f"{booker.first} {booker.last}".strip(), stay.email
        else:
            victim = next((p for p in case.people if p.person_ref == person["id"]), None)
            given = f"{victim.first} {victim.last}".strip() if victim else str(person["name"])
    else:
        given = f"{person['name']} {identity.surname(rng, person.get('origin'))}"
        if rng.random() < 0.5:
            email = identity.email(rng, str(person["name"]), "contact")
    return SignalRec(
        id="", day=day, partner_kind=kind, partner=partner, reason=reason, departement=dep,
        commune_code=code, commune=name,
        phone=rng.choice(controller.phones) if controller.phones else "", email=email,
        name_given=given, amount=_amount(rng, kind, float(ctx.cal["money"]["threshold_eur"])),
        controller=controller.id, controller_kind=controller.kind, trafficking=True,
        case=case.id if case is not None else "")


def _independent_signal(ctx: Context, rng: random.Random, kind: str, partner: str,
                        reason: str, controller: Controller) -> SignalRec:
    day = _active_day(rng, ctx, controller)
    _, code, name, dep = controller.city_on(day)
    person = controller.persons[0] if controller.persons else {"name": "", "origin": None}
    return SignalRec(
        id="", day=day, partner_kind=kind, partner=partner, reason=reason, departement=dep,
        commune_code=code, commune=name, phone=controller.phones[0] if controller.phones else "",
        email="", name_given=f"{person['name']} {identity.surname(rng, person.get('origin'))}",
        amount=_amount(rng, kind, float(ctx.cal["money"]["threshold_eur"])),
        controller=controller.id, controller_kind=controller.kind, trafficking=False,
        false_reason="independent")


def _unrelated_signal(ctx: Context, rng: random.Random, kind: str, partner: str, reason: str,
                      geo: Geography) -> SignalRec:
    dep, code = geo.pick(rng) if geo.deps else (ctx.places.pick_dep(rng), "")
    if not code:
        code = ctx.places.commune_in(rng, dep)
    why = "remittances" if kind == "money_transfer" else rng.choice(["family", "students",
                                                                     "workers"])
    country = rng.choice(["FR", "FR", "MA", "SN", "RO", "PT"])
    female = rng.random() < 0.5
    first, last = identity.given_name(rng, country, female), identity.surname(rng, country)
    return SignalRec(
        id="", day=rng.randint(0, ctx.snapshot), partner_kind=kind, partner=partner,
        reason=reason, departement=dep, commune_code=code,
        commune=geo.names.get(code) or ctx.places.names.get(code, ""),
        phone=ctx.fresh_phone(rng), email=identity.email(rng, first, last) if rng.random() < 0.5
        else "", name_given=f"{first} {last}",
        amount=_amount(rng, kind, float(ctx.cal["money"]["threshold_eur"])), trafficking=False,
        false_reason=why)
