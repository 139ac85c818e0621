"""Ingestion through the real command line, on both stores (the contract in shared/spec)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.conftest import run_faisceau


def _ad(ad_id: str, seen_at: str, **fields: object) -> dict[str, object]:
    base: dict[str, object] = {"ad_id": ad_id, "source": "exemple", "seen_at": seen_at,
                               "title": "Annonce", "text": "Bonjour, rendez-vous à Lyon.",
                               "location": "Lyon", "phone": "06 12 34 56 78"}
    base.update(fields)
    return base


def _write(path: Path, records: list[dict[str, object] | bytes]) -> Path:
    with open(path, "wb") as handle:
        for r in records:
            handle.write(r if isinstance(r, bytes) else json.dumps(r, ensure_ascii=False).encode())
            handle.write(b"\n")
    return path


def _export(env: dict[str, str], tmp: Path, name: str) -> list[dict[str, object]]:
    out = tmp / name
    run_faisceau(["export", "ads", "--out", str(out)], env)
    return [json.loads(line) for line in out.read_text().splitlines()]


def _status(env: dict[str, str]) -> str:
    return run_faisceau(["status"], env).stdout


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic 3-day crawl with 1 % of lines corrupted on purpose, written once for the
    module: the tests only read it."""
    out = tmp_path_factory.mktemp("crawl") / "world"
    env = {"PATH": "/usr/bin:/bin"}
    run_faisceau(["synth", "--out", str(out), "--ads-per-day", "400", "--days", "3",
                  "--corrupt-rate", "0.01", "--seed", "7"], env)
    return out / "crawl"


def test_same_file_twice_gives_identical_exports(store_env: dict[str, str], crawl: Path,
                                                 tmp_path: Path) -> None:
    first = run_faisceau(["ingest", "ads", str(crawl)], store_env)
    assert "nouvelles annonces" in first.stdout
    export_1 = _export(store_env, tmp_path, "a.jsonl")
    status_1 = _status(store_env)
    second = run_faisceau(["ingest", "ads", str(crawl)], store_env)
    export_2 = _export(store_env, tmp_path, "b.jsonl")
    assert export_1 == export_2
    assert _status(store_env) == status_1
    assert "nouvelles annonces          │ 0" in second.stdout
    assert "nouvelles versions          │ 0" in second.stdout
    # every ad exported once, in the contract's shape
    keys = {(row["source"], row["ad_id"]) for row in export_1}
    assert len(keys) == len(export_1) > 300
    for row in export_1:
        assert set(row) == {"source", "ad_id", "network_id", "risk", "minor_suspected", "phones",
                            "departement"}
        assert 0.0 <= row["risk"] <= 1.0  # type: ignore[operator]


def test_corrupt_lines_are_set_aside_and_listed(store_env: dict[str, str], crawl: Path) -> None:
    result = run_faisceau(["ingest", "ads", str(crawl)], store_env)
    assert result.returncode == 0
    lines = sum(len(f.read_bytes().splitlines()) for f in crawl.glob("*.jsonl"))
    listed = [json.loads(line) for line in run_faisceau(
        ["quarantine", "list", "--limit", "0", "--json"], store_env).stdout.splitlines()]
    # each bad line is listed with file and line number
    bad = []
    for f in sorted(crawl.glob("*.jsonl")):
        for number, raw in enumerate(f.read_bytes().splitlines(), 1):
            try:
                obj = json.loads(raw.decode("utf-8"))
                ok = isinstance(obj.get("seen_at"), str) and not isinstance(obj.get("age"), list) \
                    and len(obj.get("text") or "") <= 50_000
            except (UnicodeDecodeError, json.JSONDecodeError):
                ok = False
            if not ok:
                bad.append((f.name, number))
    assert 0 < len(bad) < lines * 0.03
    assert sorted((Path(e["path"]).name, e["line"]) for e in listed) == sorted(bad)
    assert all(e["reason"] for e in listed)
    counts = _status(store_env)
    assert f"en quarantaine      │ {len(bad)}" in counts


def test_changed_content_is_a_new_version_identical_is_a_sighting(
        store_env: dict[str, str], tmp_path: Path) -> None:
    day1 = _write(tmp_path / "d1.jsonl", [_ad("a1", "2026-03-01T08:00:00Z"),
                                          _ad("a2", "2026-03-01T08:00:00+02:00")])
    day2 = _write(tmp_path / "d2.jsonl", [_ad("a1", "2026-03-02T08:00:00Z"),
                                          _ad("a2", "2026-03-02T08:00:00Z", location="Marseille",
                                              phone="07 50 12 34 56")])
    run_faisceau(["ingest", "ads", str(day1)], store_env)
    out = run_faisceau(["ingest", "ads", str(day2)], store_env).stdout
    assert "nouvelles annonces          │ 0" in out
    assert "nouvelles versions          │ 1" in out
    assert "passages répétés            │ 1" in out
    status = _status(store_env)
    assert "annonces            │ 2" in status
    assert "versions            │ 3" in status
    assert "passages            │ 4" in status
    rows = {r["ad_id"]: r for r in _export(store_env, tmp_path, "e.jsonl")}
    assert rows["a2"]["phones"] == ["+33750123456"]  # the latest version wins
    assert rows["a2"]["departement"] == "13"
    assert rows["a1"]["phones"] == ["+33612345678"]


