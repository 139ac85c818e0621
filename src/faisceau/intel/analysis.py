"""Link analysis of the evidence graph: neighbours, paths, communities, key persons, timelines.

The combined graph (ads' people, phones, handles, photos, places, and the case files' people,
accounts, companies, vehicles...) arrives as two polars frames built from the store
elsewhere; ``EvidenceGraph.from_frames`` turns them into arrays once, and every question an
analyst asks of a link chart is then answered from those arrays:

- ``neighbours``: what is within *n* hops of these entities, bounded, so that a phone shared
  by thousands of ads cannot flood a link chart;
- ``shortest_path`` and ``connecting``: how two (or more) chosen entities are linked, with the
  evidence of each hop;
- ``communities``: Leiden (``leidenalg``) on the whole graph, deterministic for a seed;
- ``centrality``, ``heads`` and ``brokers``: PageRank, and betweenness inside each community,
  with the French reason an analyst reads;
- ``timeline``: the dated facts touching an entity, in order.

Why not igraph for everything: traversals must filter by kind, stop at a bound and tell
what they left out, which igraph's C routines cannot do, and a per-query Python walk is too
slow on 5 million edges. They run instead on a compressed adjacency (CSR) of *distinct*
neighbours, one numpy operation per BFS level (well under 100 ms on a million nodes, see
``docs/design/link-analysis.md``). The igraph ``Graph``, needed only for Leiden, PageRank
and betweenness, is built on the first call that needs it, from the same distinct pairs.

Edges are undirected for traversal and analysis; the frames returned keep each edge's own
``source`` → ``target`` (who pays whom) and add ``edge``, the edge's row in the input frame.
Results are plain polars frames or small frozen dataclasses. Traversals (neighbours, paths,
timelines) do not modify the graph and may run concurrently; communities and centrality are
computed once per set of parameters and kept.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import polars as pl

if TYPE_CHECKING:
    import igraph

NODE_KINDS = frozenset({"person", "phone", "email", "handle", "image", "account", "company",
                        "vehicle", "address", "asset", "case", "network", "event"})
NODE_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Utf8(), "kind": pl.Utf8(), "label": pl.Utf8(), "category": pl.Utf8(),
    "role": pl.Utf8(), "case_id": pl.Utf8(), "first": pl.Date(), "last": pl.Date()}
EDGE_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.Utf8(), "target": pl.Utf8(), "kind": pl.Utf8(), "weight": pl.Float64(),
    "count": pl.Int64(), "first": pl.Date(), "last": pl.Date(), "evidence": pl.Utf8()}
MAX_EDGE_KINDS = 64  # one bit each in a pair's kind mask

Method = Literal["modularity", "cpm"]
WeightColumn = Literal["weight", "count"]


class UnknownNodeError(KeyError):
    """Ids that are not nodes of the graph; ``ids`` lists them, the message is French because
    it reaches the analyst who typed them."""

    def __init__(self, ids: Sequence[str]) -> None:
        super().__init__(*ids)
        self.ids = tuple(ids)

    def __str__(self) -> str:
        shown = ", ".join(repr(i) for i in self.ids[:10])
        more = f" (et {len(self.ids) - 10} autres)" if len(self.ids) > 10 else ""
        return f"identifiant(s) inconnu(s) dans le graphe : {shown}{more}"


@dataclass(frozen=True)
class Subgraph:
    """Part of the graph: its nodes (the input's columns, plus ``depth`` for a neighbourhood
    or ``chosen`` for a connection) and the edges among them (plus ``edge``).

    ``truncated`` is set when the node limit cut the answer short; ``unexpanded`` then names
    the nodes whose neighbours were not all taken (the hubs), so the interface can offer to
    expand them on purpose. ``unconnected`` lists the chosen pairs no path joins."""

    nodes: pl.DataFrame
    edges: pl.DataFrame
    truncated: bool = False
    unexpanded: tuple[str, ...] = ()
    unconnected: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Path:
    """A shortest path: node ids from one end to the other, and every edge joining two
    consecutive nodes (parallel edges included: each is a piece of evidence), with ``hop``
    (0 for the edges between the first and second node) and ``edge``."""

    nodes: tuple[str, ...]
    edges: pl.DataFrame = field(repr=False)

    @property
    def hops(self) -> int:
        return len(self.nodes) - 1


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType], required: Sequence[str],
             name: str) -> pl.DataFrame:
    """The frame with every column of the contract, in the contract's types: missing optional
    columns are added (null; weight 1, count 1, label = id), ISO date strings are parsed."""
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}")
    fills: list[pl.Expr] = []
    for column, dtype in schema.items():
        if column in frame.columns:
            current = frame.schema[column]
            if dtype == pl.Date() and current == pl.Utf8():
                fills.append(pl.col(column).str.to_date("%Y-%m-%d"))
            elif current != dtype:
                fills.append(pl.col(column).cast(dtype))
        elif column == "weight":
            fills.append(pl.lit(1.0, pl.Float64).alias(column))
        elif column == "count":
            fills.append(pl.lit(1, pl.Int64).alias(column))
        elif column == "label":
            fills.append(pl.col("id").alias("label"))
        else:
            fills.append(pl.lit(None, dtype).alias(column))
    if fills:
        frame = frame.with_columns(fills)
    return frame.select(*schema, *[c for c in frame.columns if c not in schema])


def _codes(column: pl.Series) -> tuple[list[str], np.ndarray]:
    """Sorted distinct values of a string column and each row's index among them."""
    values = sorted(column.unique().to_list())
    return values, column.cast(pl.Enum(values)).to_physical().to_numpy().astype(np.int16)


