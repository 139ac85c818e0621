"""Case and entity pages with link analysis (neighbours, path between two entities) in an
interactive graph; need-to-know on case-file records, reasons for sensitive views.

Every read goes through ``faisceau.web.consult``. Need-to-know is decided by
``faisceau.share.access`` (``case_visibility``, ``entity_visibility``): an entity follows its
case unless it has a distribution of its own. A resolved person spanning several cases shows
only its records (and their values) in cases the viewer may see; an entity the viewer may
not see answers as a missing one (404, from the same statements). Leads are shown by
``access.visible_leads`` (their own distribution or their entity's, their network, the ads
behind them), with their ads counted as the viewer sees them.

Sensitive views (Directive 2016/680, art. 10): a victim, a minor or a runaway report is
shown only once the user has given a reason ("motif de consultation"). One reason covers
that record (a resolved person, or a case's people) for the rest of the session; it is
written again in the log entry of every later view of the record. Without it, the record
is masked wherever it appears (``faisceau.web.disclosure``): a case's parties, a lead's
value, a graph node and its phone, anywhere in an answer.

Link analysis runs on the viewer's own subgraph (``GraphCache``): every edge of the combined
graph carries the records that state it, and the viewer's graph keeps only the edges stated
by records they may see, and the nodes those records make. A path therefore never goes
through a hidden record, and a resolved person is shown under one of the viewer's records,
never under the id of a hidden one. Monitoring's part is the viewer's too: networks by
``access.network_visibility``, their edges to phones from the ads the viewer may see, their
leads by ``access.visible_leads``.
"""

from __future__ import annotations

import io
import itertools
import re
import threading
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
import polars as pl
from fastapi import APIRouter, Depends, Form, Header, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from followthemoney import model
from followthemoney.statement import Statement
from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection

from faisceau.intel.analysis import EvidenceGraph, Subgraph
from faisceau.intel.exchange import entities_from_statements, write_ftm
from faisceau.intel.facts import statements_of_records
from faisceau.intel.inspect import CATEGORY_LABELS, case_detail, list_cases, role_label
from faisceau.intel.leads import leads_for_entity
from faisceau.intel.people import PROP_LABELS
from faisceau.intel.picture import KINDS, advertised_by, combined_graph, network_label
from faisceau.share.access import (
    HIDDEN,
    MASKED,
    MISSING,
    READERS,
    SENSITIVE_CATEGORIES,
    VISIBLE,
    AdScope,
    Viewer,
    ad_scope,
    can_see,
    case_distributions,
    case_visibility,
    default_distribution,
    entity_visibility,
    is_sensitive,
    network_visibility,
    owning_unit,
    set_distributions,
    visible_ad_counts,
    visible_cases,
    visible_entities,
    visible_leads,
)
from faisceau.share.accounts import User
from faisceau.store import Store
from faisceau.store.bulk import changes, fetch, fetch_in, mark
from faisceau.web.api import ErrorOut
from faisceau.web.consult import NotThere, Reading, Refused, consult, leads_seen
from faisceau.web.disclosure import (
    Disclosure,
    case_key,
    person_key,
    remember_reason,
    remembered_reason,
    session_reasons,
)
from faisceau.web.pages import render
from faisceau.web.security import current_user, store_of

CASE_NOT_FOUND = "Dossier introuvable."
ENTITY_NOT_FOUND = "Entité introuvable."
MIN_REASON, MAX_REASON = 10, 300
REASON_REQUIRED = (
    "Motif de consultation requis : cette fiche concerne une victime, un mineur ou un "
    f"signalement de fugue (données sensibles). Indiquez un motif de {MIN_REASON} à "
    f"{MAX_REASON} caractères (paramètre « motif » ou en-tête X-Motif-Consultation).")
REASON_HEADER = "X-Motif-Consultation"
GRAPH_LIMIT = 150
PATH_MAX_HOPS = 8
VIEWER_GRAPHS = 8
EDGE_LABELS = {"uses": "utilise", "booked": "a réservé via", "lead": "piste",
               "advertises": "annonce", "courtcaseparty": "partie à la procédure",
               "family": "famille", "ownership": "propriété", "payment": "paiement",
               "directorship": "dirigeant", "unknownlink": "lien", "owner": "titulaire",
               "operator": "utilisateur", "involved": "concerné"}
KIND_LABELS = {"person": "personne", "phone": "téléphone", "email": "courriel",
               "account": "compte bancaire", "company": "société", "vehicle": "véhicule",
               "address": "hébergement", "asset": "bien", "case": "dossier",
               "handle": "compte en ligne", "event": "événement", "network": "réseau",
               "unknown": "inconnu"}
CASE_SECTIONS = (("accommodations", "Hébergements", ("Address",)),
                 ("vehicles", "Véhicules", ("Vehicle",)),
                 ("accounts", "Comptes bancaires", ("BankAccount",)),
                 ("companies", "Sociétés", ("Company", "Organization", "LegalEntity")),
                 ("assets", "Biens", ("Asset", "RealEstate")),
                 ("online_accounts", "Comptes en ligne", ("UserAccount",)))


# --- Models (the OpenAPI schema) -----------------------------------------------------------


class CaseRowOut(BaseModel):
    case_id: str
    number: str | None
    unit: str | None
    departement: str | None
    opened: str | None
    closed: str | None
    status: str | None
    offences: list[str]
    suspects: int
    victims: int
    witnesses: int
    others: int


class CasesOut(BaseModel):
    cases: list[CaseRowOut]


class PartyOut(BaseModel):
    id: str
    caption: str | None = Field(description="absent tant qu'aucun motif n'est donné (victimes)")
    category: str
    role: str | None
    status: str | None
    minor: bool
    masked: bool
    phones: list[str]


class ItemOut(BaseModel):
    id: str
    schema_: str = Field(alias="schema", serialization_alias="schema")
    caption: str
    details: dict[str, list[str]]


class TransactionOut(BaseModel):
    id: str
    date: str | None
    amount: str | None
    currency: str | None
    payer: str | None = Field(description="entité visible, sinon absent")
    beneficiary: str | None


class PhoneOut(BaseModel):
    number: str
    holders: list[str]


class LeadOut(BaseModel):
    id: str
    network_id: str
    entity_id: str
    kind: str
    value: str | None = Field(description="masquée sans motif pour une victime, un mineur, "
                                          "une fugue, ou un prénom")
    ads: int
    strength: float
    status: str