def test_gzip_and_plain_give_the_same_store(store_env: dict[str, str], tmp_path: Path) -> None:
    records = [_ad(f"g{i}", "2026-03-01T08:00:00Z") for i in range(20)]
    plain = _write(tmp_path / "p.jsonl", records)  # type: ignore[arg-type]
    packed = tmp_path / "z" / "p.jsonl.gz"
    packed.parent.mkdir()
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    run_faisceau(["ingest", "ads", str(packed.parent)], store_env)
    again = run_faisceau(["ingest", "ads", str(plain)], store_env).stdout
    assert "déjà ingérées               │ 20" in again


def test_unreadable_path_is_one_line_and_nonzero(store_env: dict[str, str],
                                                 tmp_path: Path) -> None:
    result = run_faisceau(["ingest", "ads", str(tmp_path / "missing.jsonl")], store_env,
                          check=False)
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert "missing.jsonl" in result.stderr


def test_unreachable_store_is_one_line_and_nonzero(tmp_path: Path) -> None:
    good = _write(tmp_path / "a.jsonl", [_ad("x", "2026-03-01T08:00:00Z")])
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "200",
           "FAISCEAU_DATABASE_URL": "postgresql+psycopg://127.0.0.1:1/nowhere"}
    result = run_faisceau(["ingest", "ads", str(good)], env, check=False)
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert "cannot reach" in result.stderr


def test_fixed_lines_leave_the_quarantine(store_env: dict[str, str], tmp_path: Path) -> None:
    path = _write(tmp_path / "q.jsonl", [_ad("ok", "2026-03-01T08:00:00Z"),
                                         b'{"ad_id": "broken", "source": "exemple"',
                                         _ad("typed", "2026-03-01T08:00:00Z", age=[19])])
    first = run_faisceau(["ingest", "ads", str(path)], store_env).stdout
    assert "mises de côté (quarantaine) │ 2" in first
    assert "q.jsonl:2: invalid JSON" in first
    assert "q.jsonl:3: schema" in first
    # the user fixes line 2 in place and retries
    lines = path.read_bytes().splitlines()
    lines[1] = json.dumps(_ad("broken", "2026-03-01T08:00:00Z")).encode()
    path.write_bytes(b"\n".join(lines) + b"\n")
    retry = run_faisceau(["quarantine", "retry"], store_env).stdout
    assert "quarantaine résolue         │ 1" in retry
    listed = run_faisceau(["quarantine", "list"], store_env).stdout
    assert "Quarantaine (1)" in listed and "schema" in listed
    everything = run_faisceau(["quarantine", "list", "--all"], store_env).stdout
    assert "re-ingested" in everything
    shown = run_faisceau(["quarantine", "show", "2"], store_env).stdout
    assert '"typed"' in shown
    run_faisceau(["quarantine", "dismiss", "2", "--reason", "collecteur corrigé"], store_env)
    assert "Quarantaine (0)" in run_faisceau(["quarantine", "list"], store_env).stdout


def test_out_of_order_days_give_the_same_export(tmp_path: Path, crawl: Path) -> None:
    files = sorted(crawl.glob("*.jsonl"))
    exports = []
    for name, order in (("forward", files), ("backward", files[::-1])):
        env = {"PATH": "/usr/bin:/bin", "COLUMNS": "200", "FAISCEAU_HOME": str(tmp_path / name)}
        for f in order:
            run_faisceau(["ingest", "ads", str(f)], env)
        exports.append((_export(env, tmp_path, f"{name}.jsonl"), _status(env)))
    assert exports[0] == exports[1]


def test_images_are_hashed_and_missing_ones_reported(store_env: dict[str, str],
                                                     tmp_path: Path) -> None:
    out = tmp_path / "w"
    run_faisceau(["synth", "--out", str(out), "--ads-per-day", "30", "--days", "1", "--images"],
                 store_env)
    crawl = out / "crawl"
    ads = [json.loads(line) for f in crawl.glob("*.jsonl") for line in f.read_text().splitlines()]
    victim = crawl / ads[0]["images"][0]["path"]
    victim.write_bytes(b"not an image")
    run_faisceau(["ingest", "ads", str(crawl)], store_env)
    broken = victim.name
    hit = next(a for a in ads if a["images"][0]["path"].endswith(broken))
    fine = next(a for a in ads if not a["images"][0]["path"].endswith(broken))
    shown = json.loads(run_faisceau(["ads", "show", hit["source"], hit["ad_id"]],
                                    store_env).stdout)
    image = shown["versions"][0]["images"][0]
    assert image["error"].startswith("corrupt") and image["phash"] is None
    good = json.loads(run_faisceau(["ads", "show", fine["source"], fine["ad_id"]],
                                   store_env).stdout)["versions"][0]["images"][0]
    assert good["error"] is None and len(good["sha256"]) == 64 and good["phash"]
