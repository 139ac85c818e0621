"""The synthetic world: deterministic, valid against the contract, calibrated, consistent."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from faisceau.ingest.records import Record, RecordChecker
from faisceau.link import text as text_sim
from faisceau.link.features import MASKED_KINDS
from faisceau.normalise.ad import normalise_ad
from faisceau.normalise.phones import find_phones
from faisceau.synth.world import LATIN_AMERICA, Params, Reference, World, write_world

WORLD = Params(scale=0.2, days=21, seed=5)
# Long enough for numbers to come back after the operators' quarantine (45 days at least).
LONG = Params(scale=0.05, days=100, seed=5)


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _jsonl(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def _made(factory: pytest.TempPathFactory, params: Params) -> Path:
    out = factory.mktemp("world")
    write_world(params, out)
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _made(tmp_path_factory, WORLD)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same world without confounders."""
    return _made(tmp_path_factory, dataclasses.replace(WORLD, confounding=0))


@pytest.fixture(scope="module")
def long_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _made(tmp_path_factory, LONG)


@pytest.fixture(scope="module")
def long_plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _made(tmp_path_factory, dataclasses.replace(LONG, scale=0.02, confounding=0))


def test_same_seed_same_bytes_other_seed_other_world(tmp_path: Path) -> None:
    params = Params(scale=0.005, days=4, seed=9, images=True, corrupt_rate=0.01)
    write_world(params, tmp_path / "a")
    write_world(params, tmp_path / "b")
    write_world(Params(scale=0.005, days=4, seed=10, images=True, corrupt_rate=0.01),
                tmp_path / "c")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")
    assert any(name.startswith("crawl/images/") for name in _digest(tmp_path / "a"))


def test_every_line_fits_the_contract_and_has_its_truth(world: Path) -> None:
    checker = RecordChecker()
    truth = {row["ad_id"]: row for row in _jsonl(world / "truth" / "ads.jsonl")}
    seen: set[str] = set()
    for path in sorted((world / "crawl").glob("*.jsonl")):
        for number, raw in enumerate(path.read_bytes().splitlines(), 1):
            rec = checker.check(number, raw)
            assert isinstance(rec, Record), (path.name, number, rec)
            seen.add(rec.ad_id)
    assert seen == set(truth)


def test_active_ads_follow_the_calibration(world: Path) -> None:
    target = 0.2 * 37_500
    for path in sorted((world / "crawl").glob("*.jsonl")):
        lines = len(path.read_bytes().splitlines())
        assert abs(lines - target) / target < 0.05, (path.name, lines)
    kinds = Counter(row["controller_kind"] for row in _jsonl(world / "truth" / "ads.jsonl"))
    assert kinds["independent"] > kinds["pimp"] + kinds["network"] + kinds["scam"]


def test_victims_match_the_plan_figures(world: Path) -> None:
    victims = [p for c in _jsonl(world / "truth" / "controllers.jsonl")
               if c["kind"] in ("pimp", "network") for p in c["persons"]]
    french = [p for p in victims if p["origin"] == "FR"]
    latin = [p for p in victims if p["origin"] in LATIN_AMERICA]
    assert len(victims) > 1_000
    assert 0.46 <= len(french) / len(victims) <= 0.60
    assert 0.37 <= sum(p["minor"] for p in french) / len(french) <= 0.53
    assert 0.22 <= len(latin) / len(victims) <= 0.36
    # minors are advertised as adults
    assert all(p["stated_age"] >= 18 for p in victims)


def test_controllers_behave_as_their_kind(world: Path) -> None:
    controllers = {c["id"]: c for c in _jsonl(world / "truth" / "controllers.jsonl")}
    truth = _jsonl(world / "truth" / "ads.jsonl")
    persons_by_phone: defaultdict[str, set[str]] = defaultdict(set)
    phone_found = phone_total = 0
    ads = {}
    for path in sorted((world / "crawl").glob("*.jsonl")):
        for raw in path.read_bytes().splitlines():
            ad = orjson.loads(raw)
            ads[ad["ad_id"]] = ad
    for row in truth:
        ad, c = ads[row["ad_id"]], controllers[row["controller"]]
        found = {f.value for f in find_phones(ad["text"])} | {
            f.value for f in find_phones(ad["phone"] or "")}
        if c["kind"] != "scam":
            phone_total += 1
            phone_found += bool(found & set(c["phones"]))
        for phone in found & set(c["phones"]):
            persons_by_phone[phone].add(row["person"])
    # the phones written in ads (obfuscated or not) are the controller's, and are found
    assert phone_found / phone_total > 0.95
    # a pimp's or a network's phone is shared by several victims
    shared = [c for c in controllers.values() if c["kind"] in ("pimp", "network")
              and any(len(persons_by_phone[p]) > 1 for p in c["phones"])]
    assert len(shared) > 0.5 * sum(c["kind"] in ("pimp", "network") for c in controllers.values())
    # networks move along a circuit of départements
    movers = [c for c in controllers.values() if c["kind"] == "network"
              and len({x["departement"] for x in c["cities"]}) > 1]
    assert len(movers) > 0.5 * sum(c["kind"] == "network" for c in controllers.values())


