"""The consultation log's anchor: signed checkpoints of its hash chain, kept outside the
database the log lives in, so that truncating or rewriting the log shows.

The hash chain (``audit``) shows an entry changed, removed or inserted in the middle, but
neither the newest entries removed nor a chain recomputed after deleting rows: whoever
administers the database can do both. So once a transaction that appended to the log has
committed, a checkpoint (the id and hash of its last entry, and the time) is appended to the
anchor file, signed with an Ed25519 key the database does not hold. A checkpoint (entry N,
hash H) proves that the log held entry N with hash H, hence (each hash covers every entry
before it) exactly the entries up to N it held then; ``audit.verify`` checks every
checkpoint against the table.

The anchor file is JSON Lines. Each line also holds the SHA-256 of the line before it
(``prev``, 64 zeros for the first) and the fingerprint of the signing key, so that a line
edited, removed, inserted or moved breaks the file's own chain, and the signature of the
newest line vouches for every line before it: verifying costs one signature and a hash per
line, not one signature per line. Only the checkpoints of authentic lines are compared with
the table. Cutting off the newest lines of the file cannot be seen from the file alone: the
file belongs on an append-only sink out of the database administrator's reach
(docs/data-protection.md).

The key and the anchor file are born together (``start_anchor``): with the log's first
entry (``audit.record``, before it commits), or for a log that has none by ``faisceau audit
anchor``, the operator's deliberate act. Neither is created again on its own: a deleted key
or anchor file stops the checkpoints and shows at verification, instead of a new pair
silently vouching for whatever the table holds.

Writers (web workers, their threads, command-line processes) append under an exclusive lock
on the file, one ``write`` and one ``fsync`` per line.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import os
import re
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from faisceau.config import Settings

KEY_ENV = "FAISCEAU_AUDIT_KEY"
ANCHOR_ENV = "FAISCEAU_AUDIT_ANCHOR"
PUBLIC_KEY_ENV = "FAISCEAU_AUDIT_PUBLIC_KEY"
KEY_FILE = "audit-key.pem"
ANCHOR_FILE = "audit-anchor.jsonl"
GENESIS = "0" * 64
FORMAT = 1
# The fields of a line, ``sig`` being the signature of all the others.
LINE_FIELDS = frozenset({"v", "id", "hash", "at", "key", "prev", "sig"})
_HEX64 = re.compile(r"[0-9a-f]{64}")
_TAIL_BLOCK = 4096


class AnchorError(Exception):
    """The anchor cannot be written or read; the message is French, for the user."""


@dataclass(frozen=True)
class AnchorPaths:
    """Where the signing key and the anchor file are, and the public key the auditor pinned
    (None: the one of the signing key)."""

    key: Path
    anchor: Path
    public_key: Path | None = None

    @property
    def published_key(self) -> Path:
        """The public key, written beside the signing key when it is created."""
        return self.key.with_suffix(".pub")


def anchor_paths(settings: Settings, environ: Mapping[str, str] | None = None) -> AnchorPaths:
    """``FAISCEAU_AUDIT_KEY``, ``FAISCEAU_AUDIT_ANCHOR`` and ``FAISCEAU_AUDIT_PUBLIC_KEY``;
    the key and the anchor default to the store's home (on the host that runs faisceau, not
    necessarily the database's)."""
    env = os.environ if environ is None else environ
    pinned = env.get(PUBLIC_KEY_ENV)
    return AnchorPaths(key=Path(env.get(KEY_ENV) or settings.home / KEY_FILE),
                       anchor=Path(env.get(ANCHOR_ENV) or settings.home / ANCHOR_FILE),
                       public_key=Path(pinned) if pinned else None)


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, in hex: what each line names its signer by."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


# -- Keys ------------------------------------------------------------------------------------

_keys_lock = threading.Lock()
_keys: dict[bytes, Ed25519PrivateKey] = {}


