"""The combined graph: case files and monitoring as one set of nodes and edges.

``combined_graph`` reads the store and returns two polars frames in the shape
``faisceau.intel.analysis`` and ``faisceau.intel.exchange`` consume:

- nodes: ``id, kind, label, category, role, case_id, first, last``;
- edges: ``source, target, kind, weight, count, first, last, evidence``.

People are nodes by their resolved identity (``canonical_id``): two records of one person
are one node whose category lists every category the records hold (``victim|runaway``), so
the Directive's categories stay visible. Phones and e-mail addresses are nodes of their own
(``phone:+33…``), shared by whoever uses or mentions them, case files and ads alike. Links
between entities (Ownership, Family, CourtCaseParty...) and entity-valued properties (a
vehicle's operator) are edges; payments are summed per payer and beneficiary. From
monitoring: each network is a node, joined to the phones and e-mails its ads show, and to
the case entities it has leads with.

Everything is set-based (SQL then polars); nothing walks the store row by row.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

import polars as pl
from followthemoney import model
from sqlalchemy.engine import Connection

from faisceau.store.bulk import fetch, fetch_in, mark

NODE_SCHEMA = {"id": pl.Utf8, "kind": pl.Utf8, "label": pl.Utf8, "category": pl.Utf8,
               "role": pl.Utf8, "case_id": pl.Utf8, "first": pl.Date, "last": pl.Date}
EDGE_SCHEMA = {"source": pl.Utf8, "target": pl.Utf8, "kind": pl.Utf8, "weight": pl.Float64,
               "count": pl.Int64, "first": pl.Date, "last": pl.Date, "evidence": pl.Utf8}

# FtM schema -> node kind. Schemata not listed are not nodes (links become edges).
KINDS = {"Person": "person", "BankAccount": "account", "Company": "company",
         "Organization": "company", "LegalEntity": "company", "Vehicle": "vehicle",
         "Address": "address", "Asset": "asset", "RealEstate": "asset", "CourtCase": "case",
         "UserAccount": "handle", "Event": "event", "Sanction": "event"}
# Property values that become shared nodes of their own.
VALUE_NODES = {"phone": "phone", "email": "email"}


@cache
def _link_ends() -> dict[str, tuple[str, str, str]]:
    """Link schema -> (source property, target property, edge kind)."""
    out = {}
    for name, schema in model.schemata.items():
        if schema.edge and schema.edge_source and schema.edge_target:
            out[name] = (schema.edge_source, schema.edge_target, name.lower())
    return out


def _to_date(column: str) -> pl.Expr:
    """ISO text (a date, a moment, a year or a month) as a date; anything else as null."""
    text = pl.col(column).str.slice(0, 10)
    return (pl.when(text.str.len_chars() == 4).then(text + "-01-01")
            .when(text.str.len_chars() == 7).then(text + "-01")
            .otherwise(text).str.to_date("%Y-%m-%d", strict=False))


def _as_date(value: Any) -> date | None:
    if not value:
        return None
    text = str(value)[:10]
    if len(text) == 4:
        text += "-01-01"
    elif len(text) == 7:
        text += "-01"
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def combined_graph(conn: Connection, *, monitoring: bool = True) -> tuple[pl.DataFrame,
                                                                          pl.DataFrame]:
    """The nodes and edges of everything the store holds (see the module's docstring)."""
    entities = _entities(conn)
    canonical = dict(zip(entities["id"], entities["canonical_id"], strict=True))
    node_frames = [_entity_nodes(entities)]
    edge_frames = [_link_edges(conn, canonical), _property_edges(conn, canonical),
                   _value_edges(conn, canonical)]
    if monitoring:
        networks, network_edges = _monitoring(conn, canonical)
        node_frames.append(networks)
        edge_frames.append(network_edges)
    edges = pl.concat([f for f in edge_frames if f.height], how="vertical") if any(
        f.height for f in edge_frames) else pl.DataFrame(schema=EDGE_SCHEMA)
    edges = _sum_parallel(edges)
    value_nodes = _value_nodes(edges)
    nodes = pl.concat([*node_frames, value_nodes], how="vertical").unique("id", keep="first")
    # An edge to an entity no file describes (an account named by a payment only) keeps
    # its end as a bare node, so that nothing said is lost.
    missing = pl.concat([edges.select(id="source"), edges.select(id="target")]).unique().join(
        nodes.select("id"), on="id", how="anti")
    if missing.height:
        bare = missing.with_columns(kind=pl.lit("unknown"), label=pl.col("id"))
        nodes = pl.concat([nodes, bare.select(
            [pl.col(c) if c in bare.columns else pl.lit(None, dtype=t).alias(c)
             for c, t in NODE_SCHEMA.items()])], how="vertical")
    return nodes.sort("id"), edges.sort(["source", "target", "kind"])


def _entities(conn: Connection) -> pl.DataFrame:
    rows = fetch(conn, "SELECT id, schema, caption, category, role, case_id, first_date, "
                 "last_date, canonical_id FROM intel_entity", ())
    return pl.DataFrame(rows, orient="row", schema={
        "id": pl.Utf8, "schema": pl.Utf8, "caption": pl.Utf8, "category": pl.Utf8,
        "role": pl.Utf8, "case_id": pl.Utf8, "first_date": pl.Utf8, "last_date": pl.Utf8,
        "canonical_id": pl.Utf8})


def _entity_nodes(entities: pl.DataFrame) -> pl.DataFrame:
    kinds = pl.DataFrame({"schema": list(KINDS), "kind": list(KINDS.values())})
    frame = entities.join(kinds, on="schema", how="inner").with_columns(
        first=_to_date("first_date"), last=_to_date("last_date"))
    return frame.group_by("canonical_id").agg(
        kind=pl.col("kind").first(),
        label=pl.col("caption").drop_nulls().first(),
        category=pl.col("category").drop_nulls().unique().sort().str.join("|"),
        role=pl.col("role").drop_nulls().unique().sort().str.join("|"),
        case_id=pl.col("case_id").drop_nulls().unique().sort().str.join("|"),
        first=pl.col("first").min(), last=pl.col("last").max(),
    ).rename({"canonical_id": "id"}).with_columns(
        label=pl.coalesce("label", "id"),
        category=pl.when(pl.col("category") == "").then(None).otherwise("category"),
        role=pl.when(pl.col("role") == "").then(None).otherwise("role"),
        case_id=pl.when(pl.col("case_id") == "").then(None).otherwise("case_id"),
    ).select(list(NODE_SCHEMA))


def _edge_frame(rows: list[tuple[Any, ...]]) -> pl.DataFrame:
    """Rows of (source, target, kind, weight, first, last, evidence) -> the edge frame."""
    frame = pl.DataFrame(rows, orient="row", schema={
        "source": pl.Utf8, "target": pl.Utf8, "kind": pl.Utf8, "weight": pl.Float64,
        "first": pl.Utf8, "last": pl.Utf8, "evidence": pl.Utf8})
    return frame.with_columns(
        count=pl.lit(1, dtype=pl.Int64), first=_to_date("first"), last=_to_date("last"),
    ).select(list(EDGE_SCHEMA))


def _link_edges(conn: Connection, canonical: dict[str, str]) -> pl.DataFrame:
    """Links (Ownership, Payment, Family...): one edge each, between resolved ends."""
    ends = _link_ends()
    names = ", ".join(f"'{n}'" for n in ends)
    rows = fetch(conn, "SELECT s.entity_id, s.schema, s.prop, s.value, e.first_date, "
                 "e.last_date FROM intel_statement s JOIN intel_entity e ON e.id = s.entity_id "
                 f"WHERE s.schema IN ({names}) AND s.prop IN ('payer', 'beneficiary', "
                 "'payerAccount', 'beneficiaryAccount', 'amount', 'role', "
                 + ", ".join(sorted({f"'{p}'" for s, t, _ in ends.values() for p in (s, t)}))
                 + ")", ())
    links: dict[str, dict[str, Any]] = {}
    for entity_id, schema, prop, value, first, last in rows:
        link = links.setdefault(entity_id, {"schema": schema, "first": first, "last": last})
        link.setdefault(prop, value)
    out = []
    for entity_id, link in links.items():
        source_prop, target_prop, kind = ends[link["schema"]]
        weight = _amount(link.get("amount"))
        evidence = link.get("role") or entity_id
        pairs = [(link.get(source_prop), link.get(target_prop))]
        if link["schema"] == "Payment":
            pairs.append((link.get("payerAccount"), link.get("beneficiaryAccount")))
        for source, target in pairs:
            if source and target:
                out.append((canonical.get(source, source), canonical.get(target, target),
                            kind, weight, link["first"], link["last"], evidence))
    return _edge_frame(out)


def _amount(value: Any) -> float:
    try:
        return max(float(value), 1.0)
    except (TypeError, ValueError):
        return 1.0


def _property_edges(conn: Connection, canonical: dict[str, str]) -> pl.DataFrame:
    """Entity-valued properties of entities that are not links (a vehicle's operator, an
    online account's owner, a report's person)."""
    links = ", ".join(f"'{n}'" for n in _link_ends())
    rows = fetch(conn, "SELECT DISTINCT s.entity_id, s.prop, s.value, e.first_date, "
                 "e.last_date FROM intel_statement s JOIN intel_entity e ON e.id = s.entity_id "
                 f"WHERE s.prop_type = 'entity' AND s.schema NOT IN ({links})", ())
    return _edge_frame([(canonical.get(a, a), canonical.get(b, b), prop, 1.0, first, last,
                         None) for a, prop, b, first, last in rows])


def _value_edges(conn: Connection, canonical: dict[str, str]) -> pl.DataFrame:
    """Who uses or mentions which phone and e-mail address (and the bookings' phones)."""
    rows = fetch(conn, "SELECT entity_id, prop_type, value, MIN(fact_date), MIN(origin) "
                 "FROM intel_statement WHERE prop_type IN ('phone', 'email') "
                 "GROUP BY entity_id, prop_type, value", ())
    out = [(canonical.get(e, e), f"{VALUE_NODES[t]}:{v}", "uses", 1.0, d, d, origin)
           for e, t, v, d, origin in rows]
    bookings = fetch(conn, "SELECT entity_id, value, MIN(fact_date), MIN(origin) "
                     "FROM intel_statement WHERE prop = 'keywords' "
                     f"AND value LIKE {mark(conn)} GROUP BY entity_id, value",
                     ("booking_phone:%",))
    out += [(canonical.get(e, e), "phone:" + v.split(":", 1)[1], "booked", 1.0, d, d, origin)
            for e, v, d, origin in bookings]
    return _edge_frame(out)


def _monitoring(conn: Connection, canonical: dict[str, str]) -> tuple[pl.DataFrame,
                                                                       pl.DataFrame]:
    """Networks, their phones and e-mails (as the ads show them), and their leads."""
    networks = fetch(conn, "SELECT n.id, n.ads, n.first_seen, n.last_seen, s.risk "
                     "FROM network n LEFT JOIN network_score s ON s.network_id = n.id "
                     "WHERE n.status = 'active'", ())
    nodes = pl.DataFrame([
        (f"network:{nid}", "network", network_label(nid, ads, risk), None, None, None,
         _as_date(first), _as_date(last))
        for nid, ads, first, last, risk in networks], orient="row", schema=NODE_SCHEMA)
    keys = fetch(conn, "SELECT an.network_id, k.kind, k.value, COUNT(DISTINCT k.ad_pk), "
                 "MIN(a.first_seen), MAX(a.last_seen) FROM link_key k "
                 "JOIN ad_network an ON an.ad_pk = k.ad_pk JOIN ad a ON a.id = k.ad_pk "
                 "WHERE k.kind IN ('phone', 'email') "
                 "GROUP BY an.network_id, k.kind, k.value", ())
    edges = [(f"network:{nid}", f"{kind}:{value}", "advertises", float(ads), first, last,
              f"{ads} annonces") for nid, kind, value, ads, first, last in keys]
    leads = fetch(conn, "SELECT l.network_id, l.entity_id, l.kind, l.ads, l.first_seen, "
                  "l.last_seen FROM intel_lead l WHERE NOT EXISTS (SELECT 1 FROM "
                  "intel_lead_decision d WHERE d.lead_id = l.id AND d.decision = 'dismissed' "
                  "AND d.id = (SELECT MAX(d2.id) FROM intel_lead_decision d2 "
                  "WHERE d2.lead_id = l.id))", ())
    edges += [(f"network:{nid}", canonical.get(eid, eid), "lead", float(ads), first, last,
               f"piste ({kind})") for nid, eid, kind, ads, first, last in leads]
    frame = _edge_frame([(a, b, k, w, _iso(f), _iso(la), e) for a, b, k, w, f, la, e in edges])
    return nodes, frame


def network_label(network_id: str, ads: int, risk: float | None) -> str:
    """A network node's label: its id, its ads and its risk."""
    return (f"réseau {network_id} ({ads} annonces"
            + (f", risque {risk:.2f})" if risk is not None else ")"))


def advertised_by(conn: Connection, ad_pks: list[int]) -> pl.DataFrame:
    """What these ads add to their networks' ``advertises`` edges: source (the network
    node), target (the phone or e-mail node) and how many of the ads show it. A viewer who
    may not see some ads takes their part out of the edges."""
    rows = fetch_in(conn, "SELECT an.network_id, k.kind, k.value, k.ad_pk FROM link_key k "
                    "JOIN ad_network an ON an.ad_pk = k.ad_pk", "k.ad_pk", ad_pks) \
        if ad_pks else []
    pairs = {(f"network:{nid}", f"{kind}:{value}", int(pk)) for nid, kind, value, pk in rows
             if kind in VALUE_NODES}
    frame = pl.DataFrame([(a, b) for a, b, _pk in pairs], orient="row",
                         schema={"source": pl.Utf8, "target": pl.Utf8})
    return frame.group_by(["source", "target"]).agg(ads=pl.len())


def _iso(value: Any) -> str | None:
    return value.isoformat()[:10] if value is not None and hasattr(value, "isoformat") else (
        str(value)[:10] if value else None)


def _sum_parallel(edges: pl.DataFrame) -> pl.DataFrame:
    """Edges of one kind between the same two nodes become one, weights and counts summed:
    350 payments from a victim to a collector are one edge of weight their total."""
    return edges.group_by(["source", "target", "kind"]).agg(
        weight=pl.col("weight").sum(), count=pl.col("count").sum(),
        first=pl.col("first").min(), last=pl.col("last").max(),
        evidence=pl.col("evidence").drop_nulls().first(),
    ).filter(pl.col("source") != pl.col("target")).select(list(EDGE_SCHEMA))


def _value_nodes(edges: pl.DataFrame) -> pl.DataFrame:
    ends = pl.concat([edges.select(id="source"), edges.select(id="target")]).unique()
    values = ends.filter(pl.col("id").str.contains(r"^(phone|email):"))
    return values.with_columns(
        kind=pl.col("id").str.extract(r"^(phone|email):", 1),
        label=pl.col("id").str.replace(r"^(phone|email):", ""),
    ).with_columns([pl.lit(None, dtype=t).alias(c) for c, t in NODE_SCHEMA.items()
                    if c not in ("id", "kind", "label")]).select(list(NODE_SCHEMA))


# Kinds of entities that can be shared infrastructure: a service every case pays (an
# electricity supplier, the ad site, a money-transfer service) is a company or an account.
# Phones and e-mail addresses never are: one shared across cases is a lead, not noise.
INFRASTRUCTURE_KINDS = ("company", "account")


def shared_infrastructure(nodes: pl.DataFrame, edges: pl.DataFrame, *,
                          min_cases: int = 3) -> list[str]:
    """Entities that belong to no case yet touch the entities of ``min_cases`` different
    cases or more: the utilities, platforms and banks' pooled accounts everyone pays.

    They are real facts, kept for paths and neighbours, but they say nothing about who
    works with whom: left in, they fuse every case that pays the same supplier into one
    community and pull centrality towards whoever pays most bills. Community detection and
    key persons therefore leave them out (measured: docs/benchmarks.md, issue 6)."""
    ends = pl.concat([edges.select(id="source", other="target"),
                      edges.select(id="target", other="source")])
    cases = nodes.select(pl.col("id").alias("other"), pl.col("case_id").alias("other_case"))
    span = (ends.join(cases, on="other").filter(pl.col("other_case").is_not_null())
            .group_by("id").agg(cases=pl.col("other_case").n_unique()))
    candidates = nodes.filter(pl.col("case_id").is_null()
                              & pl.col("kind").is_in(list(INFRASTRUCTURE_KINDS)))
    return sorted(candidates.join(span, on="id").filter(pl.col("cases") >= min_cases)["id"]
                  .to_list())


def without(edges: pl.DataFrame, ids: list[str]) -> pl.DataFrame:
    """The edges that touch none of ``ids``."""
    if not ids:
        return edges
    dropped = pl.Series(ids, dtype=pl.Utf8).implode()
    return edges.filter(~pl.col("source").is_in(dropped) & ~pl.col("target").is_in(dropped))