class CaseOut(BaseModel):
    case: CaseRowOut
    reason_required: bool = Field(description="des victimes sont masquées faute de motif")
    suspects: list[PartyOut]
    victims: list[PartyOut]
    witnesses: list[PartyOut]
    others: list[PartyOut]
    phones: list[PhoneOut]
    sections: dict[str, list[ItemOut]]
    transactions: list[TransactionOut]
    leads: list[LeadOut]


class SourceOut(BaseModel):
    entity_id: str
    dataset: str
    case_id: str | None
    unit: str | None
    fact_date: str | None
    origin: str = Field(description="fichier:ligne")


class StatementValueOut(BaseModel):
    prop: str
    label: str
    value: str
    sources: list[SourceOut]


class MemberOut(BaseModel):
    id: str
    category: str | None
    category_label: str | None
    role: str | None
    minor: bool
    case_id: str | None
    unit: str | None
    departement: str | None


class NodeOut(BaseModel):
    id: str
    kind: str
    label: str
    category: str | None
    cases: list[str]
    sensitive: bool
    masked: bool
    url: str | None
    depth: int | None = None


class EdgeOut(BaseModel):
    source: str
    target: str
    kind: str
    label: str


class GraphOut(BaseModel):
    nodes: list[NodeOut]
    edges: list[EdgeOut]
    truncated: bool = False
    found: bool = True


class LinkOut(BaseModel):
    node: NodeOut
    labels: list[str] = Field(description="la nature des liens avec l'entité")


class EntityOut(BaseModel):
    id: str
    schema_: str = Field(alias="schema", serialization_alias="schema")
    caption: str
    kind_label: str
    category: str | None
    category_label: str | None
    role: str | None
    status: str | None
    minor: bool
    sensitive: bool
    case_id: str | None
    unit: str | None
    departement: str | None
    node: str | None = Field(description="le nœud du graphe de cette entité")
    members: list[MemberOut]
    values: list[StatementValueOut]
    leads: list[LeadOut]
    neighbours: GraphOut
    links: list[LinkOut]


# --- Reasons for sensitive views -----------------------------------------------------------


def checked_reason(text: str | None) -> str | None:
    """The reason, stripped, if it is long enough to mean something; else None."""
    reason = " ".join((text or "").split())
    return reason if MIN_REASON <= len(reason) <= MAX_REASON else None


def _reason_of(request: Request, key: str, given: str | None) -> str | None:
    """The reason for this view: one given now (then remembered), or earlier this session."""
    reason = checked_reason(given)
    if reason is not None:
        remember_reason(request, key, reason)
        return reason
    return remembered_reason(request, key)


# --- The viewer's graph --------------------------------------------------------------------


@dataclass
class _Full:
    """The combined graph and, for each edge, the records that state it."""

    nodes: pl.DataFrame
    edges: pl.DataFrame
    support: pl.DataFrame  # a, b (a <= b), kind, record: an entity id or network:ID
    entities: pl.DataFrame  # id, canonical_id, case_id, unit, departement, caption...


@dataclass
class ViewerGraph:
    graph: EvidenceGraph | None
    ids: set[str]  # the graph's node ids
    node_of: dict[str, str]  # canonical id -> the node id the viewer sees
    canonical_of_node: dict[str, str]
    sensitive: set[str]  # node ids
    records: dict[str, list[str]]  # node id -> the viewer's records of its entity


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def _link_schemata() -> set[str]:
    return {name for name, schema in model.schemata.items()
            if schema.edge and schema.edge_source and schema.edge_target}


def _support(conn: Connection, canonical: dict[str, str]) -> pl.DataFrame:
    """Which record states each edge: the rows ``combined_graph`` makes its edges from,
    read again with their entity (a link's ends pair up under the link's own schema)."""
    links = _link_schemata()
    rows: list[tuple[str, str, str, str]] = []
    ends: dict[str, tuple[str, list[str]]] = {}
    for entity_id, schema, prop, value in fetch(
            conn, "SELECT s.entity_id, e.schema, s.prop, s.value FROM intel_statement s "
                  "JOIN intel_entity e ON e.id = s.entity_id WHERE s.prop_type = 'entity'", ()):
        target = canonical.get(value, value)
        if schema in links:
            ends.setdefault(entity_id, (schema.lower(), []))[1].append(target)
        else:
            rows.append((*_pair(canonical.get(entity_id, entity_id), target), prop, entity_id))
    for entity_id, (kind, targets) in ends.items():
        for a, b in itertools.combinations(sorted(set(targets)), 2):
            rows.append((a, b, kind, entity_id))
    for entity_id, prop_type, value in fetch(
            conn, "SELECT DISTINCT entity_id, prop_type, value FROM intel_statement "
                  "WHERE prop_type IN ('phone', 'email')", ()):
        rows.append((*_pair(canonical.get(entity_id, entity_id), f"{prop_type}:{value}"),
                     "uses", entity_id))
    for entity_id, value in fetch(
            conn, "SELECT DISTINCT entity_id, value FROM intel_statement WHERE prop = "
                  f"'keywords' AND value LIKE {mark(conn)}", ("booking_phone:%",)):
        rows.append((*_pair(canonical.get(entity_id, entity_id),
                            "phone:" + value.split(":", 1)[1]), "booked", entity_id))
    for network_id, entity_id in fetch(conn, "SELECT network_id, entity_id FROM intel_lead", ()):
        rows.append((*_pair(f"network:{network_id}", canonical.get(entity_id, entity_id)),
                     "lead", entity_id))
    return pl.DataFrame(rows, orient="row", schema={"a": pl.Utf8, "b": pl.Utf8,
                                                    "kind": pl.Utf8, "record": pl.Utf8})


def build_full(conn: Connection) -> _Full:
    """The combined graph of the store with the records behind each edge."""
    nodes, edges = combined_graph(conn)
    entities = pl.DataFrame(
        fetch(conn, "SELECT id, canonical_id, schema, case_id, unit, departement, caption, "
                    "category, minor FROM intel_entity", ()), orient="row",
        schema={"id": pl.Utf8, "canonical_id": pl.Utf8, "schema": pl.Utf8, "case_id": pl.Utf8,
                "unit": pl.Utf8, "departement": pl.Utf8, "caption": pl.Utf8,
                "category": pl.Utf8, "minor": pl.Boolean})
    canonical = dict(zip(entities["id"], entities["canonical_id"], strict=True))
    return _Full(nodes, edges, _support(conn, canonical), entities)


