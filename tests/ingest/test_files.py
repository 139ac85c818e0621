"""Finding and reading files: a path or a file that cannot be read in full is reported with
why, the lines read before the failure count, and the search goes on."""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faisceau.ingest.records import (
    FileReader,
    UnreadablePath,
    find_files,
    load_limits,
    path_from_text,
    path_text,
)

LIMITS = load_limits()


def _lines(count: int) -> bytes:
    return b"".join(b'{"ad_id": "a%d", "n": "%s"}\n' % (i, os.urandom(8).hex().encode())
                    for i in range(count))


def _read(path: Path) -> tuple[list[bytes], FileReader]:
    reader = FileReader(path, LIMITS)
    lines = [raw for _n, raw in reader.lines() if raw is not None]
    return lines, reader


def _complete_lines(compressed: bytes) -> list[bytes]:
    """The whole lines zlib can decompress from a (truncated) gzip stream."""
    data = zlib.decompressobj(31).decompress(compressed)
    return data.splitlines(keepends=True)[: data.count(b"\n")]


@settings(max_examples=60, deadline=None)
@given(count=st.integers(1, 400), cut=st.floats(0.0, 1.0))
def test_a_truncated_gzip_keeps_every_complete_line(tmp_path_factory: pytest.TempPathFactory,
                                                    count: int, cut: float) -> None:
    whole = gzip.compress(_lines(count))
    truncated = whole[: int(len(whole) * cut)]
    path = tmp_path_factory.mktemp("gz") / "ads.jsonl.gz"
    path.write_bytes(truncated)
    lines, reader = _read(path)
    if len(truncated) in (0, len(whole)):  # an empty file is an empty gzip file
        assert len(lines) == (count if truncated else 0) and reader.problem is None
        return
    assert lines == _complete_lines(truncated)
    assert reader.problem is not None and reader.problem.lines == len(lines)
    assert "truncated" in reader.problem.reason or "gzip" in reader.problem.reason


def test_a_file_that_is_not_gzip_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "ads.jsonl.gz"
    path.write_bytes(_lines(3))
    lines, reader = _read(path)
    assert lines == [] and reader.problem is not None
    assert reader.problem.lines == 0 and reader.problem.reason.startswith("not read: bad gzip")


@pytest.mark.parametrize("damage", ["zeros", "bit"])
def test_corrupt_gzip_data_gives_no_line(tmp_path: Path, damage: str) -> None:
    # zlib notices late, after lines it may have got wrong: none is read
    data = _lines(2000)
    packed = bytearray(gzip.compress(data))
    middle = len(packed) // 2
    if damage == "zeros":
        packed[middle : middle + 64] = bytes(64)
    else:
        packed[-8] ^= 0x01  # the CRC of the data: everything decodes, nothing can be trusted
    path = tmp_path / "ads.jsonl.gz"
    path.write_bytes(bytes(packed))
    lines, reader = _read(path)
    assert lines == [] and reader.problem is not None and reader.problem.lines == 0
    assert reader.problem.reason.startswith("not read: bad gzip data")


def test_a_directory_read_as_a_file_is_one_problem(tmp_path: Path) -> None:
    lines, reader = _read(tmp_path)
    assert lines == [] and reader.problem is not None and reader.problem.lines == 0


def test_more_lines_than_the_store_numbers_stop_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ads.jsonl"
    path.write_bytes(_lines(5))
    limits = LIMITS.__class__(**{**LIMITS.__dict__, "max_lines_per_file": 3})
    reader = FileReader(path, limits)
    assert [n for n, _raw in reader.lines()] == [1, 2, 3]
    assert reader.problem is not None and "more than 3 lines" in reader.problem.reason


def test_paths_found_in_directories_that_cannot_be_read_are_listed(tmp_path: Path) -> None:
    crawl = tmp_path / "crawl"
    (crawl / "day1").mkdir(parents=True)
    (crawl / "day1" / "a.jsonl").write_bytes(_lines(1))
    (crawl / "z.jsonl").write_bytes(_lines(1))
    (crawl / "photo.jpg").write_bytes(b"jpeg")
    os.mkfifo(crawl / "pipe.jsonl")
    (crawl / "gone.jsonl").symlink_to(tmp_path / "nowhere")
    (tmp_path / "elsewhere").mkdir()
    (crawl / "linked").symlink_to(tmp_path / "elsewhere")
    found = find_files([crawl])
    assert found.files == [crawl / "day1" / "a.jsonl", crawl / "z.jsonl"]
    unread = {p.path.name: p.reason for p in found.unread}
    assert set(unread) == {"pipe.jsonl", "gone.jsonl", "linked"}
    assert unread["pipe.jsonl"] == "not read: not a regular file"
    assert "symbolic link to a directory" in unread["linked"]
    assert set(found.listed) == {crawl, crawl / "day1"}


def test_a_directory_that_cannot_be_listed_is_reported_and_the_rest_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    crawl = tmp_path / "crawl"
    (crawl / "locked").mkdir(parents=True)
    (crawl / "open").mkdir()
    (crawl / "open" / "a.jsonl").write_bytes(_lines(1))
    real_scandir = os.scandir

    def scandir(path: str | os.PathLike[str]) -> object:
        if Path(path).name == "locked":  # as for a directory of mode 000, even for root
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    found = find_files([crawl])
    assert found.files == [crawl / "open" / "a.jsonl"]
    assert [(p.path, p.reason) for p in found.unread] == [
        (crawl / "locked", "not read: Permission denied")]
    with pytest.raises(UnreadablePath, match="locked: Permission denied"):
        find_files([crawl / "locked"])  # given on the command line: the run stops
    assert find_files([crawl / "locked"], strict=False).unread[0].path == crawl / "locked"


def test_a_path_given_that_is_no_file_stops_the_run(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.jsonl")
    with pytest.raises(UnreadablePath, match="not a regular file"):
        find_files([tmp_path / "pipe.jsonl"])
    with pytest.raises(UnreadablePath, match="no such file or directory"):
        find_files([tmp_path / "missing.jsonl"])


def test_names_that_are_not_utf8_are_stored_and_found_again(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/ads-\xff\xfe.jsonl"
    with open(raw, "wb") as handle:
        handle.write(_lines(1))
    path = Path(os.fsdecode(raw))
    text = path_text(path)
    text.encode("utf-8")  # storable: no lone surrogate
    assert text.endswith("ads-\\xff\\xfe.jsonl")
    assert path_from_text(text) == path and path_from_text(text).is_file()
