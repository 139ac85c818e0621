"""Who may see which record, how much of it, and who may decide on a network: the one place
where need-to-know is decided, for pages, the API, exports and the command line alike.

**Distribution.** A record has a distribution level (``share_distribution``, or its kind's
default in ``distribution.toml``) and an owning unit. A viewer sees it when:

- ``own_unit``: the viewer belongs to the owning unit;
- ``with_central``: the owning unit, or the central office;
- ``all_units``: any unit;
- ``group``: the owning unit, or a unit of the named sharing group.

Auditors read the consultation log, not the records; administrators manage accounts, units
and groups and see records by the same rules as everyone (their unit's).

**Hidden is missing.** ``*_visibility`` functions answer ``VISIBLE``, ``HIDDEN`` or
``MISSING`` for a batch of ids from the same statements whatever the answer, so that a
caller can answer a hidden record exactly as a missing one, at the same cost.

**Ads** are identified as users type and see them, ``source:ad_id`` (``ad_ref``), in
distributions as everywhere. Few ads have a distribution of their own: ``ad_scope`` reads
them once per request and every listing of ads (a network and everything it derives from
its ads, search hits and counts, timelines, leads' evidence, the link graph) filters
through the ``AdScope`` it returns. A network whose every ad is hidden from the viewer is
hidden (everything it shows comes from its ads); a lead whose every evidence ad is hidden
is hidden.

**Leads** follow their case entity's distribution unless one is set on the lead, and are
shown only with their network and entity (``visible_leads``).

**Sensitive values** (victims, runaways, minors of any category: ``sensitive.toml``): the
rule is ``disclosure``; which statements are personal values to mask, ``personal_value``.

**Decisions** on networks: ``decision_refusal`` (territorial units decide within their
département; see ``[decisions]`` in ``distribution.toml``).
"""

from __future__ import annotations

import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy.engine import Connection

from faisceau.store.bulk import ads_by_key, fetch, fetch_in, mark

LEVELS = ("own_unit", "with_central", "all_units", "group")
ROLES = ("analyst", "referent", "investigator", "auditor", "admin")
# Roles that consult records at all (the auditor reads the log; the administrator, accounts).
READERS = ("analyst", "referent", "investigator", "admin")
# Roles that record review decisions on networks (then only as ``decision_refusal`` allows).
DECIDERS = ("analyst", "referent")

VISIBLE, HIDDEN, MISSING = "visible", "hidden", "missing"
# How a sensitive record's personal values are shown (``disclosure``).
SHOWN, MASKED, WITH_REASON = "shown", "masked", "with_reason"

NETWORK_KIND = "network"
AD_KIND = "ad"
CASE_KIND = "case"
ENTITY_KIND = "entity"
LEAD_KIND = "lead"


@dataclass(frozen=True)
class Viewer:
    login: str
    role: str
    unit: str
    groups: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Distribution:
    level: str
    owner_unit: str
    group: str | None = None


@dataclass(frozen=True)
class Policy:
    defaults: Mapping[str, str]
    central_unit: str
    whole_network_decisions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SensitiveData:
    categories: frozenset[str]
    types: frozenset[str]
    props: frozenset[str]
    whole_field_props: frozenset[str]
    min_chars_in_text: int


def _toml(name: str) -> dict[str, Any]:
    return tomllib.loads((resources.files(__package__) / name).read_text("utf-8"))


@cache
def policy() -> Policy:
    raw = _toml("distribution.toml")
    defaults = dict(raw["defaults"])
    for kind, level in defaults.items():
        if level not in LEVELS or level == "group":
            raise ValueError(f"distribution.toml: {kind} = {level!r} is not a default level")
    whole = frozenset(raw.get("decisions", {}).get("whole_network", ()))
    return Policy(defaults=defaults, central_unit=str(raw["central"]["unit"]),
                  whole_network_decisions=whole)


@cache
def sensitive_data() -> SensitiveData:
    raw = _toml("sensitive.toml")
    return SensitiveData(frozenset(raw["categories"]), frozenset(raw["types"]),
                         frozenset(raw["props"]), frozenset(raw["whole_field_props"]),
                         int(raw["min_chars_in_text"]))


