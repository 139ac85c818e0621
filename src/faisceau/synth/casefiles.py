"""Case files (procedures) of the world behind the ads: who is in them and what they hold.

A case is opened on one trafficking controller of the ads world (rarely two) and holds, kept
apart by category as Directive (EU) 2016/680 asks: suspects with their role, victims (the
controller's persons: same given name, age and minor flag as in the ads), witnesses (clients,
hotel staff, hosts, neighbours) and persons in relation (relatives). Around them: phones (the
controller's phones, which match the ads, and personal ones), online accounts (the ads'
handles), accommodations (hotels and short-term rentals in the controller's cities, on the
days the ads were there), vehicles. Money (accounts, companies, assets, transactions) is
``money.py``'s.

The records here are plain data; ``intel_writer.py`` turns them into CSV rows and
FollowTheMoney entities. Days are day numbers (0 = the world's first day), as in the ads
world's truth.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass, field
from typing import Any

from faisceau.synth import identity, phones

LATIN_AMERICA = frozenset({
    "AG", "AR", "BB", "BO", "BR", "BS", "BZ", "CL", "CO", "CR", "CU", "DM", "DO", "EC", "GD",
    "GT", "GY", "HN", "HT", "JM", "KN", "LC", "MX", "NI", "PA", "PE", "PY", "SR", "SV", "TT",
    "UY", "VC", "VE"})


# -- input ------------------------------------------------------------------------------------

@dataclass(slots=True)
class Controller:
    """A trafficking controller as ``truth/controllers.jsonl`` describes it."""

    id: str
    kind: str
    first_day: int
    last_day: int
    phones: list[str]
    handle: str | None
    accommodation: str
    ads: int
    cities: list[tuple[int, str, str, str]]  # (day, commune code, name, département)
    persons: list[dict[str, Any]]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Controller:
        cities = [(int(c["day"]), str(c["commune"]), str(c["name"]), str(c["departement"]))
                  for c in row.get("cities") or []]
        return cls(id=row["id"], kind=row["kind"], first_day=int(row["first_day"]),
                   last_day=int(row["last_day"]), phones=list(row.get("phones") or []),
                   handle=row.get("handle"), accommodation=row.get("accommodation") or "hotel",
                   ads=int(row.get("ads") or 0), cities=cities,
                   persons=list(row.get("persons") or []))

    def city_on(self, day: int) -> tuple[int, str, str, str]:
        """The city the ads were in on ``day`` (the first one before the crawl began)."""
        if not self.cities:
            return (day, "", "", "")
        days = [c[0] for c in self.cities]
        return self.cities[max(0, bisect.bisect_right(days, day) - 1)]

    @property
    def has_minor(self) -> bool:
        return any(p.get("minor") for p in self.persons)


# -- records ----------------------------------------------------------------------------------

@dataclass(slots=True)
class PersonRec:
    id: str
    case: str
    category: str            # suspect | victim | witness | relation
    status: str              # the label the file uses (mis en cause, victime présumée, ...)
    role: str = ""           # head, driver, ..., client, hotel_staff, ... (code)
    first: str = ""
    last: str = ""
    sex: str = ""            # F | M
    birth_day: int | None = None
    birth_year_only: bool = False
    age: int | None = None   # age at the facts
    stated_age: int | None = None
    minor: bool = False
    nationality: str | None = None
    residence_country: str = "FR"
    address: str = ""
    commune: str = ""
    emails: list[str] = field(default_factory=list)
    relative_of: str = ""
    relation: str = ""
    # Ground truth only, never written to the intel files.
    person_ref: str = ""
    controller: str = ""
    origin: str | None = None


@dataclass(slots=True)
class PhoneRec:
    case: str
    number: str
    user: str
    subscriber: str
    line: str
    source: str
    first_day: int | None
    last_day: int | None


@dataclass(slots=True)
class OnlineRec:
    id: str
    case: str
    service: str
    username: str
    owner: str
    phone: str


@dataclass(slots=True)
class StayRec:
    id: str
    case: str
    kind: str                # hotel | short_term_rental
    name: str
    street: str
    postcode: str
    commune: str
    commune_code: str
    departement: str
    start: int
    end: int
    booker: str
    phone: str
    email: str
    platform: str
    venue: str               # the hotel's company id, or ""
    amount: float
    controller: str = ""


@dataclass(slots=True)
class VehicleRec:
    id: str
    case: str
    plate: str
    country: str
    model: str
    owner: str
    user: str
    value: float
    origin: str              # personnel | achat | location


@dataclass(slots=True)
class AccountRec:
    id: str
    case: str
    iban: str
    bic: str
    bank: str
    country: str
    holder: str
    kind: str                # particulier | en ligne | professionnel
    opened: int | None


@dataclass(slots=True)
class CompanyRec:
    id: str
    case: str
    name: str
    kind: str                # société écran | hôtel | concessionnaire | ...
    legal_form: str
    siren: str
    naf: str
    address: str
    director: str
    owner: str
    incorporated: int | None


@dataclass(slots=True)
class AssetRec:
    id: str
    case: str
    kind: str                # numéraire | solde bancaire | véhicule | bien immobilier | biens
    description: str
    value: float
    status: str              # identifié | saisi | confisqué
    identified: int
    seized: int | None
    confiscated: int | None
    owner: str
    ref: str
    seized_by: str
    country: str
    fungible: bool = False


@dataclass(slots=True)
class Case:
    id: str
    kind: str                        # network | pimp (the kind of the first controller)
    controllers: list[Controller]
    outcome: str                     # open | dismantled | arrests | dropped
    unit_code: str = ""
    unit_name: str = ""
    force: str = ""
    central: bool = False
    departement: str = ""
    commune_code: str = ""
    commune: str = ""
    number: str = ""
    framework: str = ""
    origin: str = ""
    offences: list[str] = field(default_factory=list)
    opened: int = 0
    arrests: int | None = None
    closed: int | None = None
    judgment: int | None = None
    facts_day: int = 0
    identified: dict[str, bool] = field(default_factory=dict)
    role_counts: dict[str, int] = field(default_factory=dict)
    people: list[PersonRec] = field(default_factory=list)
    phones: list[PhoneRec] = field(default_factory=list)
    online: list[OnlineRec] = field(default_factory=list)
    stays: list[StayRec] = field(default_factory=list)
    vehicles: list[VehicleRec] = field(default_factory=list)
    accounts: list[AccountRec] = field(default_factory=list)
    companies: list[CompanyRec] = field(default_factory=list)
    assets: list[AssetRec] = field(default_factory=list)
    typologies: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # ids the ledger needs (dealer, ...)
    counters: dict[str, itertools.count[int]] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return {"open": "open", "dismantled": "dismantled"}.get(self.outcome, "closed")

    @property
    def concluded(self) -> bool:
        """Arrests took place: the case counts in the year's figures."""
        return self.outcome in ("dismantled", "arrests")

    @property
    def period(self) -> tuple[int, int]:
        """The days of activity the investigators documented."""
        end = self.facts_day
        start = min(c.first_day for c in self.controllers)
        return start, end

    def new_id(self, prefix: str, width: int = 3) -> str:
        counter = self.counters.setdefault(prefix, itertools.count(1))
        return f"{self.id}-{prefix}{next(counter):0{width}d}"

    def by_role(self, *roles: str) -> list[PersonRec]:
        return [p for p in self.people if p.category == "suspect" and p.role in roles]

    @property
    def head(self) -> PersonRec | None:
        found = self.by_role("head")
        return found[0] if found else None

    def victims(self) -> list[PersonRec]:
        return [p for p in self.people if p.category == "victim"]


