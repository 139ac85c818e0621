"""The password policy: what users rely on is that a guessable password is refused wherever a
password is set (command line, administration, their own change), with the reason in
French, and that a good one (the demo's, four unrelated words) goes through.
"""

from __future__ import annotations

import os
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faisceau.config import Settings
from faisceau.share import audit
from faisceau.share.accounts import (
    DEMO_PASSWORD,
    AccountError,
    authenticate,
    create_user,
    reset_password,
    seed_units,
)
from faisceau.share.passwords import policy, weakness
from faisceau.store import open_store
from tests.conftest import run_faisceau

GOOD = "correct-cheval-pile-agrafe"
# The examples, and the same kinds of weakness in French.
TRIVIAL = ["aaaaaaaaaaaa", "123456789012", "password1234", " " * 12, "azertyuiop12",
           "motdepasse2026", "Marseille2026!", "qwertyuiop123", "abcdefghijkl",
           "000000000000", "soleil123456", "P@ssw0rd2024", "\t" * 12]


@pytest.mark.parametrize("password", TRIVIAL)
def test_trivial_and_common_passwords_are_refused_saying_why(password: str) -> None:
    reason = weakness(password, login="lea", name="Léa Lyon")
    assert reason is not None
    assert reason.startswith(("mot de passe trop facile à deviner : il repose sur ",
                              "mot de passe fait uniquement d'espaces"))


def test_each_kind_of_weakness_is_named() -> None:
    assert "répétés" in str(weakness("aaaaaaaaaaaa"))
    assert "plus courants" in str(weakness("password1234"))
    assert "en français" in str(weakness("motdepasse2026"))
    assert "clavier" in str(weakness("zxcvbnm,./zxcvbnm"))
    assert weakness(" " * 20) == "mot de passe fait uniquement d'espaces"
    assert weakness("court") == "mot de passe trop court (au moins 12 caractères)"
    assert str(weakness("x" * (policy().max_length + 1))).startswith("mot de passe trop long")


def test_the_login_or_the_name_inside_is_refused() -> None:
    assert weakness(f"{GOOD}-jdupont", login="jdupont") == (
        "le mot de passe ne doit pas contenir l'identifiant")
    assert weakness("JDupont-correct-cheval", login="jdupont") is not None  # any case
    assert weakness("dupont-cheval-pile-agrafe", login="jd", name="Jean Dupont") == (
        "le mot de passe ne doit pas contenir le nom du titulaire du compte")
    assert weakness("jean.dupont1975", login="jdupont", name="Jean Dupont") is not None


@pytest.mark.parametrize(("password", "login", "name"), [
    (DEMO_PASSWORD, "admin", "Administrateur (démo)"),
    (DEMO_PASSWORD, "analyste", "Analyste de l'office central (démo)"),
    (GOOD, "alice", "Alice"),
    ("un mot de passe long", "analyste1", ""),
    ("mot de passe de test", "analyst-ocrteh", ""),
    ("x7#Qm!2vLp9$wRz", "bob", "Bob"),
])
def test_good_passwords_go_through(password: str, login: str, name: str) -> None:
    assert weakness(password, login=login, name=name) is None


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=string.ascii_letters + string.digits + " -!", min_size=1,
               max_size=3), st.integers(min_value=4, max_value=40))
def test_a_short_pattern_repeated_is_never_accepted(unit: str, times: int) -> None:
    password = unit * max(times, -(-12 // len(unit)))
    assert weakness(password) is not None


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=0, max_size=300))
def test_any_text_gets_an_answer_never_an_error(password: str) -> None:
    reason = weakness(password, login="alice", name="Alice Martin")
    if len(password) < 12 or not password.strip():
        assert reason is not None
    if reason is not None and len(password) >= 12:
        assert password not in reason  # the refusal never repeats the password


def test_every_way_of_setting_a_password_applies_the_policy(store_settings: Settings) -> None:
    store = open_store(store_settings)
    seed_units(store)
    for password in ("aaaaaaaaaaaa", "password1234", " " * 12):
        with pytest.raises(AccountError, match=r"espaces|facile à deviner"):
            create_user(store, "lea", password, "analyst", "OCRTEH")
    create_user(store, "lea", GOOD, "analyst", "OCRTEH", name="Léa Lyon")
    with pytest.raises(AccountError, match="facile à deviner"), store.begin() as conn:
        reset_password(conn, "lea", "123456789012")
    with pytest.raises(AccountError, match="nom du titulaire"), store.begin() as conn:
        reset_password(conn, "lea", "lyon-correct-cheval-pile")
    store.dispose()


def test_the_command_line_applies_the_policy_and_logs_the_change(tmp_path: Path) -> None:
    """The commands' wiring (the policy itself is store-independent and tested on both
    stores above): an embedded store only, three runs, to keep the suite fast."""
    store = open_store(Settings(home=tmp_path / "store", database_url=None))
    seed_units(store)
    store.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAISCEAU_")}
    env.update(FAISCEAU_HOME=str(tmp_path / "store"), FAISCEAU_ANALYST="operateur")
    add = ["users", "add", "marc", "--role", "analyst", "--unit", "OCRTEH"]
    refused = run_faisceau(add, {**env, "FAISCEAU_PASSWORD": "password1234"}, check=False)
    assert refused.returncode == 2, refused.stdout
    assert "mot de passe trop facile à deviner" in refused.stderr
    run_faisceau(add, {**env, "FAISCEAU_PASSWORD": GOOD})
    reset = run_faisceau(["users", "password", "marc"],
                         {**env, "FAISCEAU_PASSWORD": "ecluse-parapluie-mandarine-sextant"})
    assert "Mot de passe du compte marc changé ; sessions fermées : 0." in reset.stdout
    store = open_store(Settings(home=tmp_path / "store", database_url=None))
    with store.begin() as conn:
        changes = [(e.login, e.record_id, e.detail) for e in audit.entries(conn)]
    store.dispose()
    assert changes == [
        ("operateur", "marc", '{"command":"users add","name":"marc","role":"analyst",'
                              '"unit":"OCRTEH","what":"created"}'),
        ("operateur", "marc", '{"command":"users password","what":"password reset"}')]
    assert authenticate(store, "marc", GOOD) is None
