"""Link analysis (``faisceau.intel.analysis``) on small hand-made graphs with known answers."""

from __future__ import annotations

import random
from datetime import date

import networkx as nx
import polars as pl
import pytest

from faisceau.intel.analysis import EDGE_SCHEMA, NODE_SCHEMA, EvidenceGraph, UnknownNodeError

D = date.fromisoformat


def frames(nodes: list[dict[str, object]], edges: list[dict[str, object]]
           ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Frames in the contract's exact columns and types (missing values null)."""
    node_rows = [{c: row.get(c) for c in NODE_SCHEMA} for row in nodes]
    edge_rows = [{c: row.get(c) for c in EDGE_SCHEMA} | {"weight": row.get("weight", 1.0),
                                                        "count": row.get("count", 1)}
                 for row in edges]
    return (pl.DataFrame(node_rows, schema=NODE_SCHEMA, orient="row"),
            pl.DataFrame(edge_rows, schema=EDGE_SCHEMA, orient="row"))


def person(id: str, **extra: object) -> dict[str, object]:
    return {"id": id, "kind": "person", "label": id.upper(), **extra}


def link(source: str, target: str, kind: str = "uses", **extra: object) -> dict[str, object]:
    return {"source": source, "target": target, "kind": kind, **extra}


@pytest.fixture(scope="module")
def graph() -> EvidenceGraph:
    """p1 and p2 share phone ph1; p2 and p3 share handle h1; p3 and p4 are family; p4 pays
    p1; hub phone ph0 is used by p1 and ten others (q0..q9); p9 and ph9 stand apart."""
    qs = [f"q{i}" for i in range(10)]
    # The hub comes right after p1, so that it is p1's first neighbour in storage order.
    nodes = [person("p1", first=D("2026-01-01"), last=D("2026-03-01")),
             {"id": "ph0", "kind": "phone", "label": "+33600000000"}, person("p2"),
             person("p3"), person("p4"), *[person(q) for q in qs], person("p9"),
             {"id": "ph1", "kind": "phone", "label": "+33600000001"},
             {"id": "ph9", "kind": "phone", "label": "+33600000009"},
             {"id": "h1", "kind": "handle", "label": "lola_75"}]
    edges = [link("p1", "ph1", first=D("2026-01-10"), last=D("2026-01-20"), evidence="ad 2"),
             link("p1", "ph1", first=D("2026-01-05"), last=D("2026-01-08"), evidence="ad 1"),
             link("p2", "ph1"), link("p2", "h1"), link("p3", "h1"),
             link("p3", "p4", "family"),
             link("p4", "p1", "pays", weight=500.0, first=D("2026-02-01"),
                  last=D("2026-02-01")),
             link("ph0", "p1"), *[link("ph0", q) for q in qs], link("p9", "ph9")]
    return EvidenceGraph.from_frames(*frames(nodes, edges))


def ids(frame: pl.DataFrame) -> set[str]:
    return set(frame["id"].to_list())


def test_neighbours_at_depth_one_and_two(graph: EvidenceGraph) -> None:
    one = graph.neighbours(["p1"], depth=1)
    assert ids(one.nodes) == {"p1", "ph1", "ph0", "p4"}
    assert dict(one.nodes.select("id", "depth").iter_rows()) == {
        "p1": 0, "ph1": 1, "ph0": 1, "p4": 1}
    assert not one.truncated and one.unexpanded == ()
    # Every edge among the nodes, parallel ones included, with the input's direction.
    pairs = sorted(zip(one.edges["source"], one.edges["target"], strict=True))
    assert pairs == [("p1", "ph1"), ("p1", "ph1"), ("p4", "p1"), ("ph0", "p1")]
    assert one.edges["edge"].sort().to_list() == [0, 1, 6, 7]
    two = graph.neighbours(["p1"], depth=2)
    assert ids(two.nodes) == ids(one.nodes) | {"p2", "p3"} | {f"q{i}" for i in range(10)}
    assert two.nodes.filter(pl.col("id") == "p3")["depth"].item() == 2
    assert ids(graph.neighbours(["p1"], depth=0).nodes) == {"p1"}


def test_neighbours_through_chosen_kinds_only(graph: EvidenceGraph) -> None:
    assert ids(graph.neighbours(["p1"], 2, kinds={"phone"}).nodes) == {"p1", "ph1", "ph0"}
    # Only people: the family and the payment, not the phones' users.
    assert ids(graph.neighbours(["p1"], 2, kinds={"person"}).nodes) == {"p1", "p4", "p3"}
    # Only payment and family edges.
    assert ids(graph.neighbours(["p1"], 3, edge_kinds={"pays", "family"}).nodes) == {
        "p1", "p4", "p3"}
    with pytest.raises(ValueError, match="phones"):
        graph.neighbours(["p1"], kinds={"phones"})


def test_neighbours_truncated_at_the_hub_not_at_the_specific_links(
        graph: EvidenceGraph) -> None:
    sub = graph.neighbours(["p1"], depth=2, limit=8)
    assert sub.nodes.height == 8 and sub.truncated
    # Specific links first: p2 (shared phone) and p3 (family of the payer) are kept, the
    # hub's crowd is what gets cut, and the hub is named.
    assert {"p2", "p3"} <= ids(sub.nodes)
    assert sub.unexpanded == ("ph0",)
    capped = graph.neighbours(["p1"], depth=2, max_degree=5)
    assert ids(capped.nodes) == {"p1", "ph1", "ph0", "p4", "p2", "p3"}
    assert capped.unexpanded == ("ph0",) and not capped.truncated
    # The chosen entity itself is expanded whatever its degree.
    assert graph.neighbours(["ph0"], max_degree=5).nodes.height == 12


def test_shortest_path(graph: EvidenceGraph) -> None:
    path = graph.shortest_path("p1", "p3")
    assert path is not None and path.nodes == ("p1", "p4", "p3") and path.hops == 2
    assert path.edges.select("hop", "kind", "source").rows() == [
        (0, "pays", "p4"), (1, "family", "p3")]
    reverse = graph.shortest_path("p3", "p1")
    assert reverse is not None and reverse.nodes == ("p3", "p4", "p1")
    by_phone = graph.shortest_path("p1", "p3", edge_kinds={"uses"})
    assert by_phone is not None and by_phone.nodes == ("p1", "ph1", "p2", "h1", "p3")
    # Every edge of each hop, in hop order: the two ads that share the phone come first.
    assert by_phone.edges.select("hop", "edge").rows() == [
        (0, 0), (0, 1), (1, 2), (2, 3), (3, 4)]
    assert graph.shortest_path("p1", "p3", edge_kinds={"uses"}, avoid_kinds={"handle"}) is None
    assert graph.shortest_path("p1", "p3", avoid_kinds={"person"}) is None
    around = graph.shortest_path("p2", "p1", avoid_kinds={"handle"})
    assert around is not None and around.nodes == ("p2", "ph1", "p1")
    assert graph.shortest_path("p1", "p3", max_hops=1) is None
    assert graph.shortest_path("p1", "p3", max_hops=2) is not None
    assert graph.shortest_path("p1", "p9") is None
    same = graph.shortest_path("p1", "p1")
    assert same is not None and same.nodes == ("p1",) and same.edges.height == 0
    assert graph.shortest_path("q0", "q5", max_degree=5) is None  # only through the hub
    hub = graph.shortest_path("ph0", "q1", max_degree=1)  # endpoints are exempt
    assert hub is not None and hub.nodes == ("ph0", "q1")


def test_edge_kinds_filter_the_evidence_returned() -> None:
    nodes, edges = frames([person("a"), person("b"), person("c")],
                          [link("a", "b", "pays"), link("a", "b", "family"),
                           link("b", "c", "family")])
    graph = EvidenceGraph.from_frames(nodes, edges)
    path = graph.shortest_path("a", "c", edge_kinds={"family"})
    assert path is not None and path.edges["kind"].to_list() == ["family", "family"]
    assert graph.shortest_path("a", "c", edge_kinds={"pays"}) is None
    paid = graph.neighbours(["a"], 2, edge_kinds={"pays"})
    assert ids(paid.nodes) == {"a", "b"} and paid.edges["kind"].to_list() == ["pays"]


def test_shortest_paths_match_networkx_on_a_random_graph() -> None:
    rng = random.Random(4)
    names = [f"n{i}" for i in range(150)]
    pairs = [(rng.choice(names), rng.choice(names)) for _ in range(190)]
    nodes, edges = frames([person(n) for n in names], [link(a, b) for a, b in pairs])
    graph = EvidenceGraph.from_frames(nodes, edges)
    reference = nx.MultiGraph(pairs)
    reference.add_nodes_from(names)
    adjacent = {frozenset(p) for p in pairs}
    for _ in range(300):
        a, b = rng.choice(names), rng.choice(names)
        path = graph.shortest_path(a, b)
        if not nx.has_path(reference, a, b):
            assert path is None
            continue
        assert path is not None and path.nodes[0] == a and path.nodes[-1] == b
        assert path.hops == nx.shortest_path_length(reference, a, b)
        assert all(frozenset(hop) in adjacent or hop[0] == hop[1]
                   for hop in zip(path.nodes, path.nodes[1:], strict=False))


def test_connecting_chosen_entities(graph: EvidenceGraph) -> None:
    sub = graph.connecting(["p1", "p3", "q0", "p9"])
    assert ids(sub.nodes) == {"p1", "p4", "p3", "ph0", "q0", "p9"}
    assert ids(sub.nodes.filter(pl.col("chosen"))) == {"p1", "p3", "q0", "p9"}
    assert sorted(sub.edges["kind"].to_list()) == ["family", "pays", "uses", "uses"]
    assert set(sub.unconnected) == {("p1", "p9"), ("p3", "p9"), ("q0", "p9")}


def test_components(graph: EvidenceGraph) -> None:
    parts = graph.components()
    apart = parts.filter(pl.col("id").is_in(["p9", "ph9"]))
    assert apart["component_size"].to_list() == [2, 2]
    assert parts.filter(pl.col("id") == "p1")["component"].item() == 0  # the largest


def cliques_and_star() -> EvidenceGraph:
    """Two 5-cliques joined by one edge; a star (hub + 6 leaves) hung on the second."""
    a, b = [f"a{i}" for i in range(5)], [f"b{i}" for i in range(5)]
    leaves = [f"l{i}" for i in range(6)]
    edges = [link(x, y, "family") for group in (a, b) for i, x in enumerate(group)
             for y in group[i + 1:]]
    edges += [link("a0", "b0", "family"), link("l0", "b4", "family")]
    edges += [link("hub", leaf, "directs") for leaf in leaves]
    nodes = [person(n) for n in [*a, *b, "hub", *leaves]]
    return EvidenceGraph.from_frames(*frames(nodes, edges))


def test_leiden_finds_the_planted_cliques_deterministically() -> None:
    graph = cliques_and_star()
    found = graph.communities(seed=7)
    group = dict(found.select("id", "community").iter_rows())
    assert len({group[f"a{i}"] for i in range(5)}) == 1
    assert len({group[f"b{i}"] for i in range(5)}) == 1
    assert group["a0"] != group["b0"]
    assert len({group["hub"], group["a0"], group["b0"]}) == 3
    assert found["community"].n_unique() == 3
    again = EvidenceGraph.from_frames(graph.nodes, graph.edges).communities(seed=7)
    assert again.equals(found)


@pytest.mark.parametrize("exact_max", [2_000, 3])  # exact, then estimated by sampling
def test_hub_of_a_star_ranks_first_within_its_community(exact_max: int) -> None:
    graph = cliques_and_star()
    scores = graph.centrality(exact_max=exact_max)
    hub = scores.filter(pl.col("id") == "hub").row(0, named=True)
    assert hub["pagerank_rank"] == 1 and hub["betweenness_rank"] == 1
    assert hub["community_size"] == 7
    assert hub["betweenness_exact"] is (exact_max >= 7)
    if exact_max >= 7:
        assert hub["betweenness"] == pytest.approx(1.0)  # every leaf pair goes through it
    leaf = scores.filter(pl.col("id") == "l3").row(0, named=True)
    assert leaf["betweenness"] == 0.0
    heads = graph.heads(k=1, only=[hub["community"]])
    assert heads["id"].to_list() == ["hub"]
    assert heads["reason"].item().startswith("1re sur 7 par PageRank")
    brokers = graph.brokers(k=2)
    assert brokers.filter(pl.col("community") == hub["community"])["id"].to_list()[0] == "hub"
    assert brokers.group_by("community").len()["len"].max() == 2


def test_timeline_in_date_order(graph: EvidenceGraph) -> None:
    facts = graph.timeline("p1")
    assert facts.select("date", "fact", "other", "direction").rows() == [
        (D("2026-01-01"), "entity", None, None),
        (D("2026-01-05"), "uses", "ph1", "out"),
        (D("2026-01-10"), "uses", "ph1", "out"),
        (D("2026-02-01"), "pays", "p4", "in"),
    ]
    assert facts["end"].to_list()[:2] == [D("2026-03-01"), D("2026-01-08")]
    assert facts.filter(pl.col("fact") == "pays")["weight"].item() == 500.0
    assert graph.timeline("p2").height == 0  # no dates at all


def test_unknown_ids_and_bad_frames_are_refused_clearly(graph: EvidenceGraph) -> None:
    with pytest.raises(KeyError, match="nope") as raised:
        graph.neighbours(["p1", "nope"])
    assert isinstance(raised.value, UnknownNodeError) and raised.value.ids == ("nope",)
    assert "inconnu" in str(raised.value)
    with pytest.raises(KeyError, match="zz"):
        graph.shortest_path("p1", "zz")
    with pytest.raises(KeyError, match="x1"):
        graph.timeline("x1")
    with pytest.raises(KeyError, match="x2"):
        graph.connecting(["p1", "x2"])
    nodes, edges = frames([person("a"), person("b")], [link("a", "c")])
    with pytest.raises(ValueError, match=r"not among the nodes: \['c'\]"):
        EvidenceGraph.from_frames(nodes, edges)
    nodes, edges = frames([person("a"), person("a")], [])
    with pytest.raises(ValueError, match="unique"):
        EvidenceGraph.from_frames(nodes, edges)
    nodes, edges = frames([person("a"), person("b")], [link("a", "b", weight=0.0)])
    with pytest.raises(ValueError, match="weight"):
        EvidenceGraph.from_frames(nodes, edges)


def test_minimal_frames_and_string_dates_are_accepted() -> None:
    nodes = pl.DataFrame({"id": ["a", "b"], "kind": ["person", "phone"]})
    edges = pl.DataFrame({"source": ["a"], "target": ["b"], "kind": ["uses"],
                          "first": ["2026-03-02"]})
    graph = EvidenceGraph.from_frames(nodes, edges)
    assert graph.nodes["label"].to_list() == ["a", "b"]
    assert graph.timeline("a")["date"].to_list() == [D("2026-03-02")]