def test_scams_reuse_photos_of_independent_workers(tmp_path: Path) -> None:
    write_world(Params(scale=0.01, days=3, seed=2, images=True), tmp_path)
    controllers = _jsonl(tmp_path / "truth" / "controllers.jsonl")
    independent = {ph.split("-")[0] for c in controllers if c["kind"] == "independent"
                   for p in c["persons"] for ph in p["photos"]}
    scam = [ph for c in controllers if c["kind"] == "scam" for p in c["persons"]
            for ph in p["photos"]]
    assert scam and sum(ph.split("-")[0] in independent for ph in scam) / len(scam) > 0.8
    assert all(not ph.endswith("-orig") for ph in scam)


def test_networks_share_stock_photos_across_victims(world: Path) -> None:
    controllers = _jsonl(world / "truth" / "controllers.jsonl")
    networks = [c for c in controllers if c["kind"] == "network"]
    sharing = 0
    for c in networks:
        owners: defaultdict[str, set[str]] = defaultdict(set)
        for p in c["persons"]:
            for photo in p["photos"]:
                owners[photo].add(p["id"])
        sharing += any(len(who) > 1 for who in owners.values())
    assert networks and sharing == len(networks)
    independents = [c for c in controllers if c["kind"] == "independent"]
    photos = Counter(ph for c in independents for p in c["persons"] for ph in p["photos"])
    assert max(photos.values()) == 1  # an independent worker's photos are her own


def test_places_as_ads_write_them_resolve_to_their_commune() -> None:
    from random import Random

    from faisceau.normalise.places import resolve_place

    ref, rng = Reference(), Random(3)
    for city in ("75056", "69123", "13055"):  # the three cities with districts
        for _ in range(100):
            shown = ref.render(rng, city)
            found = resolve_place(shown)
            assert found is not None and found.detail is not None, shown
            assert found.detail["departement"] == ref.departement(city), shown
            if shown.split()[-1][0].isdigit() and not shown.isdigit():  # "Lyon 7ème"
                assert found.detail["kind"] == "district", shown
                assert ref.communes[found.value][4] == city, shown


# -- confounders --------------------------------------------------------------------------------
# Each is measured on the files, with confounding = 1 (the calibrated rates) and 0 (none).

@dataclass
class Files:
    controllers: dict[str, dict[str, Any]]
    truth: dict[str, dict[str, Any]]  # by ad id
    ads: dict[str, dict[str, Any]]  # by ad id: its first version
    days: int

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [c for c in self.controllers.values() if c["kind"] == kind]


@functools.cache
def _files(root: Path) -> Files:
    ads: dict[str, dict[str, Any]] = {}
    paths = sorted((root / "crawl").glob("*.jsonl"))
    for path in paths:
        for raw in path.read_bytes().splitlines():
            ad = orjson.loads(raw)
            ads.setdefault(ad["ad_id"], ad)
    return Files({c["id"]: c for c in _jsonl(root / "truth" / "controllers.jsonl")},
                 {r["ad_id"]: r for r in _jsonl(root / "truth" / "ads.jsonl")}, ads, len(paths))