# -- places -----------------------------------------------------------------------------------

class Places:
    """Communes for addresses: postcodes, and communes of each département by population."""

    def __init__(self) -> None:
        from faisceau.normalise.places import load_index

        index, _ = load_index()
        communes: dict[str, list[Any]] = index["communes"]
        self.names = {code: str(row[0]) for code, row in communes.items()}
        postcode: dict[str, str] = {}
        for code_postal, codes in sorted(index["postcodes"].items()):
            for code in codes:
                postcode.setdefault(code, code_postal)
                parent = communes.get(code, [None] * 5)[4]
                if parent:  # a district's postcode also serves its city (Paris, Lyon, Marseille)
                    postcode.setdefault(parent, code_postal)
        self.postcode = postcode
        by_dep: dict[str, list[tuple[str, int]]] = {}
        for code, row in sorted(communes.items()):
            if row[3] == "COM" and row[2] >= 1_000:
                by_dep.setdefault(str(row[1]), []).append((code, int(row[2])))
        self.population = {code: int(row[2]) for code, row in communes.items()}
        self.by_dep = {dep: ([c for c, _ in rows], list(itertools.accumulate(p for _, p in rows)))
                       for dep, rows in by_dep.items()}
        self.deps = sorted(self.by_dep)
        self.dep_cumulative = list(itertools.accumulate(self.by_dep[d][1][-1] for d in self.deps))

    def commune_in(self, rng: random.Random, dep: str) -> str:
        codes, cumulative = self.by_dep.get(dep) or self.by_dep[self.pick_dep(rng)]
        return codes[bisect.bisect(cumulative, rng.random() * cumulative[-1])]

    def pick_dep(self, rng: random.Random) -> str:
        return self.deps[bisect.bisect(self.dep_cumulative, rng.random() * self.dep_cumulative[-1])]

    def address(self, rng: random.Random, code: str) -> tuple[str, str, str]:
        """(street, postcode, commune name) of an invented address in commune ``code``."""
        return identity.street(rng), self.postcode.get(code, ""), self.names.get(code, "")


