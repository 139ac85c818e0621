"""A synthetic national world of online ads, as a daily crawl, with its ground truth.

Four kinds of controller post the ads (calibration in ``calibration.toml``):

- independent workers: their own phone, style and photos; some tour other cities and say so;
- small pimping set-ups: one controller whose phones all its victims share, often French
  and minors, hotels and short-term rentals, nearby cities, third-person texts;
- organised networks: foreign victims moved along a circuit of cities, templated texts with
  slots, phones rotated among victims, stock photos shared;
- scams: fake ads with photos stolen from independent workers, payment by prepaid coupons,
  contact by messaging or e-mail.

Confounders make unrelated controllers look alike, as on real sites (rates in the
``[confounders]`` section of ``calibration.toml``, all multiplied by ``Params.confounding``):
templates circulating in an origin community, skewed given-name tables and young stated
ages, circuits favouring the largest cities, scams stealing the same popular photos and
sharing scripts and common names, independent workers posting under a second name, and
numbers reassigned to someone else after the operator's quarantine.

Every day each active ad is seen again; ads are edited (a new version), withdrawn, re-posted;
controllers appear and stop, keeping the active ads near the calibrated level. The world is
streamed to disk: only what is alive is in memory, so a national year can be made. Same
parameters and seed, same bytes.

Output, under the chosen directory:

- ``crawl/ads-YYYY-MM-DD.jsonl[.gz]`` (or ``crawl/ads.jsonl``) and ``crawl/images/``;
- ``truth/ads.jsonl``: for each ad its controller, controller kind, person, minor flag and
  presented origin; ``truth/controllers.jsonl``: each controller with its persons (and every
  name each posts under), phones, handle, e-mail, community and template, cities over time
  and photos; ``world.json``: parameters and totals.
"""

from __future__ import annotations

import bisect
import gzip
import itertools
import random
import tomllib
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO, cast

import orjson

from faisceau.synth import phones as phone_styles
from faisceau.synth.images import write_photo

KINDS = ("independent", "pimp", "network", "scam")
TRAFFICKING = frozenset({"pimp", "network"})
LATIN_AMERICA = frozenset({"BR", "CO", "VE", "DO", "PE", "PY", "EC", "BO", "CU", "HT", "MX", "AR"})
# Share of ads whose phone is written to dodge filters, by kind.
OBFUSCATION = {"independent": 0.15, "pimp": 0.45, "network": 0.5, "scam": 0.3}
FOREIGN_PREFIXES = {"RO": "+40 7", "BR": "+55 11 9", "ES": "+34 6", "NG": "+234 80",
                    "CN": "+86 13", "CO": "+57 3", "BG": "+359 8", "VE": "+58 41"}
CITY_MIN_POPULATION = 20_000
EMAIL_DOMAINS = ("courriel.example", "mail.example", "messagerie.example")
SECONDS_OF_CRAWL = 16 * 3600
# The confounders' rates (``[confounders]`` in calibration.toml), multiplied by
# ``Params.confounding`` and capped at 1.
CONFOUNDER_RATES = (
    "community_template_share", "pimp_community_template_share", "community_victims_share",
    "network_young_age_share",
    "network_big_city_share", "scam_big_city_share", "touring_big_city_share",
    "scam_popular_photo_share", "scam_script_share", "scam_common_name_share",
    "second_name_share", "phone_reuse_share",
)
# Which rate says how many controllers of a kind take a template of their community.
TEMPLATE_SHARE = {"network": "community_template_share",
                  "pimp": "pimp_community_template_share", "scam": "scam_script_share"}
# Stated ages networks advertise: young adults, most often about 22.
YOUNG_AGES = (19, 29, 22)


@dataclass(frozen=True)
class Params:
    """What world to make. ``ads_per_day``, when given, overrides ``scale``. ``confounding``
    multiplies every confounder's rate: 0 makes the world without them, 2 doubles them."""

    scale: float = 0.05
    days: int = 14
    seed: int = 1
    start: date = date(2026, 3, 2)
    images: bool = False
    corrupt_rate: float = 0.0
    gzip: bool = False
    single_file: bool = False
    ads_per_day: int | None = None
    confounding: float = 1.0


PRESETS: dict[str, Params] = {
    "small": Params(scale=0.01, days=7, seed=1),
    "demo": Params(scale=0.05, days=14, seed=1, images=True, corrupt_rate=0.005),
    "national-day": Params(scale=1.0, days=1, seed=1),
    "national-year": Params(scale=1.0, days=365, seed=1, gzip=True),
}


@dataclass
class Written:
    files: list[Path] = field(default_factory=list)
    lines: int = 0
    corrupt: int = 0
    ads: int = 0
    controllers: int = 0
    images: int = 0


