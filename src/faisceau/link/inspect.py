"""Reading one network back: its ads, persons, identifiers, circuit, evidence and history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import Any

import orjson
from sqlalchemy import Connection, select

from faisceau.store.bulk import iso_utc
from faisceau.store.schema import (
    ad,
    ad_image,
    ad_network,
    ad_value,
    ad_version,
    network,
    network_event,
    network_evidence,
)


def largest_networks(conn: Connection, limit: int) -> list[dict[str, Any]]:
    """The active networks with the most ads, with their phones and départements."""
    rows = conn.execute(
        select(network.c.id, network.c.ads, network.c.first_seen, network.c.last_seen)
        .where(network.c.status == "active")
        .order_by(network.c.ads.desc(), network.c.id).limit(limit)).all()
    out = []
    for r in rows:
        detail = network_detail(conn, r.id)
        assert detail is not None
        out.append({"network_id": r.id, "ads": r.ads, "first_seen": iso_utc(r.first_seen),
                    "last_seen": iso_utc(r.last_seen), "phones": detail["phones"],
                    "persons": len(detail["persons"]),
                    "departements": sorted({c["departement"] for c in detail["circuit"]
                                            if c["departement"]})})
    return out


def network_detail(conn: Connection, network_id: str, *,
                   hidden_ads: Collection[int] = ()) -> dict[str, Any] | None:
    """One network, or None. ``hidden_ads`` (primary keys) are left out of everything it
    shows: its ads, persons, identifiers, circuit, evidence and ad count (a viewer's
    need-to-know, decided in ``faisceau.share.access``)."""
    head = conn.execute(select(network).where(network.c.id == network_id)).first()
    if head is None:
        return None
    every_ad = conn.execute(
        select(ad.c.id, ad.c.source, ad.c.ad_id, ad.c.first_seen, ad.c.last_seen,
               ad_version.c.name, ad_version.c.age, ad_version.c.commune,
               ad_version.c.departement, ad.c.current_version_id)
        .join(ad_network, ad_network.c.ad_pk == ad.c.id)
        .join(ad_version, ad_version.c.id == ad.c.current_version_id)
        .where(ad_network.c.network_id == network_id)
        .order_by(ad.c.first_seen, ad.c.id)).all()
    hidden_refs = {f"{r.source}:{r.ad_id}" for r in every_ad if r.id in hidden_ads}
    ads = [r for r in every_ad if r.id not in hidden_ads]
    pks = [r.id for r in ads]
    values: dict[str, set[str]] = defaultdict(set)
    for kind, value in conn.execute(
            select(ad_value.c.kind, ad_value.c.value)
            .join(ad_version, ad_version.c.id == ad_value.c.version_id)
            .where(ad_version.c.ad_pk.in_(pks),
                   ad_value.c.kind.in_(("phone", "email", "handle")))):
        values[kind].add(value)
    photos: dict[str, set[str]] = defaultdict(set)
    for ad_pk, sha in conn.execute(
            select(ad_version.c.ad_pk, ad_image.c.sha256)
            .join(ad_version, ad_version.c.id == ad_image.c.version_id)
            .where(ad_version.c.ad_pk.in_(pks), ad_image.c.sha256.is_not(None))):
        photos[str(ad_pk)].add(sha)
    persons: dict[tuple[str | None, int | None], dict[str, Any]] = {}
    for r in ads:
        person = persons.setdefault((r.name, r.age), {"name": r.name, "age": r.age, "ads": 0,
                                                      "photos": set()})
        person["ads"] += 1
        person["photos"] |= photos.get(str(r.id), set())
    circuit: list[dict[str, Any]] = []
    for r in ads:
        if r.commune and (not circuit or circuit[-1]["commune"] != r.commune):
            circuit.append({"from": iso_utc(r.first_seen), "commune": r.commune,
                            "departement": r.departement})
    seen = {f"{r.source}:{r.ad_id}": (r.first_seen, r.last_seen) for r in ads}
    evidence = []
    for e in conn.execute(select(network_evidence)
                          .where(network_evidence.c.network_id == network_id)
                          .order_by(network_evidence.c.id)):
        refs = orjson.loads(e.ads)
        shown = [r for r in refs if r not in hidden_refs]
        if refs and not shown:
            continue  # what only hidden ads show
        first, last = e.first_seen, e.last_seen
        if len(shown) < len(refs):  # dated by the ads left, not by the hidden ones
            first = min((seen[r][0] for r in shown if r in seen), default=None)
            last = max((seen[r][1] for r in shown if r in seen), default=None)
        evidence.append({"kind": e.kind, "value": e.value, "ads": shown,
                         "first_seen": iso_utc(first), "last_seen": iso_utc(last),
                         "detail": orjson.loads(e.detail) if e.detail else None})
    events = [
        {"at": iso_utc(e.at), "data_date": iso_utc(e.data_date), "kind": e.kind,
         "others": orjson.loads(e.others), "cause": e.cause}
        for e in conn.execute(select(network_event)
                              .where((network_event.c.network_id == network_id)
                                     | network_event.c.others.contains(network_id))
                              .order_by(network_event.c.id))]
    return {
        "network_id": network_id, "status": head.status,
        "ads_count": len(ads) if hidden_refs else head.ads,
        "first_seen": iso_utc(min((r.first_seen for r in ads), default=None)
                              if hidden_refs else head.first_seen),
        "last_seen": iso_utc(max((r.last_seen for r in ads), default=None)
                             if hidden_refs else head.last_seen),
        "ads": [{"ad": f"{r.source}:{r.ad_id}", "pk": int(r.id),
                 "first_seen": iso_utc(r.first_seen), "last_seen": iso_utc(r.last_seen),
                 "name": r.name, "commune": r.commune, "departement": r.departement}
                for r in ads],
        "persons": [{**p, "photos": sorted(p["photos"])} for p in persons.values()],
        "phones": sorted(values["phone"]), "handles": sorted(values["handle"]),
        "emails": sorted(values["email"]), "circuit": circuit,
        "evidence": evidence, "events": events,
    }