def _load_private(path: Path) -> Ed25519PrivateKey:
    """The signing key, parsed once per process for each content of the file (the file is
    read each time: a replaced key is seen at once). FileNotFoundError when there is none."""
    pem = path.read_bytes()
    with _keys_lock:
        cached = _keys.get(pem)
    if cached is not None:
        return cached
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise AnchorError(f"clé de signature du journal illisible ({path}) : {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AnchorError(f"la clé de signature du journal ({path}) n'est pas une clé Ed25519")
    with _keys_lock:
        _keys[pem] = key
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    """A public key file (PEM); AnchorError, in French, when it cannot be used."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except FileNotFoundError:
        raise AnchorError(f"clé publique introuvable : {path}") from None
    except (OSError, ValueError, TypeError) as exc:
        raise AnchorError(f"clé publique illisible ({path}) : {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise AnchorError(f"la clé publique {path} n'est pas une clé Ed25519")
    return key


def verification_key(paths: AnchorPaths) -> Ed25519PublicKey:
    """The pinned public key if there is one, else that of the signing key."""
    if paths.public_key is not None:
        return load_public(paths.public_key)
    try:
        return _load_private(paths.key).public_key()
    except FileNotFoundError:
        raise AnchorError(f"clé de signature du journal introuvable ({paths.key}) : les "
                          "points d'ancrage ne peuvent pas être authentifiés") from None
    except OSError as exc:
        raise AnchorError(f"clé de signature du journal illisible ({paths.key}) : "
                          f"{exc.strerror}") from None


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Write ``path`` whole or not at all, unless it exists already (then keep that one):
    several processes may create the key at the same moment."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temp, path)
    except FileExistsError:
        pass
    finally:
        temp.unlink()


def _has_lines(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except FileNotFoundError:
        return False


def start_anchor(paths: AnchorPaths) -> Ed25519PublicKey:
    """Create the anchor file, then the signing key and its public half; refused when either
    holds anything already (replacing them would destroy the evidence they hold)."""
    if paths.key.exists() or _has_lines(paths.anchor):
        raise AnchorError(f"le journal a déjà un ancrage ({paths.key}, {paths.anchor}) : le "
                          "remplacer effacerait la preuve qu'il porte ; archivez-les d'abord")
    paths.anchor.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(paths.anchor, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640))
    paths.key.parent.mkdir(parents=True, exist_ok=True)
    _write_new(paths.key, Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()), 0o600)
    key = _load_private(paths.key).public_key()
    _write_new(paths.published_key, public_pem(key), 0o644)
    return key


def _signing_key(paths: AnchorPaths) -> Ed25519PrivateKey:
    try:
        return _load_private(paths.key)
    except FileNotFoundError:
        raise AnchorError(f"clé de signature du journal introuvable ({paths.key}) : aucun "
                          "point d'ancrage n'est écrit (faisceau audit anchor pour ancrer un "
                          "journal qui n'en a pas)") from None


# -- Writing ---------------------------------------------------------------------------------

def _canonical(body: Mapping[str, Any]) -> bytes:
    """What is signed: the line's fields but ``sig``, as JSON with sorted keys."""
    return orjson.dumps({k: body[k] for k in sorted(body) if k != "sig"},
                        option=orjson.OPT_SORT_KEYS)


def line_digest(line: bytes) -> str:
    """SHA-256 of a line's bytes (without its newline): the next line's ``prev``."""
    return hashlib.sha256(line).hexdigest()


def _last_line(fd: int) -> tuple[bytes | None, bool]:
    """The file's last line (None when empty) and whether it ends with a newline (not when a
    write was cut short)."""
    size = os.fstat(fd).st_size
    if size == 0:
        return None, True
    block = _TAIL_BLOCK
    while True:
        start = max(0, size - block)
        tail = os.pread(fd, size - start, start)
        complete = tail.endswith(b"\n")
        body = tail[:-1] if complete else tail
        cut = body.rfind(b"\n")
        if cut >= 0 or start == 0:
            return body[cut + 1:], complete
        block *= 4


def signed_line(key: Ed25519PrivateKey, entry_id: int, entry_hash: str, prev: str,
                at: datetime) -> bytes:
    """One checkpoint as a line of the anchor file (with its newline)."""
    body: dict[str, Any] = {
        "v": FORMAT, "id": entry_id, "hash": entry_hash,
        "at": at.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z",
        "key": fingerprint(key.public_key()), "prev": prev}
    body["sig"] = base64.b64encode(key.sign(_canonical(body))).decode("ascii")
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS) + b"\n"


