"""Checking raw lines: every input gives a record or a located reason, never an exception."""

from __future__ import annotations

import json
import os
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faisceau.ingest import records
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


# --- Hostile values: each stays one record or one located reason, the same on both stores ---

def test_nul_in_content_is_dropped_from_what_is_derived_and_kept_in_the_record() -> None:
    rec = CHECKER.check(1, _line(text="06 12\u0000 34 56 78", title="a\u0000b",
                                 extra={"k\u0000": ["x\u0000y"]}))
    assert isinstance(rec, Record)
    assert rec.content["text"] == "06 12 34 56 78" and rec.content["title"] == "ab"
    assert rec.content["extra"] == {"k": ["xy"]}
    # what was collected is kept exactly, as JSON escapes (which PostgreSQL stores as text)
    assert b"\x00" not in rec.content_json
    assert orjson.loads(rec.content_json)["text"] == "06 12\u0000 34 56 78"


@pytest.mark.parametrize("field", ["source", "ad_id"])
def test_nul_in_the_identity_sets_the_line_aside(field: str) -> None:
    # dropping it could make two ads one: "a\u0000b" and "ab"
    result = CHECKER.check(3, _line(**{field: "a\u0000b"}))
    assert isinstance(result, Rejection) and f"{field} holds a NUL" in result.reason


def test_raw_control_bytes_are_escaped_in_the_quarantined_line() -> None:
    result = CHECKER.check(2, b'{"ad_id": "x\x00", "t": "\x1b]0;pwned\x07\xc2\x9b"}\n')
    assert isinstance(result, Rejection) and "invalid JSON" in result.reason
    assert "\x00" not in result.raw and "\x1b" not in result.raw and "\x9b" not in result.raw
    assert result.raw == '{"ad_id": "x\\x00", "t": "\\x1b]0;pwned\\x07\\x9b"}'


@pytest.mark.parametrize("seen_at", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00",
                                     "1999-12-31T23:59:59Z", "2100-01-01T00:00:00Z",
                                     "9999-12-31T23:59:59Z"])
def test_seen_at_out_of_range_is_set_aside(seen_at: str) -> None:
    result = CHECKER.check(5, _line(seen_at=seen_at))
    assert isinstance(result, Rejection) and "seen_at out of range" in result.reason, result


def test_seen_at_at_the_edges_of_the_range_is_kept() -> None:
    for seen_at, utc in (("2000-01-01T01:00:00+01:00", datetime(2000, 1, 1)),
                         ("2099-12-31T23:59:59Z", datetime(2099, 12, 31, 23, 59, 59))):
        rec = CHECKER.check(1, _line(seen_at=seen_at))
        assert isinstance(rec, Record) and rec.seen_at == utc


def test_a_byte_order_mark_does_not_set_a_line_aside() -> None:
    plain = CHECKER.check(1, _line(title="t"))
    for raw in (b"\xef\xbb\xbf" + _line(title="t"), b"  \xef\xbb\xbf " + _line(title="t")):
        rec = CHECKER.check(1, raw)
        assert isinstance(rec, Record) and isinstance(plain, Record)
        assert rec.content_hash == plain.content_hash


@pytest.mark.parametrize("shown", [b"123456789012345678901234567890", b"-9223372036854775809",
                                   b"18446744073709551616", b"1.00000000000000000000000001",
                                   b"1e400", b"-1e-400", b"12345678.123456789"])
def test_numbers_keep_the_digits_shown(shown: bytes) -> None:
    raw = (b'{"ad_id":"a","source":"s","seen_at":"2026-03-01T00:00:00Z","extra":{"n":' + shown
           + b',"m":[' + shown + b"]}}")
    rec = CHECKER.check(1, raw)
    assert isinstance(rec, Record), rec
    assert rec.content_json == (b'{"ad_id":"a","extra":{"m":[' + shown + b'],"n":' + shown
                                + b'},"source":"s"}')


def test_a_big_integer_is_still_an_integer_for_the_schema() -> None:
    rec = CHECKER.check(1, b'{"ad_id":"a","source":"s","seen_at":"2026-03-01T00:00:00Z",'
                           b'"age":123456789012345678901234567890}')
    assert isinstance(rec, Record) and rec.content["age"] == 123456789012345678901234567890
    refused = CHECKER.check(1, b'{"ad_id":"a","source":"s","seen_at":"2026-03-01T00:00:00Z",'
                               b'"age":1e400}')
    assert isinstance(refused, Rejection) and "schema" in refused.reason