# Case-file people whose data is shown only once the user gives a reason (Directive
# 2016/680: the most sensitive categories), with minors of any category.
SENSITIVE_CATEGORIES = tuple(sorted(sensitive_data().categories))


# --- The rules -------------------------------------------------------------------------------


def is_sensitive(category: str | None, minor: object) -> bool:
    """Whether a case-file record's data needs a reason to be shown."""
    return category in sensitive_data().categories or bool(minor)


def disclosure(category: str | None, minor: object, reason: str | None) -> str:
    """How a case-file record's personal values are shown: ``SHOWN`` (not sensitive),
    ``WITH_REASON`` (sensitive, and the user gave a reason: show it and log the reason) or
    ``MASKED`` (sensitive, no reason)."""
    return disclosure_of(is_sensitive(category, minor), reason)


def disclosure_of(sensitive: bool, reason: str | None) -> str:
    """``disclosure`` for a record (or a resolved person) already known to be sensitive or
    not."""
    if not sensitive:
        return SHOWN
    return WITH_REASON if reason else MASKED


def lead_value_shown(kind: str, state: str) -> bool:
    """Whether a lead's value is shown, given its record's ``disclosure``: as the record's
    values are; a name lead's value (a victim's, or a reported person's, given name) only
    with a reason."""
    return state == WITH_REASON or (state == SHOWN and kind != "name")


def personal_value(prop: str, prop_type: str) -> bool:
    """Whether a statement of a sensitive record is a personal value, masked without a
    reason (a name, a phone, an e-mail, an address, a birth date, an identifier)."""
    data = sensitive_data()
    return prop_type in data.types or prop in data.props


def masked_in_texts(prop: str) -> bool:
    """Whether a personal value is masked inside longer texts too, or only where it is a
    whole field (a part of a name: see ``sensitive.toml``)."""
    return prop not in sensitive_data().whole_field_props


def can_see(viewer: Viewer, distribution: Distribution) -> bool:
    """The need-to-know rule (see the module's docstring)."""
    if viewer.role not in READERS:
        return False
    if viewer.unit == distribution.owner_unit:
        return True
    level = distribution.level
    if level == "all_units":
        return True
    if level == "with_central":
        return viewer.unit == policy().central_unit
    if level == "group":
        return distribution.group is not None and distribution.group in viewer.groups
    return False


def default_distribution(kind: str, owner_unit: str | None) -> Distribution:
    """A record's distribution when none was set: its kind's default, owned by its unit (or
    the central office when the record has none, as monitoring's records)."""
    level = policy().defaults.get(kind, "own_unit")
    return Distribution(level, owner_unit or policy().central_unit)


def distributions(conn: Connection, kind: str, ids: Sequence[str],
                  owners: Mapping[str, str | None] | None = None) -> dict[str, Distribution]:
    """The distribution of each record (set, or the default with ``owners``' unit)."""
    rows = _set_distributions(conn, kind, ids)
    out = {rid: Distribution(level, owner, group) for rid, level, owner, group in rows}
    for rid in ids:
        if rid not in out:
            out[rid] = default_distribution(kind, (owners or {}).get(rid))
    return out


def _set_distributions(conn: Connection, kind: str,
                       ids: Sequence[str]) -> list[tuple[str, str, str, str | None]]:
    rows = fetch_in(conn, "SELECT record_id, level, owner_unit, group_name, record_kind "
                    "FROM share_distribution", "record_id", list(ids))
    return [(r[0], r[1], r[2], r[3]) for r in rows if r[4] == kind]


def visible(conn: Connection, viewer: Viewer, kind: str, ids: Sequence[str],
            owners: Mapping[str, str | None] | None = None) -> list[str]:
    """The ``ids`` the viewer may see by their distribution alone, in their order (ads:
    ``source:ad_id``). Networks: see ``visible_networks``, which also weighs their ads."""
    seen = distributions(conn, kind, ids, owners)
    return [rid for rid in ids if can_see(viewer, seen[rid])]


