"""``faisceau export ftm | gexf | graphml | i2``: the intelligence picture for other tools
(Aleph and FtM tools, Gephi, i2 Analyst's Notebook). See docs/exchange.md.

Each export is a consultation (``cli.consult``); one that holds sensitive records (victims,
runaway reports, minors) needs a reason (``--reason``), logged with them: an export cannot be
masked without corrupting it for the tool that reads it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from faisceau.cli.common import out, user_errors
from faisceau.cli.consult import Reason, consultation, sensitive_people

# The exports' libraries (followthemoney, polars) load with the command that needs them, not
# with every command of ``faisceau`` (cli/__init__).
if TYPE_CHECKING:
    import polars as pl

MONITORING_HELP = "Also the networks of ads, their phones and e-mails, and the leads."


def _combined(monitoring: bool, form: str, target: Path,
              reason: str | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    with user_errors(), consultation(f"export {form}", "graph", "*", reason=reason,
                                     action="export") as seen:
        seen.detail.update({"format": form, "monitoring": monitoring, "file": str(target)})
        seen.reveals_all(sensitive_people(seen.conn))
        from faisceau.intel.picture import combined_graph

        return combined_graph(seen.conn, monitoring=monitoring)


def _said(text: str) -> None:
    out.print(Text(text))


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
        reason: Reason = None,
    ) -> None:
        """Case-file entities as FtM JSON lines (Aleph-compatible), resolved people merged."""
        from faisceau.intel.exchange import (
            entities_from_statements,
            write_ftm,
            write_ftm_statements,
        )
        from faisceau.intel.facts import all_statements

        with user_errors(), consultation("export ftm", "case", "*", reason=reason,
                                         action="export") as seen:
            seen.detail.update({"format": "ftm", "statements": statements,
                                "file": str(out_file)})
            seen.reveals_all(sensitive_people(seen.conn))
            if statements:
                count = write_ftm_statements(all_statements(seen.conn), out_file)
                what = "déclarations"
            else:
                count = write_ftm(entities_from_statements(all_statements(seen.conn)),
                                  out_file, context=context)
                what = "entités"
        _said(f"{count} {what} exportées vers {out_file}")

    @export_app.command("gexf")
    def export_gexf(
        out_file: Annotated[Path, typer.Option("--out", help="GEXF file (Gephi).")],
        monitoring: Annotated[bool, typer.Option(help=MONITORING_HELP)] = True,
        reason: Reason = None,
    ) -> None:
        """The combined graph as GEXF 1.3 (Gephi), with dates for its timeline."""
        from faisceau.intel.exchange import write_gexf

        nodes, edges = _combined(monitoring, "gexf", out_file, reason)
        counts = write_gexf(nodes, edges, out_file)
        _said(f"{counts.nodes} nœuds et {counts.edges} liens exportés vers {out_file}")

    @export_app.command("graphml")
    def export_graphml(
        out_file: Annotated[Path, typer.Option("--out", help="GraphML file.")],
        monitoring: Annotated[bool, typer.Option(help=MONITORING_HELP)] = True,
        reason: Reason = None,
    ) -> None:
        """The combined graph as GraphML (Gephi, yEd, igraph, networkx)."""
        from faisceau.intel.exchange import write_graphml

        nodes, edges = _combined(monitoring, "graphml", out_file, reason)
        counts = write_graphml(nodes, edges, out_file)
        _said(f"{counts.nodes} nœuds et {counts.edges} liens exportés vers {out_file}")

    @export_app.command("i2")
    def export_i2(
        out_dir: Annotated[Path, typer.Option("--out", help="Directory for the two CSV files.")],
        monitoring: Annotated[bool, typer.Option(help=MONITORING_HELP)] = True,
        reason: Reason = None,
    ) -> None:
        """The combined graph as CSV for i2 Analyst's Notebook (entities and links)."""
        from faisceau.intel.exchange import write_i2

        nodes, edges = _combined(monitoring, "i2", out_dir, reason)
        counts = write_i2(nodes, edges, out_dir)
        _said(f"{counts.nodes} entités et {counts.edges} liens exportés vers {out_dir}")
