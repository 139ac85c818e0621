"""E-mail addresses and messaging handles shown in an ad.

Owns two finders, both cheap enough to run on every title, text and ``links`` item:

- ``find_emails``: plain addresses, and addresses hidden with words or brackets
  ("lola [at] mail . fr", "lola(at)mail(dot)fr", "lola arobase mail point fr"). A hidden
  address is only believed when it rebuilds into a syntactically valid address whose
  top-level domain is in ``data/email.json``: ordinary prose contains "at" and "point" too
  (a bare English "at" needs more still: a known mail provider or a username-like local
  part). ``detail["obfuscated"]`` says whether the ad hid it: hiding a contact is itself
  worth knowing.
- ``find_handles``: ``service:handle`` values for WhatsApp, Telegram, Snapchat, Instagram...
  from "snap: lola_75", "Insta @lola_75", "👻 lola_75", "t.me/lola_75", "wa.me/336...".
  Services, their aliases, link prefixes and handle rules live in
  ``data/handle_services.json``.

Phone numbers themselves belong to ``phones``: when a phone-only service (WhatsApp, Viber,
Signal, Telegram) is given a number, the handle is just that number's digits (with a
leading ``+`` when the ad wrote it internationally or when a ``wa.me`` link implies it) and
``detail["phone_like"]`` is true, so the caller can hand it to ``phones`` if it wants more.

Speed: ads rarely hold either, so neither finder tries a pattern at every position. E-mails
are read outwards from an "@" (or its disguise), and only when the text has one; handles
come from two scans of the lower-cased text whose patterns begin with plain literals
grouped by first character, which the regex engine skips through in C.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from typing import Any

from faisceau.normalise.model import Found
from faisceau.normalise.text import lower_aligned

# Shared by the address and separator patterns: brackets ads put around "at"/"dot".
_OPEN = r"[\[\(\{<]"
_CLOSE = r"[\]\)\}>]"


def _load_json(name: str) -> Any:
    text = resources.files("faisceau.normalise").joinpath("data", name).read_text("utf-8")
    return json.loads(text)


def _words(words: list[str]) -> str:
    """An alternation of literal words, longest first so that the regex prefers them."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def _by_first_char(
    words: list[str], space: str = r"\ ", not_before: str = "", not_after: str = ""
) -> str:
    """An alternation of literal words grouped by first character, longest first.

    A pattern that begins with plain literals lets the regex engine skip, in C, every
    position whose character starts no word; grouping makes each remaining position cost
    one comparison per first character instead of one per word. Spaces become ``space``.
    ``not_before`` (a character class) is checked after the first character, so that the
    pattern still begins with it; ``not_after`` is a pattern that must not follow.
    """
    groups: dict[str, list[str]] = {}
    for word in sorted(set(words), key=len, reverse=True):
        groups.setdefault(word[0], []).append(re.escape(word[1:]).replace(r"\ ", space))
    parts = []
    for first, rest in groups.items():
        char = re.escape(first)
        guard = f"(?<!{not_before}{char})" if not_before else ""
        after = f"(?!{not_after})" if not_after else ""
        parts.append(f"{char}{guard}(?:{'|'.join(rest)}){after}")
    return "|".join(parts)


# --------------------------------------------------------------------------------------
# E-mail addresses


@dataclass(frozen=True)
class _EmailRules:
    at: re.Pattern[str]
    local: re.Pattern[str]
    domain: re.Pattern[str]
    local_sep: re.Pattern[str]
    domain_sep: re.Pattern[str]
    hints: tuple[str, ...]
    tlds: frozenset[str]
    weak_at: frozenset[str]
    providers: frozenset[str]


