"""Each stage that writes what the web application keeps in memory counts its changes
(``store_change``), in the same transaction as its writes: a reader that compares the
counters knows when to rebuild, and a stage that wrote nothing leaves them alone."""

from __future__ import annotations

from pathlib import Path

from faisceau.config import Settings
from faisceau.ingest.pipeline import Ingestor
from faisceau.intel.casefiles import import_case_files
from faisceau.intel.leads import find_leads
from faisceau.intel.people import judge
from faisceau.score.review import queue, record_decision
from faisceau.score.run import detect_and_score
from faisceau.store import Store, open_store
from faisceau.store.bulk import changes
from faisceau.synth.world import Params, write_world


def _counters(store: Store) -> dict[str, int]:
    with store.begin() as conn:
        return dict(changes(conn))


def test_every_stage_counts_its_changes(store_settings: Settings, tmp_path: Path) -> None:
    write_world(Params(scale=0.01, days=1, seed=3, images=False), tmp_path / "world")
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    (csv_dir / "cases.csv").write_text(
        "affaire_id;numero_procedure;unite_code;date_ouverture;statut\n"
        "K1;2026/SD-13/1;SD-13;2026-01-01;ouverte\n", encoding="utf-8")
    (csv_dir / "people.csv").write_text(
        "personne_id;affaire_id;categorie;role;nom;prenom\n"
        "K1-A;K1;suspect;proxénète;Martin;Paul\nK1-B;K1;suspect;proxénète;Martin;Paul\n",
        encoding="utf-8")
    store = open_store(store_settings)
    assert _counters(store) == {}
    with Ingestor(store, images=False, workers=1).session() as ingestor:
        ingestor.ingest_paths([tmp_path / "world" / "crawl"])
    assert _counters(store) == {}  # ingestion alone changes no network
    detect_and_score(store)
    assert _counters(store) == {"networks": 1, "scores": 1}
    import_case_files(store, [csv_dir])
    after_import = _counters(store)
    assert after_import["case_files"] >= 1 and after_import["networks"] == 1
    judge(store, "K1-A", "K1-B", "positive", "analyste", "même personne")
    assert _counters(store)["people"] == 1
    find_leads(store)
    assert _counters(store)["leads"] == 1
    with store.begin() as conn:
        network_id = queue(conn, limit=1)[0].network_id
        record_decision(conn, network_id, "investigate", "analyste")
    assert _counters(store)["decisions"] == 1
    store.dispose()
