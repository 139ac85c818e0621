"""The synthetic world: deterministic, valid against the contract, calibrated, consistent."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from pathlib import Path

import orjson
import pytest

from faisceau.ingest.records import Record, RecordChecker
from faisceau.normalise.phones import find_phones
from faisceau.synth.world import LATIN_AMERICA, Params, write_world


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _jsonl(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    write_world(Params(scale=0.2, days=21, seed=5), out)
    return out


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
    from faisceau.synth.world import Reference

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