def full_address(street: str, postcode: str, commune: str) -> str:
    return f"{street}, {postcode} {commune}".replace(",  ", ", ").strip()


# -- building a case --------------------------------------------------------------------------

@dataclass
class Context:
    """What every case needs: calibration, lexicons, places, the phones already in use."""

    seed: int
    days: int
    cal: dict[str, Any]
    lex: dict[str, Any]
    places: Places
    taken_phones: set[int]

    @property
    def snapshot(self) -> int:
        return self.days - 1

    def fresh_phone(self, rng: random.Random) -> str:
        """A French mobile no ad and no other record uses: a link must mean something."""
        while True:
            number = phones.to_e164(phones.french_mobile(rng))
            key = int(number[1:])
            if key not in self.taken_phones:
                self.taken_phones.add(key)
                return number


def _birth(rng: random.Random, facts_day: int, age: int) -> int:
    """A birth day (day number) such that the person is ``age`` on ``facts_day``."""
    return facts_day - age * 365 - rng.randint(0, 364) - age // 4


def _span(rng: random.Random, bounds: list[int]) -> int:
    return rng.randint(int(bounds[0]), int(bounds[1]))


def add_victims(ctx: Context, rng: random.Random, case: Case) -> None:
    """The controllers' persons: identified victims (met at the arrests) or presumed ones
    (known from the ads only), with the ads' given name, age and minor flag."""
    for controller in case.controllers:
        for person in controller.persons:
            identified = case.concluded and case.identified.get(person["id"], False)
            origin = person.get("origin")
            rec = PersonRec(
                id=case.new_id("P"), case=case.id, category="victim",
                status="victime" if identified else "victime présumée",
                first=str(person["name"]), sex="F", stated_age=int(person["stated_age"]),
                minor=bool(person["minor"]), person_ref=str(person["id"]),
                controller=controller.id, origin=origin)
            if identified:
                rec.last = identity.surname(rng, origin)
                rec.age = int(person["age"])
                rec.birth_day = _birth(rng, case.facts_day, rec.age)
                rec.nationality = origin
                rec.residence_country = "FR"
                rec.address = "sans domicile stable (hébergée par les mis en cause)"
                rec.commune = case.commune
                if rng.random() < 0.3:
                    rec.emails.append(identity.email(rng, rec.first, rec.last))
            case.people.append(rec)


