"""Do the heads of networks stand out? Leiden communities and centrality on the case files.

A synthetic world's case files are imported into an embedded store, the combined graph is
built (``faisceau.intel.picture``) and analysed (``faisceau.intel.analysis``): Leiden
communities, then PageRank and betweenness within each community. For every head of a
network or pimping set-up that the files name (ground truth: ``truth/cases.jsonl``,
suspects with role ``head``), the benchmark prints whether the head ranks in the top 3
persons of their community, by PageRank, by betweenness, and by either.

Target (issue 6): >= 0.8 of the planted heads in the top 3 by centrality in their community.

    .venv/bin/python benchmarks/heads_centrality.py --preset demo --scale 0.3 --days 60 --seed 3
    .venv/bin/python benchmarks/heads_centrality.py --scale 0.3 --days 60 --seed 3 --with-ads
    .venv/bin/python benchmarks/heads_centrality.py --world benchmarks/data/national-year
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from datetime import date
from pathlib import Path

import orjson
import polars as pl

from _common import add_world_options, machine, world_params
from faisceau.cli.main import run_ingest
from faisceau.config import Settings
from faisceau.ingest.records import find_files
from faisceau.intel.analysis import EvidenceGraph
from faisceau.intel.casefiles import import_case_files
from faisceau.intel.leads import find_leads
from faisceau.intel.picture import combined_graph, shared_infrastructure, without
from faisceau.score.run import detect_and_score
from faisceau.store import open_store
from faisceau.synth.behind import write_behind
from faisceau.synth.world import write_world

TOP = 3


def planted_heads(world: Path) -> dict[str, str]:
    """Head entity -> its case, for the heads the case files name."""
    heads = {}
    with open(world / "truth" / "cases.jsonl", "rb") as handle:
        for line in handle:
            case = orjson.loads(line)
            for suspect in case["suspects"]:
                if suspect["role"] == "head":
                    heads[suspect["entity"]] = case["case"]
    return heads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_world_options(parser)
    parser.add_argument("--world", type=Path, default=None,
                        help="an existing world directory (its case files are (re)written)")
    parser.add_argument("--resolution", type=float, default=1.0)
    parser.add_argument("--keep-infrastructure", action="store_true",
                        help="keep the links of entities outside any case that touch 3 "
                        "cases or more (picture.shared_infrastructure)")
    parser.add_argument("--with-ads", action="store_true",
                        help="also ingest the crawl, detect and score, find leads, and "
                        "analyse the combined graph (case files and monitoring)")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        if args.world is None:
            params = world_params(args)
            world = Path(tmp) / "world"
            write_world(params, world)
        else:
            world = args.world
            params = world_params(args)
            meta = orjson.loads((world / "world.json").read_bytes())["params"]
            params = dataclasses.replace(
                params, scale=meta["scale"], days=meta["days"], seed=meta["seed"],
                start=date.fromisoformat(meta["start"]))
        if not (world / "intel" / "csv" / "cases.csv").exists() or args.world is None:
            write_behind(world, params.seed, params.start, params.scale)
        print(f"world: {world} (scale {params.scale}, {params.days} days, seed {params.seed})")
        store = open_store(Settings(home=Path(tmp) / "store", database_url=None))
        started = time.perf_counter()
        summary = import_case_files(store, [world / "intel" / "csv"])
        imported = time.perf_counter() - started
        print(f"import: {summary.entities:,} entities, {summary.statements:,} statements, "
              f"{len(summary.set_aside)} set aside, {imported:.1f} s")
        if args.with_ads:
            started = time.perf_counter()
            run_ingest(store, find_files([world / "crawl"]))
            detect_and_score(store)
            leads = find_leads(store)
            print(f"ads ingested, detected, scored; {leads.leads:,} leads: "
                  f"{time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        with store.begin() as conn:
            nodes, edges = combined_graph(conn, monitoring=args.with_ads)
        left_out = [] if args.keep_infrastructure else shared_infrastructure(nodes, edges)
        graph = EvidenceGraph.from_frames(nodes, without(edges, left_out))
        built = time.perf_counter() - started
        print(f"graph: {graph.node_count:,} nodes, {graph.edge_count:,} edges, {built:.1f} s; "
              f"shared infrastructure left out: {len(left_out)} entities")
        started = time.perf_counter()
        communities = graph.communities(resolution=args.resolution, seed=0)
        scores = graph.centrality(communities=communities)
        analysed = time.perf_counter() - started
        print(f"Leiden + centrality: {communities['community'].n_unique():,} communities, "
              f"{analysed:.1f} s")
        heads = planted_heads(world)
        persons = scores.filter(pl.col("kind") == "person").with_columns(
            pl.col("pagerank").rank("ordinal", descending=True).over("community")
            .alias("by_pagerank"),
            pl.col("betweenness").rank("ordinal", descending=True).over("community")
            .alias("by_betweenness"),
            pl.len().over("community").alias("persons"))
        found = persons.filter(pl.col("id").is_in(list(heads)))
        missing = len(heads) - found.height
        n = len(heads)
        pr = found.filter(pl.col("by_pagerank") <= TOP).height
        bt = found.filter(pl.col("by_betweenness") <= TOP).height
        either = found.filter((pl.col("by_pagerank") <= TOP) |
                              (pl.col("by_betweenness") <= TOP)).height
        print(f"planted heads named in the files: {n} ({missing} not in the graph)")
        if n:
            print(f"  top {TOP} of their community by PageRank:    {pr} = {pr / n:.3f}")
            print(f"  top {TOP} of their community by betweenness: {bt} = {bt / n:.3f}")
            print(f"  top {TOP} by either:                         {either} = {either / n:.3f}"
                  "  (target >= 0.8)")
            sizes = found["persons"]
            print(f"  persons in a head's community: median {sizes.median():.0f}, "
                  f"max {sizes.max()}")
            misses = found.filter((pl.col("by_pagerank") > TOP) &
                                  (pl.col("by_betweenness") > TOP))
            for row in misses.head(10).iter_rows(named=True):
                print(f"  missed: {row['id']} ({heads[row['id']]}): PageRank rank "
                      f"{row['by_pagerank']}, betweenness rank {row['by_betweenness']} of "
                      f"{row['persons']} persons")


if __name__ == "__main__":
    main()
