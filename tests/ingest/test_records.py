"""Checking raw lines: every input gives a record or a located reason, never an exception."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faisceau.ingest.records import Record, RecordChecker, Rejection

CHECKER = RecordChecker()
SHARED_SCHEMA = Path(__file__).resolve().parents[3] / "shared" / "spec" / "ad.schema.json"


def _line(**fields: object) -> bytes:
    base: dict[str, object] = {"ad_id": "a", "source": "s", "seen_at": "2026-03-01T10:00:00+02:00"}
    base.update(fields)
    return orjson.dumps(base) + b"\n"


def test_shipped_schema_is_the_contract() -> None:
    shipped = Path(__file__).resolve().parents[2] / "src/faisceau/ingest/ad.schema.json"
    if not SHARED_SCHEMA.exists():
        message = f"the contract {SHARED_SCHEMA} is not beside this checkout"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    assert orjson.loads(shipped.read_bytes()) == orjson.loads(SHARED_SCHEMA.read_bytes())


def test_valid_record_keeps_unknown_fields_and_normalises_time() -> None:
    rec = CHECKER.check(7, _line(custom={"x": 1}, extra={"crawler": "v2"}))
    assert isinstance(rec, Record)
    assert rec.seen_at == datetime(2026, 3, 1, 8, 0, 0)
    assert rec.content["custom"] == {"x": 1} and rec.content["extra"] == {"crawler": "v2"}
    assert "seen_at" not in rec.content


def test_content_hash_ignores_key_order_and_seen_at() -> None:
    a = CHECKER.check(1, b'{"ad_id":"a","source":"s","seen_at":"2026-03-01T10:00:00Z","title":"t"}')
    b = CHECKER.check(2, b'{"title":"t","seen_at":"2026-03-02T10:00:00Z","source":"s","ad_id":"a"}')
    c = CHECKER.check(3, b'{"title":"u","seen_at":"2026-03-02T10:00:00Z","source":"s","ad_id":"a"}')
    assert isinstance(a, Record) and isinstance(b, Record) and isinstance(c, Record)
    assert a.content_hash == b.content_hash != c.content_hash


def test_each_kind_of_bad_line_gets_its_reason() -> None:
    cases = {
        b'{"ad_id": "a"': "invalid JSON",
        b"[1, 2]": "not a JSON object",
        _line(age=[19]): "schema",
        b'{"ad_id": "a", "source": "s"}': "schema",
        _line(ad_id=""): "schema",
        _line(seen_at="hier"): "seen_at",
        b'{"ad_id": "\xff"}': "invalid UTF-8",
        _line(text="x" * 60_000): "longer than",
        _line(phone=["1"] * 500): "more than",
    }
    for raw, reason in cases.items():
        result = CHECKER.check(4, raw)
        assert isinstance(result, Rejection), raw[:40]
        assert result.line == 4 and reason in result.reason, (raw[:40], result.reason)
    oversized = CHECKER.check(9, None)
    assert isinstance(oversized, Rejection) and "longer than" in oversized.reason


def test_blank_line_is_not_a_record() -> None:
    assert CHECKER.check(1, b"  \n") is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    result = CHECKER.check(1, raw)
    assert result is None or isinstance(result, Record | Rejection)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["ad_id", "source", "seen_at", "title", "age", "phone",
                                        "links", "images", "extra", "other"]),
                       st.none() | st.integers() | st.text(max_size=30)
                       | st.lists(st.text(max_size=10), max_size=3)))
def test_arbitrary_objects_are_accepted_or_rejected_with_a_reason(obj: dict[str, object]) -> None:
    result = CHECKER.check(1, json.dumps(obj).encode())
    assert isinstance(result, Record | Rejection)
    if isinstance(result, Rejection):
        assert result.reason
    else:
        assert result.ad_id and result.source