@dataclass
class Person:
    id: str
    name: str
    age: int
    stated_age: int
    origin: str | None
    photos: list[tuple[int, str]]  # (photo id, variant)
    alias: str | None = None  # a second name some of her ads use

    @property
    def minor(self) -> bool:
        return self.age < 18


@dataclass
class Controller:
    id: str
    kind: str
    first_day: int
    last_day: int
    persons: list[Person]
    phones: list[str]  # E.164 digits with '+'
    handle: str | None
    circuit: list[str]  # commune codes, in order
    days_per_city: int
    language: str
    blocks: dict[str, str]
    accommodation: str
    touring: bool = False
    email: str | None = None
    community: str | None = None
    template: str | None = None  # "kind/community/n" when its blocks are a shared template
    cities_seen: list[tuple[int, str]] = field(default_factory=list)
    ads: int = 0
    live: set[str] = field(default_factory=set)

    def city_on(self, day: int) -> str:
        step = (day - self.first_day) // max(1, self.days_per_city)
        return self.circuit[step % len(self.circuit)]


@dataclass
class LiveAd:
    ad_id: str
    controller: Controller
    person: Person
    city: str
    phone: str
    end_day: int
    posted: date
    name: str = ""  # the name the ad is posted under
    body: bytes = b""  # the content, serialised once per version, without its first brace


class Reference:
    """The cities ads are posted in: real communes (names and codes), weighted by population."""

    def __init__(self) -> None:
        from faisceau.normalise.places import load_index

        index, _ = load_index()
        self.communes: dict[str, list[Any]] = index["communes"]
        self.regions = {code: row[1] for code, row in index["departements"].items()}
        self.districts: dict[str, list[str]] = {}
        for code, row in self.communes.items():
            if row[3] == "ARM" and row[4]:
                self.districts.setdefault(row[4], []).append(code)
        postcodes: dict[str, str] = {}
        for postcode, codes in sorted(index["postcodes"].items()):
            for code in codes:
                postcodes.setdefault(code, postcode)
        self.postcode = postcodes
        cities = sorted((code for code, row in self.communes.items()
                         if row[3] == "COM" and row[2] >= CITY_MIN_POPULATION),
                        key=lambda c: (-self.communes[c][2], c))
        self.cities = cities
        weights = [self.communes[c][2] ** 0.8 for c in cities]
        self.cumulative = list(itertools.accumulate(weights))
        self._large: dict[int, list[int]] = {}
        self.by_region: dict[str, list[str]] = {}
        for code in cities:
            self.by_region.setdefault(self.regions[self.communes[code][1]], []).append(code)

    def pick(self, rng: random.Random) -> str:
        return self.cities[bisect.bisect(self.cumulative, rng.random() * self.cumulative[-1])]

    def pick_large(self, rng: random.Random, count: int) -> str:
        """One of the ``count`` largest cities, weighted by population."""
        cumulative = self._large.get(count)
        if cumulative is None:
            cumulative = self._large[count] = list(itertools.accumulate(
                self.communes[c][2] for c in self.cities[:count]))
        return self.cities[bisect.bisect(cumulative, rng.random() * cumulative[-1])]

    def nearby(self, rng: random.Random, home: str, count: int) -> list[str]:
        region = self.by_region[self.regions[self.communes[home][1]]]
        others = [c for c in region[:30] if c != home]
        rng.shuffle(others)
        return [home, *others[: count - 1]]

    def departement(self, code: str) -> str:
        return str(self.communes[code][1])

    def render(self, rng: random.Random, code: str) -> str:
        """The place as an ad writes it: name, district, postcode or name with département."""
        row = self.communes[code]
        name, dep = row[0], row[1]
        roll = rng.random()
        districts = self.districts.get(code)
        if districts and roll < 0.35:
            # Arrondissement codes run in order (75101.., 69381.., 13201..): the rank is the
            # number, whatever the city's code base.
            number = rng.randrange(len(districts)) + 1
            suffix = rng.choice(["", "e", "ème"]) if number > 1 else rng.choice(["", "er"])
            if not suffix and str(number) == dep:
                suffix = "e"  # "Marseille 13" reads as the département, "Marseille 13e" not
            return f"{name} {number}{suffix}"
        if roll < 0.45 and code in self.postcode:
            return self.postcode[code]
        if roll < 0.55:
            return f"{name} ({dep})"
        return str(name)


def _weighted(rng: random.Random, table: dict[str, float]) -> str:
    keys = sorted(table)
    return rng.choices(keys, weights=[table[k] for k in keys])[0]