def append_checkpoint(paths: AnchorPaths, entry_id: int, entry_hash: str,
                      at: datetime | None = None) -> None:
    """Append the signed checkpoint of entry ``entry_id`` (committed, with ``entry_hash``),
    chained on the file's last line, under an exclusive lock, and sync it to disk."""
    key = _signing_key(paths)
    try:
        fd = os.open(paths.anchor, os.O_RDWR | os.O_APPEND)
    except FileNotFoundError:
        raise AnchorError(f"fichier d'ancrage du journal introuvable ({paths.anchor}) alors "
                          "que la clé existe : il n'est jamais recréé") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        last, complete = _last_line(fd)
        prev = GENESIS if last is None else line_digest(last)
        line = signed_line(key, entry_id, entry_hash, prev, at or datetime.now(UTC))
        # After a cut-short write, start a line of our own: the damaged one stays visible.
        data = line if complete else b"\n" + line
        written = 0
        while written < len(data):
            written += os.write(fd, data[written:])
        os.fsync(fd)
    finally:
        os.close(fd)  # releases the lock


# -- Reading ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Checkpoint:
    """What one line of the anchor attests: entry ``entry_id`` had hash ``entry_hash``."""

    line: int
    entry_id: int
    entry_hash: str
    at: str


@dataclass(frozen=True)
class AnchorState:
    """What reading the anchor found: whether the file exists, its authentic checkpoints
    (those before any damaged line, up to the newest validly signed one), the one attesting
    the highest entry, and what is wrong with the file (None: every line follows the one
    before, names the key, and the newest is signed by it)."""

    exists: bool
    checkpoints: int
    newest: Checkpoint | None
    problem: str | None


def _fields(line: bytes) -> dict[str, Any] | None:
    """A line's fields when it is a well-formed checkpoint, else None."""
    try:
        fields = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(fields, dict) or set(fields) != LINE_FIELDS or fields["v"] != FORMAT:
        return None
    entry_id = fields["id"]
    if not isinstance(entry_id, int) or isinstance(entry_id, bool) or entry_id < 1:
        return None
    for name in ("hash", "key", "prev"):
        if not isinstance(fields[name], str) or not _HEX64.fullmatch(fields[name]):
            return None
    if not isinstance(fields["at"], str) or not isinstance(fields["sig"], str):
        return None
    # Only the bytes written are the line: JSON read past spaces, tabs or another key
    # order, which would let bytes slipped into a signed line pass for it.
    if orjson.dumps(fields, option=orjson.OPT_SORT_KEYS) != line:
        return None
    return fields


def _signed_by(key: Ed25519PublicKey, fields: Mapping[str, Any]) -> bool:
    try:
        signature = base64.b64decode(fields["sig"], validate=True)
        key.verify(signature, _canonical(fields))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    # Base64 has several spellings of the same bytes: only the one written is the line.
    return base64.b64encode(signature).decode("ascii") == fields["sig"]