def add_suspects(ctx: Context, rng: random.Random, case: Case) -> None:
    """Suspects by role. In concluded cases they are the arrested (mis en cause); in open
    cases only those the investigators already identified (suspects)."""
    cal = ctx.cal["suspects"]
    kind = case.kind
    lead = case.controllers[0].persons[0].get("origin") if case.controllers[0].persons else "FR"
    head_country = "FR" if rng.random() < cal["french_head_share"][kind] else (lead or "FR")
    if kind == "pimp" and head_country != "FR":
        head_country = rng.choice(["MA", "DZ", "RO", head_country])
    # Family origin of a French head (names, relatives abroad).
    family_country = head_country
    if head_country == "FR" and rng.random() < 0.25:
        family_country = rng.choice(["MA", "DZ", "TN", "SN", "CI"])
    counts = case.role_counts
    status = "mis en cause" if case.concluded else "suspect"
    for role in ctx.cal["roles"][kind]:
        for _ in range(counts.get(role, 0)):
            member_abroad_born = kind == "network" and rng.random() < cal["foreign_member_share"]
            country = head_country if role == "head" or member_abroad_born else "FR"
            names_country = family_country if role == "head" else country
            female_share = {"watcher": 0.6, "recruiter": 0.4, "accomplice": 0.5}.get(
                role, 1 - cal["male_share"])
            female = rng.random() < female_share
            minor = rng.random() < cal["minor_share"][kind] and role != "head"
            if minor:
                age = rng.randint(16, 17)
            elif role == "head" and kind == "network":
                age = rng.randint(26, 52)
            else:
                age = rng.randint(19, 42)
            abroad = role == "head" and kind == "network" and country != "FR" and \
                rng.random() < cal["head_abroad_share"]
            if role == "recruiter" and kind == "network" and country != "FR":
                abroad = rng.random() < 0.6
            rec = PersonRec(
                id=case.new_id("P"), case=case.id, category="suspect", status=status,
                role=role, first=identity.given_name(rng, names_country, female),
                last=identity.surname(rng, names_country), sex="F" if female else "M",
                age=age, minor=age < 18, nationality=country,
                residence_country=country if abroad else "FR")
            rec.birth_day = _birth(rng, case.facts_day, age)
            if not abroad:
                _home(ctx, rng, case, rec)
            if rng.random() < 0.6:
                rec.emails.append(identity.email(rng, rec.first, rec.last))
            case.people.append(rec)


def _home(ctx: Context, rng: random.Random, case: Case, rec: PersonRec,
          local: float = 0.7) -> None:
    """An address in the case's département (share ``local``), else anywhere in France."""
    dep = case.departement if rng.random() < local else ctx.places.pick_dep(rng)
    code = ctx.places.commune_in(rng, dep)
    street, postcode, name = ctx.places.address(rng, code)
    rec.address = full_address(street, postcode, name)
    rec.commune = name


def add_relatives(ctx: Context, rng: random.Random, case: Case, head: PersonRec,
                  count: int) -> list[PersonRec]:
    """Relatives of the head living abroad (the money sent home goes to them)."""
    country = head.nationality if head.nationality not in (None, "FR") else \
        rng.choice(["MA", "DZ", "TN", "SN"])
    out = []
    for _ in range(count):
        relation = rng.choice(ctx.lex["relations"])
        female = relation in ("mère", "sœur") or (relation.endswith("(e)") and rng.random() < 0.5)
        age = rng.randint(20, 70)
        rec = PersonRec(
            id=case.new_id("P"), case=case.id, category="relation",
            status=ctx.lex["categories"]["relation"], role="relative",
            first=identity.given_name(rng, country, female),
            last=head.last if relation in ("père", "mère", "frère", "sœur", "oncle") else
            identity.surname(rng, country), sex="F" if female else "M", age=age,
            nationality=country, residence_country=country or "FR", relative_of=head.id,
            relation=relation)
        rec.birth_day = _birth(rng, case.facts_day, age)
        rec.birth_year_only = True
        case.people.append(rec)
        out.append(rec)
    return out


def add_victim_family(ctx: Context, rng: random.Random, case: Case,
                      victim: PersonRec) -> PersonRec:
    """The relative a foreign victim sends money to (family, or the debt's collector)."""
    country = victim.nationality or "NG"
    age = rng.randint(35, 65)
    relation = rng.choice(["mère", "mère", "père", "sœur", "frère"])
    female = relation in ("mère", "sœur")
    rec = PersonRec(
        id=case.new_id("P"), case=case.id, category="relation",
        status=ctx.lex["categories"]["relation"], role="relative",
        first=identity.given_name(rng, country, female),
        last=victim.last or identity.surname(rng, country), sex="F" if female else "M",
        age=age, nationality=country, residence_country=country, relative_of=victim.id,
        relation=relation)
    rec.birth_day = _birth(rng, case.facts_day, age)
    rec.birth_year_only = True
    case.people.append(rec)
    return rec


