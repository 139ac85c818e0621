"""Reading scores back: a network's risk and reasons, and what scoring read in one ad.

What ``faisceau networks show`` and ``faisceau ads show`` add to linking's and ingestion's
views, and what the web application will show beside a network or an ad.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, select

from faisceau.score.combine import MINOR_WHY
from faisceau.score.cues import lexicon, names
from faisceau.store.bulk import iso_utc
from faisceau.store.schema import ad, ad_minor, ad_version, network_score, score_features


def network_score_detail(conn: Connection, network_id: str) -> dict[str, Any] | None:
    """The network's latest score: risk, suspicions, and its reasons with their evidence;
    None when it has not been scored."""
    row = conn.execute(select(network_score).where(
        network_score.c.network_id == network_id)).first()
    if row is None:
        return None
    reasons = orjson.loads(row.reasons)
    return {"risk": row.risk, "trafficking_suspected": bool(row.trafficking_suspected),
            "minor_suspected": bool(row.minor_suspected),
            "scam_suspected": bool(row.scam_suspected), "reasons": reasons["risk"],
            "minor_reasons": reasons["minor"], "scam_reasons": reasons.get("scam", []),
            "scored_at": iso_utc(row.scored_at)}


def ad_score_detail(conn: Connection, source: str, ad_id: str) -> dict[str, Any] | None:
    """What scoring read in each version of an ad (cues, and the words that set them) and
    whether the ad is suspected of showing a minor, and why; None for an unknown ad."""
    ad_pk = conn.execute(select(ad.c.id).where(ad.c.source == source,
                                               ad.c.ad_id == ad_id)).scalar()
    if ad_pk is None:
        return None
    versions = []
    for version_id, cues, title, text in conn.execute(
            select(score_features.c.version_id, score_features.c.cues, ad_version.c.title,
                   ad_version.c.text)
            .join(ad_version, ad_version.c.id == score_features.c.version_id)
            .where(score_features.c.ad_pk == ad_pk).order_by(score_features.c.version_id)):
        whole = "\n".join(t for t in (title, text) if t)
        versions.append({"version_id": version_id, "cues": names(cues),
                         "words": [{"cue": cue, "words": words}
                                   for cue, words in lexicon().hits(whole)]})
    why = conn.execute(select(ad_minor.c.why).where(ad_minor.c.ad_pk == ad_pk)).scalar()
    return {"versions": versions, "minor_suspected": why is not None,
            "minor_reason": MINOR_WHY.get(why) if why is not None else None}