class _Reading:
    """Walks the lines: each must be a checkpoint, follow the line before and name the key.
    A line is authentic when a line after it that carries a valid signature chains on it."""

    # Lines kept for walking back from a line whose signature fails (a line edited or
    # forged): past that many, nothing before is taken as authentic.
    RECENT = 16

    def __init__(self, key: Ed25519PublicKey) -> None:
        self.key = key
        self.expected = fingerprint(key)
        self.prev = GENESIS
        self.recent: deque[tuple[int, dict[str, Any]]] = deque(maxlen=self.RECENT)
        self.problem: str | None = None

    def take(self, number: int, raw: bytes) -> bool:
        """Whether the line follows; if not, ``problem`` says why and reading stops."""
        if not raw.endswith(b"\n"):
            self.problem = f"ligne {number} incomplète (écriture interrompue ?)"
            return False
        line = raw[:-1]
        fields = _fields(line)
        if fields is None:
            self.problem = f"ligne {number} illisible"
            return False
        if fields["prev"] != self.prev:
            self.problem = (f"la ligne {number} ne suit pas la ligne qui la précède : une ligne "
                            "a été modifiée, retirée, insérée ou déplacée")
            return False
        if fields["key"] != self.expected:
            self.problem = (f"la ligne {number} est signée par une autre clé (empreinte "
                            f"{fields['key'][:16]}…, attendue {self.expected[:16]}…)")
            return False
        self.prev = line_digest(line)
        self.recent.append((number, fields))
        return True

    def authentic(self) -> int:
        """How many lines, from the first, are authentic: up to the newest line read whose
        signature is valid (through the chain of digests it vouches for all before it)."""
        for number, fields in reversed(self.recent):
            if _signed_by(self.key, fields):
                return number
            self.problem = self.problem or (
                f"la signature de la ligne {number} n'est pas valide : ligne forgée ou "
                "modifiée, ou clé remplacée")
        return 0


def _authentic_lines(handle: BinaryIO, end: int, key: Ed25519PublicKey) -> tuple[int, str | None]:
    """First pass over the anchor's first ``end`` bytes: how many lines are authentic, and
    what is wrong after them, if anything."""
    reading = _Reading(key)
    offset = 0
    for number, raw in enumerate(handle, 1):
        offset += len(raw)
        if offset > end or not reading.take(number, raw):
            break
    return reading.authentic(), reading.problem


def anchor_size(paths: AnchorPaths) -> int:
    """The anchor file's length now (0 if there is none), taken between two writers' lines,
    for ``read_anchor``."""
    try:
        fd = os.open(paths.anchor, os.O_RDONLY)
    except OSError:
        return 0
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        return os.fstat(fd).st_size
    finally:
        os.close(fd)


def read_anchor(paths: AnchorPaths, on_batch: Callable[[list[Checkpoint]], None], *,
                size: int, batch: int = 10_000) -> AnchorState:
    """Read the first ``size`` bytes of the anchor file (``anchor_size`` before the log's
    table was read: the checkpoints then name entries committed before), handing its
    checkpoints to ``on_batch`` a batch at a time."""
    try:
        handle = open(paths.anchor, "rb")  # noqa: SIM115 - closed below, read to a fixed size
    except FileNotFoundError:
        problem = (f"fichier d'ancrage introuvable ({paths.anchor}) alors que la clé existe"
                   if paths.key.exists() else None)
        return AnchorState(False, 0, None, problem)
    except OSError as exc:
        return AnchorState(True, 0, None, f"fichier d'ancrage illisible ({paths.anchor}) : "
                                          f"{exc.strerror}")
    with handle:
        end = min(size, os.fstat(handle.fileno()).st_size)
        if end == 0:
            return AnchorState(True, 0, None, None)
        try:
            key = verification_key(paths)
        except AnchorError as exc:
            return AnchorState(True, 0, None, str(exc))
        authentic, problem = _authentic_lines(handle, end, key)
        # Second pass: only the checkpoints of authentic lines are handed over, so that a
        # forged line never passes for a change to the table.
        handle.seek(0)
        newest: Checkpoint | None = None
        pending: list[Checkpoint] = []
        for number, raw in zip(range(1, authentic + 1), handle, strict=False):
            fields = orjson.loads(raw)
            found = Checkpoint(number, fields["id"], fields["hash"], fields["at"])
            if newest is None or found.entry_id > newest.entry_id:
                newest = found
            pending.append(found)
            if len(pending) >= batch:
                on_batch(pending)
                pending = []
        if pending:
            on_batch(pending)
    return AnchorState(True, authentic, newest, problem)
