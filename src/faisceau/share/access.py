"""Who may see which record: the one place where need-to-know is decided, for pages, the API
and exports alike.

A record has a distribution level (``share_distribution``, or its kind's default in
``distribution.toml``) and an owning unit. A viewer sees it when:

- ``own_unit``: the viewer belongs to the owning unit;
- ``with_central``: the owning unit, or the central office;
- ``all_units``: any unit;
- ``group``: the owning unit, or a unit of the named sharing group.

Auditors read the consultation log, not the records; administrators manage accounts, units
and groups and see records by the same rules as everyone (their unit's).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from sqlalchemy.engine import Connection

from faisceau.store.bulk import fetch, fetch_in, mark

LEVELS = ("own_unit", "with_central", "all_units", "group")
# Case-file people whose data is shown only once the user gives a reason (Directive
# 2016/680: the most sensitive categories), with minors of any category.
SENSITIVE_CATEGORIES = ("victim", "runaway")
ROLES = ("analyst", "referent", "investigator", "auditor", "admin")
# Roles that consult records at all (the auditor reads the log; the administrator, accounts).
READERS = ("analyst", "referent", "investigator", "admin")


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


@cache
def policy() -> Policy:
    raw = tomllib.loads((resources.files(__package__) / "distribution.toml").read_text("utf-8"))
    defaults = dict(raw["defaults"])
    for kind, level in defaults.items():
        if level not in LEVELS or level == "group":
            raise ValueError(f"distribution.toml: {kind} = {level!r} is not a default level")
    return Policy(defaults=defaults, central_unit=str(raw["central"]["unit"]))


def is_sensitive(category: str | None, minor: object) -> bool:
    """Whether a case-file record's data needs a reason to be shown."""
    return category in SENSITIVE_CATEGORIES or bool(minor)


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
    """The ``ids`` the viewer may see, in their order."""
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


# --- Case files ------------------------------------------------------------------------------
#
# A case (``intel_entity`` of schema CourtCase) is owned by ``owning_unit`` of its holding
# unit and département. An entity of a case file (a person, a phone's holder, an account...)
# follows its case: its own distribution when one was set, else its case's (set or default),
# so that restricting a case restricts everything its file holds. An entity outside any case
# has the entity default, owned by the unit of its own unit and département.

CASE_KIND = "case"
ENTITY_KIND = "entity"


def case_distributions(conn: Connection, case_ids: Sequence[str]) -> dict[str, Distribution]:
    """The distribution of each case (the unknown ones get the central office's default)."""
    ids = list(dict.fromkeys(case_ids))
    rows = fetch_in(conn, "SELECT id, unit, departement, schema FROM intel_entity", "id", ids)
    owners = {r[0]: owning_unit(r[1], r[2]) for r in rows if r[3] == "CourtCase"}
    return distributions(conn, CASE_KIND, ids, owners)


def entity_distributions(conn: Connection,
                         entity_ids: Sequence[str]) -> dict[str, Distribution]:
    """The distribution of each case-file entity (see above); unknown ids get the default."""
    ids = list(dict.fromkeys(entity_ids))
    rows = fetch_in(conn, "SELECT id, case_id, unit, departement FROM intel_entity", "id", ids)
    info = {r[0]: (r[1], r[2], r[3]) for r in rows}
    own = {rid: Distribution(level, owner, group)
           for rid, level, owner, group in _set_distributions(conn, ENTITY_KIND, ids)}
    cases = case_distributions(conn, sorted({c for c, _, _ in info.values() if c}))
    out: dict[str, Distribution] = {}
    for rid in ids:
        case_id, unit, departement = info.get(rid, (None, None, None))
        if rid in own:
            out[rid] = own[rid]
        elif case_id and rid != case_id:
            out[rid] = cases[case_id]
        elif case_id:  # the case itself
            out[rid] = cases[rid]
        else:
            out[rid] = default_distribution(ENTITY_KIND, owning_unit(unit, departement))
    return out


def visible_cases(conn: Connection, viewer: Viewer, case_ids: Sequence[str]) -> list[str]:
    """The ``case_ids`` the viewer may see, in their order."""
    seen = case_distributions(conn, case_ids)
    return [rid for rid in case_ids if can_see(viewer, seen[rid])]


def visible_entities(conn: Connection, viewer: Viewer, entity_ids: Sequence[str]) -> list[str]:
    """The case-file ``entity_ids`` the viewer may see, in their order."""
    seen = entity_distributions(conn, entity_ids)
    return [rid for rid in entity_ids if can_see(viewer, seen[rid])]


def set_distributions(conn: Connection, kind: str) -> dict[str, Distribution]:
    """Every distribution set on records of ``kind`` (few: the defaults cover the rest)."""
    rows = fetch(conn, "SELECT record_id, level, owner_unit, group_name FROM share_distribution "
                 f"WHERE record_kind = {mark(conn)}", (kind,))
    return {r[0]: Distribution(r[1], r[2], r[3]) for r in rows}
