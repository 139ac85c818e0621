"""JSON outputs stay valid JSON, and JSON lines stay one line a record, for any value."""

from __future__ import annotations

import json
import math
from pathlib import Path

import orjson
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from faisceau.cli.main import app
from faisceau.config import Settings
from faisceau.export import jsonout

ODD = "a\u2028b\u2029c\x85d\x1b[31m"  # NUL is refused in identifiers at ingestion


def _ad(ad_id: str, phone: str) -> str:
    return json.dumps({"ad_id": ad_id, "source": f"src{ODD}", "seen_at": "2026-03-02T10:00:00Z",
                       "url": "https://annonces.example/1", "name": "Léa", "phone": phone,
                       "text": f"Bonjour {ODD}\x00"})


def test_exported_lines_are_one_line_each(store_settings: Settings,
                                          store_env: dict[str, str], tmp_path: Path) -> None:
    """An ad id holding U+2028, U+2029 or U+0085 broke the export into several lines for
    any reader that splits as Python's ``splitlines`` does."""
    ads = tmp_path / "ads.jsonl"
    ads.write_text(_ad(f"id{ODD}", "06 12 34 56 78") + "\n"
                   + _ad("plain", "06 12 34 56 79") + "\n", "utf-8")
    runner = CliRunner()
    for args in (["ingest", "ads", str(ads)], ["detect"],
                 ["export", "ads", "--out", str(tmp_path / "a.jsonl")],
                 ["export", "networks", "--out", str(tmp_path / "n.jsonl")]):
        result = runner.invoke(app, args, env=store_env)
        assert result.exit_code == 0, result.output
    exported = [json.loads(x) for x in (tmp_path / "a.jsonl").read_text("utf-8").splitlines()]
    assert sorted(a["ad_id"] for a in exported) == sorted([f"id{ODD}",
                                                           "plain"])
    networks = (tmp_path / "n.jsonl").read_text("utf-8").splitlines()
    assert all(json.loads(n)["network_id"] for n in networks)


@given(st.recursive(st.none() | st.booleans() | st.floats() | st.integers(-2**63, 2**63 - 1)
                    | st.text(alphabet=st.characters(codec=None)),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=8))
def test_any_value_gives_one_valid_json_line(value: object) -> None:
    data = jsonout.line(value)
    text = data.decode("utf-8")  # no lone surrogate reaches the bytes
    assert text.endswith("\n") and len(text.splitlines()) == 1
    back = json.loads(text, parse_constant=_refused)  # strict JSON: no NaN, no Infinity
    assert orjson.loads(data) == back


def _refused(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


def test_non_finite_numbers_are_null_and_surrogates_replaced() -> None:
    assert json.loads(jsonout.dumps({"r": math.nan, "s": [math.inf, "x\ud800"]})) == {
        "r": None, "s": [None, "x\ufffd"]}


def test_outputs_write_json_only_through_jsonout() -> None:
    """The architectural rule: what the command line prints and the exports write is encoded
    by ``jsonout`` (no ``orjson.dumps`` / ``json.dumps`` of their own)."""
    src = Path(__file__).resolve().parents[2] / "src" / "faisceau"
    files = [*(src / "cli").rglob("*.py"), *(src / "export").rglob("*.py"),
             src / "intel" / "exchange.py"]
    offenders = [f"{path.relative_to(src)}:{n}" for path in files if path.name != "jsonout.py"
                 for n, text in enumerate(path.read_text("utf-8").splitlines(), 1)
                 if "json.dumps(" in text or ("JSONStatementWriter(" in text
                                                  and "_Safe" not in text)]
    assert offenders == []