def groups_of(conn: Connection, unit: str) -> frozenset[str]:
    rows = fetch(conn, f"SELECT group_name FROM share_group_member WHERE unit = {mark(conn)}",
                 (unit,))
    return frozenset(r[0] for r in rows)


def owning_unit(holding_unit: str | None, departement: str | None) -> str:
    """The unit that owns a case-file record: the central office for its own cases, else the
    territorial unit of the case's département (the local service that holds the file, such
    as ``SD-13`` or ``BR-13``, answers to it); the central office when neither is known."""
    central = policy().central_unit
    if holding_unit == central or not departement:
        return central
    return f"DEP-{departement}"


def set_distributions(conn: Connection, kind: str) -> dict[str, Distribution]:
    """Every distribution set on records of ``kind`` (few: the defaults cover the rest)."""
    rows = fetch(conn, "SELECT record_id, level, owner_unit, group_name FROM share_distribution "
                 f"WHERE record_kind = {mark(conn)}", (kind,))
    return {r[0]: Distribution(r[1], r[2], r[3]) for r in rows}


def _answer(exists: bool, sees: bool) -> str:
    if not exists:
        return MISSING
    return VISIBLE if sees else HIDDEN


# --- Ads -------------------------------------------------------------------------------------


def ad_ref(source: str, ad_id: str) -> str:
    """An ad's one identifier, as users type and see it (and as distributions name it)."""
    return f"{source}:{ad_id}"


@dataclass(frozen=True)
class AdScope:
    """Which ads one viewer may see: every ad by its kind's default, but for the few given a
    distribution of their own, by identifier (``refs``) and, for those in the store, by
    primary key (``pks``)."""

    default: bool
    refs: Mapping[str, bool] = field(default_factory=dict)
    pks: Mapping[int, bool] = field(default_factory=dict)

    @property
    def unrestricted(self) -> bool:
        """Every ad is visible: nothing to filter."""
        return self.default and all(self.refs.values())

    def sees_pk(self, pk: int) -> bool:
        return self.pks.get(int(pk), self.default)

    def sees_ref(self, ref: str) -> bool:
        return self.refs.get(ref, self.default)

    def visible_refs(self, refs: Iterable[str]) -> list[str]:
        return [r for r in refs if self.sees_ref(r)]

    def hidden_pks(self) -> list[int]:
        """The ads hidden although the default shows ads (empty when it does not)."""
        return sorted(pk for pk, sees in self.pks.items() if not sees) if self.default else []

    def only_pks(self) -> list[int] | None:
        """When the default hides ads: the only ones the viewer may see; else None."""
        return None if self.default else sorted(pk for pk, sees in self.pks.items() if sees)

    def ruled_pks(self) -> list[int]:
        """The ads in the store whose distribution is their own."""
        return sorted(self.pks)


def ad_scope(conn: Connection, viewer: Viewer) -> AdScope:
    """The viewer's ``AdScope``: the distributions set on ads (few rows) and their ads."""
    ruled = set_distributions(conn, AD_KIND)
    refs = {ref: can_see(viewer, dist) for ref, dist in ruled.items()}
    by_source: dict[str, list[str]] = defaultdict(list)
    for ref in sorted(refs):
        source, sep, ad_id = ref.partition(":")
        if sep:
            by_source[source].append(ad_id)
    pks: dict[int, bool] = {}
    for source, ad_ids in by_source.items():
        for row in ads_by_key(conn, source, ad_ids):
            pks[int(row[0])] = refs[ad_ref(source, row[1])]
    return AdScope(can_see(viewer, default_distribution(AD_KIND, None)), refs, pks)


def ad_visibility(conn: Connection, viewer: Viewer, scope: AdScope,
                  pks: Sequence[int]) -> dict[int, tuple[str, str | None]]:
    """For each primary key: its visibility and its ``source:ad_id`` (None if missing)."""
    rows = fetch_in(conn, "SELECT id, source, ad_id FROM ad", "id", [int(p) for p in pks])
    found = {int(r[0]): ad_ref(r[1], r[2]) for r in rows}
    return {int(pk): (_answer(int(pk) in found, scope.sees_pk(int(pk))), found.get(int(pk)))
            for pk in pks}