def add_witnesses(ctx: Context, rng: random.Random, case: Case, clients: int) -> None:
    """Clients (identified by their payments or heard), hotel staff, hosts, neighbours."""
    kinds = {c.accommodation for c in case.controllers}
    others: list[str] = []
    if case.concluded:
        count = _span(rng, ctx.cal["witnesses"]["concluded"][case.kind])
    else:
        count = _span(rng, ctx.cal["witnesses"]["open"])
    pool = ["neighbour"]
    if "hotel" in kinds:
        pool += ["hotel_staff", "hotel_staff"]
    if "short_term_rental" in kinds:
        pool += ["host", "host"]
    others = [rng.choice(pool) for _ in range(count)]
    for role in ["client"] * clients + others:
        female = role != "client" and rng.random() < 0.5
        country = "FR" if rng.random() < 0.85 else rng.choice(["MA", "PT", "ES", "IT", "DZ"])
        age = rng.randint(19, 72) if role == "client" else rng.randint(20, 65)
        rec = PersonRec(
            id=case.new_id("P"), case=case.id, category="witness",
            status=ctx.lex["categories"]["witness"], role=role,
            first=identity.given_name(rng, country, female), last=identity.surname(rng, country),
            sex="F" if female else "M", age=age, nationality=country)
        rec.birth_day = _birth(rng, case.facts_day, age)
        _home(ctx, rng, case, rec, local=0.8 if role == "client" else 0.97)
        if rng.random() < 0.4:
            rec.emails.append(identity.email(rng, rec.first, rec.last))
        case.people.append(rec)


def add_phones(ctx: Context, rng: random.Random, case: Case) -> None:
    """The ads' phones (whoever the investigators found using them) and personal phones."""
    operators = case.by_role("operator")
    if case.concluded and not operators:
        operators = case.by_role("head")
    lines = ctx.lex.get("line_types", ["prépayée", "prépayée", "prépayée", "forfait"])
    straw = case.by_role("straw_man")
    for controller in case.controllers:
        victims = [p for p in case.victims() if p.controller == controller.id]
        first = max(controller.first_day, 0)
        last = min(controller.last_day, case.facts_day, ctx.snapshot)
        for i, number in enumerate(controller.phones):
            if operators and (case.kind == "network" or rng.random() < 0.7):
                user = operators[i % len(operators)]
            else:
                user = victims[i % len(victims)] if victims else operators[0]
            roll = rng.random()
            if roll < 0.45:
                country = (controller.persons[0].get("origin") if controller.persons else None)
                subscriber = (f"{identity.given_name(rng, country, rng.random() < 0.5)} "
                              f"{identity.surname(rng, country)}")
            elif roll < 0.75 and victims:
                v = rng.choice(victims)
                subscriber = f"{v.first} {v.last or identity.surname(rng, None)}"
            elif straw:
                s = rng.choice(straw)
                subscriber = f"{s.first} {s.last}"
            else:
                subscriber = "ligne prépayée sans identité"
            case.phones.append(PhoneRec(
                case=case.id, number=number, user=user.id, subscriber=subscriber,
                line=rng.choice(lines), source="annonces", first_day=first, last_day=last))
    for person in case.people:
        share = {"suspect": 0.7, "victim": 0.6, "witness": 0.85, "relation": 0.2}[person.category]
        if person.category == "victim" and person.status != "victime":
            continue  # a presumed victim is known from the ads only
        if rng.random() < share and person.residence_country == "FR":
            case.phones.append(PhoneRec(
                case=case.id, number=ctx.fresh_phone(rng), user=person.id,
                subscriber=f"{person.first} {person.last}",
                line=rng.choice(["forfait", "prépayée"]),
                source="audition" if person.category == "witness" else "réquisition",
                first_day=None, last_day=None))


def add_online(rng: random.Random, case: Case) -> None:
    """The ads' handles, owned by whoever uses the first ad phone."""
    users = {p.number: p.user for p in case.phones if p.source == "annonces"}
    for controller in case.controllers:
        if not controller.handle or not controller.phones:
            continue
        phone = controller.phones[0]
        case.online.append(OnlineRec(
            id=case.new_id("U"), case=case.id, service=rng.choice(["Telegram", "Snapchat"]),
            username=controller.handle, owner=users[phone], phone=phone))


