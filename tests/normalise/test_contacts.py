"""E-mail addresses and messaging handles, plain and obfuscated."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faisceau.normalise import contacts
from faisceau.normalise.contacts import find_emails, find_handles
from faisceau.normalise.text import lower_aligned


def emails(text: str) -> list[str]:
    return [f.value for f in find_emails(text)]


def handles(text: str) -> list[str]:
    return [f.value for f in find_handles(text)]


def _data(name: str) -> Any:
    text = resources.files("faisceau.normalise").joinpath("data", name).read_text("utf-8")
    return json.loads(text)


# -- e-mail ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lola@mail.fr", ["lola@mail.fr"]),
        ("Écris-moi : Lola.Dupont@Gmail.com. Je réponds vite", ["lola.dupont@gmail.com"]),
        ("mon mail: lola_75@hotmail.fr!", ["lola_75@hotmail.fr"]),
        ("lola [at] mail . fr", ["lola@mail.fr"]),
        ("lola(at)mail(dot)fr", ["lola@mail.fr"]),
        ("lola arobase mail point fr", ["lola@mail.fr"]),
        ("lola at gmail dot com", ["lola@gmail.com"]),
        ("lola.d [at] yahoo [dot] co [dot] uk", ["lola.d@yahoo.co.uk"]),
        ("lola {at} mail {dot} fr", ["lola@mail.fr"]),
        ("lola @ mail.fr", ["lola@mail.fr"]),
        ("lola(@)mail(.)fr", ["lola@mail.fr"]),
        ("LOLA ARROBASE OUTLOOK POINT FR", ["lola@outlook.fr"]),
        ("lola point dupont arobase mail point fr", ["lola.dupont@mail.fr"]),
        ("x@mail.photography", ["x@mail.photography"]),
        ("a@b.fr et c@d.com", ["a@b.fr", "c@d.com"]),
    ],
)
def test_find_emails(text: str, expected: list[str]) -> None:
    assert emails(text) == expected


def test_email_shown_and_detail() -> None:
    (plain,) = find_emails("contact: Lola@Mail.fr, merci")
    assert plain.shown == "Lola@Mail.fr"
    assert plain.detail == {"obfuscated": False}
    (hidden,) = find_emails("écris à lola arobase mail point fr ce soir")
    assert hidden.shown == "lola arobase mail point fr"
    assert hidden.detail == {"obfuscated": True}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no email here",
        "I am at home dot com",  # bare "at": not a provider, not a username
        "rdv at hotel point de rencontre",
        "lola arobase mail point bisous",  # hidden address with an unknown TLD
        "lola [at] mail",  # no TLD
        "@lola_75",
        "lola@",
        "prix: 150@1h",
        "lola@@mail.fr",
    ],
)
def test_not_emails(text: str) -> None:
    assert emails(text) == []


def test_sentence_after_address_is_not_part_of_the_domain() -> None:
    assert emails("lola [at] mail . fr . Bisous") == ["lola@mail.fr"]
    assert emails("lola@mail.fr.Appelle moi") == ["lola@mail.fr"]


EMAIL_WORDS = _data("email.json")
RESERVED = {w.lower() for key in ("at_words", "dot_words") for w in EMAIL_WORDS[key]}
local_word = st.from_regex(r"[a-z0-9](?:[a-z0-9_\-]{0,8}[a-z0-9])?", fullmatch=True).filter(
    lambda w: w not in RESERVED
)
label = st.from_regex(r"[a-z0-9](?:[a-z0-9\-]{0,8}[a-z0-9])?", fullmatch=True).filter(
    lambda w: w not in RESERVED
)
AT_STYLES = ["@", " @ ", " [at] ", "(at)", "{at}", " arobase ", " arobas ", "[@]", " (at) "]
DOT_STYLES = [".", " . ", "(dot)", " [dot] ", " point ", " dot ", "(.)", " [point] "]
LOCAL_DOT_STYLES = [".", "(dot)", " point ", " [dot] "]


@given(
    st.lists(local_word, min_size=1, max_size=3),
    st.lists(label, min_size=1, max_size=2),
    st.sampled_from(sorted(EMAIL_WORDS["tlds"])),
    st.sampled_from(AT_STYLES),
    st.sampled_from(DOT_STYLES),
    st.sampled_from(LOCAL_DOT_STYLES),
    st.sampled_from(["", "Contact: ", "écris-moi à ", "mail → "]),
    st.sampled_from(["", " merci", ". Bisous", " !", "\n06 12 34 56 78"]),
)
def test_obfuscated_address_round_trips(
    local: list[str],
    labels: list[str],
    tld: str,
    at: str,
    dot: str,
    local_dot: str,
    before: str,
    after: str,
) -> None:
    address = ".".join(local) + "@" + ".".join([*labels, tld])
    text = before + local_dot.join(local) + at + dot.join([*labels, tld]) + after
    assert emails(text) == [address], text


@given(st.text(max_size=300))
def test_emails_never_raise(text: str) -> None:
    for found in find_emails(text):
        local, _, domain = found.value.partition("@")
        assert local and "." in domain and found.value == found.value.lower()
        assert found.shown in text


# -- handles --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("snap: lola_75", ["snapchat:lola_75"]),
        ("Snap : LOLA_75.", ["snapchat:lola_75"]),
        ("snapchat lola75", ["snapchat:lola75"]),
        ("mon snap c'est lola_75", ["snapchat:lola_75"]),
        ("👻 lola_75", ["snapchat:lola_75"]),
        ("👻lola", ["snapchat:lola"]),
        ("Insta @Lola_75", ["instagram:lola_75"]),
        ("ig: lola.b", ["instagram:lola.b"]),
        ("instagram.com/lola_75", ["instagram:lola_75"]),
        ("https://www.instagram.com/lola_75/?hl=fr", ["instagram:lola_75"]),
        ("t.me/lola_75", ["telegram:lola_75"]),
        ("Telegram: @lolabelle", ["telegram:lolabelle"]),
        ("Telegram: t.me/lolabelle", ["telegram:lolabelle"]),
        ("tg: lolab", ["telegram:lolab"]),
        ("of: lola.x", ["onlyfans:lola.x"]),
        ("onlyfans.com/lola_x", ["onlyfans:lola_x"]),
        ("X: @lola", ["twitter:lola"]),
        ("twitter.com/lola_75", ["twitter:lola_75"]),
        ("tiktok.com/@lola.x", ["tiktok:lola.x"]),
        ("kik: lola_75", ["kik:lola_75"]),
        ("wechat: lola_75", ["wechat:lola_75"]),
        ("line: lola_1", ["line:lola_1"]),
        ("skype: lola.75", ["skype:lola.75"]),
        ("facebook.com/lola.dupont.75", ["facebook:lola.dupont.75"]),
        ("Snapchat/Insta: lola_75", ["snapchat:lola_75", "instagram:lola_75"]),
        ("snap lola75 et insta lola.b", ["snapchat:lola75", "instagram:lola.b"]),
    ],
)
def test_find_handles(text: str, expected: list[str]) -> None:
    assert handles(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("WhatsApp: +33 6 12 34 56 78", "whatsapp:+33612345678"),
        ("whatsapp 06 12 34 56 78", "whatsapp:0612345678"),
        ("dispo sur WhatsApp au 06.12.34.56.78", "whatsapp:0612345678"),
        ("whats app: 0033612345678", "whatsapp:+33612345678"),
        ("wa.me/33612345678", "whatsapp:+33612345678"),
        ("https://wa.me/33612345678?text=bonjour", "whatsapp:+33612345678"),
        ("wa.me/+33612345678", "whatsapp:+33612345678"),
        ("api.whatsapp.com/send?phone=33612345678", "whatsapp:+33612345678"),
        ("signal: +33612345678", "signal:+33612345678"),
        ("Viber: +33 6 12 34 56 78", "viber:+33612345678"),
        ("viber://chat?number=%2B33612345678", "viber:+33612345678"),
        ("Telegram: +33 6 12 34 56 78", "telegram:+33612345678"),
        ("t.me/+33612345678", "telegram:+33612345678"),
    ],
)
def test_phone_handles(text: str, expected: str) -> None:
    (found,) = find_handles(text)
    assert found.value == expected
    service, _, handle = expected.partition(":")
    assert found.detail == {"service": service, "handle": handle, "phone_like": True}


def test_handle_detail_and_shown() -> None:
    (found,) = find_handles("Coucou ! snap: Lola_75 bisous")
    assert found.detail == {"service": "snapchat", "handle": "lola_75"}
    assert found.shown == "snap: Lola_75"
    (found,) = find_handles("WhatsApp: +33 6 12 34 56 78 (pas d'appels)")
    assert found.shown == "WhatsApp: +33 6 12 34 56 78"


def test_telegram_invite_keeps_its_case() -> None:
    (found,) = find_handles("rejoins t.me/+AbCdEf12")
    assert found.value == "telegram:invite/AbCdEf12"
    assert found.detail == {"service": "telegram", "handle": "invite/AbCdEf12", "invite": True}
    assert handles("t.me/joinchat/XyZ789") == ["telegram:invite/XyZ789"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "snap ce soir",  # bare space: only a username-looking token is believed
        "Signal moi si tu arrives",
        "best of lola",  # "of" without a separator is a word
        "3 x 50",
        "WhatsApp uniquement",
        "Snap: non",
        "snap: 2024",
        "@lola_75",  # no service: cannot be compared across ads
        "instagram.com/p/AbCdEf",
        "wa.me/123",
        "tg: moi",
        "Line up the ideas",
        "#snap lola_75",
    ],
)
def test_not_handles(text: str) -> None:
    assert handles(text) == []


def test_links_field_items() -> None:
    links = [
        "WhatsApp: +33 6 12 34 56 78",
        "snap: lola_75",
        "t.me/lola_75",
        "https://wa.me/33612345678",
    ]
    assert [handles(item) for item in links] == [
        ["whatsapp:+33612345678"],
        ["snapchat:lola_75"],
        ["telegram:lola_75"],
        ["whatsapp:+33612345678"],
    ]


SERVICES = _data("handle_services.json")["services"]
username = st.from_regex(r"[a-z][a-z0-9_]{2,10}[0-9_]", fullmatch=True)


@given(
    username,
    st.sampled_from(["snap", "snapchat", "insta", "instagram", "kik", "👻"]),
    st.sampled_from([": ", " : ", " ", " @", ": @", " -> ", " 👉 ", " = "]),
    st.sampled_from(["", "Coucou ", "Ajoute-moi ! ", "contact "]),
    st.sampled_from(["", " bisous", ". Merci", " 💋"]),
)
def test_any_handle_after_an_alias_round_trips(
    name: str, alias: str, separator: str, before: str, after: str
) -> None:
    service = {"snap": "snapchat", "insta": "instagram", "👻": "snapchat"}.get(alias, alias)
    text = before + alias + separator + name + after
    assert handles(text) == [f"{service}:{name}"], text


@given(
    st.sampled_from(sorted(SERVICES)),
    username,
    st.sampled_from(["", "https://", "http://www."]),
)
def test_any_handle_in_a_link_round_trips(service: str, name: str, scheme: str) -> None:
    spec = SERVICES[service]
    prefixes = [p for p in spec["urls"] if "=" not in p and not p.endswith(":")]
    if spec["handle_kind"] == "phone" or not prefixes:
        return
    assert handles(scheme + prefixes[0] + name) == [f"{service}:{name}"]


@given(
    st.from_regex(r"6\d{8}", fullmatch=True),
    st.sampled_from(["WhatsApp", "whatsapp", "Viber", "Signal", "Telegram", "wa"]),
    st.sampled_from(["+33 {0} {1} {2} {3} {4}", "+33{0}{1}{2}{3}{4}", "0033 {0}{1}{2}{3}{4}"]),
)
def test_any_international_number_after_a_phone_service_round_trips(
    digits: str, alias: str, layout: str
) -> None:
    groups = [digits[0], digits[1:3], digits[3:5], digits[5:7], digits[7:9]]
    text = f"{alias}: " + layout.format(*groups)
    service = {"wa": "whatsapp"}.get(alias.lower(), alias.lower())
    assert handles(text) == [f"{service}:+33{digits}"], text


@given(st.text(max_size=300))
def test_handles_never_raise(text: str) -> None:
    for found in find_handles(text):
        service, _, handle = found.value.partition(":")
        assert service in SERVICES and handle
        assert found.detail is not None and found.detail["service"] == service


# --- the handles pre-check: one scan for both patterns -----------------------------------

CUE_FRAGMENTS = [
    " ", ":", "/", ".", "@", "snap", "Snap", "insta", "t.me", "wa.me", "whatsapp", "tg",
    "telegram", "https://", "www.", "lola_75", "06 12 34 56 78", "x", "of", "👻", "chat",
    "\n", "-", "#", "İ",
]


@given(st.lists(st.sampled_from(CUE_FRAGMENTS), max_size=8).map("".join))
def test_handle_pre_check_misses_no_url_or_alias(text: str) -> None:
    rules = contacts._handle_rules()
    low = lower_aligned(text)
    if rules.any_cue.search(low) is None:
        assert rules.url.search(low) is None and rules.alias.search(low) is None
        assert find_handles(text) == []
