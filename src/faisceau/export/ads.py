"""``faisceau export ads``: one JSON line per ad, its latest version, in (source, ad_id) order.

An ad's network is the one ``faisceau detect`` gave it; an ad not linked yet (ingested since
the last detection) is a network of its own, with the identifier detection would give it,
so the contract's "every ad belongs to exactly one network" always holds. An ad's risk is
its network's (0.0 before scoring); ``minor_suspected`` is the ad's own suspicion.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any

from sqlalchemy import Connection, select

from faisceau.export import jsonout
from faisceau.link.identity import network_id_of
from faisceau.store.schema import ad, ad_minor, ad_network, ad_value, ad_version, network_score

BATCH = 5_000


def iter_ads(conn: Connection) -> Iterator[dict[str, Any]]:
    """Rows of the ads export, streamed in batches to keep memory bounded."""
    last: tuple[str, str] = ("", "")
    while True:
        rows = conn.execute(
            select(ad.c.source, ad.c.ad_id, ad.c.current_version_id, ad_version.c.departement,
                   ad_network.c.network_id, network_score.c.risk,
                   ad_minor.c.ad_pk.is_not(None).label("minor"))
            .join(ad_version, ad_version.c.id == ad.c.current_version_id)
            .outerjoin(ad_network, ad_network.c.ad_pk == ad.c.id)
            .outerjoin(network_score, network_score.c.network_id == ad_network.c.network_id)
            .outerjoin(ad_minor, ad_minor.c.ad_pk == ad.c.id)
            .where((ad.c.source > last[0]) | ((ad.c.source == last[0]) & (ad.c.ad_id > last[1])))
            .order_by(ad.c.source, ad.c.ad_id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        version_ids = [r.current_version_id for r in rows]
        phones: dict[int, list[str]] = {}
        for version_id, value in conn.execute(
            select(ad_value.c.version_id, ad_value.c.value)
            .where(ad_value.c.version_id.in_(version_ids), ad_value.c.kind == "phone")
            .order_by(ad_value.c.version_id, ad_value.c.id)
        ):
            found = phones.setdefault(version_id, [])
            if value not in found:
                found.append(value)
        for r in rows:
            yield {
                "source": r.source,
                "ad_id": r.ad_id,
                "network_id": r.network_id or network_id_of(r.source, r.ad_id),
                "risk": r.risk if r.risk is not None else 0.0,
                "minor_suspected": bool(r.minor),
                "phones": phones.get(r.current_version_id, []),
                "departement": r.departement,
            }
        last = (rows[-1].source, rows[-1].ad_id)


def write_lines(rows: Iterable[dict[str, Any]], out: IO[bytes]) -> int:
    """Write ``rows`` as JSON Lines (``jsonout``: one line a row, whatever it holds);
    returns how many."""
    count = 0
    for row in rows:
        out.write(jsonout.line(row))
        count += 1
    return count


def write_ads(conn: Connection, out: IO[bytes]) -> int:
    return write_lines(iter_ads(conn), out)