def visible_ad_counts(conn: Connection, scope: AdScope,
                      totals: Mapping[str, int]) -> dict[str, int]:
    """How many of each network's ads (``totals``: network id -> its ads) the viewer sees.
    One statement when some ads have a distribution of their own, none otherwise."""
    if not scope.pks:
        return dict(totals) if scope.default else {n: 0 for n in totals}
    rows = fetch_in(conn, "SELECT network_id, ad_pk FROM ad_network", "ad_pk",
                    scope.ruled_pks())
    counted = Counter(str(r[0]) for r in rows if scope.sees_pk(int(r[1])) != scope.default)
    if scope.default:
        return {n: t - counted.get(n, 0) for n, t in totals.items()}
    return {n: counted.get(n, 0) for n in totals}


def shown_evidence(scope: AdScope, refs: Sequence[str],
                   total: int | None = None) -> tuple[list[str], int | None]:
    """Evidence ads (``source:ad_id``) the viewer may see, with the total made smaller by
    those hidden among them (the hidden ones beyond a truncated list are not known)."""
    kept = scope.visible_refs(refs)
    return kept, (None if total is None else max(total - (len(refs) - len(kept)), len(kept)))


# --- Networks --------------------------------------------------------------------------------


def network_visibility(conn: Connection, viewer: Viewer, scope: AdScope,
                       ids: Sequence[str]) -> dict[str, str]:
    """Each network's visibility: its distribution, and at least one of its ads visible to
    the viewer when it has ads. The same statements whether the networks exist or not."""
    ids = list(dict.fromkeys(ids))
    totals = {str(r[0]): int(r[1])
              for r in fetch_in(conn, "SELECT id, ads FROM network", "id", ids)}
    seen = distributions(conn, NETWORK_KIND, ids)
    counts = visible_ad_counts(conn, scope, {n: totals.get(n, 0) for n in ids})
    out = {}
    for n in ids:
        some_ad = totals.get(n, 0) == 0 or counts[n] > 0
        out[n] = _answer(n in totals, can_see(viewer, seen[n]) and some_ad)
    return out


def visible_networks(conn: Connection, viewer: Viewer, scope: AdScope,
                     ids: Sequence[str]) -> list[str]:
    """The ``ids`` of networks the viewer may see, in their order."""
    answers = network_visibility(conn, viewer, scope, ids)
    return [n for n in ids if answers.get(n) == VISIBLE]


# --- Case files ------------------------------------------------------------------------------
#
# A case (``intel_entity`` of schema CourtCase) is owned by ``owning_unit`` of its holding
# unit and département. An entity of a case file (a person, a phone's holder, an account...)
# follows its case: its own distribution when one was set, else its case's (set or default),
# so that restricting a case restricts everything its file holds. An entity outside any case
# has the entity default, owned by the unit of its own unit and département.


def case_distributions(conn: Connection, case_ids: Sequence[str]) -> dict[str, Distribution]:
    """The distribution of each case (the unknown ones get the central office's default)."""
    ids = list(dict.fromkeys(case_ids))
    rows = fetch_in(conn, "SELECT id, unit, departement, schema FROM intel_entity", "id", ids)
    owners = {r[0]: owning_unit(r[1], r[2]) for r in rows if r[3] == "CourtCase"}
    return distributions(conn, CASE_KIND, ids, owners)


_ENTITY_INFO = ("SELECT e.id, e.case_id, e.unit, e.departement, c.unit, c.departement, "
                "c.schema, e.schema, e.canonical_id FROM intel_entity e "
                "LEFT JOIN intel_entity c ON c.id = e.case_id")