@functools.cache
def _email_rules() -> _EmailRules:
    data = _load_json("email.json")
    at = _words(data["at_words"])
    dot = _words(data["dot_words"])
    # Inside the local part a dot must be written tight ("lola.dupont") or as a word:
    # a spaced "." there is far more often the end of a sentence than part of an address.
    local_sep = rf"(?:\.|\s*{_OPEN}\s*(?:{dot}|\.)\s*{_CLOSE}\s*|\s+(?:{dot})\s+)"
    domain_sep = rf"(?:\s*\.\s*|\s*{_OPEN}\s*(?:{dot}|\.)\s*{_CLOSE}\s*|\s+(?:{dot})\s+)"
    local_word = r"[a-z0-9_%+\-]+"
    label = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
    # Addresses are read outwards from their "@" (or its disguise): ads rarely hold one, so
    # the text is only scanned for the separator, never for addresses at every position.
    hints: set[str] = set()
    for word in data["at_words"]:
        if word in data["weak_at_words"]:  # "at" is inside "chat": look for it set apart
            for opening, closing in ("  ", "()", "[]", "{}", "<>"):
                hints.add(f"{opening}{word}{closing}")
                hints.add(f"{opening} {word} {closing}")
        else:
            hints.add(word)
    return _EmailRules(
        at=re.compile(
            rf"\s*@\s*|\s*{_OPEN}\s*(?:{at}|@)\s*{_CLOSE}\s*|\s+(?:{at})\s+", re.IGNORECASE
        ),
        local=re.compile(
            rf"(?<![\w.%+\-@]){local_word}(?:{local_sep}{local_word}){{0,4}}", re.IGNORECASE
        ),
        domain=re.compile(rf"{label}(?:{domain_sep}{label}){{1,5}}(?![\w@])", re.IGNORECASE),
        local_sep=re.compile(local_sep, re.IGNORECASE),
        domain_sep=re.compile(domain_sep, re.IGNORECASE),
        # A hint holding another ("arobase", "arobas") adds nothing to the search.
        hints=tuple(sorted(h for h in hints if not any(o != h and o in h for o in hints))),
        tlds=frozenset(data["tlds"]),
        weak_at=frozenset(data["weak_at_words"]),
        providers=frozenset(data["providers"]),
    )


# How far before its "@" an address may start.
_LOCAL_REACH = 96


def find_emails(text: str) -> list[Found]:
    """E-mail addresses in ``text``, lower-cased, plain or hidden with words.

    ``shown`` is the exact text the address was rebuilt from.
    """
    if not text:
        return []
    rules = _email_rules()
    if "@" not in text:
        low = lower_aligned(text)
        if not any(hint in low for hint in rules.hints):
            return []
    found: list[Found] = []
    end_of_last = 0
    for at in rules.at.finditer(text):
        if at.start() < end_of_last:
            continue
        domain = rules.domain.match(text, at.end())
        local = _local_before(text, at.start(), max(end_of_last, at.start() - _LOCAL_REACH), rules)
        if domain is None or local is None:
            continue
        item = _email_from_parts(text, local, at.group(), domain, rules)
        if item is not None:
            found.append(item)
            end_of_last = local.start() + len(item.shown)
    return found


def _local_before(text: str, end: int, start: int, rules: _EmailRules) -> re.Match[str] | None:
    """The local part that ends exactly where the "@" begins, if any."""
    for match in rules.local.finditer(text, start, end):
        if match.end() == end:
            return match
    return None


def _email_from_parts(
    text: str,
    local_match: re.Match[str],
    at_text: str,
    domain_match: re.Match[str],
    rules: _EmailRules,
) -> Found | None:
    local_text = local_match.group()
    local_words = rules.local_sep.split(local_text)
    local = ".".join(local_words).lower()
    # A local part of words joined by " point " is only as good as the words: reject the
    # empty pieces a stray separator leaves.
    if not all(local_words) or len(local) > 64:
        return None
    obfuscated = at_text != "@" or local_text.lower() != local

    domain_text = domain_match.group()
    domain_start = domain_match.start()
    labels: list[tuple[str, int]] = []  # (label, end offset in text)
    seps: list[str] = []
    position = 0
    for sep in rules.domain_sep.finditer(domain_text):
        labels.append((domain_text[position : sep.start()], domain_start + sep.start()))
        seps.append(sep.group())
        position = sep.end()
    labels.append((domain_text[position:], domain_start + len(domain_text)))

    # Keep the longest run of labels that ends on a known TLD: "lola@mail.fr. Je suis"
    # reads as mail.fr, not mail.fr.je.
    keep = 0
    for count in range(len(labels), 1, -1):
        if labels[count - 1][0].lower() in rules.tlds:
            keep = count
            break
    if keep:
        obfuscated = obfuscated or any(s != "." for s in seps[: keep - 1])
    else:
        tld = labels[-1][0]
        plain = not obfuscated and all(s == "." for s in seps)
        if not (plain and tld.isascii() and tld.isalpha() and 2 <= len(tld) <= 24):
            return None
        keep = len(labels)
    domain = ".".join(label for label, _ in labels[:keep]).lower()
    # Labels were matched one by one; the address as a whole must still be well-formed.
    if len(domain) > 253 or not re.fullmatch(r"[a-z0-9.\-]+", domain):
        return None
    if at_text.strip().lower() in rules.weak_at and not (
        labels[0][0].lower() in rules.providers or re.search(r"[\d_.]", local)
    ):
        return None  # "I am at home dot com"
    end = labels[keep - 1][1]
    shown = text[local_match.start() : end]
    return Found(f"{local}@{domain}", shown, {"obfuscated": obfuscated})


