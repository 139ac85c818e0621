"""What an answer may show of sensitive people: the layer every answer of a record view goes
through (``faisceau.web.consult``) before it is rendered or serialised.

The rule is ``faisceau.share.access.disclosure``: a victim, a runaway or a minor is shown
only with a reason, held in the session for the person (``entite:ID``, its resolved
identity) or for their case (``dossier:ID``); anyone else is shown. Views mask what they
know to be sensitive (a caption, a lead's value) by asking ``Disclosure.state``. Then
``Disclosure.apply`` walks the whole answer, finds every case-file record it mentions by
id, and replaces every personal value (``access.personal_value``: names, phones, e-mails,
addresses, birth dates, identifiers) of those that are masked wherever it appears, field or
text: a table the view forgot, a graph node's id (``phone:+33…``), an ad's name on a network
page that has a lead to the victim. A masked value becomes ``[masqué 1a2b3c4d]``, the same
token for the same value within a process (a keyed hash: it cannot be reversed), so that a
graph keeps its shape. What was masked, and what was shown with which reason, goes into the
consultation log entry of the view (``Shown``).

Matching ignores case and accents; a value shorter than ``min_chars_in_text``
(``sensitive.toml``) is masked only where it is a whole field. Masking is by value, so a
value a victim shares with someone else (a pimp's phone in her record) is masked too until
a reason is given: the safe side.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from fastapi import Request
from sqlalchemy.engine import Connection

from faisceau.share.access import (
    MASKED,
    WITH_REASON,
    disclosure_of,
    is_sensitive,
    masked_in_texts,
    personal_value,
    sensitive_data,
)
from faisceau.store.bulk import fetch_in

# Keys the masks: a process's tokens cannot be turned back into values, even by guessing
# phone numbers (a plain hash of one could).
_MASK_KEY = secrets.token_bytes(32)
LONGEST_ID = 128  # intel_entity.id
# Reasons kept in the session (a signed cookie, so a handful): the most recent first.
REMEMBERED_REASONS = 6


def case_key(case_id: str) -> str:
    """The session key of a reason given for a case (it covers the people of its file)."""
    return f"dossier:{case_id}"


def person_key(canonical_id: str) -> str:
    """The session key of a reason given for a person (its resolved identity)."""
    return f"entite:{canonical_id}"


def session_reasons(request: Request) -> dict[str, str]:
    """The reasons this session gave, by key (the most recent first)."""
    reasons = request.session.get("motifs")
    if not isinstance(reasons, dict):
        return {}
    return {k: v for k, v in reasons.items() if isinstance(k, str) and isinstance(v, str)}


def remembered_reason(request: Request, key: str) -> str | None:
    return session_reasons(request).get(key)


def remember_reason(request: Request, key: str, reason: str) -> None:
    """Keep a reason in the session (a signed cookie, so a handful: the most recent)."""
    kept = session_reasons(request)
    kept.pop(key, None)
    kept = {key: reason, **dict(list(kept.items())[:REMEMBERED_REASONS - 1])}
    request.session["motifs"] = kept


@functools.lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    base = unicodedata.normalize("NFD", char)[0].lower()
    return base[0] if base else char


# Latin letters with their accents, folded at C speed (``str.translate``); other characters
# one by one.
_LATIN = {code: _fold_char(chr(code)) for code in range(0x250)}
_BEYOND_LATIN = re.compile("[^\x00-\u024f]")


def fold(text: str) -> str:
    """Lower case without accents, one character for each character of ``text``, so that
    what matches in the folded text is at the same place in the text."""
    folded = text.translate(_LATIN)
    if folded.isascii() or not _BEYOND_LATIN.search(folded):
        return folded
    return "".join(_fold_char(c) for c in folded)


def mask_token(value: str) -> str:
    digest = hmac.new(_MASK_KEY, fold(value).encode(), hashlib.sha256).hexdigest()[:8]
    return f"[masqué {digest}]"


def _forms(prop_type: str, value: str) -> set[str]:
    """The ways a value may be written in an answer (a phone: E.164 and national)."""
    forms = {value}
    if prop_type == "phone":
        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException:
            return forms
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        forms |= {national, re.sub(r"\D", "", national)}
    return forms


class _Matcher:
    """Finds masked values in texts: as whole fields, and as words in longer texts."""

    def __init__(self, values: Iterable[str], whole_only: Iterable[str] = ()) -> None:
        """``values`` are masked as whole fields and inside texts; ``whole_only``, as whole
        fields only."""
        folded = {fold(v).strip() for v in values if v and v.strip()}
        self.whole = folded | {fold(v).strip() for v in whole_only if v and v.strip()}
        shortest = sensitive_data().min_chars_in_text
        self.words = sorted((v for v in folded if len(v) >= shortest), key=len, reverse=True)
        self.pattern = re.compile("|".join(rf"(?<!\w){re.escape(w)}(?!\w)"
                                           for w in self.words)) if self.words else None

    def __call__(self, text: str) -> str:
        folded = fold(text)
        if folded.strip() in self.whole:
            return mask_token(folded.strip())
        if self.pattern is None:
            return text
        pieces, last = [], 0
        for match in self.pattern.finditer(folded):
            pieces += [text[last:match.start()], mask_token(match.group())]
            last = match.end()
        return "".join(pieces) + text[last:] if pieces else text

    def replacements(self, texts: Iterable[str]) -> dict[str, str]:
        """The texts that hold a masked value, each with its masked form. All texts are
        folded at once and searched value by value (``str.find``, at C speed): only those
        with a hit go through ``__call__``."""
        distinct = list(texts)
        if not distinct:
            return {}
        whole = fold("\x00".join(distinct))  # \x00: no value runs across two texts
        starts, at = [], 0
        for text in distinct:
            starts.append(at)
            at += len(text) + 1
        hit = {i for i, text in enumerate(distinct)
               if whole[starts[i]:starts[i] + len(text)].strip() in self.whole}
        for word in self.words:
            found = whole.find(word)
            while found >= 0:
                hit.add(bisect.bisect_right(starts, found) - 1)
                found = whole.find(word, found + 1)
        out = {}
        for i in hit:
            masked = self(distinct[i])
            if masked != distinct[i]:
                out[distinct[i]] = masked
        return out


def _walk(value: Any, on_text: Callable[[str], str]) -> Any:
    """``value`` with every string in it (keys too) passed through ``on_text``; containers
    and dataclasses are copied only when something in them changed."""
    if isinstance(value, str):
        return on_text(value)
    if isinstance(value, dict):
        items, changed = [], False
        for key, item in value.items():
            new_key, new_item = _walk(key, on_text), _walk(item, on_text)
            changed = changed or new_key is not key or new_item is not item
            items.append((new_key, new_item))
        return dict(items) if changed else value
    if isinstance(value, list | tuple | set | frozenset):
        walked, changed = [], False
        for item in value:
            new = _walk(item, on_text)
            changed = changed or new is not item
            walked.append(new)
        if not changed:
            return value
        return walked if isinstance(value, list) else type(value)(walked)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            if f.init:
                old = getattr(value, f.name)
                new = _walk(old, on_text)
                if new is not old:
                    changes[f.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    return value


def _strings(value: Any, out: set[str]) -> None:
    """Every string in ``value`` (keys too, dataclasses' fields too), into ``out``."""
    if isinstance(value, str):
        out.add(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _strings(key, out)
            _strings(item, out)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _strings(item, out)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            if f.init:
                _strings(getattr(value, f.name), out)


@dataclass
class Shown:
    """What an answer showed of sensitive records: for the consultation log."""

    masked: set[str] = field(default_factory=set)
    with_reason: dict[str, str] = field(default_factory=dict)

    def detail(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.masked:
            out["masked"] = sorted(self.masked)
        if self.with_reason:
            out["with_reason"] = sorted(self.with_reason)
        return out

    def reason(self) -> str | None:
        reasons = sorted(set(self.with_reason.values()))
        return " | ".join(reasons) if reasons else None


class Disclosure:
    """The disclosure of one answer, given the reasons the session holds (by key)."""

    def __init__(self, conn: Connection, reasons: Mapping[str, str] | None = None) -> None:
        self.conn = conn
        self.reasons: dict[str, str] = dict(reasons or {})
        self.shown = Shown()

    def give(self, key: str, reason: str) -> None:
        """A reason given with this request."""
        self.reasons[key] = reason

    def reason_for(self, canonical_id: str | None, case_ids: Iterable[str] = ()) -> str | None:
        keys = ([person_key(canonical_id)] if canonical_id else []) + [
            case_key(c) for c in case_ids if c]
        return next((self.reasons[k] for k in keys if k in self.reasons), None)

    def state(self, entity_id: str, category: str | None, minor: object, *,
              canonical_id: str | None = None, case_ids: Iterable[str] = ()) -> str:
        """How this record is shown in the answer (``access.disclosure``), noted for the
        log and for ``apply``."""
        return self.state_of(entity_id, is_sensitive(category, minor),
                             canonical_id=canonical_id, case_ids=case_ids)

    def state_of(self, entity_id: str, sensitive: bool, *, canonical_id: str | None = None,
                 case_ids: Iterable[str] = ()) -> str:
        """``state`` for a record (or resolved person) known to be sensitive or not."""
        reason = self.reason_for(canonical_id or entity_id, case_ids) if sensitive else None
        answer = disclosure_of(sensitive, reason)
        if answer == MASKED:
            self.shown.masked.add(entity_id)
            self.shown.with_reason.pop(entity_id, None)
        elif answer == WITH_REASON and entity_id not in self.shown.masked:
            self.shown.with_reason[entity_id] = str(reason)
        return answer

    def _mentioned(self, strings: set[str]) -> None:
        candidates = {s for s in strings if 0 < len(s) <= LONGEST_ID}
        candidates |= {s.rsplit("/", 1)[1] for s in strings
                       if s.startswith("/") and 0 < len(s.rsplit("/", 1)[1]) <= LONGEST_ID}
        if not candidates:
            return
        for entity_id, category, minor, case_id, canonical in fetch_in(
                self.conn, "SELECT id, category, minor, case_id, canonical_id FROM intel_entity",
                "id", sorted(candidates)):
            if is_sensitive(category, minor):
                self.state(entity_id, category, minor, canonical_id=canonical,
                           case_ids=[case_id] if case_id else [])

    def _masked_values(self) -> tuple[list[str], list[str]]:
        """The personal values of the masked records: those masked inside texts too, and
        those masked as whole fields only."""
        ids = sorted(self.shown.masked)
        if not ids:
            return [], []
        values = [str(r[1]) for r in fetch_in(self.conn, "SELECT id, caption FROM intel_entity",
                                              "id", ids) if r[1]]
        whole_only: list[str] = []
        for _entity, prop, prop_type, value in fetch_in(
                self.conn, "SELECT entity_id, prop, prop_type, value FROM intel_statement",
                "entity_id", ids):
            if personal_value(prop, prop_type):
                (values if masked_in_texts(prop) else whole_only).extend(
                    _forms(prop_type, value))
        return values, whole_only

    def apply(self, *parts: Any) -> tuple[Any, ...]:
        """The parts of an answer (and its log entry) with the personal values of every
        masked record they mention replaced; ``shown`` then says what was masked and what
        shown with a reason."""
        strings: set[str] = set()
        for part in parts:
            _strings(part, strings)
        self._mentioned(strings)
        values, whole_only = self._masked_values()
        if not values and not whole_only:
            return parts
        replaced = _Matcher(values, whole_only).replacements(strings)
        if not replaced:
            return parts
        return tuple(_walk(part, lambda text: replaced.get(text, text)) for part in parts)