def _entity_rows(conn: Connection, ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    return {str(r[0]): tuple(r[1:]) for r in fetch_in(conn, _ENTITY_INFO, "e.id", list(ids))}


def _entity_distributions(conn: Connection, ids: Sequence[str],
                          info: Mapping[str, tuple[Any, ...]]) -> dict[str, Distribution]:
    """Two statements whatever ``ids`` hold: the records' rows (``info``) and every
    distribution set on them or their cases."""
    cases = {str(i[0]) for i in info.values() if i[0]}
    keys = sorted(set(ids) | cases)
    rows = fetch_in(conn, "SELECT record_id, level, owner_unit, group_name, record_kind "
                    "FROM share_distribution", "record_id", keys)
    own = {r[0]: Distribution(r[1], r[2], r[3]) for r in rows if r[4] == ENTITY_KIND}
    case_set = {r[0]: Distribution(r[1], r[2], r[3]) for r in rows if r[4] == CASE_KIND}
    out: dict[str, Distribution] = {}
    for rid in ids:
        case_id, unit, departement, c_unit, c_departement, c_schema, schema, _c = info.get(
            rid, (None,) * 8)
        if rid in own:
            out[rid] = own[rid]
        elif schema == "CourtCase" or (case_id and rid == case_id):
            out[rid] = case_set.get(rid) or default_distribution(
                CASE_KIND, owning_unit(unit, departement))
        elif case_id:
            out[rid] = case_set.get(case_id) or default_distribution(
                CASE_KIND, owning_unit(c_unit, c_departement) if c_schema == "CourtCase"
                else None)
        else:
            out[rid] = default_distribution(ENTITY_KIND, owning_unit(unit, departement))
    return out


def entity_distributions(conn: Connection,
                         entity_ids: Sequence[str]) -> dict[str, Distribution]:
    """The distribution of each case-file entity (see above); unknown ids get the default."""
    ids = list(dict.fromkeys(entity_ids))
    return _entity_distributions(conn, ids, _entity_rows(conn, ids))


@dataclass(frozen=True)
class EntityAnswer:
    """What ``entity_visibility`` says of one id."""

    visibility: str
    schema: str | None = None
    canonical_id: str | None = None
    case_id: str | None = None


def entity_visibility(conn: Connection, viewer: Viewer,
                      entity_ids: Sequence[str]) -> dict[str, EntityAnswer]:
    """Each case-file entity's visibility (and what it is), from two statements whatever
    the answer: a hidden record costs what a missing one does."""
    ids = list(dict.fromkeys(entity_ids))
    info = _entity_rows(conn, ids)
    seen = _entity_distributions(conn, ids, info)
    out = {}
    for rid in ids:
        row = info.get(rid)
        out[rid] = EntityAnswer(_answer(row is not None, can_see(viewer, seen[rid])),
                                row[6] if row else None, row[7] if row else None,
                                row[0] if row else None)
    return out


def case_visibility(conn: Connection, viewer: Viewer, case_ids: Sequence[str]) -> dict[str, str]:
    """Each case's visibility (an id that is not a case is missing)."""
    return {rid: (answer.visibility if answer.schema in (None, "CourtCase") else MISSING)
            for rid, answer in entity_visibility(conn, viewer, case_ids).items()}


def visible_cases(conn: Connection, viewer: Viewer, case_ids: Sequence[str]) -> list[str]:
    """The ``case_ids`` of cases the viewer may see, in their order."""
    answers = case_visibility(conn, viewer, case_ids)
    return [rid for rid in case_ids if answers.get(rid) == VISIBLE]


def visible_entities(conn: Connection, viewer: Viewer, entity_ids: Sequence[str]) -> list[str]:
    """The case-file ``entity_ids`` the viewer may see, in their order (unknown ids are not
    seen)."""
    answers = entity_visibility(conn, viewer, entity_ids)
    return [rid for rid in entity_ids if answers[rid].visibility == VISIBLE]


# --- Leads -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadSeen:
    """A lead as the viewer may see it: its evidence ads and their count without the hidden
    ones."""

    id: str
    evidence: list[str]
    ads: int


def visible_leads(conn: Connection, viewer: Viewer, scope: AdScope,
                  leads: Sequence[Mapping[str, Any]]) -> dict[str, LeadSeen]:
    """The leads the viewer may see, by id (each a mapping with ``id``, ``network_id``,
    ``entity_id``, ``evidence`` and ``ads``): the lead's own distribution if one is set,
    else its entity's; its network visible; and, when it has evidence ads, one of them
    visible."""
    if not leads:
        return {}
    entities = entity_visibility(conn, viewer, sorted({str(x["entity_id"]) for x in leads}))
    networks = network_visibility(conn, viewer, scope,
                                  sorted({str(x["network_id"]) for x in leads}))
    own = {rid: can_see(viewer, Distribution(level, owner, group))
           for rid, level, owner, group in _set_distributions(
               conn, LEAD_KIND, [str(x["id"]) for x in leads])}
    out: dict[str, LeadSeen] = {}
    for lead in leads:
        lead_id = str(lead["id"])
        sees = own.get(lead_id, entities[str(lead["entity_id"])].visibility == VISIBLE)
        if not sees or networks[str(lead["network_id"])] != VISIBLE:
            continue
        refs = list(lead["evidence"])
        kept, ads = shown_evidence(scope, refs, int(lead["ads"]))
        if refs and not kept:
            continue
        out[lead_id] = LeadSeen(lead_id, kept, int(ads or 0))
    return out


# --- Decisions on networks -------------------------------------------------------------------

NOT_DECIDER = "Votre rôle ne permet pas de décider sur un réseau."
NO_TERRITORY = ("Votre unité ne décide pas sur les réseaux : seuls l'office central et les "
                "unités territoriales décident.")
OUTSIDE_TERRITORY = ("Ce réseau n'a aucune annonce dans votre département : la décision "
                     "revient à l'office central ou à l'unité territoriale concernée.")
BEYOND_TERRITORY = ("Ce réseau a des annonces hors de votre département : seul l'office "
                    "central peut le classer sans suite (la décision vaut pour toutes les "
                    "unités).")


def unit_departement(conn: Connection, unit: str) -> str | None:
    """The département of a territorial unit; None for any other unit."""
    rows = fetch(conn, "SELECT departement FROM share_unit WHERE code = "
                 f"{mark(conn)} AND kind = 'territorial'", (unit,))
    return str(rows[0][0]) if rows and rows[0][0] else None


def network_departements(conn: Connection, network_ids: Sequence[str]) -> dict[str, set[str]]:
    """The départements where each network's ads are (their current versions)."""
    rows = fetch_in(conn, "SELECT an.network_id, v.departement FROM ad_network an "
                    "JOIN ad a ON a.id = an.ad_pk JOIN ad_version v ON v.id = "
                    "a.current_version_id", "an.network_id", list(network_ids))
    out: dict[str, set[str]] = {n: set() for n in network_ids}
    for network_id, departement in rows:
        if departement:
            out[str(network_id)].add(str(departement))
    return out


def decision_rule(viewer: Viewer, decision: str, unit_dep: str | None,
                  network_deps: set[str]) -> str | None:
    """Whether the viewer may take ``decision`` on a network whose ads are in
    ``network_deps`` (their unit's département: ``unit_dep``): None, else why not (French)."""
    if viewer.role not in DECIDERS:
        return NOT_DECIDER
    if viewer.unit == policy().central_unit:
        return None
    if unit_dep is None:
        return NO_TERRITORY
    if unit_dep not in network_deps:
        return OUTSIDE_TERRITORY
    if decision in policy().whole_network_decisions and network_deps != {unit_dep}:
        return BEYOND_TERRITORY
    return None


def allowed_decisions(conn: Connection, viewer: Viewer, decisions: Sequence[str],
                      network_ids: Sequence[str]) -> dict[str, list[str]]:
    """For each network, the decisions the viewer may take on it (the forms show those)."""
    if viewer.role not in DECIDERS or not network_ids:
        return {n: [] for n in network_ids}
    unit_dep = unit_departement(conn, viewer.unit)
    deps = network_departements(conn, network_ids)
    return {n: [d for d in decisions if decision_rule(viewer, d, unit_dep, deps[n]) is None]
            for n in network_ids}


def decision_refusal(conn: Connection, viewer: Viewer, network_id: str,
                     decision: str) -> str | None:
    """None when the viewer may take ``decision`` on the network; else why not, in French.
    The one check every route that decides goes through."""
    if viewer.role not in DECIDERS:
        return NOT_DECIDER
    return decision_rule(viewer, decision, unit_departement(conn, viewer.unit),
                         network_departements(conn, [network_id])[network_id])