def _visible_records(conn: Connection, viewer: Viewer, scope: AdScope,
                     full: _Full) -> tuple[set[str], set[str]]:
    """The entity ids and the network node ids the viewer may see (entities decided by
    case, with the distributions set on single records; networks by
    ``access.network_visibility``)."""
    entities = full.entities
    cases = sorted({c for c in entities["case_id"].to_list() if c})
    case_seen = {c: can_see(viewer, d) for c, d in case_distributions(conn, cases).items()}
    own = set_distributions(conn, "entity")
    seen: set[str] = set()
    for entity_id, case_id, unit, departement in entities.select(
            "id", "case_id", "unit", "departement").iter_rows():
        if entity_id in own:
            ok = can_see(viewer, own[entity_id])
        elif case_id:
            ok = case_seen.get(case_id, False)
        else:
            ok = can_see(viewer, default_distribution("entity",
                                                      owning_unit(unit, departement)))
        if ok:
            seen.add(entity_id)
    networks = [n[8:] for n in full.nodes.filter(pl.col("kind") == "network")["id"].to_list()]
    answers = network_visibility(conn, viewer, scope, networks)
    return seen, {f"network:{n}" for n in networks if answers[n] == VISIBLE}


def _advertised(conn: Connection, scope: AdScope, advertised: pl.DataFrame) -> pl.DataFrame:
    """The networks' edges to the phones and e-mails their ads show, from the ads the
    viewer may see only."""
    if scope.unrestricted:
        return advertised
    only = scope.only_pks()
    if only is not None:
        shown = advertised_by(conn, only)
        return advertised.join(shown, on=["source", "target"], how="inner").with_columns(
            weight=pl.col("ads").cast(pl.Float64)).drop("ads")
    hidden = advertised_by(conn, scope.hidden_pks())
    return (advertised.join(hidden, on=["source", "target"], how="left")
            .with_columns(weight=pl.col("weight") - pl.col("ads").fill_null(0))
            .filter(pl.col("weight") > 0).drop("ads"))


def _relabelled(conn: Connection, scope: AdScope, nodes: pl.DataFrame) -> pl.DataFrame:
    """Network nodes labelled with the number of ads the viewer sees of them."""
    if scope.unrestricted:
        return nodes
    ids = sorted({str(r[0]) for r in fetch_in(conn, "SELECT network_id FROM ad_network",
                                               "ad_pk", scope.ruled_pks())})
    rows = fetch_in(conn, "SELECT n.id, n.ads, s.risk FROM network n LEFT JOIN network_score "
                    "s ON s.network_id = n.id", "n.id", ids)
    counts = visible_ad_counts(conn, scope, {str(r[0]): int(r[1]) for r in rows})
    labels = {f"network:{n}": network_label(str(n), counts[str(n)], risk)
              for n, _ads, risk in rows}
    if not labels:
        return nodes
    frame = pl.DataFrame({"id": list(labels), "relabel": list(labels.values())},
                         schema={"id": pl.Utf8, "relabel": pl.Utf8})
    return (nodes.join(frame, on="id", how="left")
            .with_columns(label=pl.coalesce("relabel", "label")).drop("relabel"))


def _lead_edges(conn: Connection, viewer: Viewer, scope: AdScope, full: _Full,
                edges: pl.DataFrame) -> pl.DataFrame:
    """``edges`` with only the lead edges of leads the viewer may see
    (``access.visible_leads``: the lead's distribution, its network, its evidence ads)."""
    leads = [{"id": r[0], "network_id": r[1], "entity_id": r[2],
              "evidence": orjson.loads(r[3]), "ads": int(r[4])}
             for r in fetch(conn, "SELECT id, network_id, entity_id, evidence, ads "
                                  "FROM intel_lead", ())]
    seen = visible_leads(conn, viewer, scope, leads)
    canonical = dict(zip(full.entities["id"], full.entities["canonical_id"], strict=True))
    pairs = {(f"network:{x['network_id']}", canonical.get(x["entity_id"], x["entity_id"]))
             for x in leads if x["id"] in seen}
    allowed = pl.DataFrame([list(p) for p in sorted(pairs)], orient="row",
                           schema={"source": pl.Utf8, "target": pl.Utf8})
    is_lead = pl.col("kind") == "lead"
    return pl.concat([edges.filter(~is_lead),
                      edges.filter(is_lead).join(allowed, on=["source", "target"],
                                                 how="semi")])


