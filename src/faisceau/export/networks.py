"""``faisceau export networks``: one JSON line per network, in identifier order.

The contract's fields, then two extensions (``first_seen``, ``last_seen``). Risk and
reasons stay empty until scoring exists. Ads not linked yet are networks of one ad, as in
the ads export.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import Connection, select

from faisceau.export.ads import write_lines
from faisceau.link.identity import network_id_of
from faisceau.store.schema import ad, ad_network, network

BATCH = 5_000


def _row(network_id: str, ads: int, first_seen: Any, last_seen: Any) -> dict[str, Any]:
    return {"network_id": network_id, "ads": ads, "risk": 0.0,
            "trafficking_suspected": False, "minor_suspected": False, "reasons": [],
            "first_seen": first_seen.isoformat() + "Z" if first_seen else None,
            "last_seen": last_seen.isoformat() + "Z" if last_seen else None}


def iter_networks(conn: Connection) -> Iterator[dict[str, Any]]:
    last = ""
    while True:
        rows = conn.execute(
            select(network.c.id, network.c.ads, network.c.first_seen, network.c.last_seen)
            .where(network.c.status == "active", network.c.id > last)
            .order_by(network.c.id).limit(BATCH)).all()
        if not rows:
            break
        for r in rows:
            yield _row(r.id, r.ads, r.first_seen, r.last_seen)
        last = rows[-1].id
    for r in conn.execute(
            select(ad.c.source, ad.c.ad_id, ad.c.first_seen, ad.c.last_seen)
            .outerjoin(ad_network, ad_network.c.ad_pk == ad.c.id)
            .where(ad_network.c.ad_pk.is_(None)).order_by(ad.c.id)):
        yield _row(network_id_of(r.source, r.ad_id), 1, r.first_seen, r.last_seen)


def write_networks(conn: Connection, out: IO[bytes]) -> int:
    return write_lines(iter_networks(conn), out)
