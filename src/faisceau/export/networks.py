"""``faisceau export networks``: one JSON line per network, in identifier order.

The contract's fields, then extensions: ``first_seen``, ``last_seen``, each reason's French
``label``, ``weight`` and ``evidence_total`` (evidence lists the first ads in time, up to
the catalogue's ``max_evidence``; ``explained_by: "scam"`` on a reason that a scam
explains and that carries no weight there), ``minor_reasons`` and ``scam_reasons``. A
network not scored yet has risk 0.0 and no reasons. Ads not linked yet are networks of
one ad, as in the ads export.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import orjson
from sqlalchemy import Connection, select

from faisceau.export.ads import write_lines
from faisceau.link.identity import network_id_of
from faisceau.store.bulk import iso_utc
from faisceau.store.schema import ad, ad_network, network, network_score

BATCH = 5_000


def _row(network_id: str, ads: int, first_seen: Any, last_seen: Any,
         score: Any = None) -> dict[str, Any]:
    reasons = orjson.loads(score.reasons) if score is not None else {}
    return {"network_id": network_id, "ads": ads,
            "risk": score.risk if score is not None else 0.0,
            "trafficking_suspected": bool(score.trafficking_suspected) if score else False,
            "minor_suspected": bool(score.minor_suspected) if score else False,
            "scam_suspected": bool(score.scam_suspected) if score else False,
            "reasons": [_risk_reason(r) for r in reasons.get("risk", [])],
            "minor_reasons": [{"label": r["label"], "evidence": r["evidence"],
                               "evidence_total": r["evidence_total"]}
                              for r in reasons.get("minor", [])],
            "scam_reasons": [{"indicator": r["indicator"], "label": r["label"],
                              "weight": r["weight"], "evidence": r["evidence"],
                              "evidence_total": r["evidence_total"]}
                             for r in reasons.get("scam", [])],
            "first_seen": iso_utc(first_seen), "last_seen": iso_utc(last_seen)}


def _risk_reason(r: dict[str, Any]) -> dict[str, Any]:
    out = {"indicator": r["indicator"], "contribution": r["contribution"],
           "evidence": r["evidence"], "label": r["label"], "weight": r["weight"],
           "evidence_total": r["evidence_total"]}
    if "explained_by" in r:
        out["explained_by"] = r["explained_by"]
    return out


def iter_networks(conn: Connection) -> Iterator[dict[str, Any]]:
    last = ""
    while True:
        rows = conn.execute(
            select(network.c.id, network.c.ads, network.c.first_seen, network.c.last_seen,
                   network_score.c.risk, network_score.c.trafficking_suspected,
                   network_score.c.minor_suspected, network_score.c.scam_suspected,
                   network_score.c.reasons)
            .outerjoin(network_score, network_score.c.network_id == network.c.id)
            .where(network.c.status == "active", network.c.id > last)
            .order_by(network.c.id).limit(BATCH)).all()
        if not rows:
            break
        for r in rows:
            yield _row(r.id, r.ads, r.first_seen, r.last_seen,
                       r if r.risk is not None else None)
        last = rows[-1].id
    for lone in conn.execute(
            select(ad.c.source, ad.c.ad_id, ad.c.first_seen, ad.c.last_seen)
            .outerjoin(ad_network, ad_network.c.ad_pk == ad.c.id)
            .where(ad_network.c.ad_pk.is_(None)).order_by(ad.c.id)):
        yield _row(network_id_of(lone.source, lone.ad_id), 1, lone.first_seen, lone.last_seen)


def write_networks(conn: Connection, out: IO[bytes]) -> int:
    return write_lines(iter_networks(conn), out)
