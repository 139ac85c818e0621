"""``faisceau export ftm | gexf | graphml | i2``: the intelligence picture for other tools
(Aleph and FtM tools, Gephi, i2 Analyst's Notebook). See docs/exchange.md."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from faisceau.cli.common import consulted, opened_store, out, user_errors
from faisceau.intel.exchange import (
    entities_from_statements,
    write_ftm,
    write_ftm_statements,
    write_gexf,
    write_graphml,
    write_i2,
)
from faisceau.intel.facts import all_statements
from faisceau.intel.picture import combined_graph

MONITORING_HELP = "Also the networks of ads, their phones and e-mails, and the leads."


def _combined(monitoring: bool, form: str, out: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    with user_errors(), opened_store() as store, store.begin() as conn:
        consulted(conn, "export", "graph", "*",
                  {"format": form, "monitoring": monitoring, "file": str(out)})
        return combined_graph(conn, monitoring=monitoring)


def register(export_app: typer.Typer) -> None:
    """Add the intelligence exports to ``faisceau export``."""

    @export_app.command("ftm")
    def export_ftm(
        out_file: Annotated[Path, typer.Option("--out", help="JSON Lines file (.gz: gzip).")],
        statements: Annotated[bool, typer.Option(
            "--statements", help="The statements themselves (each value with its source, "
            "case, unit, date and line) instead of merged entities.")] = False,
        context: Annotated[bool, typer.Option(
            "--context", help="Merged entities with their sources (datasets, referents).")]
        = False,
    ) -> None:
        """Case-file entities as FtM JSON lines (Aleph-compatible), resolved people merged."""
        with user_errors(), opened_store() as store, store.begin() as conn:
            consulted(conn, "export", "case", "*",
                      {"format": "ftm", "statements": statements, "file": str(out_file)})
            if statements:
                count = write_ftm_statements(all_statements(conn), out_file)
                out.print(f"{count} déclarations exportées vers {out_file}")
                return
            count = write_ftm(entities_from_statements(all_statements(conn)), out_file,
                              context=context)
        out.print(f"{count} entités exportées vers {out_file}")

    @export_app.command("gexf")
    def export_gexf(
        out_file: Annotated[Path, typer.Option("--out", help="GEXF file (Gephi).")],
        monitoring: Annotated[bool, typer.Option(help=MONITORING_HELP)] = True,
    ) -> None:
        """The combined graph as GEXF 1.3 (Gephi), with dates for its timeline."""
        nodes, edges = _combined(monitoring, "gexf", out_file)
        counts = write_gexf(nodes, edges, out_file)
        out.print(f"{counts.nodes} nœuds et {counts.edges} liens exportés vers {out_file}")

    @export_app.command("graphml")
    def export_graphml(
        out_file: Annotated[Path, typer.Option("--out", help="GraphML file.")],
        monitoring: Annotated[bool, typer.Option(help=MONITORING_HELP)] = True,
    ) -> None:
        """The combined graph as GraphML (Gephi, yEd, igraph, networkx)."""
        nodes, edges = _combined(monitoring, "graphml", out_file)
        counts = write_graphml(nodes, edges, out_file)
        out.print(f"{counts.nodes} nœuds et {counts.edges} liens exportés vers {out_file}")

    @export_app.command("i2")
    def export_i2(
        out_dir: Annotated[Path, typer.Option("--out", help="Directory for the two CSV files.")],
        monitoring: Annotated[bool, typer.Option(help=MONITORING_HELP)] = True,
    ) -> None:
        """The combined graph as CSV for i2 Analyst's Notebook (entities and links)."""
        nodes, edges = _combined(monitoring, "i2", out_dir)
        counts = write_i2(nodes, edges, out_dir)
        out.print(f"{counts.nodes} entités et {counts.edges} liens exportés vers {out_dir}")