# --------------------------------------------------------------------------------------
# Messaging handles


@dataclass(frozen=True)
class _Service:
    name: str
    handle_kind: str  # "phone", "username" or "both"
    min_length: int
    max_length: int
    reserved: frozenset[str]


@dataclass(frozen=True)
class _HandleRules:
    services: dict[str, _Service]
    by_alias: dict[str, tuple[str, str]]  # folded alias -> (service, "strong"|"weak"|"emoji")
    prefixes: dict[str, str]  # lower-case URL prefix -> service
    alias: re.Pattern[str]  # on lower-cased text
    alias_next: re.Pattern[str]  # an alias right after another ("snap/insta")
    joiner: re.Pattern[str]
    url: re.Pattern[str]  # on lower-cased text
    stopwords: frozenset[str]
    any_cue: re.Pattern[str]  # url or alias: a text where it finds nothing holds no handle


def _fold_alias(alias: str) -> str:
    return re.sub(r"\s+", " ", alias.strip().lower())


@functools.cache
def _handle_rules() -> _HandleRules:
    data = _load_json("handle_services.json")
    services: dict[str, _Service] = {}
    by_alias: dict[str, tuple[str, str]] = {}
    prefixes: dict[str, str] = {}
    for name, spec in data["services"].items():
        services[name] = _Service(
            name=name,
            handle_kind=spec["handle_kind"],
            min_length=int(spec.get("min_length", 1)),
            max_length=int(spec.get("max_length", 64)),
            reserved=frozenset(spec.get("reserved", [])),
        )
        for strength in ("aliases", "weak", "emoji"):
            for alias in spec.get(strength, []):
                kind = {"aliases": "strong", "weak": "weak", "emoji": "emoji"}[strength]
                by_alias[_fold_alias(alias)] = (name, kind)
                by_alias.setdefault(_fold_alias(alias).replace(" ", ""), (name, kind))
        for prefix in spec.get("urls", []):
            prefixes[prefix.lower()] = name
    # All patterns run on lower-cased text and start with plain literals (see
    # _by_first_char). An alias is a whole word (not "snapshot", "#snap", "t.me"), except
    # an emoji, which may touch its handle ("👻lola"). A space inside an alias
    # ("whats app") may be written with or without it.
    words = [a for a, (_, kind) in by_alias.items() if kind != "emoji"]
    emoji = [a for a, (_, kind) in by_alias.items() if kind == "emoji"]
    emoji_part = "|" + _by_first_char(emoji) if emoji else ""
    # Sites are also written "www.instagram.com/", "m.facebook.com/".
    links = set(prefixes)
    links |= {f"{sub}.{p}" for p in prefixes if "." in p.split("/")[0] for sub in ("www", "m")}
    alias = _by_first_char(words, r"\s?", not_before=r"[\w@#./\-]", not_after=r"\w") + emoji_part
    url = _by_first_char(sorted(links), not_before=r"[\w.]")
    return _HandleRules(
        services=services,
        by_alias=by_alias,
        prefixes=prefixes,
        alias=re.compile(alias),
        alias_next=re.compile(_by_first_char(words, r"\s?", not_after=r"\w") + emoji_part),
        joiner=re.compile(r"\s*(?:/|&|\+|,|\|)\s*|\s+(?:et|and|ou|or|y|e|o)\s+"),
        url=re.compile(url),
        stopwords=frozenset(data["stopwords"]),
        any_cue=re.compile(f"{url}|{alias}"),
    )


# What may stand between an alias and its handle. A "strong" separator (colon, arrow,
# "c'est", "au"...) says the next token is the handle; a bare space says less.
_STRONG_SEP = re.compile(
    r"\s*(?:(?:[:=>»→⇒➡👉]|\ufe0f|-+>|=>|\(|\[)\s*"
    r"|(?:(?:uniquement|seulement|only|au|at|on|sur|number|num[ée]ro|num|n°|nº|nr\.?|no\.?"
    r"|c['’]est|est|is|es|é|id)\s+))+",
    re.IGNORECASE,
)
_BARE_SEP = re.compile(r"\s*")
_PHONE = re.compile(
    r"\(?(?:\+|00)?\s?\(?\d(?:[\s.\-/()]{0,2}\d){6,17}(?![\w/:])",
)
# Letters of any script, so that a written accent does not cut "chloé_45" to "chlo";
# ``_ascii_handle`` then folds it to the account name the service allows.
_USERNAME = re.compile(r"@?(\w(?:[\w.\-]*\w)?)")
_NOT_DIGIT = re.compile(r"\D")
# After a URL prefix: the path, then an optional query string.
_URL_REST = re.compile(r"(?P<path>[^\s?#\"'<>,;)]+)(?P<query>\?[^\s#\"'<>,;)]*)?")
# What may come before a URL prefix and belongs to the link ("https://www.").
_URL_LEAD = re.compile(r"(?:https?://)?(?:www\.|m\.|mobile\.)?\Z", re.IGNORECASE)