def add_stays(ctx: Context, rng: random.Random, case: Case, platform: str) -> None:
    """Bookings in the controllers' cities on the days their ads were there: hotels, or
    short-term rentals changed every few nights, within the documented period."""
    lo, hi = case.period
    lo = max(lo, hi - int(ctx.cal["money"]["requisition_days"]))
    bookers = case.by_role("logistics") or case.by_role("accomplice", "head")
    rates = ctx.cal["money"]["nightly_rate_eur"]
    hotels: dict[str, CompanyRec] = {}
    for controller in case.controllers:
        victims = [p for p in case.victims() if p.controller == controller.id]
        start = max(lo, controller.first_day)
        end = min(hi, controller.last_day, ctx.snapshot)
        moves = [c[0] for c in controller.cities]
        day = start
        while day <= end:
            _, code, name, dep = controller.city_on(day)
            if not code:
                break
            nights = rng.randint(3, 10) if controller.accommodation != "hotel" else \
                rng.randint(3, 14)
            following = bisect.bisect_right(moves, day)
            moved = moves[following] if following < len(moves) else end + 1
            stop = min(day + nights - 1, end, moved - 1)
            booker = rng.choice(bookers) if bookers else (rng.choice(victims) if victims else None)
            kind = controller.accommodation if controller.accommodation != "home" else "hotel"
            rooms = rng.randint(1, 3) if kind == "hotel" and case.kind == "network" else 1
            amount = round((stop - day + 1) * rooms * rng.uniform(*rates[kind]), 2)
            street, postcode, _ = ctx.places.address(rng, code)
            email = ""
            if booker is not None:
                if not booker.emails:
                    booker.emails.append(identity.email(rng, booker.first,
                                                        booker.last or "contact"))
                email = booker.emails[0]
            venue = ""
            if kind == "hotel":
                hotel = hotels.get(code)
                if hotel is None or rng.random() < 0.3:
                    lex = identity.lexicon()
                    hotel_name = (f"{rng.choice(lex['hotel_kinds'])} "
                                  f"{rng.choice(lex['hotel_words'])} {name}")
                    hotel = CompanyRec(
                        id=case.new_id("S"), case=case.id, name=hotel_name, kind="hôtel",
                        legal_form=rng.choice(["SAS", "SARL"]), siren=identity.siren(rng),
                        naf="5510Z", address=full_address(street, postcode, name), director="",
                        owner="", incorporated=None)
                    case.companies.append(hotel)
                    hotels[code] = hotel
                venue = hotel.id
                label, address = hotel.name, hotel.address.split(",")[0]
            else:
                label, address = "Appartement meublé", street
            case.stays.append(StayRec(
                id=case.new_id("H"), case=case.id, kind=kind, name=label, street=address,
                postcode=postcode, commune=name, commune_code=code, departement=dep, start=day,
                end=stop, booker=booker.id if booker else "",
                phone=rng.choice(controller.phones) if controller.phones else "", email=email,
                platform=platform if kind == "short_term_rental" else "", venue=venue,
                amount=amount, controller=controller.id))
            day = stop + 1


def add_vehicles(ctx: Context, rng: random.Random, case: Case) -> None:
    """Drivers' cars (theirs, a straw man's or hired) and the pimp's car."""
    models = identity.lexicon()["car_models"]
    users = case.by_role("driver")
    if case.kind == "pimp" and rng.random() < 0.6:
        users = users + case.by_role("head")
    straw = case.by_role("straw_man")
    for user in users:
        model = rng.choice(models[:10])
        roll = rng.random()
        if roll < 0.5:
            owner, origin = user.id, "personnel"
        elif straw and roll < 0.75:
            owner, origin = rng.choice(straw).id, "personnel"
        else:
            owner, origin = "", "location"  # a hire car: the hire company is not in the file
        country = user.nationality if user.nationality in ("RO", "BG", "ES", "BE", "DE") and \
            rng.random() < 0.4 else "FR"
        case.vehicles.append(VehicleRec(
            id=case.new_id("V"), case=case.id, plate=identity.plate(rng, country or "FR"),
            country=country or "FR", model=model["model"], owner=owner, user=user.id,
            value=float(rng.randint(*model["value"]) // 100 * 100), origin=origin))
