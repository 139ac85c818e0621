"""Fuzzing the reader, on both stores: files mixing valid ads (with NUL, byte-order marks, big
numbers, offsets of ±14 h) with random bytes, random JSON and gzip files cut anywhere.

The property: every valid ad read is stored with what it showed, every bad line is in the
quarantine with its file and line, every file not read in full has its line-0 entry, and the
run ends normally (exit status 0 through the command).
"""

from __future__ import annotations

import gzip
import json
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from faisceau.config import Settings
from faisceau.ingest.pipeline import Ingestor
from faisceau.store import Store, open_store
from faisceau.store.schema import ad, ad_version, quarantine
from tests.conftest import run_faisceau

TEXT = st.lists(st.sampled_from(["a", "é", " ", "\x00", "\ufeff", "[/]", "\x1b", "06", "\u2028",
                                 "😀"]), max_size=6).map("".join)
OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-14)),
                           timezone(timedelta(hours=5, minutes=30))])
VALID = st.fixed_dictionaries(
    {"seen_at": st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2098, 12, 31),
                             timezones=OFFSETS).map(datetime.isoformat)},
    optional={"title": TEXT, "text": TEXT, "name": TEXT, "phone": TEXT | st.lists(TEXT),
              "age": st.integers(-(10**25), 10**25) | TEXT,
              "extra": st.dictionaries(TEXT, st.integers(-(10**30), 10**30) | TEXT | st.none(),
                                       max_size=3)})
JSON = st.recursive(st.none() | st.booleans() | st.integers() | TEXT,
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8)
# Random bytes, made invalid JSON by a leading "#" (bytes alone may be blank, or "{}").
BYTES = st.binary(max_size=60).map(lambda b: b"#" + b.replace(b"\n", b""))
LINE = st.one_of(st.tuples(st.just("valid"), VALID), st.tuples(st.just("json"), JSON),
                 st.tuples(st.just("bytes"), BYTES))
FILE = st.tuples(st.sampled_from(["plain", "gzip", "cut"]), st.floats(0.0, 1.0),
                 st.booleans(), st.lists(LINE, min_size=1, max_size=12))


@dataclass
class Batch:
    """Files written for one example, and what the store must hold after ingesting them."""

    root: Path
    source: str
    valid: dict[str, dict[str, object]] = field(default_factory=dict)  # ad_id -> object
    bad: set[tuple[str, int]] = field(default_factory=set)  # (file name, line)
    cut: set[str] = field(default_factory=set)  # files read in part


def _bad_line(kind: str, value: object) -> bytes:
    if kind == "bytes":
        return value  # type: ignore[return-value]
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k != "seen_at"}  # required: never valid
    return json.dumps(value, ensure_ascii=False).encode()


def _write(root: Path, files: list[tuple[str, float, bool, list[tuple[str, object]]]]) -> Batch:
    batch = Batch(root, f"fuzz-{uuid.uuid4().hex[:8]}")
    for number, (kind, cut, bom, lines) in enumerate(files):
        name = f"f{number:02d}.jsonl" + ("" if kind == "plain" else ".gz")
        raws: list[bytes] = []
        expected: list[dict[str, object] | None] = []
        for i, (what, value) in enumerate(lines):
            if what == "valid" and isinstance(value, dict):
                # an identity that needs care too (a NUL in it is refused: not here)
                obj = {"ad_id": f"{number}-{i}-[/]é😀", "source": batch.source, **value}
                raw = json.dumps(obj, ensure_ascii=i % 2 == 0).encode()
                expected.append(obj)
            else:
                raw = _bad_line(what, value)
                expected.append(None)
            raws.append((b"\xef\xbb\xbf" if bom and i == 0 else b"") + raw + b"\n")
        data = b"".join(raws)
        if kind == "plain":
            (root / name).write_bytes(data)
            complete = len(raws)
        else:
            whole = gzip.compress(data)
            packed = whole[: int(len(whole) * cut)] if kind == "cut" else whole
            (root / name).write_bytes(packed)
            readable = zlib.decompressobj(31).decompress(packed)
            complete = readable.count(b"\n")
            if 0 < len(packed) < len(whole):  # an empty file is an empty gzip file
                batch.cut.add(name)
        for line, wanted in enumerate(expected[:complete], 1):
            if wanted is not None:
                batch.valid[str(wanted["ad_id"])] = wanted
            elif raws[line - 1].strip():
                batch.bad.add((name, line))
    return batch


def _check_store(store: Store, batch: Batch) -> None:
    with store.begin() as conn:
        rows = conn.execute(select(ad.c.ad_id, ad_version.c.record, ad_version.c.title,
                                   ad_version.c.text)
                            .join(ad_version, ad_version.c.ad_pk == ad.c.id)
                            .where(ad.c.source == batch.source)).all()
        entries = conn.execute(select(quarantine.c.path, quarantine.c.line, quarantine.c.raw,
                                      quarantine.c.resolved_at)
                               .where(quarantine.c.path.like(f"{batch.root}/%"))).all()
    assert sorted(r.ad_id for r in rows) == sorted(batch.valid)
    for row in rows:
        shown = {k: v for k, v in batch.valid[row.ad_id].items() if k != "seen_at"}
        assert json.loads(row.record, parse_float=Decimal) == shown
        for column in ("title", "text"):
            value = shown.get(column)
            assert getattr(row, column) == (value.replace("\x00", "")
                                            if isinstance(value, str) else None)
    located = {(Path(e.path).name, e.line) for e in entries}
    assert located == batch.bad | {(name, 0) for name in batch.cut}
    assert all(e.resolved_at is None and "\x00" not in e.raw for e in entries)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(files=st.lists(FILE, min_size=1, max_size=4))
def test_fuzzed_files_lose_no_valid_ad_and_locate_every_bad_line(
        opened: Store, tmp_path_factory: pytest.TempPathFactory,
        files: list[tuple[str, float, bool, list[tuple[str, object]]]]) -> None:
    batch = _write(tmp_path_factory.mktemp("fuzz"), files)
    with Ingestor(opened, images=False, workers=1, chunk_lines=5).session() as ingestor:
        summary = ingestor.ingest_paths([batch.root])
    _check_store(opened, batch)
    assert {Path(p).name for p, _reason in summary.unread} == batch.cut


@settings(max_examples=3, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(files=st.lists(FILE, min_size=2, max_size=4))
def test_fuzzed_files_through_the_command_exit_0(
        store_settings: Settings, store_env: dict[str, str],
        tmp_path_factory: pytest.TempPathFactory,
        files: list[tuple[str, float, bool, list[tuple[str, object]]]]) -> None:
    batch = _write(tmp_path_factory.mktemp("fuzz"), files)
    result = run_faisceau(["ingest", "ads", str(batch.root), "--chunk-lines", "7"], store_env,
                          check=False)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    store = open_store(store_settings)
    try:
        _check_store(store, batch)
    finally:
        store.dispose()