def test_deep_nesting_is_set_aside_not_raised() -> None:
    for depth in (65, 300, 2000):
        nested = b'{"a":' * depth + b"1" + b"}" * depth
        raw = b'{"ad_id":"a","source":"s","seen_at":"2026-03-01T00:00:00Z","extra":' + nested + b"}"
        result = CHECKER.check(1, raw)
        assert isinstance(result, Rejection), depth
        assert "nested" in result.reason or "depth" in result.reason, result.reason


def test_a_lone_surrogate_is_set_aside() -> None:
    for text in (b'"\\ud800"', b'"\\udfff x"'):
        for number in (b"1", b"123456789012345678901"):  # the fast and the exact parser
            raw = (b'{"ad_id":"a","source":"s","seen_at":"2026-03-01T00:00:00Z","title":' + text
                   + b',"n":' + number + b"}")
            assert isinstance(CHECKER.check(1, raw), Rejection)


def test_identity_longer_than_the_store_keeps_is_set_aside() -> None:
    for field, cap in (("source", 200), ("ad_id", 500)):
        assert isinstance(CHECKER.check(1, _line(**{field: "x" * cap})), Record)
        result = CHECKER.check(1, _line(**{field: "x" * (cap + 1)}))
        assert isinstance(result, Rejection) and f"field {field} longer" in result.reason


def test_limits_never_exceed_the_store_columns() -> None:
    from faisceau.store.schema import ad

    limits = CHECKER.limits
    for column in ("source", "ad_id"):
        width = ad.c[column].type.length  # type: ignore[attr-defined]
        assert limits.string_chars[column] <= width, column
    assert limits.max_lines_per_file <= 2**31 - 1  # line numbers are INTEGER columns


# Values that broke ingestion once: NUL, big numbers, dates that overflow, deep nesting.
HOSTILE_TEXT = st.lists(st.sampled_from(["a", "\x00", "\ufeff", "\ud7ff", "[/]", "é", "\x1b"]),
                        max_size=6).map("".join)
HOSTILE_VALUE = st.recursive(
    st.none() | st.booleans() | HOSTILE_TEXT | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(HOSTILE_TEXT, inner, max_size=3),
    max_leaves=10)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries(
    {"ad_id": HOSTILE_TEXT, "source": HOSTILE_TEXT},
    optional={"seen_at": st.sampled_from(["2026-03-01T08:00:00Z", "9999-12-31T23:59:59-14:00",
                                          "0001-01-01T00:00:00+14:00", "2026-02-30T00:00:00Z"]),
              "title": HOSTILE_VALUE, "text": HOSTILE_TEXT, "age": HOSTILE_VALUE,
              "phone": HOSTILE_VALUE, "extra": HOSTILE_VALUE, "other": HOSTILE_VALUE}))
def test_hostile_objects_give_a_storable_record_or_a_reason(obj: dict[str, object]) -> None:
    raw = json.dumps(obj, ensure_ascii=False).encode()
    result = CHECKER.check(1, raw)
    assert isinstance(result, Record | Rejection)
    if isinstance(result, Rejection):
        assert result.reason and "\x00" not in result.raw + result.reason
        return
    # every text the store derives is free of NUL; the record is what was collected
    assert "\x00" not in orjson.dumps(result.content).decode()
    assert "\x00" not in result.source + result.ad_id
    expected = {k: v for k, v in json.loads(raw, parse_float=Decimal).items() if k != "seen_at"}
    assert json.loads(result.content_json, parse_float=Decimal) == expected
    assert datetime(2000, 1, 1) <= result.seen_at < datetime(2100, 1, 1)


def _json(value: object) -> str:
    """JSON text with numbers written as given (a Decimal as its digits)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_json(v) for v in value) + "]"
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value)


@settings(max_examples=300, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.text(max_size=5) | st.integers()
    | st.decimals(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                 max_size=3),
    max_leaves=12))
def test_loads_then_dumps_keeps_every_number_as_shown(value: object) -> None:
    text = _json(value)
    back = records.dumps(records.loads(text)).decode()
    assert json.loads(back, parse_float=Decimal) == json.loads(text, parse_float=Decimal)
