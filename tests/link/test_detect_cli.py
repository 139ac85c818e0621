"""``faisceau detect`` and the exports through the real command line, on both stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faisceau.config import Settings
from faisceau.link import detect as detect_module
from faisceau.store import open_store
from faisceau.synth.world import Params, write_world
from tests.conftest import run_faisceau


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    write_world(Params(scale=0.01, days=4, seed=3, images=True), out)
    return out


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _export(env: dict[str, str], tmp: Path, what: str, name: str) -> list[dict[str, object]]:
    out = tmp / name
    run_faisceau(["export", what, "--out", str(out)], env)
    return _lines(out)


def test_detect_links_incrementally_with_stable_identifiers(
        world: Path, store_env: dict[str, str], tmp_path: Path) -> None:
    days = sorted((world / "crawl").glob("ads-*.jsonl"))
    run_faisceau(["ingest", "ads", str(days[0])], store_env)
    run_faisceau(["detect"], store_env)
    first = {(a["source"], a["ad_id"]): a["network_id"]
             for a in _export(store_env, tmp_path, "ads", "a1.jsonl")}
    run_faisceau(["ingest", "ads", *map(str, days[1:])], store_env)
    run_faisceau(["detect"], store_env)
    ads = _export(store_env, tmp_path, "ads", "a2.jsonl")
    networks = _export(store_env, tmp_path, "networks", "n2.jsonl")

    # The contract: every ad in exactly one network, and networks count their ads.
    keys = [(a["source"], a["ad_id"]) for a in ads]
    assert len(keys) == len(set(keys))
    sizes: dict[object, int] = {}
    for a in ads:
        sizes[a["network_id"]] = sizes.get(a["network_id"], 0) + 1
    assert {n["network_id"]: n["ads"] for n in networks} == sizes
    for n in networks:
        assert set(n) >= {"network_id", "ads", "risk", "trafficking_suspected",
                          "minor_suspected", "reasons"}

    # Stable: ads linked on day 1 keep their network (a network that grows keeps its id),
    # unless new ads merged it into another, which says so.
    linked_before = {k for k, n in first.items()
                     if sum(1 for m in first.values() if m == n) > 1}
    now = {(a["source"], a["ad_id"]): a["network_id"] for a in ads}
    kept = sum(now[k] == first[k] for k in linked_before)
    assert linked_before and kept / len(linked_before) >= 0.9
    for survivor, absorbed in {(now[k], first[k]) for k in linked_before if now[k] != first[k]}:
        events = json.loads(run_faisceau(["networks", "show", survivor], store_env).stdout)[
            "events"]
        assert any(e["kind"] == "merged" and absorbed in e["others"] for e in events)

    # Nothing new: a second run changes nothing.
    second = run_faisceau(["detect"], store_env).stdout
    assert "0 annonces (ré)affectées" in " ".join(second.split())
    assert _export(store_env, tmp_path, "ads", "a3.jsonl") == ads

    # Against the ground truth: the bar.
    report = json.loads(run_faisceau(["evaluate", "--truth", str(world), "--json"],
                                     store_env).stdout)
    clustering = report["clustering"]
    assert clustering["bcubed_precision"] >= 0.97 and clustering["bcubed_f1"] >= 0.95

    # A network shows its ads, persons, phones, circuit and evidence with provenance.
    largest = json.loads(run_faisceau(["networks", "list", "--top", "1", "--json"],
                                      store_env).stdout)[0]
    detail = json.loads(run_faisceau(["networks", "show", largest["network_id"]],
                                     store_env).stdout)
    assert len(detail["ads"]) == largest["ads"] > 1
    assert detail["phones"] and detail["persons"] and detail["circuit"]
    assert detail["evidence"]
    own = {a["ad"].partition(":")[2] for a in detail["ads"]}
    for evidence in detail["evidence"]:
        assert evidence["ads"] and evidence["first_seen"] <= evidence["last_seen"]
        shown = {ref.partition(":")[2] for ref in evidence["ads"]}
        if evidence["kind"] in ("refused", "cut"):
            # What did not join two groups (which other links may still have joined): an
            # ad of this network on one side, and the weights.
            assert shown & own and evidence["detail"]["weights"]
            assert (evidence["detail"]["total"] < evidence["detail"]["needed"]) == (
                evidence["kind"] == "refused")
        else:
            assert shown <= own


def test_exports_before_any_detection_keep_the_contract(
        world: Path, store_env: dict[str, str], tmp_path: Path) -> None:
    run_faisceau(["ingest", "ads", str(sorted((world / "crawl").glob("*.jsonl"))[0])],
                 store_env)
    ads = _export(store_env, tmp_path, "ads", "a.jsonl")
    networks = _export(store_env, tmp_path, "networks", "n.jsonl")
    assert len(networks) == len(ads) == len({a["network_id"] for a in ads})


def test_a_run_that_fails_while_writing_leaves_the_previous_result(
        world: Path, store_settings: Settings, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    from faisceau.ingest.pipeline import Ingestor

    store = open_store(store_settings)
    try:
        days = sorted((world / "crawl").glob("ads-*.jsonl"))
        with Ingestor(store).session() as ingestor:
            ingestor.ingest_paths(days[:1])
        detect_module.detect(store)
        with store.begin() as conn:
            before = sorted(conn.exec_driver_sql(
                "SELECT ad_pk, network_id FROM ad_network").all())
        with Ingestor(store).session() as ingestor:
            ingestor.ingest_paths(days[1:])

        def crash(*args: object, **kwargs: object) -> list[tuple[object, ...]]:
            raise RuntimeError("killed")

        monkeypatch.setattr(detect_module, "_event_rows", crash)
        with pytest.raises(RuntimeError):
            detect_module.detect(store)
        with store.begin() as conn:
            after = sorted(conn.exec_driver_sql(
                "SELECT ad_pk, network_id FROM ad_network").all())
        assert after == before
        monkeypatch.undo()
        summary = detect_module.detect(store)
        assert summary.new_versions == 0  # features were kept: only linking is redone
        with store.begin() as conn:
            assigned = conn.exec_driver_sql("SELECT COUNT(*) FROM ad_network").scalar_one()
            ads = conn.exec_driver_sql("SELECT COUNT(*) FROM ad").scalar_one()
        assert assigned == ads
    finally:
        store.dispose()


def _ad_line(ad_id: str, seen_at: str, phone: str, name: str) -> str:
    return json.dumps({"ad_id": ad_id, "source": "exemple", "seen_at": seen_at,
                       "title": f"{name} à Lyon", "name": name, "location": "Lyon",
                       "text": f"Bonjour, je suis {name}. Appelez le {phone}.",
                       "phone": phone}, ensure_ascii=False)


def test_an_ad_joining_two_networks_records_the_merge_and_its_cause(
        store_env: dict[str, str], tmp_path: Path) -> None:
    day1 = tmp_path / "day1.jsonl"
    day1.write_text("\n".join([
        _ad_line("a1", "2026-03-02T10:00:00Z", "06 11 22 33 44", "Lola"),
        _ad_line("a2", "2026-03-02T11:00:00Z", "06 11 22 33 44", "Lola"),
        _ad_line("b1", "2026-03-02T12:00:00Z", "07 55 66 77 88", "Maria"),
    ]) + "\n")
    run_faisceau(["ingest", "ads", str(day1)], store_env)
    run_faisceau(["detect"], store_env)
    before = {a["ad_id"]: a["network_id"] for a in _export(store_env, tmp_path, "ads", "1")}
    assert before["a1"] == before["a2"] != before["b1"]

    # Day 2: all three still online (so neither number looks handed over), and a new ad
    # giving both numbers.
    day2 = tmp_path / "day2.jsonl"
    day2.write_text("\n".join([
        _ad_line("a1", "2026-03-03T09:00:00Z", "06 11 22 33 44", "Lola"),
        _ad_line("a2", "2026-03-03T09:10:00Z", "06 11 22 33 44", "Lola"),
        _ad_line("b1", "2026-03-03T09:20:00Z", "07 55 66 77 88", "Maria"),
        _ad_line("c1", "2026-03-03T10:00:00Z", "06 11 22 33 44 ou 07 55 66 77 88", "Lola"),
    ]) + "\n")
    run_faisceau(["ingest", "ads", str(day2)], store_env)
    run_faisceau(["detect"], store_env)
    after = {a["ad_id"]: a["network_id"] for a in _export(store_env, tmp_path, "ads", "2")}
    assert len(set(after.values())) == 1
    kept = after["a1"]
    assert kept == before["a1"]  # the larger network keeps its identifier

    detail = json.loads(run_faisceau(["networks", "show", kept], store_env).stdout)
    merges = [e for e in detail["events"] if e["kind"] == "merged"]
    assert [m["others"] for m in merges] == [[before["b1"]]]
    assert "+33755667788" in merges[0]["cause"] or "+33611223344" in merges[0]["cause"]
    assert merges[0]["data_date"].startswith("2026-03-03")
    phones = {e["value"] for e in detail["evidence"] if e["kind"] == "phone"}
    assert phones == {"+33611223344", "+33755667788"}
    absorbed = json.loads(run_faisceau(["networks", "show", before["b1"]], store_env).stdout)
    assert absorbed["status"] == "merged" and absorbed["ads"] == []
