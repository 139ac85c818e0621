"""Link analysis (``faisceau.intel.analysis``) on a graph built from a synthetic national year.

The graph is made from the world's ground truth (``truth/controllers.jsonl`` and
``truth/ads.jsonl``, streamed with polars; the crawl itself is not read), with the structure
of what linking sees in the ads:

- nodes: the advertised persons, their phones, messaging handles, photos (one node per
  picture, its re-encoded or cropped copies included, as a perceptual hash would join them)
  and the communes the ads name;
- edges, one per ad and per fact (``evidence`` = the ad): person *uses* phone (a controller's
  phones rotate among its ads), person *uses* handle, person *advertises* photo, person
  *mentions* commune (the controller's city on the ad's estimated day; weight 0.1, the others
  1, since naming a city is weak evidence); a retouched copy of a photo is *same_as* the
  original.

A national year (scale 1, 365 days) gives about 1 million nodes and 5.5 million edges, a few
hubs (the big cities: tens of thousands of persons) and, without the cities, about two
hundred thousand small components (a person and her phone and photos; a network's victims
sharing phones and stock photos). ``--max-nodes`` / ``--max-edges`` keep a deterministic
subset of the controllers, then of the ads, within those bounds.

Printed: machine and load, graph size, build times (frames → arrays, arrays → igraph) and
memory, then p50 / p95 / max latency of neighbour expansion (depth 1 and 2) from random
nodes, of shortest paths between random pairs (in the same component and in different
components, with and without the city hubs), of timelines, then Leiden on the whole graph
and the centrality per community.

Target (issue 6): neighbour expansion and shortest path under 100 ms on 1 million nodes and
5 million edges.

The world is generated once (about 5 minutes and 1.3 GB for the national year) and kept under
``--world-dir`` (default ``benchmarks/data/<preset>``, ignored by git).

    .venv/bin/python benchmarks/graph_analysis.py [--preset national-year] [--world-dir DIR]
        [--max-nodes 1000000] [--max-edges 5000000] [--queries 200] [--seed 1]
        [--skip-centrality]
    .venv/bin/python benchmarks/graph_analysis.py --preset small   # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

from _common import add_world_options, machine, timed, world_params
from faisceau.intel.analysis import EvidenceGraph
from faisceau.synth.world import write_world

HERE = Path(__file__).resolve().parent


def ensure_world(args: argparse.Namespace) -> Path:
    """The world asked for, generated into ``--world-dir`` unless it is already there."""
    params = world_params(args)
    world = Path(args.world_dir) if args.world_dir else HERE / "data" / args.preset
    summary = world / "world.json"
    wanted = {**params.__dict__, "start": params.start.isoformat()}
    if summary.exists():
        found = json.loads(summary.read_text())["params"]
        if found != wanted:
            raise SystemExit(f"{world} holds another world ({found}); choose --world-dir")
        print(f"world: {world} (cached)")
        return world
    print(f"world: generating {world} (scale {params.scale}, {params.days} days) ...",
          flush=True)
    with timed() as took:
        write_world(params, world)
    print(f"world generated in {took[0]:.0f} s")
    return world


def graph_frames(world: Path, max_nodes: int | None, max_edges: int | None, seed: int
                 ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Nodes and edges in the analysis contract, and each person's true controller (to
    compare communities with), from the world's ground truth."""
    info = json.loads((world / "world.json").read_text())["params"]
    days = int(info["days"])
    start = pl.lit(info["start"]).str.to_date()
    controllers = pl.read_ndjson(
        world / "truth" / "controllers.jsonl",
        schema={"id": pl.Utf8, "kind": pl.Utf8, "first_day": pl.Int64, "last_day": pl.Int64,
                "phones": pl.List(pl.Utf8), "handle": pl.Utf8,
                "cities": pl.List(pl.Struct({"day": pl.Int64, "commune": pl.Utf8,
                                             "name": pl.Utf8})),
                "persons": pl.List(pl.Struct({"id": pl.Utf8, "name": pl.Utf8,
                                              "photos": pl.List(pl.Utf8)}))})
    # A deterministic sample of controllers within the node budget (estimated before
    # photos shared between persons are merged, so the graph ends a little below it).
    if max_nodes is not None:
        cost = (pl.col("persons").list.len() + pl.col("phones").list.len()
                + pl.col("handle").is_not_null().cast(pl.Int64)
                + pl.col("persons").list.eval(pl.element().struct.field("photos").list.len())
                .list.sum())
        controllers = (controllers.with_columns(cost.alias("cost"),
                                                pl.col("id").hash(seed).alias("draw"))
                       .sort("draw")
                       .filter(pl.col("cost").cum_sum() <= max_nodes - 1_000)
                       .drop("cost", "draw"))
    ads = (pl.read_ndjson(world / "truth" / "ads.jsonl",
                          schema={"ad_id": pl.Utf8, "controller": pl.Utf8, "person": pl.Utf8})
           .join(controllers.select(pl.col("id").alias("controller"), "first_day",
                                    "last_day", "phones", "handle"),
                 on="controller", how="inner")
           .sort("controller", "ad_id"))
    # Each ad's day, spread over its controller's active days in posting order; its phone,
    # one of the controller's phones in turn.
    span_start = pl.max_horizontal(pl.col("first_day"), pl.lit(0))
    span = pl.min_horizontal(pl.col("last_day"), pl.lit(days - 1)) - span_start + 1
    ads = ads.with_columns(
        pl.int_range(pl.len()).over("controller").alias("nth"),
        pl.len().over("controller").alias("of"),
        span_start.alias("span_start"), span.clip(lower_bound=1).alias("span"),
    ).with_columns(
        (pl.col("span_start") + pl.col("nth") * pl.col("span") // pl.col("of")).alias("day"),
        pl.col("phones").list.get(pl.col("ad_id").cast(pl.Int64)
                                  % pl.col("phones").list.len()).alias("phone"),
    ).select("ad_id", "controller", "person", "day", "phone", "handle")
    cities = (controllers.select(pl.col("id").alias("controller"), "cities")
              .explode("cities").unnest("cities").sort("day"))
    ads = (ads.sort("day")
           .join_asof(cities, on="day", by="controller", strategy="backward",
                      check_sortedness=False)  # both sorted by day just above
           .join(cities.group_by("controller").agg(pl.col("commune").first().alias("c0"),
                                                   pl.col("name").first().alias("n0")),
                 on="controller", how="left")
           .with_columns(pl.coalesce("commune", "c0").alias("commune"),
                         pl.coalesce("name", "n0").alias("city"))
           .drop("c0", "n0", "name"))
    persons = (controllers.select("persons").explode("persons").unnest("persons")
               .rename({"id": "person"}))
    photos = (ads.select("ad_id", "person", "day")
              .join(persons.select("person", "photos"), on="person", how="left")
              .explode("photos").drop_nulls("photos")
              .select("ad_id", "person", "day", pl.col("photos").alias("photo")))
    # The ads within the edge budget (a deterministic sample).
    if max_edges is not None:
        per_ad = (ads.select("ad_id", (2 + pl.col("handle").is_not_null().cast(pl.Int64))
                             .alias("n"))
                  .join(photos.group_by("ad_id").len(), on="ad_id", how="left")
                  .select("ad_id", (pl.col("n") + pl.col("len").fill_null(0)).alias("n"),
                          pl.col("ad_id").hash(seed + 1).alias("draw"))
                  .sort("draw")
                  .filter(pl.col("n").cum_sum() <= max_edges)
                  .select("ad_id"))
        ads = ads.join(per_ad, on="ad_id", how="semi")
        photos = photos.join(per_ad, on="ad_id", how="semi")
    # A retouched copy (cropped, resized, re-encoded: the scams' stolen photos) is its own
    # image, joined to the original as a perceptual hash would find it.
    seen = photos.group_by("photo").agg(pl.col("day").min())
    copies = (seen.filter(~pl.col("photo").str.ends_with("-orig"))
              .with_columns((pl.col("photo").str.slice(0, 7) + "-orig").alias("original"))
              .join(seen.select(pl.col("photo").alias("original")), on="original", how="semi")
              .sort("photo"))

    def facts(frame: pl.DataFrame, target: pl.Expr, kind: str, weight: float = 1.0
              ) -> pl.DataFrame:
        return frame.select(
            ("person:" + pl.col("person")).alias("source"), target.alias("target"),
            pl.lit(kind).alias("kind"), pl.lit(weight).alias("weight"),
            pl.lit(1).alias("count"),
            (start + pl.duration(days=pl.col("day"))).alias("first"),
            (start + pl.duration(days=pl.col("day"))).alias("last"),
            ("annonce " + pl.col("ad_id")).alias("evidence"))

    edges = pl.concat([
        facts(ads, "phone:" + pl.col("phone"), "uses"),
        facts(ads.filter(pl.col("handle").is_not_null()), "handle:" + pl.col("handle"), "uses"),
        facts(photos, "image:" + pl.col("photo"), "advertises"),
        # A city named in an ad is weak evidence: a tenth of a shared phone or photo.
        facts(ads, "commune:" + pl.col("commune"), "mentions", 0.1),
        copies.select(("image:" + pl.col("photo")).alias("source"),
                      ("image:" + pl.col("original")).alias("target"),
                      pl.lit("same_as").alias("kind"), pl.lit(1.0).alias("weight"),
                      pl.lit(1).alias("count"),
                      (start + pl.duration(days=pl.col("day"))).alias("first"),
                      (start + pl.duration(days=pl.col("day"))).alias("last"),
                      pl.lit("copie retouchée (empreinte perceptuelle proche)")
                      .alias("evidence")),
    ])
    ends = pl.concat([edges.select(pl.col("source").alias("id"), "first", "last"),
                      edges.select(pl.col("target").alias("id"), "first", "last")])
    labels = pl.concat([
        persons.select(("person:" + pl.col("person")).alias("id"),
                       pl.col("name").alias("label")),
        ads.select(("commune:" + pl.col("commune")).alias("id"),
                   pl.col("city").alias("label")).unique("id"),
    ])
    nodes = (ends.group_by("id").agg(pl.col("first").min(), pl.col("last").max())
             .sort("id")
             .join(labels, on="id", how="left", maintain_order="left")
             .select("id", pl.col("id").str.extract(r"^([a-z]+):").replace(
                         {"commune": "address"}).alias("kind"),
                     pl.coalesce("label", pl.col("id").str.extract(r"^[a-z]+:(.*)$"))
                     .alias("label"),
                     pl.lit(None, pl.Utf8).alias("category"), pl.lit(None, pl.Utf8).alias("role"),
                     pl.lit(None, pl.Utf8).alias("case_id"), "first", "last"))
    truth = (ads.select(("person:" + pl.col("person")).alias("id"), "controller")
             .unique("id"))
    return nodes, edges, truth


def rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def latencies(name: str, seconds: list[float], extra: str = "") -> None:
    ms = np.array(seconds) * 1000
    print(f"  {name:<44} n={len(ms):<4} p50 {np.percentile(ms, 50):7.2f} ms   "
          f"p95 {np.percentile(ms, 95):7.2f} ms   max {ms.max():7.2f} ms   {extra}")


def main() -> int:
    parser = argparse.ArgumentParser()
    add_world_options(parser, preset="national-year")
    parser.add_argument("--world-dir", default=None)
    parser.add_argument("--max-nodes", type=int, default=None,
                        help="at most this many nodes (default: the whole world)")
    parser.add_argument("--max-edges", type=int, default=None,
                        help="at most this many edges (default: the whole world)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--skip-centrality", action="store_true")
    args = parser.parse_args()
    seed = 1 if args.seed is None else args.seed
    print(f"machine: {machine()}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    world = ensure_world(args)

    with timed() as took:
        nodes, edges, truth = graph_frames(world, args.max_nodes, args.max_edges, seed)
    print(f"frames from the ground truth: {took[0]:.1f} s")
    with timed() as took:
        graph = EvidenceGraph.from_frames(nodes, edges)
    build = took[0]
    arrays = sum(v.nbytes for v in vars(graph).values() if isinstance(v, np.ndarray))
    with timed() as took:
        _ = graph.igraph
    kinds = dict(graph.nodes.group_by("kind").len().sort("kind").iter_rows())
    edge_kinds = dict(graph.edges.group_by("kind").len().sort("kind").iter_rows())
    print(f"graph: {graph.node_count:,} nodes ("
          + ", ".join(f"{k} {v:,}" for k, v in kinds.items()) + ")")
    print(f"       {graph.edge_count:,} edges ("
          + ", ".join(f"{k} {v:,}" for k, v in edge_kinds.items())
          + f"), {graph.pair_count:,} distinct pairs")
    top = np.argsort(-graph.degree)[:3]
    print("largest hubs: " + ", ".join(f"{nodes['label'][int(i)]} ({graph.degree[i]:,} "
                                       "neighbours)" for i in top))
    print(f"build: from_frames {build:.1f} s (ids to rows, distinct pairs, adjacency), "
          f"igraph {took[0]:.1f} s (on demand, for Leiden and centrality)")
    print(f"memory: frames {(nodes.estimated_size() + edges.estimated_size()) / 2**20:,.0f} MiB, "
          f"engine arrays {arrays / 2**20:,.0f} MiB; process resident {rss_mib():,.0f} MiB, "
          f"peak so far {peak_mib():,.0f} MiB (building the frames from JSON included)")

    rng = np.random.default_rng(seed)
    n = graph.node_count
    ids = nodes["id"]
    graph.neighbours([ids[0]], depth=2)  # warm-up: first calls initialise numpy and polars
    graph.shortest_path(ids[0], ids[n - 1])
    print("queries (random nodes; neighbours with limit 500):")
    for depth in (1, 2):
        seconds, sizes, cut = [], [], 0
        for row in rng.integers(0, n, args.queries).tolist():
            started = time.perf_counter()
            sub = graph.neighbours([ids[row]], depth=depth)
            seconds.append(time.perf_counter() - started)
            sizes.append(sub.nodes.height)
            cut += sub.truncated
        latencies(f"neighbours depth {depth}", seconds,
                  f"nodes p50 {np.median(sizes):.0f} max {max(sizes)}, {cut} truncated")
    seconds = []
    for row in top.tolist():
        started = time.perf_counter()
        sub = graph.neighbours([ids[row]], depth=2)
        seconds.append(time.perf_counter() - started)
    latencies("neighbours depth 2 of the 3 largest hubs", seconds,
              f"truncated at {sub.nodes.height} nodes")

    components = graph.components()
    no_city = nodes["kind"] != "address"
    kept = np.flatnonzero(no_city.to_numpy())
    without = np.full(n, -1, np.int64)
    without[kept] = graph.igraph.induced_subgraph(kept.tolist()).connected_components().membership
    sizes_without = np.bincount(without[kept])
    largest = components["component_size"].to_numpy().max()
    print(f"components: {components['component'].n_unique():,} "
          f"(largest {largest:,} nodes); without the communes: "
          f"{len(sizes_without):,} (largest {sizes_without.max():,}, "
          f"{(sizes_without >= 3).sum():,} of 3 nodes or more)")

    def pairs(labels: np.ndarray, same: bool, count: int) -> list[tuple[int, int]]:
        """Random pairs of rows in the same component (of at least 3 nodes) or in
        different ones; rows with label -1 are never drawn."""
        usable = np.flatnonzero(labels >= 0)
        sizes = np.bincount(labels[usable])
        if same:
            usable = usable[sizes[labels[usable]] >= 3]
        members = np.argsort(labels[usable], kind="stable")
        sorted_rows = usable[members]
        starts = np.searchsorted(labels[sorted_rows], np.arange(len(sizes)))
        chosen: list[tuple[int, int]] = []
        while len(chosen) < count:
            a = int(usable[rng.integers(0, len(usable))])
            if same:
                group = labels[a]
                begin = starts[group]
                b = int(sorted_rows[begin + rng.integers(0, sizes[group])])
                if b != a:
                    chosen.append((a, b))
            else:
                b = int(usable[rng.integers(0, len(usable))])
                if labels[a] != labels[b]:
                    chosen.append((a, b))
        return chosen

    labels_all = components["component"].to_numpy().astype(np.int64)
    print("shortest paths (random pairs):")
    cases: list[tuple[str, np.ndarray, bool, tuple[str, ...]]] = [
        ("same component", labels_all, True, ()),
        ("same component, avoiding communes", without, True, ("address",)),
        ("different components, avoiding communes", without, False, ("address",)),
    ]
    if components["component"].n_unique() > 1:
        cases.insert(1, ("different components", labels_all, False, ()))
    for name, labels, same, avoid in cases:
        seconds, hops, found = [], [], 0
        for a, b in pairs(labels, same, args.queries):
            started = time.perf_counter()
            path = graph.shortest_path(ids[a], ids[b], avoid_kinds=avoid)
            seconds.append(time.perf_counter() - started)
            if path is not None:
                found += 1
                hops.append(path.hops)
        extra = (f"{found} found, hops p50 {np.median(hops):.0f} max {max(hops)}" if hops
                 else f"{found} found")
        latencies(name, seconds, extra)
    person_rows = np.flatnonzero((nodes["kind"] == "person").to_numpy())
    seconds, sizes = [], []
    for _ in range(args.queries // 4):
        chosen = [ids[int(r)] for r in rng.choice(person_rows, 4, replace=False)]
        started = time.perf_counter()
        sub = graph.connecting(chosen)
        seconds.append(time.perf_counter() - started)
        sizes.append(sub.nodes.height)
    latencies("connecting 4 random persons (6 paths)", seconds,
              f"nodes p50 {np.median(sizes):.0f} max {max(sizes)}")
    seconds = []
    for row in rng.integers(0, n, args.queries).tolist():
        started = time.perf_counter()
        graph.timeline(ids[row])
        seconds.append(time.perf_counter() - started)
    latencies("timeline", seconds)
    print(f"load average after the queries: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    with timed() as took:
        membership = graph.communities(seed=seed)
    community_sizes = membership.group_by("community").len()["len"].to_numpy()
    print(f"Leiden (modularity, resolution 1, whole graph): {took[0]:.1f} s, "
          f"{len(community_sizes):,} communities, largest {community_sizes.max():,}, "
          f"{(community_sizes >= 3).sum():,} of 3 nodes or more")
    persons = (truth.join(membership.select("id", "community"), on="id")
               .group_by("controller").agg(pl.col("community").n_unique().alias("parts"),
                                          pl.len().alias("persons"))
               .filter(pl.col("persons") >= 2))
    print(f"  controllers with several persons whose persons all share one community: "
          f"{(persons['parts'].to_numpy() == 1).mean():.1%} of {persons.height:,}")
    if not args.skip_centrality:
        with timed() as took:
            scores = graph.centrality(communities=membership)
        estimated = scores.filter(~pl.col("betweenness_exact"))["community"].n_unique()
        print(f"centrality (PageRank on the whole graph, betweenness per community, "
              f"{estimated} communities by sampling): {took[0]:.1f} s")
        with timed() as took:
            heads = graph.heads(k=3, centrality=scores)
        print(f"heads (top 3 persons of every community of 3+): {took[0]:.1f} s, "
              f"{heads.height:,} rows; e.g. {heads['reason'][0]}")
    print(f"peak resident memory: {peak_mib():,.0f} MiB; load average at the end: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
