"""The dashboard (``/`` and ``GET /api/tableau``): the plan's key figures from what the store
holds.

What users rely on: each figure equals what the loaded data says, counted here
independently from the files that were loaded (case files written by this test, the
synthetic crawl read line by line); a person resolved across two case files counts once;
shares of victims by nationality sum to 1; every logged-in role, the auditor included, sees
the figures (aggregates, no record) and nobody else does; the page draws its charts and the
map of France without any script.
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from faisceau.config import Settings
from faisceau.ingest.pipeline import Ingestor
from faisceau.intel.casefiles import import_case_files
from faisceau.score.review import record_decision
from faisceau.score.run import detect_and_score
from faisceau.share.access import ROLES
from faisceau.share.accounts import create_user, seed_units
from faisceau.store import Store, open_store
from faisceau.store.schema import intel_entity, network, network_score
from faisceau.synth.intel_writer import LAYOUT
from faisceau.synth.world import Params, write_world
from faisceau.web import charts, dashboard
from faisceau.web.app import create_app
from tests.web.test_app import PASSWORD, login

LATIN = {"CO", "BR", "DO", "PE", "VE"}
NATIONALITIES = ["FR", "FR", "FR", "CO", "BR", "DO", "NG", "RO", "PE", "VE", "CN", "MA", ""]
MERGED = ("C003-P001", "C007-P001")  # one victim in two case files


def _write(folder: Path, name: str, rows: list[dict[str, Any]]) -> None:
    with open(folder / f"{name}.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=LAYOUT[name], delimiter=";")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in LAYOUT[name]})


def write_case_files(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """Synthetic case files (cases, people, assets) with every case the figures tell
    apart; returns the rows written."""
    rng = random.Random(11)
    folder.mkdir(parents=True, exist_ok=True)
    cases, people, assets = [], [], []
    statuses = [("ouverte", "en cours"), ("réseau démantelé", "démantèlement"),
                ("clôturée", "interpellations"), ("clôturée", "démantèlement"),
                ("clôturée", "classement sans suite (auteur non identifié)")]
    for n in range(1, 15):
        case_id = f"C{n:03d}"
        status, outcome = statuses[n % len(statuses)]
        opened = f"202{4 + n % 2}-{1 + n % 12:02d}-{1 + n:02d}"
        arrests = f"2025-{1 + (n * 5) % 12:02d}-10" if status != "ouverte" and n % 3 else ""
        closed = "" if status == "ouverte" else f"2025-{1 + (n * 7) % 12:02d}-20"
        cases.append(dict(affaire_id=case_id, numero_procedure=f"2025/SD-13/{n:04d}",
                          unite_code="OCRTEH" if n % 4 == 0 else "SD-13",
                          departement="13", type_affaire="réseau",
                          infractions="proxénétisme aggravé (art. 225-7 CP)",
                          date_ouverture=opened, date_interpellations=arrests,
                          date_cloture=closed, statut=status, issue=outcome))
        for p in range(1, 9):
            person_id = f"{case_id}-P{p:03d}"
            category = "victime" if p <= 5 else "suspect"
            if person_id in MERGED:
                nationality, minor, status_p = "CO", "oui", "victime"
            elif category == "victime":
                nationality = rng.choice(NATIONALITIES)
                minor = "oui" if rng.random() < 0.35 else "non"
                status_p = "victime présumée" if rng.random() < 0.2 else "victime"
            else:
                nationality, minor = rng.choice(NATIONALITIES), "non"
                status_p = "mis en cause" if rng.random() < 0.7 else "suspect"
            people.append(dict(personne_id=person_id, affaire_id=case_id, categorie=category,
                               statut=status_p, nom=f"Nom{n}{p}", prenom=f"Prénom{p}",
                               sexe="F" if category == "victime" else "M", mineur=minor,
                               nationalite=nationality))
        for a in range(1, 3):
            kind = rng.choice(["identifié", "saisi", "saisi", "confisqué"])
            seized = f"2025-{1 + (n + a) % 12:02d}-05" if kind != "identifié" else ""
            assets.append(dict(
                bien_id=f"{case_id}-B{a:03d}", affaire_id=case_id, type="solde bancaire",
                description="solde créditeur", valeur_eur=f"{rng.randint(100, 90000)}.{a}5",
                statut=kind, date_identification="2025-01-02", date_saisie=seized,
                date_confiscation="2025-12-01" if kind == "confisqué" else "",
                service_saisissant=rng.choice(["OCRTEH", "SD-13"]) if seized else "",
                pays="FR"))
    _write(folder, "cases", cases)
    _write(folder, "people", people)
    _write(folder, "assets", assets)
    return {"cases": cases, "people": people, "assets": assets}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("tableau")
    write_world(Params(scale=0.01, days=3, seed=4, images=False), root / "world")
    rows = write_case_files(root / "csv")
    return root, rows


@pytest.fixture
def store(store_settings: Settings, world: tuple[Path, dict[str, Any]]) -> Iterator[Store]:
    root, _ = world
    opened = open_store(store_settings)
    with Ingestor(opened, images=False, workers=1).session() as ingestor:
        ingestor.ingest_paths([root / "world" / "crawl"])
    detect_and_score(opened)
    assert import_case_files(opened, [root / "csv"], "units").set_aside == []
    with opened.begin() as conn:  # as entity resolution would: one person, two records
        conn.execute(update(intel_entity).where(intel_entity.c.id.in_(MERGED))
                     .values(canonical_id=MERGED[0]))
    seed_units(opened)
    for role in ROLES:
        create_user(opened, role, PASSWORD, role, "OCRTEH", name=role.capitalize())
    yield opened
    opened.dispose()


# --- What the loaded data says, counted here ------------------------------------------------


def expected_cases(rows: dict[str, Any]) -> dict[str, Any]:
    cases = rows["cases"]
    dismantled = [c for c in cases if c["statut"] == "réseau démantelé"
                  or c["issue"] == "démantèlement"]
    canon = {p["personne_id"]: MERGED[0] if p["personne_id"] in MERGED else p["personne_id"]
             for p in rows["people"]}
    suspects: dict[str, set[str]] = defaultdict(set)
    victims: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in rows["people"]:
        if p["categorie"] == "suspect":
            suspects[canon[p["personne_id"]]].add(p["statut"])
        else:
            victims[canon[p["personne_id"]]].append(p)
    identified = {v: recs for v, recs in victims.items()
                  if any(r["statut"] == "victime" for r in recs)}
    nationality = {v: recs[0]["nationalite"] or "inconnue" for v, recs in identified.items()}
    minor = {v for v, recs in identified.items() if any(r["mineur"] == "oui" for r in recs)}
    french = [v for v in identified if nationality[v] == "FR"]
    seized = [a for a in rows["assets"] if a["statut"] in ("saisi", "confisqué")]
    total = len(identified)
    by_month: Counter[str] = Counter()
    for c in dismantled:
        by_month[(c["date_interpellations"] or c["date_cloture"] or c["date_ouverture"])[:7]] += 1
    return {
        "cases": len(cases),
        "cases_open": sum(1 for c in cases if not c["date_cloture"] and c not in dismantled),
        "networks_dismantled": len(dismantled),
        "suspects": len(suspects),
        "suspects_charged": sum(1 for s in suspects.values() if "mis en cause" in s),
        "victims": total,
        "victims_presumed": len(victims) - total,
        "victims_minor": len(minor),
        "victims_french": len(french),
        "minor_share": pytest.approx(len(minor) / total),
        "french_share": pytest.approx(len(french) / total),
        "french_minor_share": pytest.approx(len(set(french) & minor) / len(french)),
        "latin_america_share": pytest.approx(
            sum(1 for v in identified if nationality[v] in LATIN) / total),
        "seized_eur": pytest.approx(sum(float(a["valeur_eur"]) for a in seized)),
        "seized_central_eur": pytest.approx(sum(float(a["valeur_eur"]) for a in seized
                                                if a["service_saisissant"] == "OCRTEH")),
        "confiscated_eur": pytest.approx(sum(float(a["valeur_eur"]) for a in seized
                                             if a["statut"] == "confisqué")),
        "nationality_counts": Counter(nationality.values()),
        "dismantled_by_month": by_month,
    }


def expected_ads(crawl: Path) -> tuple[int, dict[str, int], dict[str, int]]:
    """(ads, ads seen per day, ads first seen per day) from the crawl's lines."""
    seen: dict[str, set[tuple[str, str]]] = defaultdict(set)
    first: dict[tuple[str, str], str] = {}
    for path in sorted(crawl.glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            record = json.loads(line)
            key = (record["source"], record["ad_id"])
            at = datetime.fromisoformat(record["seen_at"].replace("Z", "+00:00"))
            day = at.astimezone(UTC).date().isoformat()
            seen[day].add(key)
            first[key] = min(first.get(key, day), day)
    return len(first), {d: len(s) for d, s in seen.items()}, dict(Counter(first.values()))


# --- Tests ---------------------------------------------------------------------------------


def test_the_key_figures_are_those_of_the_loaded_data(
        store: Store, world: tuple[Path, dict[str, Any]]) -> None:
    root, rows = world
    want = expected_cases(rows)
    ads, per_day, new_per_day = expected_ads(root / "world" / "crawl")
    with store.begin() as conn:
        top = conn.execute(select(network_score.c.network_id)
                           .order_by(network_score.c.risk.desc()).limit(2)).scalars().all()
        record_decision(conn, top[0], "dismissed", "analyste", reason="test")
        record_decision(conn, top[0], "investigate", "analyste")  # the latest one counts
        record_decision(conn, top[1], "known", "analyste", case_ref="2025/1")
        active = network.c.status == "active"
        networks = conn.execute(select(func.count()).select_from(network).where(active)) \
            .scalar_one()
        suspected = conn.execute(
            select(func.count()).select_from(network.join(
                network_score, network_score.c.network_id == network.c.id))
            .where(active, network_score.c.trafficking_suspected)).scalar_one()
    with TestClient(create_app(store.settings)) as web:
        login(web, "analyst")
        got = web.get("/api/tableau").json()

    for key, value in want.items():
        if key not in ("nationality_counts", "dismantled_by_month"):
            assert got[key] == value, key
    assert got["victims"] > 10 and got["networks_dismantled"] >= 3 and got["seized_eur"] > 0
    shares = {s["code"]: s for s in got["nationalities"]}
    assert sum(s["share"] for s in got["nationalities"]) == pytest.approx(1.0)
    assert sum(s["count"] for s in got["nationalities"]) == got["victims"]
    counts = want["nationality_counts"]
    top5 = sorted((c for c in counts if c != "inconnue"), key=lambda c: (-counts[c], c))[:5]
    assert [s["code"] for s in got["nationalities"][:5]] == top5
    assert shares["FR"]["label"] == "France" and shares["FR"]["count"] == counts["FR"]
    rest = sum(n for c, n in counts.items() if c not in top5 and c != "inconnue")
    assert shares.get("autres", {"count": 0})["count"] == rest
    assert shares.get("inconnue", {"count": 0})["count"] == counts["inconnue"]

    assert got["trend_step"] == "month"
    trend = {p["period"]: p for p in got["trend"]}
    assert {m: trend[m]["networks_dismantled"] for m in want["dismantled_by_month"]} == \
        dict(want["dismantled_by_month"])
    assert sum(p["networks_dismantled"] for p in got["trend"]) == got["networks_dismantled"]
    assert sum(p["seized_eur"] for p in got["trend"]) == pytest.approx(got["seized_eur"])
    assert sum(p["cases_opened"] for p in got["trend"]) == got["cases"]
    months = [p["period"] for p in got["trend"]]
    assert months == sorted(months) and len(months) == len(set(months))  # no gap twice

    assert got["ads"] == ads
    assert {d["day"]: d["ads_seen"] for d in got["ads_per_day"]} == per_day
    assert {d["day"]: d["ads_new"] for d in got["ads_per_day"] if d["ads_new"]} == new_per_day
    assert got["ads_per_day_mean"] == pytest.approx(sum(per_day.values()) / len(per_day),
                                                    abs=0.05)
    assert sum(got["ads_by_departement"].values()) <= ads
    assert got["networks"] == networks and got["networks_suspected"] == suspected
    assert got["decisions"] == {"investigate": 1, "known": 1}
    assert got["networks_decided"] == 2


def test_every_role_sees_the_dashboard_with_its_charts_and_map(store: Store) -> None:
    with TestClient(create_app(store.settings)) as web:
        assert web.get("/", follow_redirects=False).status_code == 303
        assert web.get("/api/tableau").status_code == 401
        for role in ROLES:
            login(web, role)
            page = web.get("/")
            assert page.status_code == 200, role
            html = page.text
            assert "Réseaux démantelés" in html and "Victimes identifiées" in html
            assert html.count('class="graphique"') == 6  # nationalities, 3 trends, 2 ads
            assert "<script" not in html and ' style="' not in html
            assert html.count('<path d="') >= 101  # the map: every département
            assert 'href="/static/tableau.css"' in html
            assert web.get("/static/tableau.css").status_code == 200
            assert web.get("/api/tableau").status_code == 200
            web.cookies.clear()


def test_figures_are_cached_for_a_while_then_computed_again(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    with TestClient(create_app(store.settings)) as web:
        login(web, "analyst")
        before = web.get("/api/tableau").json()
        with store.begin() as conn:
            top = conn.execute(select(network_score.c.network_id)
                               .order_by(network_score.c.risk.desc())).scalars().first()
            assert top is not None
            record_decision(conn, top, "investigate", "analyste")
        assert web.get("/api/tableau").json() == before  # within the cache's time
        monkeypatch.setattr(dashboard, "CACHE_SECONDS", 0.0)
        after = web.get("/api/tableau").json()
        assert after["networks_decided"] == before["networks_decided"] + 1
        assert after["decisions"] == {"investigate": 1}


def test_an_empty_store_has_zeros_and_empty_charts(store_settings: Settings) -> None:
    opened = open_store(store_settings)
    seed_units(opened)
    create_user(opened, "analyst", PASSWORD, "analyst", "OCRTEH")
    try:
        with TestClient(create_app(opened.settings)) as web:
            login(web, "analyst")
            got = web.get("/api/tableau").json()
            assert got["cases"] == got["victims"] == got["ads"] == 0
            assert got["nationalities"] == [] and got["trend"] == [] == got["ads_per_day"]
            assert got["minor_share"] == 0.0
            page = web.get("/")
            assert page.status_code == 200 and "Pas de données" in page.text
    finally:
        opened.dispose()


def test_charts_draw_one_bar_per_point_with_its_value() -> None:
    svg = charts.bar_chart([("janv. 2026", 3.0), ("févr. 2026", 0.0), ("mars", 6.0)],
                              title="Réseaux <démantelés>", unit="réseaux")
    assert svg.count("<rect") == 3
    assert "Réseaux &lt;démantelés&gt;" in svg and "<démantelés>" not in svg
    assert "mars : 6\u00a0réseaux" in svg
    heights = [float(h) for h in re.findall(r'height="([\d.]+)"><title>', svg)]
    assert heights[2] == pytest.approx(2 * heights[0]) and heights[1] == 0
    assert charts.percent(0.534) == "53\u00a0%"
    assert charts.euros(9993388) == "9\u00a0993\u00a0388\u00a0€"
    assert dashboard.period_label("2026-03") == "mars 2026"
