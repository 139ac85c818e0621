"""Reading collected ads: paths to files, files to lines, lines to checked records or located
rejections.

Nothing read from outside raises past this module. A bad line is a ``Rejection`` with its line
number and reason. A path that cannot be read, or a file read only in part (a truncated or
corrupt gzip, an I/O error midway), is a ``FileProblem``: the complete lines read before it
count, and the other files are read all the same. Only a path given by the user that does not
exist or cannot be opened stops a run before it starts (``UnreadablePath``).

What a ``Record`` holds can be stored as it is, and identically, on both stores: no NUL in its
texts (PostgreSQL refuses it; ``storable``), identity fields within the store's columns, a
``seen_at`` within ``limits.toml``; its JSON (``content_json``) keeps every number with the
digits shown, even those a double or a 64-bit integer cannot hold (``loads``, ``dumps``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import re
import stat
import tomllib
import zlib
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import IO, Any, Protocol

import fastjsonschema
import orjson

SUFFIXES = (".jsonl", ".jsonl.gz")
NUL = "\x00"
BOM = "\ufeff"
# C0 controls but tab, DEL and C1 controls: a terminal may act on them (ESC sequences can
# rewrite the screen or the window title), so a raw line never carries them unescaped.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


class UnreadablePath(OSError):
    """A path given to ingest does not exist or cannot be read."""


@dataclass(frozen=True)
class Limits:
    max_line_bytes: int
    max_lines_per_file: int
    default_string_chars: int
    string_chars: dict[str, int]
    max_array_items: int
    max_extra_bytes: int
    max_depth: int
    seen_at_earliest: datetime
    seen_at_latest: datetime


def load_limits() -> Limits:
    raw = tomllib.loads((resources.files(__package__) / "limits.toml").read_text("utf-8"))
    for key in ("seen_at_earliest", "seen_at_latest"):
        raw[key] = _naive_utc(raw[key])
    return Limits(**raw)


def _load_validator() -> Any:
    schema = orjson.loads((resources.files(__package__) / "ad.schema.json").read_bytes())
    return fastjsonschema.compile(schema)


# --- Text the store can keep ------------------------------------------------------------------

def storable(text: str) -> str:
    """``text`` as both stores keep it: without NUL, which PostgreSQL refuses in text (and
    SQLite would keep, so the two stores would differ)."""
    return text.replace(NUL, "") if NUL in text else text


def escaped_controls(text: str) -> str:
    """A raw line as the quarantine keeps and shows it: control characters (NUL included)
    written ``\\xNN``, as bytes that are not UTF-8 are."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", text)