def _range(rng: random.Random, bounds: Sequence[int]) -> int:
    return rng.randint(int(bounds[0]), int(bounds[1]))


def _by_rank(rng: random.Random, cumulative: Sequence[float]) -> int:
    """An index drawn with the weights whose running sums are ``cumulative``."""
    return bisect.bisect(cumulative, rng.random() * cumulative[-1])


def _zipf(count: int, exponent: float) -> list[float]:
    """Running sums of the weights rank^-exponent of ``count`` ranks."""
    return list(itertools.accumulate((rank + 1) ** -exponent for rank in range(count)))


def _ascii(text: str) -> str:
    """``text`` case-folded, without accents, letters, digits and underscores only."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c == "_"))


def _load() -> tuple[dict[str, Any], dict[str, Any]]:
    calibration = tomllib.loads((resources.files(__package__) / "calibration.toml")
                                .read_text("utf-8"))
    texts = orjson.loads((resources.files(__package__) / "data" / "texts.json").read_bytes())
    return calibration, texts


class World:
    """The population of controllers and their ads; ``crawl()`` yields each day's sightings."""

    def __init__(self, params: Params, reference: Reference | None = None) -> None:
        self.p = params
        self.rng = random.Random(params.seed)
        self.cal, self.texts = _load()
        self.ref = reference or Reference()
        self.active_target = params.ads_per_day or round(
            self.cal["national_active_ads"] * params.scale)
        self.targets = {k: self.active_target * self.cal["ad_share"][k] for k in KINDS}
        self.controllers: dict[str, Controller] = {}
        self.ads: dict[str, LiveAd] = {}
        self.live_by_kind = dict.fromkeys(KINDS, 0)
        self.ids = itertools.count(1)
        self.controller_ids = itertools.count(1)
        self.photo_ids = itertools.count(1)
        self.independent_photos: list[tuple[int, str]] = []
        self.handles: set[str] = set()
        self.truth_ads: list[bytes] = []
        self.ended: list[Controller] = []
        self._confounders()

    def _confounders(self) -> None:
        """The confounders' rates at this world's ``confounding``, and what they draw from."""
        conf, texts = self.cal["confounders"], self.texts
        strength = max(0.0, float(self.p.confounding))
        self.rates = {name: min(1.0, float(conf[name]) * strength) for name in CONFOUNDER_RATES}
        # Given names: a Zipf-weighted table per origin group; without confounders, the old
        # single list drawn uniformly.
        exponent = float(conf["name_zipf_exponent"]) * strength
        self.name_tables = {group: (names, _zipf(len(names), exponent))
                            for group, names in texts["given_names"].items()} \
            if exponent > 0 else {}
        self.common_names = int(conf["common_names"])
        # Each community's pool of templates: as many as keep each in use by about
        # ``controllers_per_template`` controllers at a time, whatever the world's scale.
        # Drawn with a generator of their own, so that the pools do not move other draws.
        pool_rng = random.Random(self.p.seed * 1_000_003 + 17)
        self.pools: dict[tuple[str, str], list[tuple[str, dict[str, str]]]] = {}
        for kind, communities in sorted(texts["community_blocks"].items()):
            share = self.rates[TEMPLATE_SHARE[kind]]
            for community, languages in sorted(communities.items()):
                size = max(1, round(self._active(kind, community) * share
                                    / float(conf["controllers_per_template"])))
                pool: list[tuple[str, dict[str, str]]] = []
                for _ in range(50 * size):
                    language = pool_rng.choice(sorted(languages))
                    blocks = {part: pool_rng.choice(options)
                              for part, options in languages[language].items()}
                    if (language, blocks) not in pool:
                        pool.append((language, blocks))
                    if len(pool) == size:
                        break
                self.pools[kind, community] = pool
        self.community_origins = {
            (kind, community): {o: w for o, w in origins.items()
                                if texts["community_of"].get(o) == community}
            for kind, origins in self.cal["victim_origins"].items()
            for community in set(texts["community_of"].values())}
        self.big_cities = int(conf["big_cities"])
        # The most stolen independent workers' photo sets, filled from recent independents:
        # as many as give each about ``scam_personas_per_stolen_set`` personas at a time,
        # the most stolen more (Zipf weights).
        self.stolen: list[list[tuple[int, str]]] = []
        self.stolen_size = max(1, round(self.targets["scam"]
                                        * self.rates["scam_popular_photo_share"]
                                        / float(conf["scam_personas_per_stolen_set"])))
        self.stolen_ranks = _zipf(self.stolen_size, float(conf["stolen_popularity_exponent"]))
        self.recent_independents: list[list[tuple[int, str]]] = []
        self.second_name_ad_share = float(conf["second_name_ad_share"])
        self.second_name_text_keeps_name = float(conf["second_name_text_keeps_name"])
        # Numbers given up, by the day their controller's ads stopped (French ones only: a
        # French operator reassigns them), for as long as they may be reassigned.
        self.released: dict[int, list[str]] = {}
        self.phones_given: set[str] = set()  # every number given out, to draw each once
        self.reuse_gap = tuple(int(d) for d in conf["phone_reuse_gap_days"])

    def _active(self, kind: str, community: str) -> float:
        """How many controllers of ``kind`` and ``community`` are active at a time, expected:
        one live ad per person, a community by its first person's origin."""
        bounds = self.cal["persons"][kind]
        active = self.targets[kind] / ((bounds[0] + bounds[1]) / 2)
        if kind not in TRAFFICKING:
            return active
        origins = self.cal["victim_origins"][kind]
        of = self.texts["community_of"]
        return active * sum(w for o, w in origins.items() if of.get(o) == community) \
            / sum(origins.values())

    # -- population -----------------------------------------------------------------------

    def _phone(self, kind: str, origin: str | None, day: int) -> str:
        """A number for a new controller. Numbers are drawn at random, so two draws can
        collide; an operator never gives a working line to two subscribers, so a collision
        is drawn again (only the hand-overs below give one number to two people)."""
        while True:
            phone, reused = self._drawn_phone(kind, origin, day)
            if reused or phone not in self.phones_given:
                self.phones_given.add(phone)
                return phone

    def _drawn_phone(self, kind: str, origin: str | None, day: int) -> tuple[str, bool]:
        """A number drawn for a new controller, and whether it is one given again."""
        rng = self.rng
        foreign = (kind == "network" and rng.random() < 0.35) or (
            kind == "independent" and rng.random() < self.cal["independent"]["foreign_phone_share"])
        if kind == "scam" and rng.random() < 0.5:
            foreign = True
        if foreign:
            prefix = FOREIGN_PREFIXES.get(origin or "") or rng.choice(
                sorted(FOREIGN_PREFIXES.values()))
            return phone_styles.foreign_mobile(rng, prefix), False
        reuse = self.rates["phone_reuse_share"]
        if kind == "independent" and reuse and rng.random() < reuse:
            # A number that changed hands: weak evidence that must not link two people.
            reused = self._reused_phone(day)
            if reused is not None:
                return reused, True
        return phone_styles.to_e164(phone_styles.french_mobile(rng)), False

    def _reused_phone(self, day: int) -> str | None:
        """A number whose controller stopped a quarantine ago (drawn within the calibrated
        gaps; the nearest day that released one), or None if none was released then."""
        rng, (low, high) = self.rng, self.reuse_gap
        target = day - rng.randint(low, high)
        for offset in range(high - low + 1):
            for released in ((target,) if offset == 0 else (target - offset, target + offset)):
                phones = self.released.get(released)
                if phones and day - high <= released <= day - low:
                    index = rng.randrange(len(phones))
                    phones[index], phones[-1] = phones[-1], phones[index]
                    phone = phones.pop()
                    if not phones:
                        del self.released[released]
                    return phone
        return None

    def _given_name(self, origin: str | None, common: bool = False) -> str:
        """A given name of the person's origin group, drawn by frequency; ``common``: one of
        the group's few most common names."""
        if not self.name_tables:
            return str(self.rng.choice(self.texts["names"]))
        group = self.texts["name_group_of"].get(origin or "none", "international")
        names, cumulative = self.name_tables[group]
        if common:
            return str(self.rng.choice(names[: self.common_names]))
        return str(names[_by_rank(self.rng, cumulative)])

    def _stop(self, share: float) -> str:
        """A city on a circuit: one of the largest for ``share`` of the stops."""
        if share and self.rng.random() < share:
            return self.ref.pick_large(self.rng, self.big_cities)
        return self.ref.pick(self.rng)

    def _stolen_photos(self) -> list[tuple[int, str]] | None:
        """The photo set of one of the most stolen independent workers (the most stolen
        most often), or None if there is no independent yet."""
        rng = self.rng
        while len(self.stolen) < self.stolen_size and self.recent_independents:
            self.stolen.append(rng.choice(self.recent_independents))
        if not self.stolen:
            return None
        return self.stolen[_by_rank(rng, self.stolen_ranks[: len(self.stolen)])]

    def _person(self, controller_id: str, index: int, kind: str,
                lead_origin: str | None = None) -> Person:
        rng, cal = self.rng, self.cal
        if kind in TRAFFICKING:
            # Most of a network's victims after the first come from the first one's
            # community; drawn with the same weights within it, so that the shares of
            # origins do not move.
            table = cal["victim_origins"][kind]
            same = self.rates["community_victims_share"]
            community = self.texts["community_of"].get(lead_origin or "")
            if kind == "network" and community and same and rng.random() < same:
                table = self.community_origins[kind, community]
            origin: str | None = _weighted(rng, table)
            group = "french" if origin == "FR" else "foreign"
            minor = rng.random() < cal["minor_share"][group]
        elif kind == "independent":
            origin = _weighted(rng, cal["independent_origins"])
            origin = None if origin == "none" else origin
            minor = False
        else:
            origin = rng.choice(["FR", "BR", "RO", None])
            minor = False
        age = rng.randint(15, 17) if minor else int(min(55, 19 + rng.expovariate(1 / 8)))
        # Minors are advertised as just of age.
        stated = rng.choice([18, 18, 19, 19, 20]) if minor else age
        young = self.rates["network_young_age_share"]
        if kind == "network" and not minor and young and rng.random() < young:
            # Advertised younger than she is, never older.
            stated = min(age, round(rng.triangular(*YOUNG_AGES)))
        stolen = self.rates["scam_popular_photo_share"]
        popular = self._stolen_photos() if kind == "scam" and self.independent_photos \
            and stolen and rng.random() < stolen else None
        if popular:
            photos = [self._variant(photo)
                      for photo in rng.sample(popular, min(2, len(popular)))]
        elif kind == "scam" and self.independent_photos:
            photos = [self._variant(rng.choice(self.independent_photos)) for _ in range(2)]
        else:
            photos = [(next(self.photo_ids), "orig") for _ in range(rng.randint(1, 3))]
            if kind == "independent":
                self.independent_photos.extend(photos)
                if len(self.independent_photos) > 5_000:
                    del self.independent_photos[:1_000]
                if len(self.stolen) < self.stolen_size and stolen:
                    self.recent_independents.append(photos)
                    if len(self.recent_independents) > 5_000:
                        del self.recent_independents[:1_000]
        common = self.rates["scam_common_name_share"]
        name = self._given_name(origin, common=kind == "scam" and bool(common)
                                and rng.random() < common)
        alias = None
        second = self.rates["second_name_share"]
        if kind == "independent" and second and rng.random() < second:
            for _ in range(20):
                other = self._given_name(origin)
                if other != name:
                    alias = other
                    break
        return Person(f"{controller_id}:{index}", name, age, stated, origin, photos, alias)

    def _handle(self, name: str, email: bool = False) -> str:
        """A messaging account name, or an e-mail address at a reserved ``.example`` domain:
        a service gives each to one account only."""
        local = (_ascii(name) or "contact") if email else name.lower()
        for attempt in itertools.count():
            # Longer numbers once a name's short ones run out (a national year needs them).
            number = self.rng.randrange(10, 999 * 10 ** (attempt // 8))
            handle = f"{local}.{number}@{self.rng.choice(EMAIL_DOMAINS)}" if email \
                else f"{local}_{number}"
            # Unique as linking reads it: "sofía_12" and "sofia_12" are one handle.
            key = _ascii(handle) if not email else handle
            if key not in self.handles:
                self.handles.add(key)
                return handle
        raise AssertionError("unreachable")

    def _variant(self, photo: tuple[int, str]) -> tuple[int, str]:
        return photo[0], self.rng.choice(["reencoded", "cropped", "resized"])

    def _blocks(self, kind: str, language: str) -> dict[str, str]:
        table = self.texts["blocks"][kind][language]
        return {part: self.rng.choice(options) for part, options in table.items()}

    def _template(self, kind: str, community: str | None
                  ) -> tuple[str, str, dict[str, str]] | None:
        """A template circulating in the controller's community (its name, language and
        blocks) for the calibrated share of controllers, else None (wording of its own)."""
        pool = self.pools.get((kind, community or ""))
        share = self.rates[TEMPLATE_SHARE[kind]] if pool else 0.0
        if not pool or not share or self.rng.random() >= share:
            return None
        index = self.rng.randrange(len(pool))
        language, blocks = pool[index]
        return f"{kind}/{community}/{index + 1}", language, dict(blocks)

    def _spawn(self, kind: str, day: int) -> Controller:
        rng, cal, rates = self.rng, self.cal, self.rates
        cid = f"{kind[0]}{next(self.controller_ids):07d}"
        lifetime = max(3, round(rng.expovariate(1 / cal["lifetime_days"][kind])))
        # On the first day the site already exists: controllers are at any age.
        first = day - (rng.randrange(lifetime) if day == 0 else 0)
        persons: list[Person] = []
        for index in range(_range(rng, cal["persons"][kind])):
            persons.append(self._person(cid, index, kind, persons[0].origin if persons else None))
        if kind == "network":
            # Stock photos shared by the victims, beside (at most) one of their own.
            stock = [(next(self.photo_ids), "orig") for _ in range(rng.randint(3, 6))]
            for person in persons:
                person.photos = [*rng.sample(stock, 2), *person.photos[:1]]
        lead_origin = persons[0].origin
        phone_list = [self._phone(kind, lead_origin, day)
                      for _ in range(_range(rng, cal["phones"][kind]))]
        home = self.ref.pick(rng)
        if kind == "network":
            circuit = [self._stop(rates["network_big_city_share"])
                       for _ in range(_range(rng, cal["circuit"]["cities"]))]
            days_per_city = _range(rng, cal["circuit"]["days_per_city"])
        elif kind == "pimp":
            circuit = self.ref.nearby(rng, home, rng.randint(1, 3))
            days_per_city = rng.randint(10, 30)
        elif kind == "scam":
            circuit = [self._stop(rates["scam_big_city_share"])
                       for _ in range(rng.randint(3, 6))]
            days_per_city = 1
        else:
            touring = rng.random() < cal["independent"]["touring_share"]
            circuit = [home, *(self._stop(rates["touring_big_city_share"]) for _ in range(2))] \
                if touring else [home]
            days_per_city = rng.randint(7, 20)
        community = "scam" if kind == "scam" else \
            self.texts["community_of"].get(lead_origin or "") if kind in TRAFFICKING else None
        template = self._template(kind, community)
        language = template[1] if template else _weighted(rng, self.texts["languages"][kind])
        handle = self._handle(persons[0].name) \
            if rng.random() < {"independent": 0.3, "pimp": 0.3, "network": 0.5, "scam": 0.9}[kind] \
            else None
        blocks = template[2] if template else self._blocks(kind, language)
        accommodation = rng.choice(["hotel", "short_term_rental"]) if kind in TRAFFICKING \
            else "home"
        # Scams are reached by messaging or e-mail: every one without a handle has an address.
        email = self._handle(persons[0].name, email=True) if kind == "scam" and (
            handle is None or rng.random() < cal["scam_contact"]["email_share"]) else None
        controller = Controller(
            id=cid, kind=kind, first_day=first, last_day=first + lifetime, persons=persons,
            phones=phone_list, handle=handle, circuit=circuit, days_per_city=days_per_city,
            language=language, blocks=blocks, accommodation=accommodation,
            touring=kind == "independent" and len(circuit) > 1, email=email,
            community=community, template=template[0] if template else None,
        )
        self.controllers[cid] = controller
        for person in persons:
            self._post(controller, person, day)
        return controller

    # -- ads ------------------------------------------------------------------------------

    def _post(self, c: Controller, person: Person, day: int) -> None:
        rng = self.rng
        city = c.city_on(day) if c.kind != "scam" else rng.choice(c.circuit)
        if not c.cities_seen or c.cities_seen[-1][1] != city:
            c.cities_seen.append((day, city))
        ad = LiveAd(ad_id=f"{next(self.ids):09d}", controller=c, person=person, city=city,
                    phone=rng.choice(c.phones),
                    end_day=day + max(1, round(rng.expovariate(
                        1 / self.cal["lifetime_days"]["ad"]))),
                    posted=self.p.start + timedelta(days=max(day, 0)),
                    name=person.alias if person.alias
                    and rng.random() < self.second_name_ad_share else person.name)
        self._write_content(ad)
        self.ads[ad.ad_id] = ad
        self.live_by_kind[c.kind] += 1
        c.ads += 1
        c.live.add(ad.ad_id)
        origin = person.origin
        self.truth_ads.append(orjson.dumps({
            "source": self.texts["source"], "ad_id": ad.ad_id, "controller": c.id,
            "controller_kind": c.kind, "person": person.id, "minor": person.minor,
            "origin": origin,
            "origin_group": "unknown" if origin is None else
            ("french" if origin == "FR" else "foreign"),
            "latin_america": origin in LATIN_AMERICA,
        }))

    def _withdraw(self, ad: LiveAd) -> None:
        del self.ads[ad.ad_id]
        self.live_by_kind[ad.controller.kind] -= 1
        ad.controller.live.discard(ad.ad_id)

    def _write_content(self, ad: LiveAd) -> None:
        rng, c, person = self.rng, ad.controller, ad.person
        kind = c.kind
        shown_place = self.ref.render(rng, ad.city)
        city_name = str(self.ref.communes[ad.city][0])
        national = phone_styles.national_or_international(ad.phone)
        style = rng.choice(phone_styles.OBFUSCATED_STYLES) if rng.random() < OBFUSCATION[kind] \
            else rng.choice(phone_styles.PLAIN_STYLES)
        shown_phone = phone_styles.render_any(ad.phone, national, style, rng)
        origin_word = ""
        if person.origin:
            words = self.texts["origin_words_en" if c.language == "en" else "origin_words"]
            found = words.get(person.origin)
            origin_word = found if isinstance(found, str) else (found[0] if found else "")
        price = rng.choice(self.texts["prices"][kind])
        # Under a second name, the text often still says her name.
        text_name = person.name if ad.name != person.name \
            and rng.random() < self.second_name_text_keeps_name else ad.name
        handle = f"t.me/{c.handle}" if c.handle else shown_phone
        slots = {"name": text_name, "age": person.stated_age, "city": city_name,
                 "origin_word": origin_word, "phone": shown_phone, "price": price,
                 "handle": handle,
                 "contact": c.email if c.email and (not c.handle or rng.random() < 0.5)
                 else handle}
        # Independents keep their own style but vary a block now and then.
        blocks = c.blocks if kind != "independent" or rng.random() < 0.8 else \
            self._blocks(kind, c.language)
        parts = [blocks["opening"], blocks["body"]]
        if kind != "independent" or (c.touring and ad.city != c.circuit[0]):
            parts.append(blocks["touring"])
        # A scam shows a phone (for SMS) in a few ads only.
        parts.append(blocks["closing_phone"] if kind == "scam" and rng.random()
                     < self.cal["scam_contact"]["phone_in_text_share"] else blocks["closing"])
        text = " ".join(parts).format(**slots)
        title = f"{ad.name} {city_name}" if kind != "independent" else \
            rng.choice([f"{ad.name} à {city_name}", f"Rencontre à {city_name}",
                        f"{ad.name}, {person.stated_age} ans"])
        content: dict[str, Any] = {
            "url": f"https://annonces.example/a/{ad.ad_id}",
            "posted_at": ad.posted.isoformat(),
            "title": title, "text": text, "name": ad.name,
            "age": rng.choice([person.stated_age, f"{person.stated_age} ans",
                               f"{person.stated_age}yo"]),
            "origin": rng.choice(self.texts["origin_words"].get(person.origin, [None]))
            if person.origin and rng.random() < 0.6 else None,
            "location": shown_place,
            "phone": phone_styles.render_any(ad.phone, national, rng.choice(
                phone_styles.PLAIN_STYLES), rng) if rng.random() < 0.7 and kind != "scam" else None,
            "price": price,
        }
        if c.handle:
            content["links"] = [rng.choice([f"snap: {c.handle}", f"t.me/{c.handle}"])]
        elif kind == "network" and rng.random() < 0.5:
            whatsapp = phone_styles.render_any(ad.phone, national, "international", rng)
            content["links"] = [f"WhatsApp: {whatsapp}"]
        if c.email and rng.random() < 0.5:
            content["email"] = c.email
        if self.p.images:
            chosen = person.photos[: rng.randint(1, len(person.photos))]
            content["images"] = [{"path": f"images/{photo:07d}-{variant}.jpg"}
                                 for photo, variant in chosen]
        ad.body = orjson.dumps(content)[1:]

    # -- the crawl ------------------------------------------------------------------------

    def _end_controller(self, c: Controller) -> None:
        del self.controllers[c.id]
        if self.rates["phone_reuse_share"]:
            released = [phone for phone in c.phones if phone.startswith("+33")]
            if released:
                self.released.setdefault(c.last_day, []).extend(released)
        self.ended.append(c)

    def day(self, day: int) -> list[LiveAd]:
        rng = self.rng
        for stale in [d for d in self.released if d < day - self.reuse_gap[1]]:
            del self.released[stale]
        for c in [c for c in self.controllers.values() if c.last_day < day]:
            for ad_id in sorted(c.live):
                self._withdraw(self.ads[ad_id])
            self._end_controller(c)
        for ad in list(self.ads.values()):
            c = ad.controller
            moved = c.kind in ("network", "pimp") and c.city_on(day) != ad.city
            if ad.end_day < day or moved:
                self._withdraw(ad)
                self._post(c, ad.person, day)
            elif rng.random() < self.cal["edit_rate"][c.kind]:
                self._write_content(ad)
        for kind in KINDS:
            while self.live_by_kind[kind] < self.targets[kind]:
                self._spawn(kind, day)
        return sorted(self.ads.values(), key=lambda a: a.ad_id)

    def crawl(self) -> Iterator[tuple[int, list[LiveAd]]]:
        for day in range(self.p.days):
            yield day, self.day(day)


def _corrupt(line: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(5)
    if kind == 0:
        return line[: len(line) // 2]
    if kind == 1:
        return line.replace(b'"seen_at"', b'"seen_at_"', 1)
    if kind == 2:
        return line[:-1] + b',"age":[1,2]}'
    if kind == 3:
        return line[:10] + b"\xff\xfe" + line[10:]
    return line[:-1] + b',"text":"' + b"x" * 60_000 + b'"}'


def _open(path: Path, compress: bool) -> BinaryIO:
    if compress:
        # mtime fixed: the same world gives the same bytes.
        return cast(BinaryIO, gzip.GzipFile(path, "wb", mtime=0))
    return open(path, "wb")


def _controller_row(c: Controller, ref: Reference) -> bytes:
    return orjson.dumps({
        "id": c.id, "kind": c.kind, "first_day": c.first_day, "last_day": c.last_day,
        "phones": c.phones, "handle": c.handle, "accommodation": c.accommodation,
        "language": c.language, "touring": c.touring, "ads": c.ads, "email": c.email,
        "community": c.community, "template": c.template,
        "cities": [{"day": d, "commune": code, "name": ref.communes[code][0],
                    "departement": ref.departement(code)} for d, code in c.cities_seen],
        "persons": [{"id": p.id, "name": p.name, "age": p.age, "stated_age": p.stated_age,
                     "minor": p.minor, "origin": p.origin,
                     "names": [p.name, p.alias] if p.alias else [p.name],
                     "photos": [f"{i:07d}-{v}" for i, v in p.photos]} for p in c.persons],
    })


def write_world(params: Params, out_dir: Path, reference: Reference | None = None,
                on_day: Callable[[], None] | None = None) -> Written:
    """Generate the world into ``out_dir`` (see the module docstring for the layout)."""
    crawl_dir, truth_dir = out_dir / "crawl", out_dir / "truth"
    crawl_dir.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    world = World(params, reference)
    source = world.texts["source"].encode()
    corrupt_rng = random.Random(params.seed + 1)
    written = Written()
    suffix = ".jsonl.gz" if params.gzip else ".jsonl"
    single = _open(crawl_dir / f"ads{suffix}", params.gzip) if params.single_file else None
    if single is not None:
        written.files.append(crawl_dir / f"ads{suffix}")
    images_dir = crawl_dir / "images"
    made: set[str] = set()
    with open(truth_dir / "ads.jsonl", "wb") as truth_ads, \
            open(truth_dir / "controllers.jsonl", "wb") as truth_controllers:
        try:
            for day, ads in world.crawl():
                when = params.start + timedelta(days=day)
                if single is None:
                    path = crawl_dir / f"ads-{when.isoformat()}{suffix}"
                    handle = _open(path, params.gzip)
                    written.files.append(path)
                else:
                    handle = single
                base = datetime(when.year, when.month, when.day, 6, tzinfo=UTC)
                step = SECONDS_OF_CRAWL / max(1, len(ads))
                for i, ad in enumerate(ads):
                    seen = (base + timedelta(seconds=int(i * step))).strftime("%Y-%m-%dT%H:%M:%SZ")
                    line = (b'{"ad_id":"' + ad.ad_id.encode() + b'","source":"' + source
                            + b'","seen_at":"' + seen.encode() + b'",' + ad.body)
                    if params.corrupt_rate and corrupt_rng.random() < params.corrupt_rate:
                        line = _corrupt(line, corrupt_rng)
                        written.corrupt += 1
                    handle.write(line + b"\n")
                    written.lines += 1
                    if params.images:
                        for photo, variant in ad.person.photos:
                            name = f"{photo:07d}-{variant}"
                            if name not in made:
                                made.add(name)
                                write_photo(images_dir / f"{name}.jpg", photo, variant)
                if single is None:
                    handle.close()
                for row in world.truth_ads:
                    truth_ads.write(row + b"\n")
                written.ads += len(world.truth_ads)
                world.truth_ads.clear()
                for c in world.ended:
                    truth_controllers.write(_controller_row(c, world.ref) + b"\n")
                written.controllers += len(world.ended)
                world.ended.clear()
                if on_day:
                    on_day()
        finally:
            if single is not None:
                single.close()
        for c in sorted(world.controllers.values(), key=lambda c: c.id):
            truth_controllers.write(_controller_row(c, world.ref) + b"\n")
            written.controllers += 1
    written.images = len(made)
    summary = {"params": {**params.__dict__, "start": params.start.isoformat()},
               "active_ads_target": world.active_target, "lines": written.lines,
               "ads": written.ads, "controllers": written.controllers,
               "corrupt_lines": written.corrupt, "images": written.images}
    (out_dir / "world.json").write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    return written
