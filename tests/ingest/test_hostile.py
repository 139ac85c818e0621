"""A hostile batch through the real command, on both stores: bad data never costs good data.

Each file below once stopped the whole run (or was silently skipped); now every valid ad goes
in, every bad line and every file not read in full is in the quarantine with its place and
reason, the run goes on and exits 0, and re-running once the files are fixed finishes the
job with nothing doubled.
"""

from __future__ import annotations

import ctypes
import gzip
import json
import os
import re
import subprocess
import zlib
from pathlib import Path

import pytest

from tests.conftest import faisceau_cmd, run_faisceau

BIG = "1234567890123456789012345678901234567890"


def _ad(ad_id: str, seen_at: str = "2026-03-01T08:00:00Z", **fields: object) -> bytes:
    base: dict[str, object] = {"ad_id": ad_id, "source": "exemple", "seen_at": seen_at,
                               "title": "Annonce", "text": "Rendez-vous à Lyon, 06 12 34 56 78"}
    base.update(fields)
    return json.dumps(base, ensure_ascii=False).encode()


def _write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def _gz_lines(count: int) -> bytes:
    return b"".join(_ad(f"gz{i}", text=f"Annonce numéro {i} " + os.urandom(24).hex()) + b"\n"
                    for i in range(count))


def _ids(raw: bytes) -> set[str]:
    return {json.loads(line)["ad_id"] for line in raw.splitlines() if line.endswith(b"}")}


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, set[str]]:
    """A crawl directory of hostile files, and the ad ids that are valid in it."""
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    valid = set()
    _write(crawl / "a-bom.jsonl", [b"\xef\xbb\xbf" + _ad("bom1"), _ad("bom2")])
    valid |= {"bom1", "bom2"}
    # a NUL escaped in a valid ad; a raw NUL byte in a line (invalid JSON)
    _write(crawl / "b-nul.jsonl", [_ad("nul1", text="06 12\x00 34 56 78"),
                                   b'{"ad_id": "raw\x00", "source": "exemple"}', _ad("nul2")])
    valid |= {"nul1", "nul2"}
    _write(crawl / "c-dates.jsonl", [_ad("date1"), _ad("date-bad", "9999-12-31T23:59:59-14:00"),
                                     _ad("date2", "2026-03-02T08:00:00+14:00")])
    valid |= {"date1", "date2"}
    (crawl / "d-big.jsonl").write_bytes(
        _ad("big1")[:-1] + b', "extra": {"n": ' + BIG.encode() + b"}}\n")
    valid.add("big1")
    whole = gzip.compress(_gz_lines(300))
    (crawl / "e-truncated.jsonl.gz").write_bytes(whole[: len(whole) * 6 // 10])
    kept = zlib.decompressobj(31).decompress(whole[: len(whole) * 6 // 10])
    valid |= _ids(kept[: kept.rindex(b"\n") + 1])
    _write(crawl / "f-notgzip.jsonl.gz", [_ad("ng1")])
    (crawl / "g-[").mkdir()  # a path with "[/]" in it, read as markup it closes nothing
    _write(crawl / "g-[/]markup[bold].jsonl", [_ad("mk1"), b'{"ad_id": "mk2"'])
    valid.add("mk1")
    deep = b'{"a":' * 300 + b"1" + b"}" * 300
    _write(crawl / "h-deep.jsonl", [_ad("deep1")[:-1] + b', "extra": ' + deep + b"}",
                                    _ad("deep2")])
    valid.add("deep2")
    _write(crawl / "i-long.jsonl", [_ad("long1", source="s" * 300), _ad("long2")])
    valid.add("long2")
    _write(crawl / "j-sha.jsonl", [_ad("sha1", images=[{"url": "http://x/1.jpg",
                                                        "sha256": "z" * 100}])])
    valid.add("sha1")
    _write(crawl / "zz-last.jsonl", [_ad("last1")])
    valid.add("last1")
    return crawl, valid


def _export_ids(env: dict[str, str], tmp: Path) -> list[str]:
    out = tmp / "export.jsonl"
    run_faisceau(["export", "ads", "--out", str(out)], env)
    return sorted(json.loads(line)["ad_id"] for line in out.read_text().splitlines())


def _quarantine(env: dict[str, str], *args: str) -> list[dict[str, object]]:
    listed = run_faisceau(["quarantine", "list", "--limit", "0", "--json", *args], env).stdout
    return [json.loads(line) for line in listed.splitlines()]


def test_a_hostile_batch_keeps_every_valid_ad_and_locates_every_bad_one(
        store_env: dict[str, str], hostile: tuple[Path, set[str]], tmp_path: Path) -> None:
    crawl, valid = hostile
    result = run_faisceau(["ingest", "ads", str(crawl), "--no-images"], store_env, check=False)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert _export_ids(store_env, tmp_path) == sorted(valid)

    entries = {(str(Path(str(e["path"])).relative_to(crawl)), e["line"]): str(e["reason"])
               for e in _quarantine(store_env)}
    assert set(entries) == {("b-nul.jsonl", 2), ("c-dates.jsonl", 2), ("e-truncated.jsonl.gz", 0),
                            ("f-notgzip.jsonl.gz", 0), ("g-[/]markup[bold].jsonl", 2),
                            ("h-deep.jsonl", 1), ("i-long.jsonl", 1)}
    assert "seen_at out of range" in entries[("c-dates.jsonl", 2)]
    assert "truncated" in entries[("e-truncated.jsonl.gz", 0)]
    assert entries[("f-notgzip.jsonl.gz", 0)].startswith("not read: bad gzip data")
    # files not read in full are said on standard error, with their path and why
    said = [line for line in result.stderr.splitlines() if "non lu en entier" in line]
    assert len(said) == 2
    assert str(crawl / "e-truncated.jsonl.gz") in said[0] and "truncated" in said[0]
    assert str(crawl / "f-notgzip.jsonl.gz") in said[1]
    # a path that looks like markup is printed as it is
    assert f"{crawl / 'g-[/]markup[bold].jsonl'}:2: invalid JSON" in result.stdout
    listed = run_faisceau(["quarantine", "list"], {**store_env, "COLUMNS": "1000"}).stdout
    assert f"│ {crawl / 'g-[/]markup[bold].jsonl'} │ 2 " in listed

    # what the ads showed is kept: the NUL in the record, the digits of a big number
    nul = json.loads(run_faisceau(["ads", "show", "exemple", "nul1"], store_env).stdout)
    version = nul["versions"][0]
    assert version["record"]["text"] == "06 12\x00 34 56 78"
    assert {v["value"] for v in version["values"] if v["kind"] == "phone"} == {"+33612345678"}
    big = run_faisceau(["ads", "show", "exemple", "big1"], store_env).stdout
    assert f'"n":{BIG}' in big
    sha = json.loads(run_faisceau(["ads", "show", "exemple", "sha1"], store_env).stdout)
    assert sha["versions"][0]["images"][0]["sha256"] is None


def test_fixed_files_are_finished_by_retry_with_nothing_doubled(
        store_env: dict[str, str], hostile: tuple[Path, set[str]], tmp_path: Path) -> None:
    crawl, valid = hostile
    run_faisceau(["ingest", "ads", str(crawl), "--no-images"], store_env)
    # the collector writes the two gzip files again, whole
    (crawl / "e-truncated.jsonl.gz").write_bytes(gzip.compress(_gz_lines(300)))
    (crawl / "f-notgzip.jsonl.gz").write_bytes(gzip.compress(_ad("ng1") + b"\n"))
    retry = run_faisceau(["quarantine", "retry"], store_env)
    assert "non lu en entier" not in retry.stderr
    everything = valid | {f"gz{i}" for i in range(300)} | {"ng1"}
    assert _export_ids(store_env, tmp_path) == sorted(everything)
    resolved = {Path(str(e["path"])).name: e["resolution"]
                for e in _quarantine(store_env, "--all") if e["line"] == 0}
    assert resolved == {"e-truncated.jsonl.gz": "re-ingested",
                        "f-notgzip.jsonl.gz": "re-ingested"}
    status = run_faisceau(["status"], store_env).stdout
    again = run_faisceau(["ingest", "ads", str(crawl), "--no-images"], store_env).stdout
    assert "nouvelles annonces          │ 0" in again
    assert run_faisceau(["status"], store_env).stdout == status
    assert f"passages            │ {len(everything)}" in status


def test_a_file_truncated_again_is_back_in_the_quarantine(
        store_env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "day.jsonl.gz"
    whole = gzip.compress(_gz_lines(200))
    path.write_bytes(whole[: len(whole) // 2])
    run_faisceau(["ingest", "ads", str(path)], store_env)
    path.write_bytes(whole)
    run_faisceau(["ingest", "ads", str(path)], store_env)
    assert _quarantine(store_env) == []
    path.write_bytes(whole[: len(whole) // 2])  # the same damage again
    result = run_faisceau(["ingest", "ads", str(path)], store_env)
    assert "non lu en entier" in result.stderr
    assert [(e["line"], e["resolution"]) for e in _quarantine(store_env)] == [(0, None)]


@pytest.mark.parametrize("name", ["[/]", "[bold]x[/bold].jsonl", "a[/]b/c.jsonl",
                                  "x\x1b[2J:smile:.jsonl"])
def test_a_path_that_looks_like_markup_fails_on_one_plain_line(
        store_env: dict[str, str], tmp_path: Path, name: str) -> None:
    missing = tmp_path / name
    result = run_faisceau(["ingest", "ads", str(missing)], store_env, check=False)
    assert result.returncode == 2
    printed = str(missing).replace("\x1b", "\\x1b")  # no escape sequence reaches the terminal
    assert result.stderr.splitlines() == [
        f"faisceau: error: cannot read {printed}: no such file or directory"]


def _without_dac_override() -> None:
    """In the child, before exec: root loses the right to ignore file modes (the bounding
    set's CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH), so a mode 000 directory is unreadable."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            os._exit(99)


def _as_unprivileged(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The real command, in a process that file modes apply to."""
    preexec = _without_dac_override if os.geteuid() == 0 else None
    return subprocess.run([*faisceau_cmd(), *args], env=env, capture_output=True, text=True,
                          timeout=600, preexec_fn=preexec)


def test_an_unreadable_subdirectory_is_reported_and_read_once_it_can_be(
        store_env: dict[str, str], tmp_path: Path) -> None:
    crawl = tmp_path / "crawl"
    for name in ("open", "locked"):
        (crawl / name).mkdir(parents=True)
        _write(crawl / name / "ads.jsonl", [_ad(f"{name}1")])
    (crawl / "locked").chmod(0)
    try:
        result = _as_unprivileged(["ingest", "ads", str(crawl)], store_env)
        assert result.returncode == 0, result.stderr
        assert f"{crawl / 'locked'} : not read: Permission denied" in result.stderr
        listed = _quarantine(store_env)
        assert [(e["path"], e["line"]) for e in listed] == [(str(crawl / "locked"), 0)]
    finally:
        (crawl / "locked").chmod(0o755)
    retry = run_faisceau(["quarantine", "retry"], store_env)
    assert "non lu" not in retry.stderr
    assert _export_ids(store_env, tmp_path) == ["locked1", "open1"]
    assert _quarantine(store_env) == []


def test_the_consoles_print_text_as_it_is() -> None:
    # every command prints through these two: no markup, no emoji codes, no escape sequence
    from rich.table import Table
    from rich.text import Text

    from faisceau.cli.common import console, out

    hostile = "[/] [bold]x[/bold] :smile: \x1b]0;title\x07\x9b2J"
    for printer in (console, out):
        table = Table(title=hostile)
        table.add_column("c")
        table.add_row(hostile)
        with printer.capture() as captured:
            printer.print(hostile, highlight=False)
            printer.print(Text(hostile))
            printer.print(table)
        shown = captured.get()
        assert shown.startswith("[/] [bold]x[/bold] :smile: \\x1b]0;title\\x07\\x9b2J\n"
                                "[/] [bold]x[/bold] :smile: ]0;title2J\n")
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", shown)
        assert shown.count("\\x1b]0;title\\x07\\x9b2J") == 3  # line, title, cell


def test_retry_reads_again_ad_files_only_not_case_files(
        store_env: dict[str, str], tmp_path: Path) -> None:
    # Case-file imports share the quarantine; retrying them as ads would set every line aside.
    ftm = tmp_path / "cases" / "extra.jsonl"
    ftm.parent.mkdir()
    ftm.write_text('{"id": "X1", "schema": "Person", "properties": {"name": ["Ana Roux"]}}\n'
                   '{"id": "X2", "schema": "Persn", "properties": {}}\n')
    run_faisceau(["cases", "import", str(ftm.parent)], store_env)
    before = _quarantine(store_env)
    assert [(Path(str(e["path"])).name, e["line"]) for e in before] == [("extra.jsonl", 2)]
    retry = run_faisceau(["quarantine", "retry"], store_env)
    assert "Aucune entrée ouverte" in retry.stdout
    assert _quarantine(store_env, "--all") == before
