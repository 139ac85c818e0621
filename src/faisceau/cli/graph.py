"""``faisceau graph``: link analysis over the combined graph of case files and monitoring:
an entity's neighbours, the path between two entities, what connects several, the key
persons of each community (heads by PageRank, brokers by betweenness), an entity's
timeline.

Each command is a consultation (``cli.consult``): logged with the nodes it printed, and
without a reason a sensitive node is masked: a sensitive person (victim, runaway report,
minor), and the values, accounts, addresses and reports attached to one (``GraphPrinter``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import Connection

from faisceau.cli.common import fail, out, refusals, user_errors
from faisceau.cli.consult import MASKED, Consultation, Reason, consultation, sensitive_people
from faisceau.export import jsonout

# polars, numpy and followthemoney (seconds to import) load with a graph command, not with
# every command of ``faisceau`` (cli/__init__).
if TYPE_CHECKING:
    import polars as pl

    from faisceau.intel.analysis import EvidenceGraph, Subgraph

graph_app = typer.Typer(help="Link analysis over case files and monitoring.",
                        no_args_is_help=True)

Monitoring = Annotated[bool, typer.Option(
    help="Include the networks of ads, their phones and e-mails, and the leads.")]
AsJson = Annotated[bool, typer.Option("--json", help="JSON on standard output.")]
# Nodes never masked for being attached to a sensitive person: other people are judged on
# their own, a case's number and a network of ads are not a person's data.
NOT_ATTACHED = ("person", "case", "network")


def sensitive_nodes(conn: Connection, nodes: pl.DataFrame, edges: pl.DataFrame) -> set[str]:
    """The nodes whose identifying values need a reason: sensitive people (by their resolved
    id, as the graph's person nodes), and every node other than a person, a case or a
    network that is linked to one of them (their phones, e-mails, accounts, addresses,
    reports), in the whole graph."""
    import polars as pl

    people = sensitive_people(conn) & set(nodes["id"].to_list())
    if not people:
        return set()
    chosen = pl.Series(sorted(people), dtype=pl.Utf8).implode()
    others = pl.concat([edges.filter(pl.col("source").is_in(chosen)).select(id="target"),
                        edges.filter(pl.col("target").is_in(chosen)).select(id="source")])
    attached = nodes.join(others.unique(), on="id", how="semi").filter(
        ~pl.col("kind").is_in(list(NOT_ATTACHED)))
    return people | set(attached["id"].to_list())


class GraphPrinter:
    """What a graph command may print of each node. A sensitive node without a reason keeps
    its id (a record's id names no one) but not its label; a value node, whose id is the
    value (``phone:+33…``), is printed under an alias, the same throughout one answer. Each
    node printed is noted in the consultation (shown, or masked)."""

    def __init__(self, seen: Consultation, sensitive: set[str]) -> None:
        self.seen = seen
        self.sensitive = sensitive
        self.aliases: dict[str, str] = {}

    def masked(self, node_id: str) -> bool:
        return node_id in self.sensitive and self.seen.reason is None

    def node(self, node_id: str | None) -> str | None:
        """The id to print for a node (notes nothing)."""
        if node_id is None or not self.masked(node_id):
            return node_id
        kind = node_id.split(":", 1)[0]
        from faisceau.intel.picture import VALUE_NODES

        if kind not in VALUE_NODES.values():
            return node_id
        if node_id not in self.aliases:
            self.aliases[node_id] = f"{kind}:masqué-{len(self.aliases) + 1}"
        return self.aliases[node_id]

    def nodes(self, frame: pl.DataFrame, id_column: str = "id",
              label_column: str = "label") -> pl.DataFrame:
        import polars as pl

        """``frame`` with its node ids and labels as they may be printed; each node noted."""
        if frame.height == 0 or id_column not in frame.columns:
            return frame
        ids = frame[id_column].to_list()
        shown = [True if i is None else self.seen.reveals(i, i in self.sensitive) for i in ids]
        frame = frame.with_columns(pl.Series(id_column, [self.node(i) for i in ids],
                                             pl.Utf8))
        if label_column in frame.columns:
            labels = [label if ok else MASKED
                      for label, ok in zip(frame[label_column].to_list(), shown, strict=True)]
            frame = frame.with_columns(pl.Series(label_column, labels, pl.Utf8))
        return frame

    def ends(self, frame: pl.DataFrame, columns: Iterable[str] = ("source", "target")
             ) -> pl.DataFrame:
        import polars as pl

        """``frame`` with the node ids of ``columns`` as they may be printed."""
        return frame.with_columns([pl.Series(c, [self.node(i) for i in frame[c].to_list()],
                                             pl.Utf8) for c in columns if c in frame.columns])


def load_graph(seen: Consultation, monitoring: bool = True, *,
               infrastructure: bool = True) -> tuple[EvidenceGraph, GraphPrinter]:
    """The combined graph, read in the consultation, and what may be printed of it; without
    the shared infrastructure's links if ``infrastructure`` is False
    (``picture.shared_infrastructure``), which is what communities need."""
    from faisceau.intel.analysis import EvidenceGraph
    from faisceau.intel.picture import combined_graph, shared_infrastructure, without

    nodes, edges = combined_graph(seen.conn, monitoring=monitoring)
    printer = GraphPrinter(seen, sensitive_nodes(seen.conn, nodes, edges))
    if not infrastructure:
        left_out = shared_infrastructure(nodes, edges)
        if left_out:
            named = [str(printer.node(i)) for i in left_out[:10]]
            seen.note(f"{len(left_out)} entités hors procédure liées à au moins 3 affaires "
                      "(fournisseurs, plateformes, comptes collecteurs) sont laissées de côté "
                      "pour les communautés : " + ", ".join(named)
                      + (" …" if len(left_out) > 10 else ""))
        edges = without(edges, left_out)
    return EvidenceGraph.from_frames(nodes, edges), printer


@contextmanager
def graph_errors() -> Iterator[None]:
    from faisceau.intel.analysis import UnknownNodeError

    with user_errors(), refusals(UnknownNodeError):
        yield


def _json(value: Any) -> None:
    out.file.write(jsonout.text(value, default=str) + "\n")


def _frame_json(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dicts()


def _print_nodes(title: str, frame: pl.DataFrame, extra: str | None = None) -> None:
    table = Table(title=Text(title))
    columns = ["id", "kind", "label", "category", "role", "case_id"]
    if extra and extra in frame.columns:
        columns.insert(0, extra)
    for column in columns:
        table.add_column(column)
    for row in frame.select(columns).iter_rows():
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    out.print(table)


def _print_edges(title: str, frame: pl.DataFrame) -> None:
    table = Table(title=Text(title))
    columns = [c for c in ("hop", "source", "kind", "target", "count", "weight", "first",
                           "last") if c in frame.columns]
    for column in columns:
        table.add_column(column)
    for row in frame.select(columns).iter_rows():
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    out.print(table)


def masked_subgraph(printer: GraphPrinter, sub: Subgraph) -> Subgraph:
    """The subgraph as it may be printed (its nodes noted in the consultation)."""
    from faisceau.intel.analysis import Subgraph

    return Subgraph(printer.nodes(sub.nodes), printer.ends(sub.edges), sub.truncated,
                    tuple(str(printer.node(i)) for i in sub.unexpanded),
                    tuple((str(printer.node(a)), str(printer.node(b)))
                          for a, b in sub.unconnected))


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
    reason: Reason = None,
) -> None:
    """Everything within DEPTH links of the given entities."""
    with graph_errors(), consultation("graph neighbours", "graph", ",".join(ids),
                                      reason=reason) as seen:
        seen.detail["neighbours"] = depth
        graph, printer = load_graph(seen, monitoring)
        sub = masked_subgraph(printer, graph.neighbours(
            ids, depth, kinds=kinds.split(",") if kinds else None, limit=limit))
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
    reason: Reason = None,
) -> None:
    """The shortest chain of links between two entities, with every piece of evidence."""
    import polars as pl

    with graph_errors(), consultation("graph path", "graph", f"{source},{target}",
                                      reason=reason) as seen:
        graph, printer = load_graph(seen, monitoring)
        path = graph.shortest_path(source, target, max_hops=max_hops,
                                   avoid_kinds=avoid.split(",") if avoid else ())
        seen.detail["path"] = path is not None
        if path is not None:
            on_path = graph.nodes.filter(pl.col("id").is_in(
                pl.Series(list(path.nodes), dtype=pl.Utf8).implode()))
            printer.nodes(on_path)
            hops = [str(printer.node(n)) for n in path.nodes]
            edges = printer.ends(path.edges)
    if path is None:
        if as_json:
            _json({"nodes": None, "edges": []})
            return
        out.print(Text(f"Aucun chemin entre {source} et {target}."))
        return
    if as_json:
        _json({"nodes": hops, "edges": _frame_json(edges)})
        return
    out.print(Text(f"{len(hops) - 1} liens : " + " → ".join(hops)))
    _print_edges("Liens du chemin", edges)


@graph_app.command("connect")
def connect_command(
    ids: Annotated[list[str], typer.Argument(help="Two or more entities")],
    max_hops: Annotated[int | None, typer.Option(min=1)] = None,
    monitoring: Monitoring = True,
    as_json: AsJson = False,
    reason: Reason = None,
) -> None:
    """How several entities hang together: the shortest paths joining them two by two."""
    if len(ids) < 2:
        raise fail("il faut au moins deux entités")
    with graph_errors(), consultation("graph connect", "graph", ",".join(ids),
                                      reason=reason) as seen:
        seen.detail["connect"] = True
        graph, printer = load_graph(seen, monitoring)
        sub = masked_subgraph(printer, graph.connecting(ids, max_hops))
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
    reason: Reason = None,
) -> None:
    """The key persons of each community (Leiden): heads by PageRank, brokers by
    betweenness, with the reason."""
    import polars as pl

    from faisceau.intel.analysis import UnknownNodeError

    if by not in ("pagerank", "betweenness"):
        raise fail("--by : pagerank ou betweenness")
    with graph_errors(), consultation("graph key-persons", "graph", entity or "*",
                                      reason=reason) as seen:
        seen.detail["key_persons"] = by
        graph, printer = load_graph(seen, monitoring, infrastructure=keep_infrastructure)
        only = None
        if entity is not None:
            communities = graph.communities()
            found = communities.filter(pl.col("id") == entity)
            if found.height == 0:
                raise UnknownNodeError([entity])
            only = [int(found["community"][0])]
        persons = printer.nodes(graph.key_persons(top, by=by, min_size=min_size,  # type: ignore[arg-type]
                                                  only=only))
    if as_json:
        _json(_frame_json(persons))
        return
    table = Table(title="Personnes clés par communauté")
    for column in ("communauté", "rang", "id", "nom", "catégorie", "rôle", "pourquoi"):
        table.add_column(column)
    for row in persons.iter_rows(named=True):
        table.add_row(str(row["community"]), str(row["rank"]), Text(row["id"]),
                      Text(row["label"] or ""), Text(row["category"] or ""),
                      Text(row["role"] or ""), Text(row["reason"]))
    out.print(table)


@graph_app.command("timeline")
def timeline_command(
    entity: Annotated[str, typer.Argument(help="The entity")],
    monitoring: Monitoring = True,
    as_json: AsJson = False,
    reason: Reason = None,
) -> None:
    """The dated facts touching an entity, oldest first."""
    with graph_errors(), consultation("graph timeline", "graph", entity,
                                      reason=reason) as seen:
        graph, printer = load_graph(seen, monitoring)
        facts = graph.timeline(entity)
        seen.reveals(entity, entity in printer.sensitive)
        facts = printer.nodes(facts, "other", "other_label")
    if as_json:
        _json(_frame_json(facts))
        return
    table = Table(title=Text(f"Chronologie de {printer.node(entity)}"))
    columns = [c for c in ("date", "end", "fact", "direction", "other", "other_label",
                           "count", "weight") if c in facts.columns]
    for column in columns:
        table.add_column(column)
    for row in facts.select(columns).iter_rows():
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    out.print(table)
