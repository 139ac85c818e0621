"""Reading one ad back with its history and provenance: versions, values, images."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, select

from faisceau.store.schema import ad, ad_image, ad_value, ad_version, ingest_file, sighting


def ad_history(conn: Connection, source: str, ad_id: str) -> dict[str, Any] | None:
    """Everything known of one ad, oldest version first; None if it was never ingested.
    Each version's ``record`` is the collected JSON as stored, for ``orjson.dumps``."""
    head = conn.execute(select(ad).where(ad.c.source == source, ad.c.ad_id == ad_id)).first()
    if head is None:
        return None
    versions = conn.execute(
        select(ad_version, ingest_file.c.path)
        .join(ingest_file, ingest_file.c.id == ad_version.c.file_id)
        .where(ad_version.c.ad_pk == head.id).order_by(ad_version.c.version_no)).all()
    ids = [v.id for v in versions]
    values: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for row in conn.execute(select(ad_value).where(ad_value.c.version_id.in_(ids))
                            .order_by(ad_value.c.id)):
        values[row.version_id].append({
            "kind": row.kind, "value": row.value, "shown": row.shown, "field": row.field,
            "detail": orjson.loads(row.detail) if row.detail else None})
    images: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for row in conn.execute(select(ad_image).where(ad_image.c.version_id.in_(ids))
                            .order_by(ad_image.c.version_id, ad_image.c.position)):
        images[row.version_id].append({
            "position": row.position, "path": row.path, "sha256": row.sha256,
            "phash": row.phash, "dhash": row.dhash, "error": row.error})
    seen = conn.execute(select(sighting.c.seen_at, sighting.c.version_id)
                        .where(sighting.c.ad_pk == head.id).order_by(sighting.c.seen_at)).all()
    return {
        "source": head.source, "ad_id": head.ad_id,
        "first_seen": head.first_seen.isoformat(), "last_seen": head.last_seen.isoformat(),
        "sightings": head.sightings, "current_version": next(
            (v.version_no for v in versions if v.id == head.current_version_id), None),
        "versions": [{
            "version": v.version_no, "first_seen": v.first_seen.isoformat(),
            "last_seen": v.last_seen.isoformat(), "sightings": v.sightings,
            "from": f"{v.path}:{v.line}", "age": v.age, "language": v.language,
            "commune": v.commune, "departement": v.departement, "region": v.region,
            # The stored JSON itself: numbers keep the digits shown (``records.dumps``).
            "record": orjson.Fragment(v.record), "values": values[v.id],
            "images": images[v.id],
        } for v in versions],
        "seen_at": [{"at": s.seen_at.isoformat(),
                     "version": next(v.version_no for v in versions if v.id == s.version_id)}
                    for s in seen],
    }