def path_text(path: Path) -> str:
    """A path as the store keeps it: bytes of its name that are not UTF-8 written ``\\xNN``
    (Python represents them by lone surrogates, which neither store accepts)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def path_from_text(text: str) -> Path:
    """The path that ``path_text`` wrote as ``text``."""
    plain = Path(text)
    if "\\x" not in text or plain.exists():
        return plain
    raw = re.sub(rb"\\x([0-9a-f]{2})", lambda m: bytes([int(m[1], 16)]), text.encode("utf-8"))
    return Path(os.fsdecode(raw))


def absolute(path: Path) -> Path:
    """``path`` made absolute with its symbolic links resolved, as the store names files;
    only made absolute when it cannot be resolved (a loop of links)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def without_nul(value: Any) -> Any:
    """``value`` with NUL taken out of every string in it, keys included."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    if isinstance(value, dict):
        return {storable(key): without_nul(item) for key, item in value.items()}
    return value


# --- Numbers as shown -------------------------------------------------------------------------

_INT64_MIN = -(2**63)
_UINT64_END = 2**64


class _BigInt(int):
    """An integer beyond 64 bits: written back with all its digits."""


class _ShownNumber(float):
    """A number that a double does not hold as shown: written back as shown."""

    shown: str


def _exact_int(text: str) -> int:
    value = int(text)
    return value if _INT64_MIN <= value < _UINT64_END else _BigInt(value)


def _exact_float(text: str) -> float:
    value = float(text)
    if math.isfinite(value) and Decimal(repr(value)) == Decimal(text):
        return value
    number = _ShownNumber(value)
    number.shown = text
    return number


def _not_json(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def _has_float(value: Any) -> bool:
    kind = type(value)
    if kind is float:
        return True
    if kind is dict:
        return any(type(v) is not str and _has_float(v) for v in value.values())
    if kind is list:
        return any(type(v) is not str and _has_float(v) for v in value)
    return False


def _exact_loads(text: str) -> Any:
    return json.loads(text, parse_int=_exact_int, parse_float=_exact_float,
                      parse_constant=_not_json)


def loads(text: str) -> Any:
    """JSON text to Python, every number kept as shown (see ``dumps``).

    orjson reads integers of 64 bits at most (beyond, it gives a rounded float) and refuses
    numbers a double cannot hold (1e400). A line where it finds no float at all is exact as
    read; the others (few: the contract's numbers are integers) are read again by the
    standard parser, which keeps the text of every number. Invalid JSON keeps orjson's
    message."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        try:
            return _exact_loads(text)
        except (ValueError, RecursionError):
            raise exc from None
    return _exact_loads(text) if _has_float(value) else value


def _as_shown(value: Any) -> Any:
    if isinstance(value, _ShownNumber):
        return orjson.Fragment(value.shown)
    if isinstance(value, _BigInt):
        return orjson.Fragment(int.__repr__(value))
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(value: Any) -> bytes:
    """What ``loads`` read, as compact JSON with sorted keys and the numbers' digits shown."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS,
                        default=_as_shown)


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than ``limit`` levels in ``value``."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


# --- Records ----------------------------------------------------------------------------------

@dataclass(slots=True)
class Record:
    """A collected ad that passed every check. ``content`` is what the store derives its
    columns and values from (no NUL); ``content_json`` is what was collected, exactly."""

    line: int
    source: str
    ad_id: str
    seen_at: datetime
    content_hash: str
    content: dict[str, Any]
    content_json: bytes


@dataclass(slots=True)
class Rejection:
    """A line set aside, with why. Both texts are made storable and safe to print here, so
    that no caller can forget it."""

    line: int
    reason: str
    raw: str

    def __post_init__(self) -> None:
        self.reason = escaped_controls(self.reason)
        self.raw = escaped_controls(self.raw)


def line_hash(raw: bytes) -> str:
    """Identity of a raw line as read (line ending excluded)."""
    return hashlib.blake2b(raw.rstrip(b"\r\n"), digest_size=8).hexdigest()


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def parse_seen_at(value: str) -> datetime:
    """RFC 3339 to naive UTC. A value without offset is taken as UTC. ``ValueError`` if it
    is no date-time, ``OverflowError`` if it is one that UTC cannot write (after year 9999 or
    before year 1 once converted: 9999-12-31T23:59:59-14:00)."""
    return _naive_utc(datetime.fromisoformat(value))


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
        # A byte-order mark says nothing (RFC 8259 lets a parser ignore it): editors write
        # one at the start of a file, and files joined with cat carry it mid-file.
        stripped = text.strip().removeprefix(BOM).lstrip()
        if not stripped:
            return None
        try:
            obj = loads(stripped)
        except (ValueError, RecursionError) as exc:
            return Rejection(line, f"invalid JSON: {exc}", stripped)
        if not isinstance(obj, dict):
            return Rejection(line, "not a JSON object", stripped)
        return self._check_object(line, obj, stripped, len(raw))

    def _check_object(self, line: int, obj: dict[str, Any], stripped: str,
                      size: int) -> Record | Rejection:
        limits = self.limits
        if (stripped.count("{") + stripped.count("[") > limits.max_depth
                and _deeper_than(obj, limits.max_depth)):
            return Rejection(line, f"nested deeper than {limits.max_depth} levels", stripped)
        try:
            self._validate(obj)
        except fastjsonschema.JsonSchemaValueException as exc:
            return Rejection(line, f"schema: {exc.message}", stripped)
        problem = self._absurd(obj, size) or self._unstorable_identity(obj)
        if problem:
            return Rejection(line, problem, stripped)
        try:
            seen_at: datetime | None = parse_seen_at(obj["seen_at"])
        except ValueError:
            return Rejection(line, f"seen_at is not an RFC 3339 date-time: {obj['seen_at']!r}",
                             stripped)
        except OverflowError:
            seen_at = None
        if seen_at is None or not limits.seen_at_earliest <= seen_at < limits.seen_at_latest:
            return Rejection(line, f"seen_at out of range ({limits.seen_at_earliest:%Y-%m-%d} "
                                   f"to {limits.seen_at_latest:%Y-%m-%d}): {obj['seen_at']!r}",
                             stripped)
        collected = {k: v for k, v in obj.items() if k != "seen_at"}
        try:
            content_json = dumps(collected)
        except TypeError as exc:  # a lone surrogate (\ud800) is no text any store can keep
            return Rejection(line, f"cannot be stored: {exc}", stripped)
        content = without_nul(collected) if "\\u0000" in stripped else collected
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
                  and len(dumps(value)) > limits.max_extra_bytes):
                return f"field extra larger than {limits.max_extra_bytes} bytes"
        return None

    @staticmethod
    def _unstorable_identity(obj: dict[str, Any]) -> str | None:
        # Elsewhere a NUL is dropped; in the ad's identity that could make two ads one.
        for key in ("source", "ad_id"):
            if NUL in obj[key]:
                return f"field {key} holds a NUL character"
        return None


# --- Files ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FileProblem:
    """A path not read (``lines`` 0), or a file read only up to line ``lines``."""

    path: Path
    reason: str
    lines: int = 0


def _what_failed(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "the compressed data stops before its end (truncated file)"
    if isinstance(exc, gzip.BadGzipFile | zlib.error):
        return f"bad gzip data ({exc}): none of its lines can be trusted"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def file_problem(path: Path, lines: int, exc: BaseException | str) -> FileProblem:
    """The problem with ``path``, read up to line ``lines``, as one reason."""
    what = exc if isinstance(exc, str) else _what_failed(exc)
    reason = f"read up to line {lines}, then: {what}" if lines else f"not read: {what}"
    return FileProblem(path, escaped_controls(reason), lines)


@dataclass
class FileList:
    """What a list of paths holds: the files to read in order, the paths that could not be
    read, and the directories listed in full."""

    files: list[Path] = field(default_factory=list)
    unread: list[FileProblem] = field(default_factory=list)
    listed: list[Path] = field(default_factory=list)


def find_files(paths: Iterable[Path], *, strict: bool = True) -> FileList:
    """Files to read, in a stable order: files as given, directories searched recursively
    for ``SUFFIXES`` (symbolic links to files followed, to directories not). A path given
    that cannot be read raises ``UnreadablePath`` when ``strict``; anything found inside a
    directory that cannot be read is listed in ``unread``, and the search goes on."""
    found = FileList()
    for path in paths:
        try:
            mode = path.stat().st_mode
            if stat.S_ISDIR(mode):
                _list_directory(path, found)
            elif stat.S_ISREG(mode):
                _check_readable(path)
                found.files.append(path)
            else:
                raise OSError(0, "not a regular file or directory")
        except OSError as exc:
            if strict:
                reason = exc.strerror or "cannot be read"
                if isinstance(exc, FileNotFoundError):
                    reason = "no such file or directory"
                raise UnreadablePath(f"cannot read {path}: {reason}") from exc
            found.unread.append(file_problem(path, 0, exc))
    return found


def _check_readable(path: Path) -> None:
    os.close(os.open(path, os.O_RDONLY))


def _list_directory(top: Path, found: FileList) -> None:
    """Adds to ``found`` what ``top`` holds. ``top`` itself must be listable (``OSError``)."""
    os.scandir(top).close()
    files: list[Path] = []
    stack = [top]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    _sort_entry(entry, stack, files, found)
        except OSError as exc:
            found.unread.append(file_problem(directory, 0, exc))
            continue
        found.listed.append(directory)
    found.files.extend(sorted(files))


def _sort_entry(entry: os.DirEntry[str], stack: list[Path], files: list[Path],
                found: FileList) -> None:
    path = Path(entry.path)
    try:
        if entry.is_dir(follow_symlinks=False):
            stack.append(path)
        elif entry.is_symlink() and entry.is_dir():
            # Not followed: a link may loop, or lead to files read twice under two names.
            found.unread.append(file_problem(path, 0, "a symbolic link to a directory, "
                                                       "not followed (give its target)"))
        elif not entry.name.endswith(SUFFIXES):
            return  # images and anything else beside the ads
        elif entry.is_file():
            files.append(path)
        else:
            found.unread.append(file_problem(path, 0, "not a regular file"))
    except OSError as exc:
        found.unread.append(file_problem(path, 0, exc))


class LineSource(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


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


class FileReader:
    """The lines of one file (gzip-compressed if its name ends in ``.gz``), read to its end
    or to the first failure: opening, reading, decompressing. The failure ends the file and
    becomes ``problem``; the lines yielded before it stand.

    A gzip file is first read through once to check it: corrupt data (a bad CRC, an invalid
    deflate stream) is found only where zlib notices it, after lines that may already be
    wrong (a flipped bit in a phone number still parses), so no line of such a file is
    read. A truncated file, by contrast, is right up to where it stops: its complete lines
    are read."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits
        self.problem: FileProblem | None = None
        self.position = 0  # bytes of the file read so far, for progress
        self._last = 0

    def _corrupt_gzip(self) -> FileProblem | None:
        try:
            with open(self.path, "rb") as disk, gzip.GzipFile(fileobj=disk) as stream:
                while stream.read(1 << 20):
                    pass
        except (gzip.BadGzipFile, zlib.error) as exc:
            return file_problem(self.path, 0, exc)
        except (OSError, EOFError):
            return None  # found again, at its line, by the reading itself
        return None

    def lines(self) -> Iterator[tuple[int, bytes | None]]:
        if self.path.name.endswith(".gz"):
            self.problem = self._corrupt_gzip()
            if self.problem is not None:
                return
        try:
            with ExitStack() as stack:
                disk: IO[bytes] = stack.enter_context(open(self.path, "rb"))
                stream: LineSource = disk
                if self.path.name.endswith(".gz"):
                    stream = stack.enter_context(gzip.GzipFile(fileobj=disk, mode="rb"))
                for number, raw in read_lines(stream, self.limits.max_line_bytes):
                    if number > self.limits.max_lines_per_file:
                        self.problem = file_problem(self.path, self._last, "more than "
                                                    f"{self.limits.max_lines_per_file} lines")
                        return
                    self._last = number
                    self.position = disk.tell()
                    yield number, raw
        except (OSError, EOFError, zlib.error) as exc:
            self.problem = file_problem(self.path, self._last, exc)


def file_size(path: Path) -> int:
    """Bytes of ``path`` for a progress bar; 0 when it cannot be known."""
    try:
        return path.stat().st_size
    except OSError:
        return 0
