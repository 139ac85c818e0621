"""What goes wrong after a line is read costs that line only, on both stores: a normaliser
that fails on an ad, a value the store refuses. The line is set aside with the reason, the
rest of its chunk goes in, and reading the file again once the cause is fixed resolves it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from faisceau.ingest import pipeline
from faisceau.ingest.pipeline import Ingestor
from faisceau.store import Store, bulk
from faisceau.store.schema import ad, quarantine


def _file(tmp_path: Path, titles: list[str]) -> Path:
    path = tmp_path / "ads.jsonl"
    path.write_text("".join(json.dumps({
        "ad_id": f"a{i}" if title != "boom" else "boom", "source": "exemple",
        "seen_at": f"2026-03-{i + 1:02d}T08:00:00Z", "title": title, "text": "06 12 34 56 78",
    }) + "\n" for i, title in enumerate(titles)))
    return path


def _ingest(store: Store, path: Path) -> pipeline.Summary:
    with Ingestor(store, images=False, workers=1, chunk_lines=100).session() as ingestor:
        return ingestor.ingest_paths([path])


def _state(store: Store) -> tuple[list[str], list[tuple[int, str, bool]]]:
    with store.begin() as conn:
        ids = sorted(conn.execute(select(ad.c.ad_id)).scalars())
        entries = [(r.line, r.reason, r.resolved_at is None) for r in conn.execute(
            select(quarantine).order_by(quarantine.c.line))]
    return ids, entries


def test_an_ad_a_normaliser_fails_on_is_set_aside_and_the_chunk_goes_in(
        opened: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = pipeline.normalise_ad

    def failing(content: dict[str, Any], base: Path | None, *, images: bool = True) -> Any:
        if content.get("title") == "boom":
            raise ValueError("a normaliser's bug")
        return real(content, base, images=images)

    monkeypatch.setattr(pipeline, "normalise_ad", failing)
    # the same version seen twice: both of its lines go
    path = _file(tmp_path, ["un", "boom", "deux", "boom", "trois"])
    summary = _ingest(opened, path)
    assert summary.set_aside == 2 and summary.read == 5
    ids, entries = _state(opened)
    assert ids == ["a0", "a2", "a4"]
    assert entries == [(2, "normalisation failed: ValueError: a normaliser's bug", True),
                       (4, "normalisation failed: ValueError: a normaliser's bug", True)]

    monkeypatch.setattr(pipeline, "normalise_ad", real)  # the bug is fixed
    again = _ingest(opened, path)
    assert again.resolved == 2 and again.already_ingested == 3
    ids, entries = _state(opened)
    assert ids == ["a0", "a2", "a4", "boom"] and [open_ for *_x, open_ in entries] == [False] * 2


def test_a_value_the_store_refuses_costs_its_line_only(
        opened: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The store does not say which row it refused: the chunk is halved until it is found.
    refusal = opened.engine.dialect.dbapi.DataError  # type: ignore[union-attr]
    real = bulk.insert_rows

    def refusing(conn: Any, table: str, columns: Sequence[str],
                 rows: Sequence[Sequence[Any]]) -> None:
        if table == "ad_version" and any("refusé" in row for row in rows):
            raise refusal("value refused by the store")
        real(conn, table, columns, rows)

    monkeypatch.setattr(bulk, "insert_rows", refusing)
    path = _file(tmp_path, ["un", "deux", "refusé", "quatre", "cinq", "six", "sept"])
    summary = _ingest(opened, path)
    assert summary.set_aside == 1 and summary.new_ads == 6
    ids, entries = _state(opened)
    assert ids == ["a0", "a1", "a3", "a4", "a5", "a6"]
    assert entries == [(3, "refused by the store: value refused by the store", True)]


def test_postgresql_refusing_a_wider_source_costs_that_line_only(
        opened: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Were the limits ever wider than the columns, PostgreSQL (not SQLite) would refuse.
    checker = pipeline.RecordChecker
    limits = checker().limits
    wide = limits.__class__(**{**limits.__dict__,
                               "string_chars": {**limits.string_chars, "source": 1000}})
    monkeypatch.setattr(pipeline, "RecordChecker", lambda: checker(wide))
    path = tmp_path / "ads.jsonl"
    path.write_text("".join(json.dumps({"ad_id": f"a{i}", "source": "s" * (300 if i == 1 else 5),
                                        "seen_at": "2026-03-01T08:00:00Z"}) + "\n"
                            for i in range(4)))
    summary = _ingest(opened, path)
    ids, entries = _state(opened)
    if opened.dialect == "postgresql":
        assert ids == ["a0", "a2", "a3"] and summary.set_aside == 1
        assert entries[0][0] == 2 and entries[0][1].startswith("refused by the store: value too")
    else:
        assert ids == ["a0", "a1", "a2", "a3"] and entries == []