def build_viewer_graph(conn: Connection, viewer: Viewer, full: _Full) -> ViewerGraph:
    """The part of the graph the viewer's records state (see the module's docstring)."""
    scope = ad_scope(conn, viewer)
    seen, networks = _visible_records(conn, viewer, scope, full)
    members = full.entities.filter(pl.col("id").is_in(pl.Series(sorted(seen), dtype=pl.Utf8)
                                                       .implode()))
    # Each resolved entity is shown under its smallest visible record, with what the
    # visible records say of it only.
    people = members.sort("id").group_by("canonical_id", maintain_order=True).agg(
        node=pl.col("id").first(),
        records=pl.col("id"),
        label=pl.col("caption").drop_nulls().first(),
        category=pl.col("category").drop_nulls().unique().sort().str.join("|"),
        case_id=pl.col("case_id").drop_nulls().unique().sort().str.join("|"),
        sensitive=(pl.col("category").is_in(list(SENSITIVE_CATEGORIES))
                   | pl.col("minor").fill_null(False)).any(),
    ).with_columns([pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)
                    for c in ("category", "case_id")])
    node_of = dict(zip(people["canonical_id"], people["node"], strict=True))
    records = pl.Series(sorted(seen | networks), dtype=pl.Utf8).implode()
    stated = full.support.filter(pl.col("record").is_in(records)).select(
        "a", "b", "kind").unique()
    edges = full.edges.with_columns(
        a=pl.min_horizontal("source", "target"), b=pl.max_horizontal("source", "target"))
    # A network states what its ads show: its edges to phones and e-mails.
    advertised = edges.filter((pl.col("kind") == "advertises")
                              & pl.col("source").is_in(pl.Series(sorted(networks),
                                                                 dtype=pl.Utf8).implode()))
    advertised = _advertised(conn, scope, advertised)
    kept = _lead_edges(conn, viewer, scope, full, pl.concat(
        [edges.join(stated, on=["a", "b", "kind"], how="semi"), advertised]))
    entity_nodes = set(node_of)
    all_entity_nodes = set(full.entities["canonical_id"].to_list())
    # Both ends must be shown: an entity's node only when one of its records is visible.
    hidden = (all_entity_nodes - entity_nodes) | (
        set(full.nodes.filter(pl.col("kind") == "network")["id"].to_list()) - networks)
    kept = kept.filter(~pl.col("source").is_in(pl.Series(sorted(hidden),
                                                         dtype=pl.Utf8).implode())
                       & ~pl.col("target").is_in(pl.Series(sorted(hidden),
                                                           dtype=pl.Utf8).implode()))
    ends = set(kept["source"].to_list()) | set(kept["target"].to_list())
    shown = ends | (entity_nodes & set(full.nodes["id"].to_list())) | networks
    nodes = _relabelled(conn, scope, full.nodes.filter(
        pl.col("id").is_in(pl.Series(sorted(shown), dtype=pl.Utf8).implode())))
    rename = pl.DataFrame({"id": list(node_of), "new": list(node_of.values())},
                          schema={"id": pl.Utf8, "new": pl.Utf8})
    nodes = (nodes.join(people.rename({"canonical_id": "id"}), on="id", how="left")
             .with_columns(label=pl.coalesce("label_right", "label"),
                           category=pl.when(pl.col("node").is_not_null())
                           .then(pl.col("category_right")).otherwise(pl.col("category")),
                           case_id=pl.when(pl.col("node").is_not_null())
                           .then(pl.col("case_id_right")).otherwise(pl.col("case_id")),
                           id=pl.coalesce("node", "id"))
             .select(full.nodes.columns))
    kept = (kept.drop("a", "b")
            .join(rename.rename({"id": "source"}), on="source", how="left")
            .with_columns(source=pl.coalesce("new", "source")).drop("new")
            .join(rename.rename({"id": "target"}), on="target", how="left")
            .with_columns(target=pl.coalesce("new", "target")).drop("new"))
    sensitive = set(people.filter(pl.col("sensitive"))["node"].to_list())
    graph = EvidenceGraph.from_frames(nodes, kept) if nodes.height else None
    return ViewerGraph(graph, set(nodes["id"].to_list()), node_of,
                       {v: k for k, v in node_of.items()}, sensitive,
                       dict(zip(people["node"], people["records"].to_list(), strict=True)))


# Who may see what changes at once: this marker is read on every query (a small table).
SHARING_SQL = ("SELECT (SELECT COUNT(*) FROM share_distribution), "
               "(SELECT MAX(set_at) FROM share_distribution)")


class GraphCache:
    """One combined graph per process, rebuilt when the store has changed, and the graphs
    of the last few kinds of viewer (a unit and its groups see the same records).

    Both markers are read on every query, and both are a few small rows: the stages'
    change counters (``store_change``: detection, case files, people, leads) and the
    sharing marker, so that a new case file or a restriction applies at once. One lock
    guards building and querying: the graph's caches are not thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.builds = 0
        self._full: _Full | None = None
        self._marker: tuple[Any, ...] | None = None
        self._viewers: OrderedDict[tuple[Any, ...], ViewerGraph] = OrderedDict()

    @staticmethod
    def markers(conn: Connection) -> tuple[Any, ...]:
        """What the graphs depend on (a few small rows): read before taking the lock, so
        that no reader waits on another's round trips to the database."""
        sharing = tuple(str(v) for v in fetch(conn, SHARING_SQL, ())[0])
        return changes(conn), sharing

    def _current(self, conn: Connection, marker: Any) -> _Full:
        if self._full is None or marker != self._marker:
            self._full = build_full(conn)
            self._marker = marker
            self._viewers.clear()
            self.builds += 1
        return self._full

    def viewer_graph(self, conn: Connection, viewer: Viewer,
                     markers: tuple[Any, ...]) -> ViewerGraph:
        """The viewer's graph as of ``markers``; call with ``lock`` held."""
        stages, sharing = markers
        full = self._current(conn, stages)
        key = (viewer.unit, tuple(sorted(viewer.groups)), sharing)
        found = self._viewers.get(key)
        if found is None:
            found = build_viewer_graph(conn, viewer, full)
            self._viewers[key] = found
            while len(self._viewers) > VIEWER_GRAPHS:
                self._viewers.popitem(last=False)
        self._viewers.move_to_end(key)
        return found


def graph_cache(request: Request) -> GraphCache:
    cache = getattr(request.app.state, "entity_graph", None)
    if cache is None:
        cache = request.app.state.entity_graph = GraphCache()
    return cache


def _asked(conn: Connection, viewer: Viewer, given: str) -> tuple[str, str] | None:
    """What an id as given stands for, from the database (before the graph lock): one of the
    viewer's records ("record", its resolved entity), or a phone, e-mail or network node.
    The same statements whatever it is: a hidden record costs what a missing one does."""
    answer = entity_visibility(conn, viewer, [given])[given]
    if answer.visibility != MISSING:
        return ("record", str(answer.canonical_id)) if answer.visibility == VISIBLE else None
    return ("node", given) if given.startswith(("phone:", "email:", "network:")) else None


def _node_id(vg: ViewerGraph, asked: tuple[str, str] | None) -> str | None:
    """The viewer's node for what was asked (a record shows under its resolved entity's
    node), if their graph has it."""
    if asked is None:
        return None
    node = vg.node_of.get(asked[1]) if asked[0] == "record" else asked[1]
    return node if node in vg.ids else None


