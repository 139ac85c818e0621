"""The combined graph's shared infrastructure: what communities leave out, and what not."""

from __future__ import annotations

import polars as pl

from faisceau.intel.picture import EDGE_SCHEMA, NODE_SCHEMA, shared_infrastructure, without


def _nodes(rows: list[tuple[str, str, str | None]]) -> pl.DataFrame:
    return pl.DataFrame([(i, k, i, None, None, c, None, None) for i, k, c in rows],
                        orient="row", schema=NODE_SCHEMA)


def _edges(pairs: list[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame([(a, b, "payment", 1.0, 1, None, None, None) for a, b in pairs],
                        orient="row", schema=EDGE_SCHEMA)


def test_only_case_less_companies_and_accounts_touching_three_cases_are_infrastructure() -> None:
    people = [(f"P{i}", "person", f"C{i}") for i in range(4)]
    nodes = _nodes([*people, ("UTILITY", "company", None), ("SHELL", "company", "C0"),
                    ("phone:+33600000000", "phone", None), ("POOL", "account", None)])
    edges = _edges([*((f"P{i}", "UTILITY") for i in range(4)),
                    *((f"P{i}", "SHELL") for i in range(4)),
                    *((f"P{i}", "phone:+33600000000") for i in range(4)),
                    ("P0", "POOL"), ("P1", "POOL")])
    assert shared_infrastructure(nodes, edges) == ["UTILITY"]
    assert shared_infrastructure(nodes, edges, min_cases=2) == ["POOL", "UTILITY"]
    kept = without(edges, ["UTILITY"])
    assert kept.height == edges.height - 4
    assert "UTILITY" not in set(kept["target"])
