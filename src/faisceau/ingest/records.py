"""Reading collected ads: files to lines, lines to checked records or located rejections."""

from __future__ import annotations

import gzip
import hashlib
import tomllib
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import IO, Any, Protocol

import fastjsonschema
import orjson

SUFFIXES = (".jsonl", ".jsonl.gz")


class UnreadablePath(OSError):
    """A path given to ingest does not exist or cannot be read."""


@dataclass(frozen=True)
class Limits:
    max_line_bytes: int
    default_string_chars: int
    string_chars: dict[str, int]
    max_array_items: int
    max_extra_bytes: int


def load_limits() -> Limits:
    raw = tomllib.loads((resources.files(__package__) / "limits.toml").read_text("utf-8"))
    return Limits(**raw)


def _load_validator() -> Any:
    schema = orjson.loads((resources.files(__package__) / "ad.schema.json").read_bytes())
    return fastjsonschema.compile(schema)


@dataclass(slots=True)
class Record:
    """A collected ad that passed every check."""

    line: int
    source: str
    ad_id: str
    seen_at: datetime
    content_hash: str
    content: dict[str, Any]
    content_json: bytes


@dataclass(slots=True)
class Rejection:
    """A line set aside, with why."""

    line: int
    reason: str
    raw: str


def line_hash(raw: bytes) -> str:
    """Identity of a raw line as read (line ending excluded)."""
    return hashlib.blake2b(raw.rstrip(b"\r\n"), digest_size=8).hexdigest()


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files to read, in a stable order: files as given, directories searched recursively."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise UnreadablePath(f"cannot read {path}: no such file or directory")
    for file in files:
        try:
            with open(file, "rb"):
                pass
        except OSError as exc:
            raise UnreadablePath(f"cannot read {file}: {exc.strerror}") from exc
    return files


class LineSource(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


def open_lines(path: Path, disk: IO[bytes]) -> AbstractContextManager[LineSource]:
    """The decompressed byte stream of an open file; ``disk.tell()`` gives progress."""
    if path.name.endswith(".gz"):
        return gzip.GzipFile(fileobj=disk, mode="rb")
    # The caller owns ``disk`` and closes it.
    return nullcontext(disk)


def read_lines(stream: LineSource, max_bytes: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) for each line; ``None`` for a line longer than ``max_bytes``."""
    number = 0
    while True:
        chunk = stream.readline(max_bytes + 1)
        if not chunk:
            return
        number += 1
        if len(chunk) > max_bytes and not chunk.endswith(b"\n"):
            # Skip the rest of the oversized line without holding it in memory.
            while True:
                rest = stream.readline(max_bytes)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None
            continue
        yield number, chunk


def parse_seen_at(value: str) -> datetime:
    """RFC 3339 to naive UTC. A value without offset is taken as UTC."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def content_hash(content_json: bytes) -> str:
    return hashlib.blake2b(content_json, digest_size=16).hexdigest()


class RecordChecker:
    """Turns raw lines into ``Record`` or ``Rejection``; holds the compiled schema."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or load_limits()
        self._validate = _load_validator()
        self._smallest_cap = min([self.limits.default_string_chars,
                                  *self.limits.string_chars.values()])

    def check(self, line: int, raw: bytes | None) -> Record | Rejection | None:
        """None for a blank line, which is not a record."""
        if raw is None:
            return Rejection(line, f"line longer than {self.limits.max_line_bytes} bytes", "")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return Rejection(line, f"invalid UTF-8 at byte {exc.start}",
                             raw.decode("utf-8", "backslashreplace").rstrip("\r\n"))
        stripped = text.strip()
        if not stripped:
            return None
        try:
            obj = orjson.loads(stripped)
        except orjson.JSONDecodeError as exc:
            return Rejection(line, f"invalid JSON: {exc}", stripped)
        if not isinstance(obj, dict):
            return Rejection(line, "not a JSON object", stripped)
        try:
            self._validate(obj)
        except fastjsonschema.JsonSchemaValueException as exc:
            return Rejection(line, f"schema: {exc.message}", stripped)
        problem = self._absurd(obj, len(raw))
        if problem:
            return Rejection(line, problem, stripped)
        try:
            seen_at = parse_seen_at(obj["seen_at"])
        except ValueError:
            return Rejection(line, f"seen_at is not an RFC 3339 date-time: {obj['seen_at']!r}",
                             stripped)
        content = {k: v for k, v in obj.items() if k != "seen_at"}
        content_json = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
        return Record(line, obj["source"], obj["ad_id"], seen_at, content_hash(content_json),
                      content, content_json)

    def _absurd(self, obj: dict[str, Any], size: int) -> str | None:
        limits = self.limits
        # A line shorter than the smallest cap cannot hold a string over any cap.
        strings = size > self._smallest_cap
        for key, value in obj.items():
            if strings and isinstance(value, str):
                cap = limits.string_chars.get(key, limits.default_string_chars)
                if len(value) > cap:
                    return f"field {key} longer than {cap} characters ({len(value)})"
            elif isinstance(value, list):
                if len(value) > limits.max_array_items:
                    return f"field {key} has more than {limits.max_array_items} items"
                cap = limits.default_string_chars
                for item in value:
                    if isinstance(item, str) and len(item) > cap:
                        return f"an item of {key} is longer than {cap} characters"
            elif (key == "extra" and isinstance(value, dict)
                  and len(orjson.dumps(value)) > limits.max_extra_bytes):
                return f"field extra larger than {limits.max_extra_bytes} bytes"
        return None