def _graph_out(disclosure: Disclosure, vg: ViewerGraph, nodes: pl.DataFrame,
               edges: pl.DataFrame, **extra: Any) -> dict[str, Any]:
    """Nodes and edges as the answer shows them: a sensitive person is masked unless the
    session holds a reason for them or one of their cases (``Disclosure``)."""
    out_nodes = []
    for row in nodes.iter_rows(named=True):
        node_id = row["id"]
        sensitive = node_id in vg.sensitive
        canonical = vg.canonical_of_node.get(node_id)
        cases = [c for c in (row["case_id"] or "").split("|") if c]
        # Every record of the person counts: a phone the node's own record does not state
        # may come from another of its records.
        masked = any([disclosure.state_of(record, sensitive, canonical_id=canonical,
                                          case_ids=cases) == MASKED
                      for record in vg.records.get(node_id, [node_id])])
        kind = row["kind"] or "unknown"
        if kind == "network":
            url: str | None = f"/reseaux/{node_id[8:]}"
        elif kind == "case":
            url = f"/dossiers/{node_id}"
        elif canonical is not None:
            url = f"/entites/{node_id}"
        else:
            url = None
        label = (f"{KIND_LABELS.get(kind, kind)} (identité masquée)" if masked
                 else row["label"] or node_id)
        out_nodes.append({"id": node_id, "kind": kind, "label": label,
                          "category": row["category"], "cases": cases,
                          "sensitive": sensitive, "masked": masked, "url": url,
                          "depth": row.get("depth")})
    out_edges = [{"source": s, "target": t, "kind": k, "label": EDGE_LABELS.get(k, k)}
                 for s, t, k in edges.select("source", "target", "kind").unique(
                     maintain_order=True).iter_rows()]
    return {"nodes": out_nodes, "edges": out_edges, **extra}


def _neighbours(disclosure: Disclosure, vg: ViewerGraph, node: str,
                depth: int) -> dict[str, Any]:
    assert vg.graph is not None
    sub: Subgraph = vg.graph.neighbours([node], depth, limit=GRAPH_LIMIT)
    return _graph_out(disclosure, vg, sub.nodes, sub.edges, truncated=sub.truncated)


# --- Reads shared by pages and API ---------------------------------------------------------


def _case_row(row: Any, hidden: Counter[str] | None = None) -> dict[str, Any]:
    """A case's line: its people counted by category, but for the ``hidden`` ones."""
    people = Counter(row.people)
    people.subtract(hidden or Counter())
    known = people["suspect"] + people["victim"] + people["witness"]
    return {"case_id": row.case_id, "number": row.number, "unit": row.unit,
            "departement": row.departement, "opened": row.opened, "closed": row.closed,
            "status": row.status, "offences": row.offences,
            "suspects": people["suspect"], "victims": people["victim"],
            "witnesses": people["witness"], "others": sum(people.values()) - known}


def _hidden_people(reading: Reading) -> dict[str, Counter[str]]:
    """By case, the categories of its people the viewer may not see although they may see
    the case (a distribution set on the person): counts leave them out."""
    own = set_distributions(reading.conn, "entity")
    hidden = [rid for rid, dist in own.items() if not can_see(reading.viewer, dist)]
    out: dict[str, Counter[str]] = defaultdict(Counter)
    rows = fetch_in(reading.conn, "SELECT id, case_id, category, schema FROM intel_entity",
                    "id", hidden) if hidden else []
    for _id, case_id, category, schema in rows:
        if case_id and schema == "Person":
            out[str(case_id)][category or "?"] += 1
    return out


def cases_view(store: Store, user: User) -> list[dict[str, Any]]:
    """The cases the user may see; the view is logged with them."""

    def read(reading: Reading) -> list[dict[str, Any]]:
        rows = list_cases(reading.conn)
        shown = set(visible_cases(reading.conn, reading.viewer, [r.case_id for r in rows]))
        hidden = _hidden_people(reading)
        out = [_case_row(r, hidden.get(r.case_id)) for r in rows if r.case_id in shown]
        reading.detail = {"cases": [r["case_id"] for r in out]}
        return out

    return consult(store, user, "case", "liste", read)


def _leads_seen(reading: Reading, leads: list[dict[str, Any]],
                entities: set[str]) -> list[dict[str, Any]]:
    """The leads of the given (visible) records the viewer may see (``leads_seen``)."""
    return leads_seen(reading, [lead for lead in leads if lead["entity_id"] in entities])


def _lead(lead: Any) -> dict[str, Any]:
    return {"id": lead.id, "network_id": lead.network_id, "entity_id": lead.entity_id,
            "kind": lead.kind, "value": lead.value, "ads": lead.ads,
            "strength": lead.strength, "status": lead.status, "evidence": lead.evidence}


def _visible_case(reading: Reading, case_id: str, **detail: Any) -> None:
    """Nothing when the viewer may see the case; else ``NotThere`` (hidden and missing
    alike, from the same statements)."""
    answer = case_visibility(reading.conn, reading.viewer, [case_id])[case_id]
    if answer != VISIBLE:
        raise NotThere(CASE_NOT_FOUND, "unknown" if answer == MISSING else "need-to-know",
                       **detail)


