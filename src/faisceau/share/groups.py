"""What administrators manage besides accounts: partner units, sharing groups of units, and
the distribution of single records (the level a record is shared at, when its kind's
default in ``distribution.toml`` does not fit). A record is named as users see it: a
network, case, entity or lead by its id, an ad by ``source:ad_id`` (``record_key``).

Every function works in the caller's transaction, so that the change and its entry in the
consultation log (written by the caller) commit together or not at all. Refusals raise
``AccountError`` with a French message the administrator reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from faisceau.share.access import (
    AD_KIND,
    CASE_KIND,
    ENTITY_KIND,
    LEAD_KIND,
    LEVELS,
    Distribution,
    ad_ref,
    case_distributions,
    distributions,
    entity_distributions,
    policy,
)
from faisceau.share.accounts import AccountError
from faisceau.store.bulk import utc_now
from faisceau.store.schema import (
    ad,
    intel_entity,
    intel_lead,
    network,
    share_distribution,
    share_group,
    share_group_member,
    share_unit,
)

UNIT_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")
GROUP_NAME = re.compile(r"^[\w][\w .'-]{1,99}$")
MAX_RECORD_ID = 128  # share_distribution.record_id
LEVEL_WORDS = {"own_unit": "unité propriétaire seule", "with_central": "avec l'office central",
               "all_units": "toutes les unités", "group": "groupe de partage"}


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str
    departement: str | None


@dataclass(frozen=True)
class Group:
    name: str
    units: tuple[str, ...]


@dataclass(frozen=True)
class SetDistribution:
    record_kind: str
    record_id: str
    level: str
    owner_unit: str
    group: str | None
    set_by: str
    set_at: str


def list_units(conn: Connection) -> list[Unit]:
    rows = conn.execute(select(share_unit.c.code, share_unit.c.name, share_unit.c.kind,
                               share_unit.c.departement).order_by(share_unit.c.code))
    return [Unit(*r) for r in rows]


def unit_exists(conn: Connection, code: str) -> bool:
    return conn.execute(select(share_unit.c.code).where(share_unit.c.code == code)).first() \
        is not None


def add_partner_unit(conn: Connection, code: str, name: str) -> Unit:
    """A partner unit (a service outside the police's territorial units: gendarmerie
    section, customs, a foreign liaison...)."""
    code, name = code.strip().upper(), name.strip()
    if not UNIT_CODE.match(code):
        raise AccountError("code d'unité invalide : 2 à 32 caractères, lettres majuscules, "
                           "chiffres, « - » ou « _ »")
    if not name:
        raise AccountError("le nom de l'unité est obligatoire")
    if unit_exists(conn, code):
        raise AccountError(f"unité déjà existante : {code}")
    conn.execute(insert(share_unit).values(code=code, name=name, kind="partner",
                                           departement=None))
    return Unit(code, name, "partner", None)


def list_groups(conn: Connection) -> list[Group]:
    names = conn.execute(select(share_group.c.name).order_by(share_group.c.name)).scalars()
    members: dict[str, list[str]] = {n: [] for n in names}
    for group_name, unit in conn.execute(
            select(share_group_member.c.group_name, share_group_member.c.unit)
            .order_by(share_group_member.c.unit)):
        members.setdefault(group_name, []).append(unit)
    return [Group(n, tuple(u)) for n, u in members.items()]


def group_exists(conn: Connection, name: str) -> bool:
    return conn.execute(select(share_group.c.name).where(share_group.c.name == name)).first() \
        is not None


def create_group(conn: Connection, name: str) -> Group:
    name = name.strip()
    if not GROUP_NAME.match(name):
        raise AccountError("nom de groupe invalide : 2 à 100 caractères (lettres, chiffres, "
                           "espaces, « . », « ' », « - »)")
    if group_exists(conn, name):
        raise AccountError(f"groupe déjà existant : {name}")
    conn.execute(insert(share_group).values(name=name, created_at=utc_now()))
    return Group(name, ())


def add_member(conn: Connection, group: str, unit: str) -> None:
    if not group_exists(conn, group):
        raise AccountError(f"groupe inconnu : {group}")
    if not unit_exists(conn, unit):
        raise AccountError(f"unité inconnue : {unit}")
    if conn.execute(select(share_group_member.c.unit).where(
            share_group_member.c.group_name == group,
            share_group_member.c.unit == unit)).first():
        raise AccountError(f"l'unité {unit} est déjà membre du groupe {group}")
    conn.execute(insert(share_group_member).values(group_name=group, unit=unit))


def remove_member(conn: Connection, group: str, unit: str) -> None:
    if not group_exists(conn, group):
        raise AccountError(f"groupe inconnu : {group}")
    removed = conn.execute(delete(share_group_member).where(
        share_group_member.c.group_name == group, share_group_member.c.unit == unit))
    if not removed.rowcount:
        raise AccountError(f"l'unité {unit} n'est pas membre du groupe {group}")


def record_kinds() -> tuple[str, ...]:
    return tuple(policy().defaults)


def _record_exists(conn: Connection, kind: str, record_id: str) -> bool:
    if kind == "network":
        query = select(network.c.id).where(network.c.id == record_id)
    elif kind == CASE_KIND:
        query = select(intel_entity.c.id).where(intel_entity.c.id == record_id,
                                                intel_entity.c.schema == "CourtCase")
    elif kind == ENTITY_KIND:
        query = select(intel_entity.c.id).where(intel_entity.c.id == record_id)
    elif kind == "lead":
        query = select(intel_lead.c.id).where(intel_lead.c.id == record_id)
    elif kind == AD_KIND:
        source, _, ad_id = record_id.partition(":")
        query = select(ad.c.id).where(ad.c.source == source, ad.c.ad_id == ad_id)
    else:
        return False
    return conn.execute(query).first() is not None


def record_key(conn: Connection, kind: str, record_id: str) -> str:
    """The one identifier a distribution names a record by. An ad is ``source:ad_id`` (as
    users see it); the number in an ad page's address (``/annonces/42``) is read as that
    ad's, so that either form sets the same distribution."""
    record_id = record_id.strip()
    if kind == AD_KIND and record_id.isascii() and record_id.isdigit() and len(record_id) < 19:
        row = conn.execute(select(ad.c.source, ad.c.ad_id).where(
            ad.c.id == int(record_id))).first()
        if row is not None:
            return ad_ref(row.source, row.ad_id)
    return record_id