def find_handles(text: str) -> list[Found]:
    """Messaging handles in ``text`` as ``service:handle`` values.

    Works on free text and on single ``links`` items ("snap: lola_75", "t.me/lola_75",
    "https://wa.me/33612345678"). ``detail`` always has ``service`` and ``handle``, and
    ``phone_like: True`` when the handle is a phone number. A handle with no service
    ("@lola_75" alone) is not returned: it cannot be compared across ads.
    """
    if not text:
        return []
    rules = _handle_rules()
    low = lower_aligned(text)
    if rules.any_cue.search(low) is None:
        return []  # most ads: one scan instead of the two below
    found: list[tuple[int, Found]] = []
    taken: list[tuple[int, int]] = []
    for match in rules.url.finditer(low):
        start = _url_start(text, match.start())
        if start is None:
            continue
        rest = _URL_REST.match(text, match.end())
        if rest is None:
            continue
        taken.append((start, rest.end()))
        prefix = match.group()
        for sub in ("www.", "m."):
            if prefix.startswith(sub) and prefix not in rules.prefixes:
                prefix = prefix[len(sub) :]
        item = _handle_from_url(text, start, prefix, rest, rules)
        if item is not None:
            found.append((start, item))
    position = 0
    for match in rules.alias.finditer(low):
        start = match.start()
        if start < position or any(a <= start < b for a, b in taken):
            continue
        names, kinds, end = _alias_group(text, low, match, rules)
        if not names:
            continue
        position = end
        for item in _handles_after_aliases(text, start, end, names, kinds, rules, taken):
            found.append((start, item))
    found.sort(key=lambda pair: pair[0])
    return [item for _, item in found]


def _url_start(text: str, prefix_start: int) -> int | None:
    """Where the link holding this prefix starts, or None if the prefix is inside a word."""
    lead = _URL_LEAD.search(text, max(0, prefix_start - 20), prefix_start)
    start = lead.start() if lead else prefix_start
    if start > 0 and (text[start - 1].isalnum() or text[start - 1] in "._"):
        return None  # "xt.me/", "netflix.com/"
    return start


def _alias_group(
    text: str, low: str, first: re.Match[str], rules: _HandleRules
) -> tuple[list[str], list[str], int]:
    """Services named at ``first`` and after it ("snap/insta", "WhatsApp et Telegram")."""
    names: list[str] = []
    kinds: list[str] = []
    match: re.Match[str] | None = first
    end = first.start()
    while match is not None:
        name, kind = rules.by_alias[_fold_alias(match.group())]
        if match is not first and match.start() > 0 and text[match.start() - 1].isalnum():
            break
        if name not in names:
            names.append(name)
            kinds.append(kind)
        end = match.end()
        joiner = rules.joiner.match(low, end)
        match = rules.alias_next.match(low, joiner.end()) if joiner else None
    return names, kinds, end


def _ascii_handle(handle: str) -> str:
    """The account name behind a handle as written: services only allow ASCII, so an
    accent an ad adds ("chloé_45") is folded away; anything else not ASCII gives ""."""
    if handle.isascii():
        return handle
    folded = "".join(c for c in unicodedata.normalize("NFKD", handle)
                     if not unicodedata.combining(c))
    return folded if folded.isascii() else ""


def _handle_found(service: str, handle: str, shown: str, phone_like: bool) -> Found:
    detail: dict[str, Any] = {"service": service, "handle": handle}
    if phone_like:
        detail["phone_like"] = True
    return Found(f"{service}:{handle}", shown, detail)


def _phone_handle(raw: str, international: bool) -> str | None:
    """Digits of a number given as a handle; ``+`` when written or implied international."""
    digits = _NOT_DIGIT.sub("", raw)
    stripped = raw.lstrip("( ")
    if stripped.startswith("+"):
        international = True
    elif digits.startswith("00"):
        digits, international = digits[2:], True
    if not 8 <= len(digits) <= 15:
        return None
    return f"+{digits}" if international else digits