def case_view(store: Store, user: User, case_id: str,
              reasons: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One case as the user may see it: victims (and minors, runaways) masked without a
    reason for the case (or the person) in ``reasons``; the view is logged with what was
    masked and the reason."""

    def read(reading: Reading) -> dict[str, Any]:
        _visible_case(reading, case_id)
        detail = case_detail(reading.conn, case_id)
        assert detail is not None
        return _case_out(reading, detail)

    return consult(store, user, "case", case_id, read, reasons=reasons)


def _case_out(reading: Reading, detail: Any) -> dict[str, Any]:
    conn, viewer, disclosure = reading.conn, reading.viewer, reading.disclosure
    case_id = detail.case.case_id
    everyone = [p for people in detail.people.values() for p in people]
    others = [i for items in detail.others.values() for i in items]
    shown = set(visible_entities(conn, viewer, [x["id"] for x in everyone + others]))
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    phones: dict[str, list[str]] = defaultdict(list)
    masked_any = False
    for category, people in detail.people.items():
        for p in people:
            if p["id"] not in shown:
                continue
            masked = disclosure.state(p["id"], category, p["minor"],
                                      canonical_id=p["resolved_as"],
                                      case_ids=[case_id]) == MASKED
            masked_any |= masked
            numbers = [] if masked else p["properties"].get("phone", [])
            for number in numbers:
                phones[number].append(p["id"])
            group = {"suspect": "suspects", "victim": "victims",
                     "witness": "witnesses"}.get(category, "others")
            groups[group].append({
                "id": p["id"], "caption": None if masked else p["caption"],
                "category": CATEGORY_LABELS.get(category, category), "role": p["role"],
                "status": p["status"], "minor": p["minor"], "masked": masked,
                "phones": numbers})
    sections: dict[str, list[dict[str, Any]]] = {}
    for key, _title, schemata in CASE_SECTIONS:
        sections[key] = [{"id": i["id"], "schema": schema, "caption": i["caption"],
                          "details": {k: v for k, v in i["properties"].items()
                                      if k not in ("owner", "id")}}
                         for schema in schemata for i in detail.others.get(schema, [])
                         if i["id"] in shown]
    for i in detail.others.get("UserAccount", []):
        if i["id"] in shown:
            for number in i["properties"].get("phone", []):
                phones[number].append(i["id"])
    payments = [i for i in detail.others.get("Payment", []) if i["id"] in shown]
    ends = sorted({v for i in payments for k in ("payer", "beneficiary")
                   for v in i["properties"].get(k, [])})
    # A payment's end is shown unless it is a record the viewer may not see (an account
    # no file describes is only a value of the payment).
    hidden_ends = {e for e, a in entity_visibility(conn, viewer, ends).items()
                   if a.visibility == HIDDEN}

    def end(i: dict[str, Any], prop: str) -> str | None:
        values = [v for v in i["properties"].get(prop, []) if v not in hidden_ends]
        return values[0] if values else None

    transactions = [{"id": i["id"], "date": (i["properties"].get("date") or [None])[0],
                     "amount": (i["properties"].get("amount") or [None])[0],
                     "currency": (i["properties"].get("currency") or [None])[0],
                     "payer": end(i, "payer"), "beneficiary": end(i, "beneficiary")}
                    for i in payments]
    lead_rows = fetch(conn, "SELECT l.id, l.network_id, l.entity_id, l.kind, l.value, l.ads, "
                      "l.strength, (SELECT d.decision FROM intel_lead_decision d WHERE "
                      "d.lead_id = l.id ORDER BY d.id DESC LIMIT 1), l.evidence "
                      f"FROM intel_lead l WHERE l.case_id = {mark(conn)} "
                      "ORDER BY l.strength DESC, l.ads DESC, l.id", (case_id,))
    leads = _leads_seen(reading, [
        {"id": r[0], "network_id": r[1], "entity_id": r[2], "kind": r[3], "value": r[4],
         "ads": int(r[5]), "strength": float(r[6]), "status": r[7] or "new",
         "evidence": orjson.loads(r[8])} for r in lead_rows], shown)
    return {"case": _case_row(detail.case, _hidden_people(reading).get(case_id)),
            "reason_required": masked_any,
            "suspects": groups["suspects"], "victims": groups["victims"],
            "witnesses": groups["witnesses"], "others": groups["others"],
            "phones": [{"number": n, "holders": h} for n, h in sorted(phones.items())],
            "sections": sections, "transactions": transactions, "leads": leads}


class ReasonRequired(Exception):
    """The entity is sensitive and no reason was given: ``canonical`` keys the reason."""

    def __init__(self, canonical: str, caption_kind: str) -> None:
        super().__init__(canonical)
        self.canonical = canonical
        self.kind = caption_kind


_ENTITY_ROW = ("SELECT id, schema, caption, category, role, status, minor, case_id, unit, "
               "departement, canonical_id FROM intel_entity")


def entity_view(request: Request, user: User, entity_id: str,
                given_reason: str | None) -> dict[str, Any]:
    """One entity with every value's provenance (from the records the user may see), its
    resolved person, leads and neighbours; ``ReasonRequired`` for a sensitive one without a
    reason. The view is logged with the reason."""
    cache = graph_cache(request)

    def read(reading: Reading) -> dict[str, Any]:
        answer = entity_visibility(reading.conn, reading.viewer, [entity_id])[entity_id]
        if answer.visibility != VISIBLE:
            raise NotThere(ENTITY_NOT_FOUND,
                           "unknown" if answer.visibility == MISSING else "need-to-know")
        row = fetch_in(reading.conn, _ENTITY_ROW, "id", [entity_id])[0]
        return _entity_out(request, reading, cache, row, given_reason)

    return consult(store_of(request), user, "entity", entity_id, read,
                   reasons=session_reasons(request))


def _entity_out(request: Request, reading: Reading, cache: GraphCache,
                row: Any, given_reason: str | None) -> dict[str, Any]:
    conn, viewer = reading.conn, reading.viewer
    (entity_id, schema, caption, category, role, status, minor, case_id, unit, departement,
     canonical) = row
    if schema == "Person":
        ids = [r[0] for r in fetch(conn, "SELECT id FROM intel_entity WHERE schema = 'Person' "
                                   f"AND canonical_id = {mark(conn)} ORDER BY id",
                                   (canonical,))] or [entity_id]
        if entity_id not in ids:
            ids = [entity_id]
    else:
        ids = [entity_id]
    ids = visible_entities(conn, viewer, ids)
    members = fetch_in(conn, "SELECT id, category, role, minor, case_id, unit, departement "
                       "FROM intel_entity", "id", ids)
    members.sort(key=lambda m: str(m[0]))
    sensitive = any(is_sensitive(m[1], m[3]) for m in members)
    cases = sorted({str(m[4]) for m in members if m[4]})
    if sensitive:
        given = _reason_of(request, person_key(canonical), given_reason)
        if given is not None:
            reading.disclosure.give(person_key(canonical), given)
    state = reading.disclosure.state_of(entity_id, sensitive, canonical_id=canonical,
                                        case_ids=cases)
    if state == MASKED:
        raise ReasonRequired(canonical, "personne")
    for member in ids:
        reading.disclosure.state_of(member, sensitive, canonical_id=canonical, case_ids=cases)
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for owner, prop, value, dataset, s_case, s_unit, fact_date, origin in sorted(fetch_in(
            conn, "SELECT entity_id, prop, value, dataset, case_id, unit, fact_date, origin "
                  "FROM intel_statement", "entity_id", ids), key=lambda r: tuple(map(str, r))):
        if prop == "id":
            continue
        grouped[(prop, value)].append({"entity_id": owner, "dataset": dataset,
                                       "case_id": s_case, "unit": s_unit,
                                       "fact_date": fact_date, "origin": origin})
    order = {p: i for i, p in enumerate(PROP_LABELS)}
    values = [{"prop": p, "label": PROP_LABELS.get(p, p), "value": v, "sources": s}
              for (p, v), s in sorted(grouped.items(),
                                      key=lambda kv: (order.get(kv[0][0], len(order)), kv[0]))]
    leads = _leads_seen(reading, [_lead(x) for x in leads_for_entity(conn, entity_id)],
                        set(ids))
    markers, asked = cache.markers(conn), _asked(conn, viewer, entity_id)
    with cache.lock:
        vg = cache.viewer_graph(conn, viewer, markers)
        node = _node_id(vg, asked)
        neighbours: dict[str, Any] = (
            _neighbours(reading.disclosure, vg, node, 1) if node is not None
            else {"nodes": [], "edges": [], "truncated": False})
    links: dict[str, list[str]] = defaultdict(list)
    for edge in neighbours["edges"]:
        other = edge["target"] if edge["source"] == node else edge["source"]
        if node in (edge["source"], edge["target"]) and edge["label"] not in links[other]:
            links[other].append(edge["label"])
    kind = _kind_of_schema(schema)
    reading.detail = {"members": ids, "neighbours": [n["id"] for n in neighbours["nodes"]]}
    return {
        "id": entity_id, "schema": schema, "caption": caption or entity_id,
        "kind_label": KIND_LABELS.get(kind, schema), "category": category,
        "category_label": CATEGORY_LABELS.get(category or ""), "role": role_label(role),
        "status": status, "minor": bool(minor), "sensitive": sensitive, "case_id": case_id,
        "unit": unit, "departement": departement, "node": node,
        "members": [{"id": m[0], "category": m[1], "category_label":
                     CATEGORY_LABELS.get(m[1] or ""), "role": role_label(m[2]),
                     "minor": bool(m[3]), "case_id": m[4], "unit": m[5], "departement": m[6]}
                    for m in members],
        "values": values, "leads": leads, "neighbours": neighbours,
        "links": [{"node": n, "labels": links[n.get("id")]} for n in neighbours["nodes"]
                  if n["id"] != node]}


def _kind_of_schema(schema: str) -> str:
    return KINDS.get(schema, "unknown")


def graph_view(request: Request, user: User, *, around: str | None = None, depth: int = 1,
               ends: tuple[str, str] | None = None) -> dict[str, Any]:
    """Neighbours of a node, or the shortest path between two, on the viewer's graph; the
    query is logged (record_kind "graph") with the nodes returned."""
    cache = graph_cache(request)
    query = f"voisins:{around}" if ends is None else f"chemin:{ends[0]}:{ends[1]}"

    def read(reading: Reading) -> dict[str, Any]:
        conn, viewer = reading.conn, reading.viewer
        markers = cache.markers(conn)
        asked = [_asked(conn, viewer, a or "") for a in ([around] if ends is None
                                                          else list(ends))]
        with cache.lock:
            vg = cache.viewer_graph(conn, viewer, markers)
            nodes = [_node_id(vg, a) for a in asked]
            if any(n is None for n in nodes) or vg.graph is None:
                raise NotThere(ENTITY_NOT_FOUND, "need-to-know or unknown")
            if ends is None:
                out = _neighbours(reading.disclosure, vg, str(nodes[0]), depth)
            else:
                path = vg.graph.shortest_path(str(nodes[0]), str(nodes[1]),
                                              max_hops=PATH_MAX_HOPS)
                if path is None:
                    out = {"nodes": [], "edges": [], "found": False}
                else:
                    on_path = vg.graph.nodes.filter(pl.col("id").is_in(
                        pl.Series(list(path.nodes), dtype=pl.Utf8).implode()))
                    out = _graph_out(reading.disclosure, vg, on_path, path.edges, found=True)
        reading.detail = {"nodes": [n["id"] for n in out["nodes"]]}
        return out

    return consult(store_of(request), user, "graph", query, read,
                   reasons=session_reasons(request))


def _without_hidden_ends(reading: Reading, statements: list[Statement]) -> list[Statement]:
    """The statements but those that name a record the viewer may not see (a payment's
    payer in a restricted file), and the links (a party, an owner, a relative) that lose an
    end to one: an export, like the case page, never names a hidden record."""
    def names_entity(st: Statement) -> bool:
        schema = model.get(st.schema)
        prop = schema.get(st.prop) if schema is not None else None
        return prop is not None and prop.type.name == "entity"

    def is_link(st: Statement) -> bool:
        schema = model.get(st.schema)
        return schema is not None and bool(schema.edge) and st.schema != "Payment"

    refs = sorted({st.value for st in statements if names_entity(st)})
    hidden = {rid for rid, answer in entity_visibility(reading.conn, reading.viewer,
                                                       refs).items()
              if answer.visibility == HIDDEN}
    if not hidden:
        return statements
    broken = {st.entity_id for st in statements
              if st.value in hidden and names_entity(st) and is_link(st)}
    return [st for st in statements if st.entity_id not in broken
            and not (st.value in hidden and names_entity(st))]


def case_export(store: Store, user: User, case_id: str,
                reasons: Mapping[str, str] | None = None) -> str:
    """A case's records the user may see, as FtM JSON lines (each record its own entity, with
    its provenance); the export is logged with the reason. ``ReasonRequired`` when the case
    holds a victim, a minor or a runaway report and no reason was given for the case."""

    def read(reading: Reading) -> str:
        conn = reading.conn
        reading.action = "export"
        _visible_case(reading, case_id, export="ftm")
        records = fetch(conn, "SELECT id, category, minor, canonical_id FROM intel_entity "
                        f"WHERE case_id = {mark(conn)} OR id = {mark(conn)}",
                        (case_id, case_id))
        ids = visible_entities(conn, reading.viewer, sorted(str(r[0]) for r in records))
        shown = set(ids)
        states = [reading.disclosure.state(r[0], r[1], r[2], canonical_id=r[3],
                                           case_ids=[case_id])
                  for r in records if r[0] in shown]
        if MASKED in states:
            raise ReasonRequired(case_id, "dossier")
        statements = _without_hidden_ends(reading, statements_of_records(conn, ids))
        buffer = io.BytesIO()
        count = write_ftm(entities_from_statements(statements), buffer, context=True)
        reading.detail = {"format": "ftm", "entities": count}
        return buffer.getvalue().decode("utf-8")

    return consult(store, user, "case", case_id, read, reasons=reasons)


# --- Routes --------------------------------------------------------------------------------

CurrentUser = Annotated[User, Depends(current_user)]
API_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Connexion requise"},
    403: {"model": ErrorOut, "description": "Rôle sans accès aux dossiers"},
}
NOT_FOUND_DOC: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "Introuvable (ou hors du besoin d'en connaître)"}}
router = APIRouter()
api = APIRouter(prefix="/api", tags=["dossiers"], responses=API_ERRORS)
Motif = Annotated[str | None, Query(description="motif de consultation (données sensibles)",
                                    max_length=2000)]
MotifHeader = Annotated[str | None, Header(alias=REASON_HEADER)]


@api.get("/dossiers", response_model=CasesOut, summary="Les dossiers que je peux voir")
def api_cases(request: Request, user: CurrentUser) -> dict[str, Any]:
    return {"cases": cases_view(store_of(request), user)}


@api.get("/dossiers/{case_id}", response_model=CaseOut, summary="Un dossier",
         responses=NOT_FOUND_DOC)
def api_case(request: Request, user: CurrentUser, case_id: str, motif: Motif = None,
             motif_header: MotifHeader = None) -> dict[str, Any]:
    _reason_of(request, case_key(case_id), motif or motif_header)
    return case_view(store_of(request), user, case_id, session_reasons(request))


@api.get("/dossiers/{case_id}/export.ftm", response_class=Response,
         summary="Exporter un dossier (FtM JSON lines, pour Aleph)",
         responses={**NOT_FOUND_DOC, 428: {"model": ErrorOut,
                                           "description": "Motif de consultation requis"}})
def api_case_export(request: Request, user: CurrentUser, case_id: str, motif: Motif = None,
                    motif_header: MotifHeader = None) -> Response:
    _reason_of(request, case_key(case_id), motif or motif_header)
    try:
        body = case_export(store_of(request), user, case_id, session_reasons(request))
    except ReasonRequired:
        raise Refused(428, REASON_REQUIRED) from None
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", case_id)[:80]
    return Response(body, media_type="application/x-ndjson; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{safe}.ftm.jsonl"'})


@api.get("/entites/{entity_id}", response_model=EntityOut, summary="Une entité",
         responses={**NOT_FOUND_DOC, 428: {"model": ErrorOut,
                                           "description": "Motif de consultation requis"}})
def api_entity(request: Request, user: CurrentUser, entity_id: str, motif: Motif = None,
               motif_header: MotifHeader = None) -> Any:
    try:
        return entity_view(request, user, entity_id, motif or motif_header)
    except ReasonRequired:
        raise Refused(428, REASON_REQUIRED) from None


@api.get("/graphe/voisins", response_model=GraphOut, summary="Les voisins d'une entité",
         responses=NOT_FOUND_DOC)
def api_neighbours(request: Request, user: CurrentUser,
                   entite: Annotated[str, Query(min_length=1, max_length=300)],
                   profondeur: Annotated[int, Query(ge=1, le=2)] = 1) -> dict[str, Any]:
    return graph_view(request, user, around=entite, depth=profondeur)


@api.get("/graphe/chemin", response_model=GraphOut,
         summary="Le plus court chemin entre deux entités", responses=NOT_FOUND_DOC)
def api_path(request: Request, user: CurrentUser,
             de: Annotated[str, Query(min_length=1, max_length=300)],
             a: Annotated[str, Query(min_length=1, max_length=300)]) -> dict[str, Any]:
    return graph_view(request, user, ends=(de, a))


pages = APIRouter(include_in_schema=False)


@pages.get("/dossiers", response_class=HTMLResponse)
def cases_page(request: Request, user: CurrentUser) -> Response:
    return render(request, "dossiers.html", {"cases": cases_view(store_of(request), user)},
                  user=user)


@pages.get("/dossiers/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, user: CurrentUser, case_id: str) -> Response:
    reason = remembered_reason(request, case_key(case_id))
    case = case_view(store_of(request), user, case_id, session_reasons(request))
    return render(request, "dossier.html", {"d": case, "sections": CASE_SECTIONS,
                                            "reason": reason, "min_reason": MIN_REASON,
                                            "max_reason": MAX_REASON}, user=user)


def _reason_form(request: Request, user: User, target: str, key: str, motif: str,
                 context: dict[str, Any]) -> Response:
    reason = checked_reason(motif)
    if reason is None:
        return render(request, "motif.html", {
            **context, "error": f"Le motif doit compter de {MIN_REASON} à {MAX_REASON} "
                                "caractères.", "min_reason": MIN_REASON,
            "max_reason": MAX_REASON, "motif": motif[:MAX_REASON]},
            status_code=400, user=user)
    remember_reason(request, key, reason)
    return RedirectResponse(target, status_code=303)


@pages.post("/dossiers/{case_id}/motif")
def case_reason(request: Request, user: CurrentUser, case_id: str,
                motif: Annotated[str, Form()] = "") -> Response:
    # Only for a case the user may see: otherwise the same 404 as the page (and the same
    # statements, hidden or missing).
    with store_of(request).begin() as conn:
        viewer = user.viewer(conn)
        allowed = viewer.role in READERS and case_visibility(
            conn, viewer, [case_id])[case_id] == VISIBLE
    if not allowed:
        raise Refused(404, CASE_NOT_FOUND)
    return _reason_form(request, user, f"/dossiers/{case_id}", case_key(case_id), motif,
                        {"action": f"/dossiers/{case_id}/motif",
                         "subject": f"les victimes du dossier {case_id}",
                         "back": f"/dossiers/{case_id}"})


@pages.get("/entites/{entity_id}", response_class=HTMLResponse)
def entity_page(request: Request, user: CurrentUser, entity_id: str) -> Response:
    try:
        entity = entity_view(request, user, entity_id, None)
    except ReasonRequired:
        return render(request, "motif.html", {
            "action": f"/entites/{entity_id}/motif", "subject": f"l'entité {entity_id}",
            "back": "/dossiers", "error": None, "motif": "", "min_reason": MIN_REASON,
            "max_reason": MAX_REASON}, user=user)
    return render(request, "entite.html", {"e": entity, "kind_words": KIND_LABELS}, user=user)


@pages.post("/entites/{entity_id}/motif")
def entity_reason(request: Request, user: CurrentUser, entity_id: str,
                  motif: Annotated[str, Form()] = "") -> Response:
    with store_of(request).begin() as conn:
        viewer = user.viewer(conn)
        answer = entity_visibility(conn, viewer, [entity_id])[entity_id]
    if viewer.role not in READERS or answer.visibility != VISIBLE:
        raise Refused(404, ENTITY_NOT_FOUND)
    return _reason_form(request, user, f"/entites/{entity_id}",
                        person_key(str(answer.canonical_id)), motif,
                        {"action": f"/entites/{entity_id}/motif",
                         "subject": f"l'entité {entity_id}", "back": "/dossiers"})


router.include_router(api)
router.include_router(pages)