def _unrelated(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["id"] != b["id"] and not set(a["phones"]) & set(b["phones"])


def _masked(ad: dict[str, Any]) -> tuple[str, ...]:
    """The ad's text as linking compares it: every value the normalisers find (names, ages,
    places, phones, prices, handles...) replaced by its kind."""
    values = normalise_ad(ad, None, images=False).values
    shown = [(v.kind, v.found.shown) for v in values if v.kind in MASKED_KINDS]
    return tuple(text_sim.tokens(text_sim.masked(ad["text"], shown)))


def _jaccard(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Jaccard similarity of the two token sequences' 3-word shingles."""
    sa, sb = ({tuple(t[i:i + 3]) for i in range(max(1, len(t) - 2))} for t in (a, b))
    return len(sa & sb) / len(sa | sb)


def _first_ads(files: Files, kind: str, per_controller: int) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ad_id, ad in files.ads.items():
        row = files.truth[ad_id]
        if row["controller_kind"] == kind and len(out[row["controller"]]) < per_controller:
            out[row["controller"]].append(ad)
    return out


def _same_community_template_share(files: Files) -> float:
    """Share of networks whose masked text is also, word for word, that of an unrelated
    network (no phone in common) of the same origin community."""
    writers: defaultdict[tuple[str | None, tuple[str, ...]], set[str]] = defaultdict(set)
    networks = _first_ads(files, "network", 2)
    for cid, ads in networks.items():
        for ad in ads:
            writers[files.controllers[cid]["community"], _masked(ad)].add(cid)
    sharing: set[str] = set()
    for group in writers.values():
        for a, b in itertools.combinations(sorted(group), 2):
            if _unrelated(files.controllers[a], files.controllers[b]):
                sharing |= {a, b}
    return len(sharing) / len(networks)


def test_confounding_multiplies_every_rate() -> None:
    reference = Reference()
    base = World(Params(), reference)
    none = World(Params(confounding=0), reference)
    double = World(Params(confounding=2), reference)
    assert set(base.rates.values()) and all(v > 0 for v in base.rates.values())
    assert all(v == 0 for v in none.rates.values()) and not none.name_tables
    for name, rate in base.rates.items():
        assert double.rates[name] == min(1.0, 2 * rate), name
    assert double.rates["network_young_age_share"] == 1.0  # 2 x 0.8, a probability


def test_networks_of_a_community_write_the_same_templates(world: Path, plain: Path) -> None:
    files, without = _files(world), _files(plain)
    networks = files.of_kind("network")
    templated = [c for c in networks if c["template"]]
    # about the calibrated share (0.4) of networks take their community's template
    assert 0.25 <= len(templated) / len(networks) <= 0.55
    assert not any(c["template"] for c in without.controllers.values())
    # unrelated networks of one community, with no phone in common, write the same text
    # once names, ages, places, phones and prices are masked (what linking compares)
    shared, before = _same_community_template_share(files), _same_community_template_share(without)
    assert shared >= 0.3 and before <= 0.25 and shared >= 1.5 * before, (shared, before)
    # a template is shared by several networks, not by every one of its community
    by_template = Counter(c["template"] for c in templated)
    assert max(by_template.values()) >= 2
    assert max(by_template.values()) <= 0.5 * len(templated)
    # and so do pimps (one in five) and scams (their scripts, one in two)
    pimps, scams = files.of_kind("pimp"), files.of_kind("scam")
    assert 0.1 <= sum(bool(c["template"]) for c in pimps) / len(pimps) <= 0.3
    assert 0.38 <= sum(bool(c["template"]) for c in scams) / len(scams) <= 0.62


def _top5_shares(files: Files) -> dict[str | None, float]:
    names: defaultdict[str | None, Counter[str]] = defaultdict(Counter)
    for c in files.controllers.values():
        for p in c["persons"]:
            names[p["origin"]][p["name"]] += 1
    return {origin: sum(n for _, n in counts.most_common(5)) / counts.total()
            for origin, counts in names.items() if counts.total() >= 300}


def _persona_sharing(files: Files) -> float:
    """Share of pairs of unrelated networks of one community that advertise the same
    persona (given name and stated age)."""
    pairs = shared = 0
    by_community: defaultdict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for c in files.of_kind("network"):
        by_community[c["community"]].append(c)
    for group in by_community.values():
        for a, b in itertools.combinations(group, 2):
            if _unrelated(a, b):
                pairs += 1
                shared += bool({(p["name"], p["stated_age"]) for p in a["persons"]}
                               & {(p["name"], p["stated_age"]) for p in b["persons"]})
    return shared / pairs


def test_given_names_are_skewed_and_networks_state_young_ages(world: Path, plain: Path) -> None:
    files, without = _files(world), _files(plain)
    skewed, flat = _top5_shares(files), _top5_shares(without)
    assert len(skewed) >= 6
    # the five most common names of each origin cover a large share of its persons
    assert all(0.35 <= share <= 0.65 for share in skewed.values()), skewed
    assert all(share <= 0.25 for share in flat.values()), flat
    # networks' stated ages: young adults
    def young(f: Files) -> float:
        ages = [p["stated_age"] for c in f.of_kind("network") for p in c["persons"]]
        return sum(19 <= a <= 29 for a in ages) / len(ages)
    assert young(files) >= 0.85 and young(without) < 0.8
    # so that the same "Daniela, 22" recurs across unrelated networks of one community
    recurring, before = _persona_sharing(files), _persona_sharing(without)
    assert recurring >= 0.2 and recurring >= 1.5 * before, (recurring, before)
    # a network's victims mostly share its community
    mixed = [c for c in files.of_kind("network") if len(c["persons"]) >= 6]
    same = sum(sum(p["origin"] == c["persons"][0]["origin"] or
                   (p["origin"] in LATIN_AMERICA and c["persons"][0]["origin"] in LATIN_AMERICA)
                   for p in c["persons"][1:]) / (len(c["persons"]) - 1) for c in mixed)
    assert same / len(mixed) >= 0.7


def _city_weeks(files: Files, kind: str) -> set[tuple[str, int, str]]:
    """(controller, week, commune) for every day a controller of ``kind`` was in a city."""
    out = set()
    for c in files.of_kind(kind):
        stops = c["cities"]
        for day in range(max(0, c["first_day"]), min(files.days, c["last_day"] + 1)):
            here = [s["commune"] for s in stops if s["day"] <= day]
            if here:
                out.add((c["id"], day // 7, here[-1]))
    return out


def test_circuits_favour_the_largest_cities(world: Path, plain: Path) -> None:
    top = set(Reference().cities[:10])
    files, without = _files(world), _files(plain)

    def in_top(weeks: set[tuple[str, int, str]]) -> float:
        return sum(city in top for _, _, city in weeks) / len(weeks)

    # half the network stops are drawn from the ten largest cities (14 % otherwise)
    networks, before = _city_weeks(files, "network"), _city_weeks(without, "network")
    assert 0.45 <= in_top(networks) <= 0.7 and in_top(before) <= 0.25
    # so unrelated networks of one community meet in the same city in the same week
    def meetings(f: Files, weeks: set[tuple[str, int, str]]) -> int:
        met: defaultdict[tuple[int, str, str | None], set[str]] = defaultdict(set)
        for cid, week, city in weeks:
            met[week, city, f.controllers[cid]["community"]].add(cid)
        return sum(len(v) * (len(v) - 1) // 2 for v in met.values())
    assert meetings(files, networks) >= 3 * meetings(without, before)
    # scams post in them too, and touring independents go there
    scam_cities = [s["commune"] for c in files.of_kind("scam") for s in c["cities"]]
    scam_before = [s["commune"] for c in without.of_kind("scam") for s in c["cities"]]
    assert sum(c in top for c in scam_cities) / len(scam_cities) >= 0.45
    assert sum(c in top for c in scam_before) / len(scam_before) <= 0.25
    def touring_in_top(f: Files) -> float:
        stops = [s["commune"] for c in f.of_kind("independent") if c["touring"]
                 for s in c["cities"][1:]]
        return sum(c in top for c in stops) / len(stops)
    assert touring_in_top(files) >= 0.35 and touring_in_top(without) <= 0.25


def test_scams_steal_the_same_photos_and_hide_behind_messaging(world: Path,
                                                               plain: Path) -> None:
    files, without = _files(world), _files(plain)

    def thieves(f: Files) -> Counter[str]:
        return Counter(ph.split("-")[0] for c in f.of_kind("scam")
                       for ph in {ph for p in c["persons"] for ph in p["photos"]})

    stolen, before = thieves(files), thieves(without)
    # popular photos are stolen by several scam operations each
    assert max(stolen.values()) >= 10 and max(before.values()) <= 4
    shared = sum(n >= 3 for n in stolen.values())
    assert shared >= 20 and shared >= 2 * sum(n >= 3 for n in before.values())
    # and their personas take their group's most common names
    common: defaultdict[str | None, set[str]] = defaultdict(set)
    for origin, counts in _names_by_origin(files).items():
        common[origin] = {name for name, _ in counts.most_common(5)}
    personas = [p for c in files.of_kind("scam") for p in c["persons"]]
    assert sum(p["name"] in common[p["origin"]] for p in personas) / len(personas) >= 0.6
    # scams sharing a script write the same masked text
    scripts: defaultdict[str, list[tuple[str, ...]]] = defaultdict(list)
    for cid, ads in _first_ads(files, "scam", 1).items():
        template = files.controllers[cid]["template"]
        if template:
            scripts[template].append(_masked(ads[0]))
    similar = total = 0
    for texts in scripts.values():
        for a, b in itertools.combinations(texts, 2):
            total += 1
            similar += _jaccard(a, b) >= 0.6
    assert total and similar / total >= 0.8
    # no phone in most scam ads: messaging handles and e-mail addresses instead
    scam_ads = [ad for ad_id, ad in files.ads.items()
                if files.truth[ad_id]["controller_kind"] == "scam"]
    no_phone = sum(not ad.get("phone") and not find_phones(ad["text"]) for ad in scam_ads)
    assert no_phone / len(scam_ads) >= 0.75
    reachable = sum(bool(ad.get("links") or ad.get("email") or "@" in ad["text"])
                    for ad in scam_ads)
    assert reachable / len(scam_ads) >= 0.97
    assert all("coupon" in ad["text"] or "prépayée" in ad["text"] or "prepaid" in ad["text"]
               or "gift card" in ad["text"] or "Neosurf" in ad["text"] for ad in scam_ads)


def _names_by_origin(files: Files) -> dict[str | None, Counter[str]]:
    names: defaultdict[str | None, Counter[str]] = defaultdict(Counter)
    for c in files.of_kind("independent"):
        for p in c["persons"]:
            names[p["origin"]][p["name"]] += 1
    return names


def test_some_independents_post_under_a_second_name(world: Path, plain: Path) -> None:
    files, without = _files(world), _files(plain)
    persons = {p["id"]: p for c in files.of_kind("independent") for p in c["persons"]}
    two = [p for p in persons.values() if len(p["names"]) == 2]
    assert 0.03 <= len(two) / len(persons) <= 0.05
    assert not any(len(p["names"]) > 1 for c in without.controllers.values()
                   for p in c["persons"])
    # in the crawl: one person (one phone, one age) under two names
    shown: defaultdict[str, set[str]] = defaultdict(set)
    phones: defaultdict[str, set[str]] = defaultdict(set)
    ages: defaultdict[str, set[str]] = defaultdict(set)
    second = kept = 0
    for ad_id, ad in files.ads.items():
        row = files.truth[ad_id]
        if row["controller_kind"] != "independent":
            continue
        person = persons[row["person"]]
        shown[row["person"]].add(ad["name"])
        phones[row["person"]].update(f.value for f in find_phones(ad["phone"] or ad["text"]))
        ages[row["person"]].add(str(ad["age"]).split()[0].removesuffix("yo"))
        if ad["name"] != person["name"]:
            assert ad["name"] == person["names"][1]
            second += 1
            kept += person["name"] in ad["text"]
    double = [pid for pid, names in shown.items() if len(names) > 1]
    assert len(double) / len(persons) >= 0.01
    assert all(len(phones[pid]) == 1 and len(ages[pid]) == 1 for pid in double)
    # the text often still says her first name
    assert 0.45 <= kept / second <= 0.75
    # without confounders, every ad says its person's one name
    names = {p["id"]: p["name"] for c in without.controllers.values() for p in c["persons"]}
    assert all(ad["name"] == names[without.truth[ad_id]["person"]]
               for ad_id, ad in without.ads.items())


def _handovers(files: Files) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(earlier, later) owners of every number two controllers used."""
    owners: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in files.controllers.values():
        for phone in set(c["phones"]):
            owners[phone].append(c)
    pairs = []
    for found in owners.values():
        found.sort(key=lambda c: (c["first_day"], c["id"]))
        pairs.extend(itertools.pairwise(found))
    return pairs


def test_numbers_change_hands_after_a_quarantine(long_world: Path, long_plain: Path) -> None:
    files = _files(long_world)
    handovers = _handovers(files)
    assert handovers
    for earlier, later in handovers:
        # to a new, unrelated independent, once the operator's quarantine is over
        assert later["kind"] == "independent" and later["id"] != earlier["id"]
        assert 45 <= later["first_day"] - earlier["last_day"] <= 150
        assert {p["id"] for p in earlier["persons"]}.isdisjoint(p["id"] for p in later["persons"])
    # about 2 % of the independents who start once numbers can come back get one
    late = [c for c in files.of_kind("independent") if c["first_day"] > 45]
    receivers = {later["id"] for _, later in handovers}
    assert 0.008 <= sum(c["id"] in receivers for c in late) / len(late) <= 0.035
    # the number is in both owners' ads
    in_ads: defaultdict[str, set[str]] = defaultdict(set)
    for ad_id, ad in files.ads.items():
        for found in find_phones(f"{ad['phone'] or ''}\n{ad['text']}"):
            in_ads[found.value].add(files.truth[ad_id]["controller"])
    seen = sum(any({earlier["id"], later["id"]} <= in_ads[phone]
                   for phone in set(earlier["phones"]) & set(later["phones"]))
               for earlier, later in handovers)
    assert seen / len(handovers) >= 0.8
    assert not _handovers(_files(long_plain))