def _handle_from_url(
    text: str, start: int, prefix: str, rest: re.Match[str], rules: _HandleRules
) -> Found | None:
    service = rules.services[rules.prefixes[prefix]]
    path = rest.group("path")
    shown = text[start : rest.end()]
    if "=" in prefix:  # api.whatsapp.com/send?phone=..., viber://chat?number=...
        value = path.replace("%2B", "+").replace("%2b", "+")
        number = _phone_handle(value, international=True)
        if number is None:
            return None
        return _handle_found(service.name, number, shown, phone_like=True)
    segments = [s for s in path.split("/") if s]
    if not segments:
        return None
    head = segments[0]
    if service.name == "telegram":
        invite = _telegram_invite(segments)
        if invite is not None:
            return Found(
                f"telegram:{invite}",
                shown,
                {"service": "telegram", "handle": invite, "invite": True},
            )
    if service.handle_kind in ("phone", "both") and re.fullmatch(r"\+?[\d\-. ]{8,20}", head):
        # wa.me numbers are international by definition, without the "+".
        number = _phone_handle(head, international=prefix.startswith("wa.me"))
        if number is not None:
            return _handle_found(service.name, number, shown, phone_like=True)
        return None
    if service.handle_kind == "phone":
        return None
    handle = _ascii_handle(head.lstrip("@~").rstrip(".-").lower())
    if not handle or handle in service.reserved or not re.fullmatch(r"[a-z0-9._\-]+", handle):
        return None
    # The query string (?hl=fr, ?igshid=...) is tracking noise, never the handle.
    return _handle_found(service.name, handle, shown, phone_like=False)


def _telegram_invite(segments: list[str]) -> str | None:
    """Invite links ("t.me/+AbC", "t.me/joinchat/AbC") keep their case: codes are exact."""
    head = segments[0]
    if head.lower() == "joinchat" and len(segments) > 1:
        return f"invite/{segments[1]}"
    if head.startswith("+") and not head[1:].isdigit() and len(head) > 1:
        return f"invite/{head[1:]}"
    return None


def _handles_after_aliases(
    text: str,
    start: int,
    end: int,
    names: list[str],
    kinds: list[str],
    rules: _HandleRules,
    taken: list[tuple[int, int]],
) -> list[Found]:
    position = end
    sep = _STRONG_SEP.match(text, position)
    strong = sep is not None and sep.end() > position
    if strong and sep is not None:
        position = sep.end()
    else:
        bare = _BARE_SEP.match(text, position)
        position = bare.end() if bare else position
        if position == end and "emoji" not in kinds:
            return []  # an alias glued to what follows is no label
    if any(a <= position < b for a, b in taken):
        return []  # "Telegram: t.me/lola_75": the link already gave the handle
    # A weak alias ("of", "x", "line"...) is an ordinary word unless a separator or an
    # "@" makes it a label.
    weak_only = all(k == "weak" for k in kinds)
    emoji = "emoji" in kinds

    results: list[Found] = []
    phone = _PHONE.match(text, position)
    username = _USERNAME.match(text, position)
    for name in names:
        service = rules.services[name]
        item: Found | None = None
        if phone and service.handle_kind in ("phone", "both") and (strong or not weak_only):
            number = _phone_handle(phone.group(), international=False)
            if number is not None:
                shown = text[start : phone.end()].strip()
                item = _handle_found(service.name, number, shown, phone_like=True)
        if item is None and username and service.handle_kind in ("username", "both"):
            item = _username_found(service, username, strong, weak_only, emoji, rules)
            if item is not None:
                item = item._replace(shown=text[start : username.end()].strip())
        if item is not None:
            results.append(item)
    return results


def _username_found(
    service: _Service,
    match: re.Match[str],
    strong: bool,
    weak_only: bool,
    emoji: bool,
    rules: _HandleRules,
) -> Found | None:
    raw = match.group()
    handle = _ascii_handle(match.group(1).rstrip(".-").lower())
    if not handle:
        return None
    at_sign = raw.startswith("@")
    if not any(c.isalpha() for c in handle):
        return None  # "snap: 2024", "x: 100": numbers are not usernames
    if handle in rules.stopwords or handle in rules.by_alias:
        return None
    if not service.min_length <= len(handle) <= service.max_length:
        return None
    if not strong and not at_sign:
        if weak_only:
            return None
        # "snap lola_75" is a handle, "snap ce soir" is not: after a bare space, only a
        # token that looks like a username (digit, underscore, dot) is believed.
        if not emoji and not re.search(r"[\d_.]", handle):
            return None
    return _handle_found(service.name, handle, raw, phone_like=False)
