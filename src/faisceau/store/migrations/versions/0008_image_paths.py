"""image_paths: no hash kept of an image whose path left the crawl folder

Before this revision, ingest read whatever file an ad's ``images[].path`` named, so a store
may hold the SHA-256 of a file outside the crawl folder (``/etc/hostname``,
``../../etc/shadow``), shown to every reader of the ad, or an error ("missing",
"unreadable") that tells whether such a file exists. Each image whose stored path breaks
the rule ingest now applies as written (absolute, or with a ``..`` component) gets the
answer ingest gives today, ``refused: outside the crawl folder``, and loses its hashes, as
does the copy linking keeps in ``link_key``. A path that left through a symbolic link cannot
be recognised from the store; networks already formed are not undone (the next detection
no longer sees these photos).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

REFUSED_OUTSIDE = "refused: outside the crawl folder"


def _outside(path: str) -> bool:
    """``faisceau.normalise.images``'s rule on a path as written (kept here, as a
    migration must not change when the code does)."""
    return path.startswith("/") or "\x00" in path or ".." in path.split("/")


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT version_id, position, path, sha256, phash FROM ad_image "
        "WHERE path LIKE '/%' OR path LIKE '%..%'")).all()
    refused = [r for r in rows if _outside(r.path)]
    if not refused:
        return
    conn.execute(sa.text(
        "UPDATE ad_image SET sha256 = NULL, phash = NULL, dhash = NULL, width = NULL, "
        "height = NULL, error = :error WHERE version_id = :version AND position = :position"),
        [{"error": REFUSED_OUTSIDE, "version": r.version_id, "position": r.position}
         for r in refused])
    # Linking's copy: "sha256 phash" per version (faisceau.link.features).
    keys = {(r.version_id, f"{r.sha256} {r.phash or ''}") for r in refused if r.sha256}
    if keys:
        conn.execute(sa.text(
            "DELETE FROM link_key WHERE kind = 'image' AND version_id = :version "
            "AND value = :value"), [{"version": v, "value": k} for v, k in sorted(keys)])


def downgrade() -> None:
    pass  # the hashes are gone for good: nothing to restore
