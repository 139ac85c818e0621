"""Exchange formats: FtM (Aleph), GEXF and GraphML (Gephi), i2 CSV. Synthetic data only."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import igraph as ig
import networkx as nx
import polars as pl
import pytest
from followthemoney import EntityProxy, model
from followthemoney.statement import Statement, read_statements

from faisceau.intel.exchange import (
    I2_LINK_COLUMNS,
    entities_from_statements,
    read_ftm,
    write_ftm,
    write_ftm_statements,
    write_gexf,
    write_graphml,
    write_i2,
)

# -- FollowTheMoney ---------------------------------------------------------------------------


def _statements() -> list[Statement]:
    """Two source records resolved as one person (p-1), then a company (c-1)."""
    return [
        Statement(entity_id="dossier-a:7", canonical_id="p-1", schema="Person", prop="name",
                  value="Amélie Durand", dataset="dossiers-ocrteh", origin="people.csv:7",
                  first_seen="2024-05-02T00:00:00"),
        Statement(entity_id="dossier-a:7", canonical_id="p-1", schema="Person",
                  prop="birthDate", value="1999-04-03", dataset="dossiers-ocrteh",
                  origin="people.csv:7"),
        Statement(entity_id="annonces:42", canonical_id="p-1", schema="LegalEntity",
                  prop="phone", value="+33612345678", dataset="annonces",
                  origin="annonces-exemple/000000042"),
        Statement(entity_id="annonces:42", canonical_id="p-1", schema="LegalEntity",
                  prop="name", value="Lili", dataset="annonces",
                  origin="annonces-exemple/000000042"),
        Statement(entity_id="c-1", canonical_id="c-1", schema="Company", prop="name",
                  value="Société Fictive SARL", dataset="dossiers-ocrteh",
                  origin="companies.csv:2"),
    ]


def test_statements_of_two_records_make_one_entity_with_both_sources() -> None:
    entities = list(entities_from_statements(_statements()))
    assert [e.id for e in entities] == ["p-1", "c-1"]
    person = entities[0]
    assert person.schema.name == "Person"  # Person and LegalEntity reconcile to Person
    assert sorted(person.get("name")) == ["Amélie Durand", "Lili"]
    assert person.get("phone") == ["+33612345678"]
    assert person.datasets == {"dossiers-ocrteh", "annonces"}
    assert person.referents == {"dossier-a:7", "annonces:42"}
    by_value = {s.value: (s.dataset, s.origin) for s in person.get_statements("name")}
    assert by_value["Lili"] == ("annonces", "annonces-exemple/000000042")


def test_statements_out_of_order_are_refused() -> None:
    stmts = _statements()
    with pytest.raises(ValueError, match="p-1"):
        list(entities_from_statements([*stmts, stmts[0]]))


def test_ftm_lines_reread_by_followthemoney() -> None:
    out = io.BytesIO()
    assert write_ftm(entities_from_statements(_statements()), out) == 2
    lines = out.getvalue().decode("utf-8").splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert set(first) == {"id", "schema", "properties"}
    proxy = model.get_proxy(first, cleaned=False)  # re-validated by followthemoney
    assert proxy.id == "p-1" and proxy.schema.name == "Person"
    assert proxy.get("name") == ["Amélie Durand", "Lili"]
    assert proxy.get("birthDate") == ["1999-04-03"]
    assert EntityProxy.from_dict(json.loads(lines[1])).caption == "Société Fictive SARL"
    assert all(isinstance(r, dict) for _, r in read_ftm(io.BytesIO(out.getvalue())))


def test_ftm_context_option_carries_sources(tmp_path: Path) -> None:
    path = tmp_path / "ftm.jsonl.gz"  # compressed because of the suffix
    write_ftm(entities_from_statements(_statements()), path, context=True)
    (_, person), _ = list(read_ftm(path))
    assert isinstance(person, dict)
    assert person["datasets"] == ["annonces", "dossiers-ocrteh"]
    assert person["referents"] == ["annonces:42", "dossier-a:7"]


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_statement_export_keeps_each_values_source(fmt: str) -> None:
    out = io.BytesIO()
    assert write_ftm_statements(_statements(), out, format=fmt) == 5  # type: ignore[arg-type]
    assert not out.closed
    back = list(read_statements(io.BytesIO(out.getvalue()), fmt))
    assert len(back) == 5
    sources = {(s.canonical_id, s.entity_id, s.prop, s.value): (s.dataset, s.origin)
               for s in back}
    assert sources[("p-1", "annonces:42", "name", "Lili")] == (
        "annonces", "annonces-exemple/000000042")
    assert sources[("p-1", "dossier-a:7", "name", "Amélie Durand")] == (
        "dossiers-ocrteh", "people.csv:7")
    merged = next(iter(entities_from_statements(back)))
    assert merged.datasets == {"dossiers-ocrteh", "annonces"}


def test_read_ftm_locates_bad_lines_and_keeps_good_ones(tmp_path: Path) -> None:
    lines = [
        '{"id": "p-1", "schema": "Person", "properties": {"name": ["Zoé Martin"],'
        ' "country": ["FR"], "phone": ["06 12 34 56 78"]}}',
        '{"id": "p-2", "schema": "Person", "properties": {"name": ["Léa"]',  # bad JSON
        '{"id": "p-3", "schema": "Persn", "properties": {}}',
        '{"id": "p-4", "schema": "Person", "properties": {"nom": ["Inès"]}}',
        '{"schema": "Person", "properties": {"name": ["Sans Identifiant"]}}',
        "",
        '{"id": "p-6", "schema": "Person", "properties": {"birthDate": ["31/02/2024"]}}',
        '{"id": "p-7", "schema": "Thing", "properties": {}}',
        '{"id": "c-1", "schema": "Company", "properties": {"name": "Fictive & Cie"}}',
    ]
    path = tmp_path / "import.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = dict(read_ftm(path))
    assert sorted(results) == [1, 2, 3, 4, 5, 7, 8, 9]  # the blank line 6 is skipped
    good = {n: r for n, r in results.items() if isinstance(r, dict)}
    assert sorted(good) == [1, 9]
    assert good[1]["properties"]["country"] == ["fr"]
    assert good[1]["properties"]["phone"] == ["+33612345678"]  # read with the country
    assert good[9]["properties"]["name"] == ["Fictive & Cie"]
    assert str(results[2]).startswith("ligne 2 : JSON invalide")
    assert str(results[3]).startswith("ligne 3 : schéma inconnu 'Persn'")
    assert "'Person'" in str(results[3])  # the suggestion
    assert str(results[4]).startswith("ligne 4 : propriété inconnue 'nom'")
    assert results[5] == "ligne 5 : identifiant 'id' manquant"
    assert str(results[7]).startswith("ligne 7 : valeur invalide pour 'birthDate'")
    assert str(results[8]).startswith("ligne 8 : schéma abstrait 'Thing'")


# -- Graph -----------------------------------------------------------------------------------


def _graph() -> tuple[pl.DataFrame, pl.DataFrame]:
    nodes = pl.DataFrame(
        {
            "id": ["person:1", "phone:+33612345678", "case:AFF-1", "company:1"],
            "kind": ["person", "phone", "case", "company"],
            "label": ["Amélie « Lili » Durand", "+33612345678", "Affaire n°1 <Nîmes>",
                      "Société Fictive & Cie"],
            "category": ["victim", None, None, None],
            "role": [None, None, None, "gérant"],
            "case_id": ["AFF-1", None, "AFF-1", "AFF-1"],
            "first": [dt.date(2024, 1, 2), None, dt.date(2023, 11, 5), None],
            "last": [dt.date(2024, 3, 1), None, None, None],
        },
        schema_overrides={"role": pl.Utf8},
    )
    edges = pl.DataFrame(
        {
            "source": ["person:1", "person:1", "person:1", "company:1"],
            "target": ["phone:+33612345678", "case:AFF-1", "phone:+33612345678",
                       "case:AFF-1"],
            "kind": ["uses", "party", "mentions", "party"],
            "weight": [0.75, 1.0, None, 1.0],
            "count": [12, 1, None, 1],
            "first": [dt.date(2024, 1, 5), None, None, None],
            "last": [dt.date(2024, 2, 5), None, None, None],
            "evidence": ["annonces-exemple:000000042\nannonces-exemple:000000043", None, None,
                         None],
        }
    )
    return nodes, edges


def test_gexf_reread_by_networkx(tmp_path: Path) -> None:
    nodes, edges = _graph()
    path = tmp_path / "graphe.gexf"
    assert write_gexf(nodes, edges, path) == (4, 4)
    g = nx.read_gexf(path)
    assert g.is_directed() and g.is_multigraph()  # two links person → phone are kept
    assert (g.number_of_nodes(), g.number_of_edges()) == (4, 4)
    person = g.nodes["person:1"]
    assert person["label"] == "Amélie « Lili » Durand"
    assert person["category"] == "victim" and person["first"] == "2024-01-02"
    assert person["start"] == "2024-01-02" and person["end"] == "2024-03-01"  # timeline
    assert "role" not in person and "category" not in g.nodes["case:AFF-1"]  # nulls omitted
    assert g.nodes["case:AFF-1"]["label"] == "Affaire n°1 <Nîmes>"
    kinds = {d["kind"]: d for _, _, d in g.edges("person:1", data=True)}
    assert kinds["uses"]["weight"] == 0.75 and kinds["uses"]["count"] == 12
    assert kinds["uses"]["evidence"].splitlines()[1] == "annonces-exemple:000000043"
    assert "weight" not in kinds["mentions"] and "count" not in kinds["mentions"]


def test_gexf_static_without_dates() -> None:
    nodes, edges = _graph()
    out = io.BytesIO()
    write_gexf(nodes, edges, out, dynamic=False)
    text = out.getvalue().decode("utf-8")
    assert 'mode="static"' in text and " start=" not in text
    assert nx.read_gexf(io.BytesIO(out.getvalue())).graph["mode"] == "static"


def test_graphml_reread_by_networkx_and_igraph(tmp_path: Path) -> None:
    nodes, edges = _graph()
    path = tmp_path / "graphe.graphml"
    assert write_graphml(nodes, edges, path) == (4, 4)
    g = nx.read_graphml(path)
    assert (g.number_of_nodes(), g.number_of_edges()) == (4, 4)
    assert g.nodes["person:1"]["label"] == "Amélie « Lili » Durand"
    assert g.nodes["company:1"]["role"] == "gérant"
    assert "role" not in g.nodes["person:1"] and "first" not in g.nodes["company:1"]
    uses = next(d for _, _, d in g.edges("person:1", data=True) if d["kind"] == "uses")
    assert uses == {"kind": "uses", "weight": 0.75, "count": 12, "first": "2024-01-05",
                    "last": "2024-02-05",
                    "evidence": "annonces-exemple:000000042\nannonces-exemple:000000043"}

    h = ig.Graph.Read_GraphML(str(path))
    assert (h.vcount(), h.ecount()) == (4, 4) and h.is_directed()
    v = h.vs.find(id="case:AFF-1")
    assert v["label"] == "Affaire n°1 <Nîmes>" and v["first"] == "2023-11-05"
    e = h.es.find(kind="uses")
    assert h.vs[e.source]["id"] == "person:1" and e["weight"] == 0.75 and e["count"] == 12


def test_graph_writers_refuse_edges_to_unknown_nodes() -> None:
    nodes, edges = _graph()
    broken = pl.concat([edges, edges.head(1).with_columns(target=pl.lit("phone:inconnu"))])
    with pytest.raises(ValueError, match="phone:inconnu"):
        write_graphml(nodes, broken, io.BytesIO())
    with pytest.raises(ValueError, match="double"):
        write_gexf(pl.concat([nodes, nodes.head(1)]), edges, io.BytesIO())


def test_i2_csv_one_row_per_edge(tmp_path: Path) -> None:
    nodes, edges = _graph()
    assert write_i2(nodes, edges, tmp_path / "i2") == (4, 4)
    raw = (tmp_path / "i2" / "i2_links.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    with open(tmp_path / "i2" / "i2_links.csv", encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=";")
        assert reader.fieldnames == I2_LINK_COLUMNS
        rows = list(reader)
    assert len(rows) == edges.height
    uses = rows[0]
    assert (uses["identite_1"], uses["type_1"], uses["libelle_1"]) == (
        "person:1", "Personne", "Amélie « Lili » Durand")
    assert (uses["identite_2"], uses["type_2"]) == ("phone:+33612345678", "Téléphone")
    assert (uses["type_lien"], uses["date_lien"], uses["date_fin_lien"]) == (
        "Utilise", "2024-01-05", "2024-02-05")
    assert uses["poids"] == "0,75" and uses["nombre"] == "12"
    assert uses["categorie_1"] == "Victime"
    assert "\n" not in uses["preuve"]  # i2 reads one item per line
    assert rows[2]["poids"] == "" and rows[3]["libelle_1"] == "Société Fictive & Cie"

    with open(tmp_path / "i2" / "i2_entities.csv", encoding="utf-8-sig", newline="") as fh:
        entities = list(csv.DictReader(fh, delimiter=";"))
    assert [e["identite"] for e in entities] == nodes["id"].to_list()
    assert entities[2]["type"] == "Affaire" and entities[2]["date_debut"] == "2023-11-05"