def current_distribution(conn: Connection, kind: str, record_id: str) -> Distribution:
    """The record's distribution now: set, else its kind's default with its owning unit (a
    lead without one of its own follows its case entity, as ``access.visible_leads``)."""
    if kind == CASE_KIND:
        return case_distributions(conn, [record_id])[record_id]
    if kind == ENTITY_KIND:
        return entity_distributions(conn, [record_id])[record_id]
    if kind == LEAD_KIND:
        own = distributions(conn, kind, [record_id])
        if set_distributions_of(conn, kind, record_id):
            return own[record_id]
        entity = conn.execute(select(intel_lead.c.entity_id).where(
            intel_lead.c.id == record_id)).scalar()
        if entity is not None:
            return entity_distributions(conn, [entity])[entity]
        return own[record_id]
    return distributions(conn, kind, [record_id])[record_id]


def set_distributions_of(conn: Connection, kind: str, record_id: str) -> bool:
    """Whether a distribution of its own is set on the record."""
    return conn.execute(select(share_distribution.c.level).where(
        share_distribution.c.record_kind == kind,
        share_distribution.c.record_id == record_id)).first() is not None


def set_distribution(conn: Connection, kind: str, record_id: str, level: str, set_by: str,
                     *, group: str | None = None,
                     owner_unit: str | None = None) -> tuple[Distribution, Distribution]:
    """Set a record's distribution; returns (before, after). The owning unit stays the
    record's own unless ``owner_unit`` names another."""
    if kind not in record_kinds():
        raise AccountError(f"type d'enregistrement inconnu : {kind} "
                           f"(types : {', '.join(record_kinds())})")
    if level not in LEVELS:
        raise AccountError(f"niveau de diffusion inconnu : {level} "
                           f"(niveaux : {', '.join(LEVELS)})")
    group = (group or "").strip() or None
    if level == "group":
        if group is None:
            raise AccountError("le niveau « groupe » demande un groupe de partage")
        if not group_exists(conn, group):
            raise AccountError(f"groupe inconnu : {group}")
    else:
        group = None
    record_id = record_key(conn, kind, record_id)
    if not record_id or len(record_id) > MAX_RECORD_ID \
            or not _record_exists(conn, kind, record_id):
        raise AccountError(f"enregistrement introuvable : {kind} {record_id}")
    owner_unit = (owner_unit or "").strip() or None
    if owner_unit is not None and not unit_exists(conn, owner_unit):
        raise AccountError(f"unité inconnue : {owner_unit}")
    before = current_distribution(conn, kind, record_id)
    after = Distribution(level, owner_unit or before.owner_unit, group)
    values = dict(level=after.level, owner_unit=after.owner_unit, group_name=after.group,
                  set_by=set_by, set_at=utc_now())
    changed = conn.execute(update(share_distribution).where(
        share_distribution.c.record_kind == kind,
        share_distribution.c.record_id == record_id).values(**values))
    if not changed.rowcount:
        conn.execute(insert(share_distribution).values(record_kind=kind, record_id=record_id,
                                                       **values))
    return before, after


def list_distributions(conn: Connection) -> list[SetDistribution]:
    rows = conn.execute(select(
        share_distribution.c.record_kind, share_distribution.c.record_id,
        share_distribution.c.level, share_distribution.c.owner_unit,
        share_distribution.c.group_name, share_distribution.c.set_by,
        share_distribution.c.set_at).order_by(share_distribution.c.record_kind,
                                              share_distribution.c.record_id))
    return [SetDistribution(k, i, lv, o, g, by, str(at)[:19].replace(" ", "T"))
            for k, i, lv, o, g, by, at in rows]
