"""``faisceau graph``: link analysis over the combined graph of case files and monitoring:
an entity's neighbours, the path between two entities, what connects several, the key
persons of each community (heads by PageRank, brokers by betweenness), an entity's
timeline."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import orjson
import polars as pl
import typer
from rich.table import Table
from rich.text import Text

from faisceau.cli.common import console, fail, logged, opened_store, out, refusals, user_errors
from faisceau.intel.analysis import EvidenceGraph, Subgraph, UnknownNodeError
from faisceau.intel.picture import combined_graph, shared_infrastructure, without

graph_app = typer.Typer(help="Link analysis over case files and monitoring.",
                        no_args_is_help=True)

Monitoring = Annotated[bool, typer.Option(
    help="Include the networks of ads, their phones and e-mails, and the leads.")]
AsJson = Annotated[bool, typer.Option("--json", help="JSON on standard output.")]


def load_graph(monitoring: bool = True, *, infrastructure: bool = True) -> EvidenceGraph:
    """The combined graph; without the shared infrastructure's links if ``infrastructure``
    is False (``picture.shared_infrastructure``), which is what communities need."""
    with opened_store() as store, store.begin() as conn:
        nodes, edges = combined_graph(conn, monitoring=monitoring)
    if not infrastructure:
        left_out = shared_infrastructure(nodes, edges)
        if left_out:
            console.print(Text(f"{len(left_out)} entités hors procédure liées à au moins 3 "
                           "affaires (fournisseurs, plateformes, comptes collecteurs) sont "
                           "laissées de côté pour les communautés : "
                           + ", ".join(left_out[:10]) + (" …" if len(left_out) > 10 else "")),
                      style="dim")
        edges = without(edges, left_out)
    return EvidenceGraph.from_frames(nodes, edges)


@contextmanager
def graph_errors() -> Iterator[None]:
    with user_errors(), refusals(UnknownNodeError):
        yield


def _json(value: Any) -> None:
    out.file.write(orjson.dumps(value, default=str).decode() + "\n")


def _frame_json(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dicts()


def _print_nodes(title: str, frame: pl.DataFrame, extra: str | None = None) -> None:
    table = Table(title=title)
    columns = ["id", "kind", "label", "category", "role", "case_id"]
    if extra and extra in frame.columns:
        columns.insert(0, extra)
    for column in columns:
        table.add_column(column)
    for row in frame.select(columns).iter_rows():
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    out.print(table)


def _print_edges(title: str, frame: pl.DataFrame) -> None:
    table = Table(title=title)
    columns = [c for c in ("hop", "source", "kind", "target", "count", "weight", "first",
                           "last") if c in frame.columns]
    for column in columns:
        table.add_column(column)
    for row in frame.select(columns).iter_rows():
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    out.print(table)


def _subgraph(sub: Subgraph, as_json: bool, title: str) -> None:
    if as_json:
        _json({"nodes": _frame_json(sub.nodes), "edges": _frame_json(sub.edges),
               "truncated": sub.truncated, "unexpanded": list(sub.unexpanded),
               "unconnected": [list(p) for p in sub.unconnected]})
        return
    _print_nodes(f"{title} : {sub.nodes.height} entités", sub.nodes.sort(
        [c for c in ("depth", "kind", "id") if c in sub.nodes.columns]),
        "depth" if "depth" in sub.nodes.columns else "chosen")
    _print_edges(f"{sub.edges.height} liens", sub.edges)
    if sub.truncated:
        out.print(Text("Réponse tronquée (--limit) ; non développés : "
                       + ", ".join(sub.unexpanded[:20])))
    for a, b in sub.unconnected:
        out.print(Text(f"Aucun chemin entre {a} et {b}."))


@graph_app.command("neighbours")
def neighbours_command(
    ids: Annotated[list[str], typer.Argument(help="Entity ids (phone:+33…, network:…, …)")],
    depth: Annotated[int, typer.Option(min=1, max=4)] = 1,
    kinds: Annotated[str | None, typer.Option(
        help="Only through these kinds, comma-separated (person,phone,account…)")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 500,
    monitoring: Monitoring = True,
    as_json: AsJson = False,
) -> None:
    """Everything within DEPTH links of the given entities."""
    with graph_errors():
        graph = load_graph(monitoring)
        sub = graph.neighbours(ids, depth, kinds=kinds.split(",") if kinds else None,
                               limit=limit)
    logged("view", "graph", ",".join(ids), {"neighbours": depth})
    _subgraph(sub, as_json, "Voisinage")


@graph_app.command("path")
def path_command(
    source: Annotated[str, typer.Argument(help="From this entity")],
    target: Annotated[str, typer.Argument(help="To this one")],
    max_hops: Annotated[int | None, typer.Option(min=1)] = None,
    avoid: Annotated[str | None, typer.Option(
        help="Kinds the path may not go through, comma-separated")] = None,
    monitoring: Monitoring = True,
    as_json: AsJson = False,
) -> None:
    """The shortest chain of links between two entities, with every piece of evidence."""
    with graph_errors():
        graph = load_graph(monitoring)
        path = graph.shortest_path(source, target, max_hops=max_hops,
                                   avoid_kinds=avoid.split(",") if avoid else ())
    logged("view", "graph", f"{source},{target}", {"path": path is not None})
    if path is None:
        if as_json:
            _json({"nodes": None, "edges": []})
            return
        out.print(Text(f"Aucun chemin entre {source} et {target}."))
        return
    if as_json:
        _json({"nodes": list(path.nodes), "edges": _frame_json(path.edges)})
        return
    out.print(Text(f"{path.hops} liens : " + " → ".join(path.nodes)))
    _print_edges("Liens du chemin", path.edges)


@graph_app.command("connect")
def connect_command(
    ids: Annotated[list[str], typer.Argument(help="Two or more entities")],
    max_hops: Annotated[int | None, typer.Option(min=1)] = None,
    monitoring: Monitoring = True,
    as_json: AsJson = False,
) -> None:
    """How several entities hang together: the shortest paths joining them two by two."""
    if len(ids) < 2:
        raise fail("il faut au moins deux entités")
    with graph_errors():
        sub = load_graph(monitoring).connecting(ids, max_hops)
    logged("view", "graph", ",".join(ids), {"connect": True})
    _subgraph(sub, as_json, "Connexions")


@graph_app.command("key-persons")
def key_persons_command(
    top: Annotated[int, typer.Option(min=1)] = 3,
    min_size: Annotated[int, typer.Option(min=2)] = 5,
    by: Annotated[str, typer.Option(help="pagerank (heads) or betweenness (brokers)")]
    = "pagerank",
    entity: Annotated[str | None, typer.Option(help="Only the community of this entity")]
    = None,
    keep_infrastructure: Annotated[bool, typer.Option(
        "--keep-infrastructure", help="Keep the links of entities outside any case that "
        "touch 3 cases or more (utilities, platforms): they fuse unrelated cases.")] = False,
    monitoring: Monitoring = True,
    as_json: AsJson = False,
) -> None:
    """The key persons of each community (Leiden): heads by PageRank, brokers by
    betweenness, with the reason."""
    if by not in ("pagerank", "betweenness"):
        raise fail("--by : pagerank ou betweenness")
    with graph_errors():
        graph = load_graph(monitoring, infrastructure=keep_infrastructure)
        only = None
        if entity is not None:
            communities = graph.communities()
            found = communities.filter(pl.col("id") == entity)
            if found.height == 0:
                raise UnknownNodeError([entity])
            only = [int(found["community"][0])]
        persons = graph.key_persons(top, by=by, min_size=min_size, only=only)  # type: ignore[arg-type]
    if as_json:
        _json(_frame_json(persons))
        return
    table = Table(title="Personnes clés par communauté")
    for column in ("communauté", "rang", "id", "nom", "catégorie", "rôle", "pourquoi"):
        table.add_column(column)
    for row in persons.iter_rows(named=True):
        table.add_row(str(row["community"]), str(row["rank"]), row["id"],
                      Text(row["label"] or ""), row["category"] or "", row["role"] or "",
                      Text(row["reason"]))
    out.print(table)


@graph_app.command("timeline")
def timeline_command(
    entity: Annotated[str, typer.Argument(help="The entity")],
    monitoring: Monitoring = True,
    as_json: AsJson = False,
) -> None:
    """The dated facts touching an entity, oldest first."""
    with graph_errors():
        facts = load_graph(monitoring).timeline(entity)
    if as_json:
        _json(_frame_json(facts))
        return
    table = Table(title=f"Chronologie de {entity}")
    columns = [c for c in ("date", "end", "fact", "direction", "other", "other_label",
                           "count", "weight") if c in facts.columns]
    for column in columns:
        table.add_column(column)
    for row in facts.select(columns).iter_rows():
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    out.print(table)
