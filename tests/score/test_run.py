"""The scoring pass on a real store (both kinds): what ``detect`` writes, and exports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text

from faisceau.config import Settings
from faisceau.ingest.pipeline import Ingestor
from faisceau.score import run as score_run
from faisceau.score.inspect import ad_score_detail, network_score_detail
from faisceau.score.review import queue, record_decision
from faisceau.score.run import detect_and_score, score
from faisceau.store import Store, open_store
from faisceau.store.engine import alembic_config
from faisceau.synth.world import Params, write_world
from tests.conftest import run_faisceau


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    write_world(Params(scale=0.02, days=5, seed=4), out)
    return out


def _truth(world: Path) -> dict[str, dict[str, Any]]:
    rows = (json.loads(line) for line in (world / "truth" / "ads.jsonl").read_text().splitlines())
    return {f"{r['source']}:{r['ad_id']}": r for r in rows}


def _ingested(world: Path, settings: Settings, days: slice = slice(None)) -> Store:
    store = open_store(settings)
    paths = sorted((world / "crawl").glob("ads-*.jsonl"))[days]
    with Ingestor(store, images=False).session() as ingestor:
        ingestor.ingest_paths(paths)
    return store


def _scores(store: Store) -> dict[str, tuple[Any, ...]]:
    with store.begin() as conn:
        return {r[0]: tuple(r[1:]) for r in conn.execute(text(
            "SELECT network_id, risk, trafficking_suspected, minor_suspected, ads, indicators, "
            "reasons FROM network_score"))}


def test_detect_scores_every_network_with_reasons_that_point_at_its_ads(
        world: Path, store_settings: Settings) -> None:
    store = _ingested(world, store_settings)
    linked, scored = detect_and_score(store)
    truth = _truth(world)
    with store.begin() as conn:
        members: dict[str, set[str]] = {}
        for source, ad_id, network in conn.execute(text(
                "SELECT a.source, a.ad_id, n.network_id FROM ad a "
                "JOIN ad_network n ON n.ad_pk = a.id")):
            members.setdefault(network, set()).add(f"{source}:{ad_id}")
    scores = _scores(store)
    store.dispose()
    assert set(scores) == set(members)  # every network has a score
    assert scored.networks == len(members) and scored.new_versions == linked.new_versions
    suspected = [n for n, s in scores.items() if s[1]]
    assert suspected, "a world with pimps and networks must have suspected networks"
    for network, (risk, flagged, _minor, ads, _indicators, reasons_json) in scores.items():
        assert 0 < risk < 1 and ads == len(members[network])
        reasons = json.loads(reasons_json)
        for reason in reasons["risk"] + reasons["minor"]:
            assert reason["label"] and set(reason["evidence"]) <= members[network]
            assert len(reason["evidence"]) <= reason["evidence_total"] <= ads
        if flagged:
            # A suspicion always says why, and its reasons raise the risk.
            assert sum(r["contribution"] for r in reasons["risk"]) > 0
    # Suspected networks are mostly run by trafficking controllers in the ground truth.
    kinds = [truth[next(iter(members[n]))]["controller_kind"] for n in suspected]
    assert sum(k in ("pimp", "network") for k in kinds) >= 0.9 * len(kinds)


def test_a_run_without_new_data_writes_nothing_and_keeps_the_scores(
        world: Path, store_settings: Settings) -> None:
    store = _ingested(world, store_settings)
    detect_and_score(store)
    before = _scores(store)
    _, again = detect_and_score(store)
    assert again.new_versions == 0 and again.networks_written == 0 and again.ads_written == 0
    assert _scores(store) == before
    store.dispose()


def test_scoring_alone_reads_what_detect_linked_and_agrees_with_it(
        world: Path, store_settings: Settings) -> None:
    store = _ingested(world, store_settings)
    detect_and_score(store)
    before = _scores(store)
    with store.begin() as conn:
        conn.execute(text("DELETE FROM network_score"))
        conn.execute(text("DELETE FROM ad_minor"))
    alone = score(store)
    assert alone.new_versions == 0  # the features were computed with linking's
    assert {n: s[:5] for n, s in _scores(store).items()} == {n: s[:5] for n, s in before.items()}
    store.dispose()


def test_a_failure_while_writing_scores_leaves_the_previous_ones_whole(
        world: Path, store_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _ingested(world, store_settings, slice(0, 2))
    detect_and_score(store)
    before = _scores(store)
    store.dispose()
    store = _ingested(world, store_settings, slice(2, None))

    def fail_after_writing(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        raise RuntimeError("killed while writing")

    original = score_run._write
    monkeypatch.setattr(score_run, "_write", fail_after_writing)
    with pytest.raises(RuntimeError):
        detect_and_score(store)
    assert _scores(store) == before
    monkeypatch.undo()
    _, finished = detect_and_score(store)  # running again finishes the job
    # The failed pass's detection was never scored: everything is scored again.
    assert not finished.incremental
    assert finished.networks_written > 0 and _scores(store) != before
    store.dispose()


def test_exports_carry_risk_minor_suspicion_and_reasons(
        world: Path, store_env: dict[str, str], tmp_path: Path) -> None:
    run_faisceau(["ingest", "ads", str(world / "crawl")], store_env)
    result = run_faisceau(["detect"], store_env)
    assert "suspectés d'exploitation" in result.stdout
    run_faisceau(["export", "ads", "--out", str(tmp_path / "ads.jsonl")], store_env)
    run_faisceau(["export", "networks", "--out", str(tmp_path / "networks.jsonl")], store_env)
    ads = [json.loads(line) for line in (tmp_path / "ads.jsonl").read_text().splitlines()]
    networks = {n["network_id"]: n for n in (
        json.loads(line) for line in (tmp_path / "networks.jsonl").read_text().splitlines())}
    for ad in ads:
        # An ad's risk is its network's.
        assert ad["risk"] == networks[ad["network_id"]]["risk"]
    minors = {a["network_id"] for a in ads if a["minor_suspected"]}
    assert minors and minors == {n for n, v in networks.items() if v["minor_suspected"]}
    flagged = [n for n in networks.values() if n["trafficking_suspected"]]
    assert flagged and all(n["risk"] >= 0.5 and n["reasons"] for n in flagged)
    refs = {f"{a['source']}:{a['ad_id']}": a["network_id"] for a in ads}
    for network in flagged:
        for reason in network["reasons"]:
            assert set(reason) >= {"indicator", "contribution", "evidence"}
            assert all(refs[r] == network["network_id"] for r in reason["evidence"])

    # Scams are their own category (the contract's scam_suspected), with their own reasons,
    # and a scam is not taken for exploitation.
    assert all(type(n["scam_suspected"]) is bool for n in networks.values())
    truth = _truth(world)
    scam_ads = [a for a in ads if truth[f"{a['source']}:{a['ad_id']}"]["controller_kind"]
                == "scam"]
    in_scam = [networks[a["network_id"]]["scam_suspected"] for a in scam_ads]
    as_trafficking = [networks[a["network_id"]]["trafficking_suspected"] for a in scam_ads]
    assert scam_ads and sum(in_scam) >= 0.9 * len(scam_ads)
    assert sum(as_trafficking) <= 0.05 * len(scam_ads)
    scams = [n for n in networks.values() if n["scam_suspected"]]
    for network in scams:
        assert network["scam_reasons"]
        for reason in network["scam_reasons"]:
            assert all(refs[r] == network["network_id"] for r in reason["evidence"])
    # The queue shows them apart.
    listed = run_faisceau(["queue", "--only", "scam", "--all", "--limit", "500", "--json"],
                          store_env)
    entries = [json.loads(line) for line in listed.stdout.splitlines()]
    assert entries and all(e["scam_suspected"] for e in entries)
    assert {e["network_id"] for e in entries} <= {n["network_id"] for n in scams}
    refused = run_faisceau(["queue", "--only", "nothing"], store_env, check=False)
    assert refused.returncode != 0 and "catégorie inconnue" in refused.stderr


def test_inspection_shows_a_network_reasons_and_the_words_read_in_its_ads(
        world: Path, store_settings: Settings) -> None:
    store = _ingested(world, store_settings)
    detect_and_score(store)
    with store.begin() as conn:
        network = conn.execute(text(
            "SELECT network_id FROM network_score WHERE trafficking_suspected "
            "ORDER BY risk DESC, network_id LIMIT 1")).scalar_one()
        detail = network_score_detail(conn, network)
        assert detail is not None and detail["trafficking_suspected"]
        assert detail["reasons"][0]["contribution"] > 0 and detail["reasons"][0]["evidence"]
        source, _, ad_id = detail["reasons"][0]["evidence"][0].partition(":")
        ad_detail = ad_score_detail(conn, source, ad_id)
        assert network_score_detail(conn, "n-does-not-exist") is None
        assert ad_score_detail(conn, source, "no-such-ad") is None
    store.dispose()
    assert ad_detail is not None
    cues = {c for v in ad_detail["versions"] for c in v["cues"]}
    words = {w["cue"] for v in ad_detail["versions"] for w in v["words"]}
    # Every text cue shown comes with the words that set it.
    assert words and words <= cues


def test_a_daily_run_scores_only_what_changed_and_agrees_with_scoring_everything(
        world: Path, store_settings: Settings) -> None:
    store = _ingested(world, store_settings, slice(0, 3))
    _, first = detect_and_score(store)
    assert not first.incremental
    store.dispose()
    store = _ingested(world, store_settings, slice(3, None))
    _, daily = detect_and_score(store)
    assert daily.incremental and 0 < daily.scored_networks < daily.networks
    incremental = _scores(store)
    with store.begin() as conn:
        conn.execute(text("DELETE FROM network_score"))
        conn.execute(text("DELETE FROM ad_minor"))
    full = score(store)  # alone: everything, from the store
    assert not full.incremental and full.scored_networks == daily.networks
    everything = _scores(store)
    store.dispose()
    assert set(incremental) == set(everything)
    # Networks not scored again kept the market medians of their last pass: only the price
    # indicator may differ, and with it the risk.
    for network, (risk, flagged, minor, ads, indicators, _reasons) in everything.items():
        other = incremental[network]
        same = json.loads(indicators) | {"low_price": 0}
        assert json.loads(other[4]) | {"low_price": 0} == same, network
        assert (other[2], other[3]) == (minor, ads), network
        if "low_price" not in json.loads(indicators) and "low_price" not in json.loads(other[4]):
            assert (other[0], other[1]) == (risk, flagged), network


def test_scoring_again_with_another_catalogue_through_the_command_line(
        world: Path, store_env: dict[str, str], tmp_path: Path) -> None:
    run_faisceau(["ingest", "ads", str(world / "crawl")], store_env)
    run_faisceau(["detect"], store_env)

    def suspected() -> int:
        out = tmp_path / "networks.jsonl"
        run_faisceau(["export", "networks", "--out", str(out)], store_env)
        return sum(json.loads(line)["trafficking_suspected"]
                   for line in out.read_text().splitlines())

    shipped = suspected()
    strict = tmp_path / "strict.toml"
    catalogue = (Path(score_run.__file__).parent / "indicators.toml").read_text("utf-8")
    strict.write_text(catalogue.replace("trafficking_threshold = 0.5",
                                        "trafficking_threshold = 0.999"), "utf-8")
    result = run_faisceau(["score", "--indicators", str(strict)], store_env)
    assert "réseaux évalués" in result.stdout
    assert 0 <= suspected() < shipped
    # The next detection, with the shipped catalogue, scores everything again.
    again = run_faisceau(["detect"], store_env)
    assert "réseaux évalués" in again.stdout and "réévalués" not in again.stdout
    assert suspected() == shipped


def test_dismissed_networks_stay_out_of_the_queue_unless_detection_changes_them_materially(
        world: Path, store_settings: Settings) -> None:
    store = _ingested(world, store_settings, slice(0, 2))
    detect_and_score(store)
    with store.begin() as conn:
        entries = queue(conn, limit=30)
        for entry in entries:
            record_decision(conn, entry.network_id, "dismissed", "alice",
                            reason="vérifié : indépendante")
        before = {e.network_id: e.ads for e in entries}
        assert not {e.network_id for e in queue(conn, limit=1000)} & set(before)
    store.dispose()
    store = _ingested(world, store_settings, slice(2, None))
    detect_and_score(store)
    with store.begin() as conn:
        listed = {e.network_id: e for e in queue(conn, limit=100_000)}
        sizes = dict(conn.execute(text("SELECT network_id, ads FROM network_score")).all())
    store.dispose()
    grown = {n for n, ads in before.items()
             if n in sizes and sizes[n] - ads >= 3 and sizes[n] - ads >= 0.5 * ads}
    assert grown, "some dismissed networks grow over the next days of this world"
    for network in grown:  # more ads: back in the queue, saying why
        assert listed[network].status == "returned"
        assert any("annonce" in change for change in listed[network].changes)
    for network in before:
        if network in listed:
            assert listed[network].status == "returned" and listed[network].changes


def test_a_store_linked_before_scoring_existed_is_scored_whole_by_the_next_detect(
        world: Path, store_settings: Settings) -> None:
    store = _ingested(world, store_settings)
    detect_and_score(store)
    before = _scores(store)
    with store.begin() as conn:  # as a store linked by an earlier faisceau would be
        for table in ("score_features", "price_histogram", "ad_minor", "network_score",
                      "score_state"):
            conn.execute(text(f"DELETE FROM {table}"))
    _, scored = detect_and_score(store)
    assert scored.new_versions > 0 and not scored.incremental
    assert {n: s[:5] for n, s in _scores(store).items()} == {n: s[:5] for n, s in before.items()}
    store.dispose()


def test_upgrading_to_features_again_recomputes_them_once_and_changes_no_network(
        world: Path, store_settings: Settings) -> None:
    store = _ingested(world, store_settings)
    detect_and_score(store)
    before = _scores(store)
    tables = ("link_features", "link_key", "score_features")
    with store.begin() as conn:
        counts = {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                  for t in tables}
        prices = conn.execute(text("SELECT SUM(versions) FROM price_histogram")).scalar_one()
        members = set(conn.execute(text("SELECT ad_pk, network_id FROM ad_network")))
    # A store at 0011 upgraded to 0012: its derived features are dropped...
    cfg = alembic_config(store.settings.url)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0011")
        command.upgrade(cfg, "0012")
    with store.begin() as conn:
        assert all(conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() == 0
                   for t in tables)
    # ... and the next detection computes them again, once each, and scores everything.
    linked, scored = detect_and_score(store)
    assert linked.new_versions == counts["score_features"] and not scored.incremental
    with store.begin() as conn:
        assert {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                for t in tables} == counts
        assert conn.execute(text("SELECT SUM(versions) FROM price_histogram")).scalar_one() \
            == prices
        assert set(conn.execute(text("SELECT ad_pk, network_id FROM ad_network"))) == members
    assert {n: s[:5] for n, s in _scores(store).items()} == {n: s[:5] for n, s in before.items()}
    store.dispose()


def test_a_name_said_by_an_earlier_version_of_an_ad_still_makes_one_person(
        tmp_path: Path, store_settings: Settings) -> None:
    # One worker, one number, two names: her first ad said her other name, then was edited.
    def line(ad_id: str, day: int, name: str, text: str) -> str:
        return json.dumps({
            "ad_id": ad_id, "source": "annonces-exemple",
            "seen_at": f"2026-03-0{day}T08:00:00Z", "posted_at": "2026-03-01",
            "url": f"https://annonces.example/a/{ad_id}", "title": f"{name}, 33 ans",
            "text": text, "name": name, "age": "33", "location": "Cannes",
            "phone": "06 12 34 56 78"})

    crawl = tmp_path / "crawl.jsonl"
    crawl.write_text("\n".join([
        line("1", 1, "Carla", "Bonjour, je suis Priscila. Je reçois à Cannes sur rendez-vous."),
        line("1", 2, "Carla", "Carla, indépendante. Je me déplace à votre hôtel."),
        line("2", 2, "Priscila", "Priscila, indépendante. Appelez-moi, pas de numéro masqué."),
    ]) + "\n", encoding="utf-8")
    store = open_store(store_settings)
    with Ingestor(store, images=False).session() as ingestor:
        ingestor.ingest_paths([crawl])
    detect_and_score(store)
    with store.begin() as conn:
        indicators = [json.loads(r[0]) for r in conn.execute(text(
            "SELECT indicators FROM network_score WHERE ads = 2"))]
    store.dispose()
    assert len(indicators) == 1 and "several_persons_per_contact" not in indicators[0]