def _ranges(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of every entry of the CSR rows ``rows``, and the row each came from, in
    row order: the vectorised ``for r in rows: for p in range(indptr[r], indptr[r+1])``."""
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, np.int64), np.empty(0, rows.dtype)
    shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return np.arange(total, dtype=np.int64) + shift, np.repeat(rows, lengths)


def _ordinal_fr(rank: int, feminine: bool = True) -> str:
    if rank == 1:
        return "1re" if feminine else "1er"
    return f"{rank}e"


def _number_fr(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")


class EvidenceGraph:
    """The combined evidence graph, ready for link-analysis queries (see the module doc).

    Build it with ``from_frames``. ``nodes`` and ``edges`` are the conformed input frames:
    a node's row is its index in every array, an edge's row is its ``edge`` number."""

    def __init__(self, nodes: pl.DataFrame, edges: pl.DataFrame, source: np.ndarray,
                 target: np.ndarray) -> None:
        """Use ``from_frames``; this takes frames already conformed and endpoints as rows."""
        self.nodes = nodes
        self.edges = edges
        n = nodes.height
        self._node_kinds, self._node_kind = _codes(nodes["kind"])
        self._edge_kinds, edge_kind = _codes(edges["kind"]) if edges.height else ([], np.empty(
            0, np.int16))
        if len(self._edge_kinds) > MAX_EDGE_KINDS:
            raise ValueError(f"edges: at most {MAX_EDGE_KINDS} kinds, got "
                             f"{len(self._edge_kinds)}")
        self._edge_kind = edge_kind
        self._source = np.asarray(source, np.int32)
        self._target = np.asarray(target, np.int32)
        # Ids sorted, for lookups by binary search: a join against a million ids would cost
        # tens of milliseconds per query, a dict of them a hundred megabytes.
        by_id = nodes["id"].arg_sort()
        self._sorted_ids = nodes["id"].gather(by_id)
        self._sorted_rows = by_id.to_numpy().astype(np.int64)
        # Distinct undirected pairs: traversal sees a neighbour once however many edges
        # (ads, payments) join the two, and a hub's degree counts entities, not ads.
        lo = np.minimum(source, target).astype(np.int64)
        hi = np.maximum(source, target).astype(np.int64)
        keys, pair_of_edge = np.unique(lo * max(n, 1) + hi, return_inverse=True)
        self._pair_lo = (keys // max(n, 1)).astype(np.int32)
        self._pair_hi = (keys % max(n, 1)).astype(np.int32)
        pairs = len(keys)
        order = np.argsort(pair_of_edge, kind="stable").astype(np.int32)
        self._pair_edges = order  # edge rows grouped by pair, in row order within a pair
        self._pair_indptr = np.zeros(pairs + 1, np.int64)
        np.cumsum(np.bincount(pair_of_edge, minlength=pairs), out=self._pair_indptr[1:])
        bits = np.left_shift(np.uint64(1), edge_kind.astype(np.uint64))
        self._pair_kinds = (np.bitwise_or.reduceat(bits[order], self._pair_indptr[:-1])
                            if pairs else np.empty(0, np.uint64))
        weights = edges["weight"].to_numpy()
        if np.isnan(weights).any() or (weights <= 0).any():
            raise ValueError("edges: every weight must be a number > 0")
        self._pair_weight = np.bincount(pair_of_edge, weights=weights, minlength=pairs)
        counts = edges["count"].fill_null(1).to_numpy().astype(np.float64)
        self._pair_count = np.bincount(pair_of_edge, weights=counts, minlength=pairs)
        # Adjacency of distinct neighbours; a self-loop is listed once.
        loop = self._pair_lo == self._pair_hi
        pair_ids = np.arange(pairs, dtype=np.int32)
        rows = np.concatenate([self._pair_lo, self._pair_hi[~loop]])
        cols = np.concatenate([self._pair_hi, self._pair_lo[~loop]])
        by_row = np.argsort(rows, kind="stable")
        self._neighbour = cols[by_row]
        self._entry_pair = np.concatenate([pair_ids, pair_ids[~loop]])[by_row]
        self._indptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=self._indptr[1:])
        self.degree = np.diff(self._indptr)  # distinct neighbours (a self-loop counts one)
        self._graph: igraph.Graph | None = None
        self._scratch: list[tuple[np.ndarray, np.ndarray]] = []
        self._scratch_lock = threading.Lock()
        self._cache: dict[tuple[object, ...], pl.DataFrame] = {}

    # -- building -----------------------------------------------------------------------

    @classmethod
    def from_frames(cls, nodes: pl.DataFrame, edges: pl.DataFrame) -> EvidenceGraph:
        """Check the frames against the contract and index them (vectorised: ids become row
        numbers by a join, never a Python loop per edge; about 5 s for 5 million edges)."""
        nodes = _conform(nodes, NODE_SCHEMA, ("id", "kind"), "nodes")
        edges = _conform(edges, EDGE_SCHEMA, ("source", "target", "kind"), "edges")
        if not nodes.height:
            raise ValueError("nodes: the graph needs at least one node")
        if nodes["id"].null_count() or nodes["kind"].null_count():
            raise ValueError("nodes: id and kind may not be null")
        if nodes["id"].n_unique() != nodes.height:
            dup = nodes.filter(pl.col("id").is_duplicated())["id"].unique().sort().head(5)
            raise ValueError(f"nodes: ids must be unique; repeated: {dup.to_list()}")
        if edges["kind"].null_count():
            raise ValueError("edges: kind may not be null")
        index = nodes.select(pl.col("id"), pl.int_range(pl.len(), dtype=pl.Int32).alias("row"))
        ends = (edges.select("source", "target")
                .join(index.rename({"id": "source", "row": "s"}), on="source", how="left",
                      maintain_order="left")
                .join(index.rename({"id": "target", "row": "t"}), on="target", how="left",
                      maintain_order="left"))
        unknown = pl.concat([ends.filter(pl.col("s").is_null())["source"],
                             ends.filter(pl.col("t").is_null())["target"]])
        if len(unknown):
            raise ValueError("edges: endpoint(s) not among the nodes: "
                             f"{unknown.unique().sort().head(5).to_list()}")
        return cls(nodes, edges, ends["s"].to_numpy(), ends["t"].to_numpy())

    @property
    def node_count(self) -> int:
        return self.nodes.height

    @property
    def edge_count(self) -> int:
        return self.edges.height

    @property
    def pair_count(self) -> int:
        """Distinct pairs of adjacent nodes (parallel edges counted once)."""
        return len(self._pair_lo)

    @property
    def igraph(self) -> igraph.Graph:
        """The undirected igraph ``Graph`` of distinct pairs (no self-loops), vertex *i* =
        node row *i*; edge *k* = the *k*-th pair that is not a loop. Built once, on demand:
        traversals do not need it and it takes seconds on millions of edges."""
        if self._graph is None:
            import igraph

            keep = self._pair_lo != self._pair_hi
            self._graph = igraph.Graph(
                n=self.node_count, directed=False,
                edges=list(zip(self._pair_lo[keep].tolist(), self._pair_hi[keep].tolist(),
                               strict=True)))
        return self._graph

    # -- lookups ------------------------------------------------------------------------

    def _rows(self, ids: Iterable[str]) -> np.ndarray:
        """Row numbers of ``ids`` (first occurrence order, repeats dropped), or
        ``UnknownNodeError`` naming every unknown id."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            raise ValueError("no node id given")
        if any(not isinstance(i, str) for i in wanted):
            raise TypeError("node ids are strings")
        probe = pl.Series("id", wanted, pl.Utf8)
        at = np.minimum(self._sorted_ids.search_sorted(probe, side="left").to_numpy(),
                        self.node_count - 1)
        known = (self._sorted_ids.gather(at) == probe).to_numpy()
        if not known.all():
            raise UnknownNodeError([i for i, ok in zip(wanted, known, strict=True) if not ok])
        return self._sorted_rows[at]

    def _kind_mask(self, kinds: Collection[str] | None) -> np.ndarray | None:
        """Per node, whether its kind is among ``kinds`` (None: no restriction)."""
        if kinds is None:
            return None
        if isinstance(kinds, str):
            kinds = (kinds,)
        unknown = sorted(set(kinds) - NODE_KINDS - set(self._node_kinds))
        if unknown:
            raise ValueError(f"unknown node kind(s) {unknown}; known: {sorted(NODE_KINDS)}")
        codes = [i for i, k in enumerate(self._node_kinds) if k in set(kinds)]
        return np.isin(self._node_kind, codes)

    def _edge_bits(self, edge_kinds: Collection[str] | None) -> np.uint64 | None:
        """The bit mask of ``edge_kinds`` (None: every kind). A kind absent from the graph
        matches nothing."""
        if edge_kinds is None:
            return None
        if isinstance(edge_kinds, str):
            edge_kinds = (edge_kinds,)
        wanted = set(edge_kinds)
        bits = 0
        for i, kind in enumerate(self._edge_kinds):
            if kind in wanted:
                bits |= 1 << i
        return np.uint64(bits)

    def _entries(self, rows: np.ndarray, bits: np.uint64 | None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(neighbour, pair, from-row) of every adjacency entry of ``rows`` whose pair has an
        edge of the wanted kinds, in the order of ``rows``."""
        positions, parent = _ranges(self._indptr, rows)
        neighbour = self._neighbour[positions]
        pair = self._entry_pair[positions]
        if bits is not None:
            keep = (self._pair_kinds[pair] & bits) != 0
            neighbour, pair, parent = neighbour[keep], pair[keep], parent[keep]
        return neighbour, pair, parent

    def _edges_of_pairs(self, pairs: np.ndarray, edge_kinds: Collection[str] | None
                        ) -> np.ndarray:
        """Edge rows of the given pairs (of the wanted kinds), sorted."""
        positions, _ = _ranges(self._pair_indptr, np.asarray(pairs, np.int64))
        rows = self._pair_edges[positions]
        if edge_kinds is not None:
            wanted = [i for i, k in enumerate(self._edge_kinds) if k in set(edge_kinds)]
            rows = rows[np.isin(self._edge_kind[rows], wanted)]
        return np.unique(rows)

    def _edge_frame(self, rows: np.ndarray) -> pl.DataFrame:
        return self.edges[rows].with_columns(pl.Series("edge", rows, pl.Int64))

    def _induced(self, rows: np.ndarray, edge_kinds: Collection[str] | None) -> pl.DataFrame:
        """The edges of the wanted kinds between nodes of ``rows``."""
        inside = np.zeros(self.node_count, bool)
        inside[rows] = True
        neighbour, pair, _ = self._entries(rows, self._edge_bits(edge_kinds))
        pairs = np.unique(pair[inside[neighbour]])
        return self._edge_frame(self._edges_of_pairs(pairs, edge_kinds))

    # -- neighbours ---------------------------------------------------------------------

    def neighbours(self, ids: Iterable[str], depth: int = 1, *,
                   kinds: Collection[str] | None = None,
                   edge_kinds: Collection[str] | None = None,
                   limit: int = 500, max_degree: int | None = None) -> Subgraph:
        """Everything within ``depth`` hops of ``ids``, as a subgraph (nodes with their
        ``depth``, and every edge among them).

        ``kinds`` keeps only nodes of those kinds (the chosen entities always stay), so the
        walk goes only through them: ``kinds={"person", "phone"}`` at depth 2 gives the people
        who share a phone. ``edge_kinds`` follows only those edges.

        The answer holds at most ``limit`` nodes. Each level expands the most specific nodes
        first (fewest neighbours), so that when a hub (a phone in thousands of ads, a big
        city) would overflow the limit, what is cut is the hub's crowd, not the specific
        links; the subgraph is then ``truncated`` and ``unexpanded`` names the hubs. Nodes
        with more than ``max_degree`` neighbours are shown but not expanded at all (the chosen
        entities excepted): a path through a hub of thousands is rarely evidence."""
        if depth < 0:
            raise ValueError("depth must be >= 0")
        seeds = self._rows(ids)
        if limit < len(seeds):
            raise ValueError(f"limit ({limit}) is below the number of chosen entities "
                             f"({len(seeds)})")
        allowed = self._kind_mask(kinds)
        bits = self._edge_bits(edge_kinds)
        depth_of = np.full(self.node_count, -1, np.int32)
        depth_of[seeds] = 0
        levels = [seeds]
        count = len(seeds)
        frontier = seeds
        truncated = False
        unexpanded: list[np.ndarray] = []
        for level in range(1, depth + 1):
            if max_degree is not None and level > 1:
                hub = self.degree[frontier] > max_degree
                unexpanded.append(frontier[hub])
                frontier = frontier[~hub]
            frontier = frontier[np.argsort(self.degree[frontier], kind="stable")]
            neighbour, _, parent = self._entries(frontier, bits)
            keep = depth_of[neighbour] < 0
            if allowed is not None:
                keep &= allowed[neighbour]
            neighbour, parent = neighbour[keep], parent[keep]
            if not len(neighbour):
                break
            _, first = np.unique(neighbour, return_index=True)
            new = neighbour[np.sort(first)]
            room = limit - count
            if len(new) > room:
                truncated = True
                dropped = np.zeros(self.node_count, bool)
                dropped[new[room:]] = True
                unexpanded.append(np.unique(parent[dropped[neighbour]]))
                new = new[:room]
            depth_of[new] = level
            levels.append(new)
            count += len(new)
            frontier = new
            if truncated:
                break
        rows = np.concatenate(levels)
        nodes = self.nodes[rows].with_columns(pl.Series("depth", depth_of[rows], pl.Int32))
        hubs = np.unique(np.concatenate(unexpanded)) if unexpanded else np.empty(0, np.int64)
        return Subgraph(nodes=nodes, edges=self._induced(rows, edge_kinds),
                        truncated=truncated,
                        unexpanded=tuple(self.nodes["id"].gather(hubs).to_list()))

    # -- paths --------------------------------------------------------------------------

    def _path_rows(self, a: int, b: int, max_hops: int | None, allowed: np.ndarray | None,
                   bits: np.uint64 | None) -> list[int] | None:
        """Rows of a shortest path from ``a`` to ``b`` (in hops), or None.

        Bidirectional breadth-first search, one whole level at a time, always growing the
        side whose frontier has fewer adjacency entries: the first level on which the two
        sides meet gives a shortest path, and the search stays small around hubs and stops
        as soon as the smaller side's component is exhausted."""
        if a == b:
            return [a]
        parents = self._borrow()
        touched: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
        try:
            return self._bidirectional(a, b, max_hops, allowed, bits, parents, touched)
        finally:
            self._give_back(parents, touched)

    def _borrow(self) -> tuple[np.ndarray, np.ndarray]:
        """Two parent arrays, all -1. Kept between searches and reset only where a search
        wrote: filling two fresh arrays of a million entries would cost a millisecond."""
        with self._scratch_lock:
            if self._scratch:
                return self._scratch.pop()
        n = self.node_count
        return np.full(n, -1, np.int32), np.full(n, -1, np.int32)

    def _give_back(self, parents: tuple[np.ndarray, np.ndarray],
                   touched: tuple[list[np.ndarray], list[np.ndarray]]) -> None:
        for array, rows in zip(parents, touched, strict=True):
            for written in rows:
                array[written] = -1
        with self._scratch_lock:
            self._scratch.append(parents)

    def _bidirectional(self, a: int, b: int, max_hops: int | None,
                       allowed: np.ndarray | None, bits: np.uint64 | None,
                       parents: tuple[np.ndarray, np.ndarray],
                       touched: tuple[list[np.ndarray], list[np.ndarray]]) -> list[int] | None:
        """The search of ``_path_rows``; ``parents[side][v]`` is the node v was reached
        from (the start for the start), and ``touched`` records every row written."""
        parents[0][a], parents[1][b] = a, b
        frontiers = [np.array([a], np.int64), np.array([b], np.int64)]
        touched[0].append(frontiers[0])
        touched[1].append(frontiers[1])
        radius = [0, 0]
        while True:
            if max_hops is not None and radius[0] + radius[1] >= max_hops:
                return None
            side = 0 if self.degree[frontiers[0]].sum() <= self.degree[frontiers[1]].sum() else 1
            mine, other = parents[side], parents[1 - side]
            neighbour, _, parent = self._entries(frontiers[side], bits)
            meets = other[neighbour] >= 0
            if meets.any():
                # Any meeting node of this level closes a shortest path (proof in the doc);
                # take the first, in adjacency order, for a deterministic answer.
                at = int(np.flatnonzero(meets)[0])
                meet, before = int(neighbour[at]), int(parent[at])
                half = [meet]
                node = before
                while True:
                    half.append(node)
                    if int(mine[node]) == node:
                        break
                    node = int(mine[node])
                rest = []
                node = meet
                while int(other[node]) != node:
                    node = int(other[node])
                    rest.append(node)
                path = half[::-1] + rest
                return path if side == 0 else path[::-1]
            keep = mine[neighbour] < 0
            if allowed is not None:
                keep &= allowed[neighbour]
            neighbour, parent = neighbour[keep], parent[keep]
            if not len(neighbour):
                return None
            # Distinct new nodes without sorting: each node keeps the parent of one of its
            # occurrences (the first: numpy writes the reversed array in order), and only
            # that occurrence matches it, since a node's parents are distinct.
            mine[neighbour[::-1]] = parent[::-1]
            new = neighbour[mine[neighbour] == parent]
            touched[side].append(new)
            frontiers[side] = new
            radius[side] += 1

    def _path_mask(self, avoid_kinds: Collection[str], max_degree: int | None
                   ) -> np.ndarray | None:
        """Per node, whether a path may go through it (endpoints are exempt elsewhere)."""
        mask: np.ndarray | None = None
        if avoid_kinds:
            avoid = self._kind_mask(avoid_kinds)
            assert avoid is not None
            mask = ~avoid
        if max_degree is not None:
            small = self.degree <= max_degree
            mask = small if mask is None else mask & small
        return mask

    def _hop_edges(self, path: Sequence[int], edge_kinds: Collection[str] | None
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the edges joining consecutive nodes of ``path`` (of the wanted kinds) and
        the hop of each, in hop order then row order; all hops in one pass."""
        if len(path) < 2:
            return np.empty(0, np.int64), np.empty(0, np.int32)
        nodes = np.asarray(path, np.int64)
        positions, owner = _ranges(self._indptr, nodes[:-1])
        # Hops' first nodes are distinct (a shortest path does not repeat a node).
        by_row = np.argsort(nodes[:-1])
        hop = by_row[np.searchsorted(nodes[:-1][by_row], owner)]
        match = self._neighbour[positions] == nodes[1:][hop]
        pairs, hop = self._entry_pair[positions][match], hop[match]
        starts = self._pair_indptr[pairs]
        lengths = self._pair_indptr[pairs + 1] - starts
        rows = self._pair_edges[_ranges(self._pair_indptr, pairs)[0]].astype(np.int64)
        hops = np.repeat(hop, lengths).astype(np.int32)
        if edge_kinds is not None:
            wanted = [i for i, k in enumerate(self._edge_kinds) if k in set(edge_kinds)]
            keep = np.isin(self._edge_kind[rows], wanted)
            rows, hops = rows[keep], hops[keep]
        order = np.lexsort((rows, hops))
        return rows[order], hops[order]

    def shortest_path(self, a: str, b: str, *, max_hops: int | None = None,
                      avoid_kinds: Collection[str] = (),
                      edge_kinds: Collection[str] | None = None,
                      max_degree: int | None = None) -> Path | None:
        """A path with the fewest hops from ``a`` to ``b``, or None if there is none (within
        ``max_hops``). Fewest hops, not lightest weights: the fewer intermediaries, the easier
        the link is to explain and to check.

        ``avoid_kinds`` are kinds the path may not go through (say ``{"address"}``, so that
        two people are not linked just by advertising in the same city), ``max_degree``
        keeps it off hubs with more neighbours than that; neither applies to ``a`` and ``b``.
        ``edge_kinds`` restricts the edges it may use."""
        rows = self._rows([a, b])
        ra, rb = int(rows[0]), int(rows[-1])
        path = self._path_rows(ra, rb, max_hops, self._path_mask(avoid_kinds, max_degree),
                               self._edge_bits(edge_kinds))
        if path is None:
            return None
        return self._as_path(path, edge_kinds)

    def _as_path(self, path: list[int], edge_kinds: Collection[str] | None) -> Path:
        rows, hops = self._hop_edges(path, edge_kinds)
        edges = self._edge_frame(rows).with_columns(pl.Series("hop", hops, pl.Int32))
        return Path(nodes=tuple(self.nodes["id"].gather(path).to_list()), edges=edges)

    def connecting(self, ids: Iterable[str], max_hops: int | None = None, *,
                   avoid_kinds: Collection[str] = (),
                   edge_kinds: Collection[str] | None = None,
                   max_degree: int | None = None) -> Subgraph:
        """The subgraph of shortest paths joining the chosen entities two by two: how a set of
        people, phones and accounts hang together. Nodes carry ``chosen``; the pairs no path
        joins (within ``max_hops``) are in ``unconnected``. One search per pair: k entities
        cost k(k-1)/2 searches (a few milliseconds each on a national graph)."""
        chosen = self._rows(ids)
        mask = self._path_mask(avoid_kinds, max_degree)
        bits = self._edge_bits(edge_kinds)
        on_paths: dict[int, None] = {int(r): None for r in chosen}
        edge_rows: list[np.ndarray] = []
        unconnected: list[tuple[str, str]] = []
        names = self.nodes["id"]
        for i, a in enumerate(chosen.tolist()):
            for b in chosen[i + 1:].tolist():
                path = self._path_rows(a, b, max_hops, mask, bits)
                if path is None:
                    unconnected.append((names[a], names[b]))
                    continue
                on_paths.update(dict.fromkeys(path))
                edge_rows.append(self._hop_edges(path, edge_kinds)[0])
        rows = np.fromiter(on_paths, np.int64, len(on_paths))
        edges = np.unique(np.concatenate(edge_rows)) if edge_rows else np.empty(0, np.int64)
        nodes = self.nodes[rows].with_columns(
            pl.Series("chosen", np.isin(rows, chosen), pl.Boolean))
        return Subgraph(nodes=nodes, edges=self._edge_frame(edges),
                        unconnected=tuple(unconnected))

    # -- components, communities, centrality --------------------------------------------

    def components(self) -> pl.DataFrame:
        """Per node its connected component (0 = the largest) and the component's size."""
        # The igraph graph is shared with the communities; scipy's would cost another copy.
        labels = np.asarray(self.igraph.connected_components().membership)
        return self._numbered(labels, "component")

    def _numbered(self, labels: np.ndarray, name: str) -> pl.DataFrame:
        """``labels`` renumbered by decreasing size (ties: the group holding the earlier
        node first), as a frame id, kind, label, <name>, <name>_size."""
        labels = np.asarray(labels, np.int64)
        sizes = np.bincount(labels)
        first = np.full(len(sizes), len(labels), np.int64)
        np.minimum.at(first, labels, np.arange(len(labels)))
        used = np.flatnonzero(sizes)
        ranked = used[np.lexsort((first[used], -sizes[used]))]
        renumber = np.empty(len(sizes), np.int64)
        renumber[ranked] = np.arange(len(ranked))
        numbered = renumber[labels]
        return self.nodes.select("id", "kind", "label").with_columns(
            pl.Series(name, numbered, pl.Int32),
            pl.Series(f"{name}_size", sizes[labels], pl.Int32))

    def _pair_values(self, weights: WeightColumn | None) -> list[float] | None:
        keep = self._pair_lo != self._pair_hi
        if weights is None:
            return None
        values = self._pair_weight if weights == "weight" else self._pair_count
        return list(values[keep].tolist())

    def communities(self, *, resolution: float = 1.0, seed: int = 0,
                    method: Method = "modularity", weights: WeightColumn | None = "weight",
                    iterations: int = 2) -> pl.DataFrame:
        """Leiden communities on the whole graph: per node ``community`` (0 = the largest)
        and ``community_size``. Same graph, parameters and seed, same answer.

        ``modularity`` (the default) is leidenalg's ``RBConfigurationVertexPartition``:
        modularity with a resolution (1 = classic modularity; higher gives smaller groups).
        It needs no tuning and does not depend on the scale of the weights, which mix counts
        and euros. ``cpm`` (Constant Potts Model) has no resolution limit and finds groups
        denser than ``resolution`` whatever the graph's size, but its resolution is in weight
        units and must be tuned per weighting. Parallel edges count as one pair whose weight
        is their sum (``weights``: the ``weight`` or ``count`` column, or None for 1)."""
        key = ("communities", resolution, seed, method, weights, iterations)
        if key not in self._cache:
            import leidenalg

            partition_type = (leidenalg.RBConfigurationVertexPartition if method == "modularity"
                              else leidenalg.CPMVertexPartition)
            partition = leidenalg.find_partition(
                self.igraph, partition_type, weights=self._pair_values(weights),
                n_iterations=iterations, seed=seed, resolution_parameter=resolution)
            self._cache[key] = self._numbered(np.asarray(partition.membership), "community")
        return self._cache[key]

    def centrality(self, *, within_communities: bool = True,
                   communities: pl.DataFrame | None = None, damping: float = 0.85,
                   weights: WeightColumn | None = "weight", exact_max: int = 2_000,
                   samples: int = 128, seed: int = 0) -> pl.DataFrame:
        """Per node: weighted PageRank on the whole graph, betweenness inside its group, and
        both ranks within the group (1 = highest).

        The group is the node's community (``communities``, by default ``communities()``),
        or its connected component when ``within_communities`` is False. Betweenness over the
        whole graph is out of reach (Brandes' algorithm costs one breadth-first search per
        node: about 65 hours on a national graph, extrapolated from 10 sources) and would
        mostly rank the city hubs most paths go through; inside a community it says who
        bridges the community's parts. It is exact in groups of at
        most ``exact_max`` nodes and estimated from ``samples`` random sources in larger ones
        (``betweenness_exact`` False); it counts hops, not weights, and is normalised to the
        share of the group's pairs whose shortest paths go through the node."""
        if within_communities:
            groups = communities if communities is not None else self.communities()
            name = "community"
        else:
            groups, name = self.components(), "component"
        if groups.height != self.node_count or name not in groups.columns:
            raise ValueError(f"{name}s: one row per node with a {name!r} column expected")
        member = groups[name].to_numpy().astype(np.int64)
        key = ("centrality", name, hashlib.blake2b(member.tobytes()).hexdigest(), damping,
               weights, exact_max, samples, seed)
        if key in self._cache:
            return self._cache[key]
        sizes = np.bincount(member)
        graph = self.igraph
        pagerank = np.asarray(graph.pagerank(directed=False, damping=damping,
                                             weights=self._pair_values(weights)))
        # Betweenness where only edges inside a group remain: one exact call for the small
        # groups together (a path never leaves its group), then sampling per large group.
        keep = self._pair_lo != self._pair_hi
        lo, hi = self._pair_lo[keep], self._pair_hi[keep]
        inside = member[lo] == member[hi]
        small = sizes[member] <= exact_max
        betweenness = np.zeros(self.node_count)
        edge_ids = np.flatnonzero(inside & small[lo])
        if len(edge_ids):
            sub = graph.subgraph_edges(edge_ids.tolist(), delete_vertices=False)
            betweenness = np.asarray(sub.betweenness(directed=False), np.float64)
        rng = np.random.default_rng(seed)
        by_group = np.argsort(member, kind="stable")
        starts = np.concatenate([[0], np.cumsum(sizes)])
        for group in np.flatnonzero(sizes > exact_max).tolist():
            rows = by_group[starts[group]:starts[group + 1]]
            sub = graph.induced_subgraph(rows.tolist(), implementation="create_from_scratch")
            size = len(rows)
            chosen = rng.choice(size, min(samples, size), replace=False)
            estimate = sub.betweenness(directed=False, sources=sorted(chosen.tolist()),
                                       targets=None)
            betweenness[rows] = np.asarray(estimate) * size / len(chosen)
        pairs = (sizes[member] - 1) * (sizes[member] - 2) / 2
        normalised = np.divide(betweenness, pairs, out=np.zeros_like(betweenness),
                               where=pairs > 0)
        frame = (self.nodes.select("id", "kind", "label", "category", "role")
                 .with_columns(pl.Series(name, member, pl.Int32),
                               pl.Series(f"{name}_size", sizes[member], pl.Int32),
                               pl.Series("pagerank", pagerank, pl.Float64),
                               pl.Series("betweenness", normalised, pl.Float64),
                               pl.Series("betweenness_exact", sizes[member] <= exact_max,
                                         pl.Boolean))
                 .with_columns(
                     pl.col("pagerank").rank("ordinal", descending=True).over(name)
                     .cast(pl.Int32).alias("pagerank_rank"),
                     pl.col("betweenness").rank("ordinal", descending=True).over(name)
                     .cast(pl.Int32).alias("betweenness_rank")))
        self._cache[key] = frame
        return frame

    def key_persons(self, k: int = 3, *, by: Literal["pagerank", "betweenness"] = "pagerank",
                    kinds: Collection[str] = ("person",), min_size: int = 3,
                    only: Collection[int] | None = None,
                    centrality: pl.DataFrame | None = None) -> pl.DataFrame:
        """The ``k`` top persons (or other ``kinds``) of each community of at least
        ``min_size`` nodes (or of the communities ``only``), by ``by``, with their scores and
        the French ``reason`` an analyst reads.

        By PageRank: the persons the community's links converge on (who holds the phones,
        the accounts, the victims: the likely *heads*). By betweenness: those on the paths
        between the community's parts (the *brokers*: recruiter, driver, collector). ``rank``
        is among the community's nodes of ``kinds``; ``pagerank_rank`` and
        ``betweenness_rank`` among all its nodes. Scores come from ``centrality`` (by default
        ``self.centrality()``)."""
        scores = centrality if centrality is not None else self.centrality()
        group = "community" if "community" in scores.columns else "component"
        other = "betweenness" if by == "pagerank" else "pagerank"
        selected = pl.col("kind").is_in(list(kinds)) & (pl.col(f"{group}_size") >= min_size)
        if only is not None:
            selected &= pl.col(group).is_in(list(only))
        top = (scores.filter(selected)
               .with_columns(
                   pl.col(by).rank("ordinal", descending=True).over(group).cast(pl.Int32)
                   .alias("rank"),
                   pl.col(other).rank("ordinal", descending=True).over(group).cast(pl.Int32)
                   .alias("_other_rank"),
                   pl.len().over(group).cast(pl.Int32).alias("_among"))
               .filter(pl.col("rank") <= k)
               .sort(group, "rank"))
        n = max(self.node_count, 1)
        names = {"pagerank": "PageRank", "betweenness": "intermédiarité"}
        reasons = []
        for row in top.iter_rows(named=True):
            share = 100 * row["betweenness"]
            paths = ("sur aucun plus court chemin" if share == 0 else
                     "sur moins de 1 % des plus courts chemins" if share < 0.5 else
                     f"sur {_number_fr(share, 0)} % des plus courts chemins")
            scores_fr = {
                "pagerank": f"{_number_fr(row['pagerank'] * n)} fois le PageRank moyen",
                "betweenness": (f"{paths} de la communauté"
                                + ("" if row["betweenness_exact"] else " (estimation)"))}
            reasons.append(
                f"{_ordinal_fr(row['rank'])} sur {_number_fr(row['_among'], 0)} par "
                f"{names[by]} dans la communauté {row[group]} "
                f"({_number_fr(row[f'{group}_size'], 0)} entités) : {scores_fr[by]} ; "
                f"{_ordinal_fr(row['_other_rank'])} par {names[other]} : {scores_fr[other]}")
        return top.drop("_other_rank", "_among").with_columns(
            pl.Series("reason", reasons, pl.Utf8))

    def heads(self, k: int = 3, *, kinds: Collection[str] = ("person",), min_size: int = 3,
              only: Collection[int] | None = None,
              centrality: pl.DataFrame | None = None) -> pl.DataFrame:
        """``key_persons`` by PageRank: who a community's links converge on."""
        return self.key_persons(k, by="pagerank", kinds=kinds, min_size=min_size, only=only,
                                centrality=centrality)

    def brokers(self, k: int = 3, *, kinds: Collection[str] = ("person",), min_size: int = 3,
                only: Collection[int] | None = None,
                centrality: pl.DataFrame | None = None) -> pl.DataFrame:
        """``key_persons`` by betweenness: who bridges a community's parts."""
        return self.key_persons(k, by="betweenness", kinds=kinds, min_size=min_size,
                                only=only, centrality=centrality)

    # -- timeline -----------------------------------------------------------------------

    def timeline(self, id: str) -> pl.DataFrame:
        """The dated facts touching an entity, oldest first: its own period (``fact`` =
        ``entity``) and each edge with a date (``fact`` = the edge's kind), with the other
        end, the direction (``out``: the entity is the edge's source), amounts and evidence.
        ``date`` is the first date (or the last when only that is known), ``end`` the last.
        Undated edges are left out: they belong to the link chart, not to a chronology."""
        row = int(self._rows([id])[0])
        _, pair, _ = self._entries(np.array([row], np.int64), None)
        rows = self._edges_of_pairs(np.unique(pair), None)
        edges = self._edge_frame(rows)
        me = self.nodes.row(row, named=True)
        outgoing = self._source[rows] == row
        other = np.where(outgoing, self._target[rows], self._source[rows])
        ends = self.nodes.select(pl.col("id").alias("other"), pl.col("kind").alias("other_kind"),
                                 pl.col("label").alias("other_label"))[other]
        facts = pl.concat([edges, ends], how="horizontal").with_columns(
            pl.coalesce("first", "last").alias("date"), pl.col("last").alias("end"),
            pl.col("kind").alias("fact"),
            pl.Series("direction", np.where(outgoing, "out", "in"), pl.Utf8))
        own = pl.DataFrame({
            "date": [me["first"] if me["first"] is not None else me["last"]],
            "end": [me["last"]], "fact": ["entity"], "direction": [None], "other": [None],
            "other_kind": [None], "other_label": [None], "weight": [None], "count": [None],
            "evidence": [None], "edge": [None]},
            schema={"date": pl.Date, "end": pl.Date, "fact": pl.Utf8, "direction": pl.Utf8,
                    "other": pl.Utf8, "other_kind": pl.Utf8, "other_label": pl.Utf8,
                    "weight": pl.Float64, "count": pl.Int64, "evidence": pl.Utf8,
                    "edge": pl.Int64})
        return (pl.concat([own, facts.select(own.columns)])
                .filter(pl.col("date").is_not_null())
                .sort("date", "end", "fact", "other", nulls_last=True))
