"""``faisceau export ftm | gexf | graphml | i2`` through the real command line.

What users rely on: what one faisceau exports as FtM, another (or Aleph) reads back with the
same facts; Gephi's files hold the whole combined graph; the statement export keeps each
value's source, case, unit and line.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import networkx as nx
import pytest

from faisceau.config import Settings
from faisceau.intel.casefiles import import_case_files
from faisceau.store import open_store
from faisceau.store.schema import intel_statement
from faisceau.synth.behind import write_behind
from faisceau.synth.world import Params, write_world
from tests.conftest import run_faisceau

# The world's case files hold victims and minors: every export of them needs a reason.
REASON = ("--reason", "transmission au service enquêteur")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    params = Params(scale=0.02, days=14, seed=5, images=False)
    write_world(params, out)
    write_behind(out, params.seed, params.start, params.scale)
    return out


def _facts(home: Path) -> set[tuple[str, str, str]]:
    store = open_store(Settings(home=home, database_url=None))
    with store.begin() as conn:
        rows = conn.execute(intel_statement.select().with_only_columns(
            intel_statement.c.entity_id, intel_statement.c.prop, intel_statement.c.value))
        return {tuple(r) for r in rows}  # type: ignore[misc]


def test_ftm_export_reimports_to_the_same_facts(world: Path, tmp_path: Path,
                                                store_env: dict[str, str]) -> None:
    run_faisceau(["cases", "import", str(world / "intel" / "csv")], store_env)
    exported = tmp_path / "picture.jsonl"
    run_faisceau(["export", "ftm", "--out", str(exported), *REASON], store_env)
    lines = exported.read_text("utf-8").splitlines()
    assert lines and all(set(json.loads(line)) == {"id", "schema", "properties"}
                         for line in lines)
    other = tmp_path / "other"
    import_case_files(open_store(Settings(home=other, database_url=None)), [exported])
    source_home = Path(store_env["FAISCEAU_HOME"])
    if "FAISCEAU_DATABASE_URL" in store_env:  # compare with a second import of the CSV
        source_home = tmp_path / "again"
        import_case_files(open_store(Settings(home=source_home, database_url=None)),
                          [world / "intel" / "csv"])
    assert _facts(other) == _facts(source_home)

    statements = tmp_path / "statements.jsonl"
    run_faisceau(["export", "ftm", "--statements", "--out", str(statements), *REASON], store_env)
    first_phone = next(json.loads(line) for line in statements.read_text("utf-8").splitlines()
                       if json.loads(line)["prop"] == "phone")
    assert first_phone["dataset"] == "csv"
    assert ".csv:" in first_phone["origin"] and "affaire " in first_phone["origin"]


def test_graph_exports_hold_the_combined_graph(world: Path, tmp_path: Path,
                                              store_env: dict[str, str]) -> None:
    run_faisceau(["cases", "import", str(world / "intel" / "csv")], store_env)
    gexf, graphml, i2 = tmp_path / "g.gexf", tmp_path / "g.graphml", tmp_path / "i2"
    said = run_faisceau(["export", "gexf", "--out", str(gexf), *REASON], store_env).stdout
    run_faisceau(["export", "graphml", "--out", str(graphml), *REASON], store_env)
    run_faisceau(["export", "i2", "--out", str(i2), *REASON], store_env)
    nodes, edges = (int(w) for w in said.split() if w.isdigit())
    from_gexf = nx.read_gexf(gexf)
    from_graphml = nx.read_graphml(graphml)
    assert from_gexf.number_of_nodes() == from_graphml.number_of_nodes() == nodes > 100
    assert from_gexf.number_of_edges() == from_graphml.number_of_edges() == edges > 100
    kinds = {d.get("kind") for _, d in from_graphml.nodes(data=True)}
    assert {"person", "case", "account", "phone"} <= kinds
    with open(next(i2.glob("*link*.csv")), encoding="utf-8-sig", newline="") as handle:
        assert sum(1 for _ in csv.reader(handle, delimiter=";")) == edges + 1
