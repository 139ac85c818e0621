"""The rules of ``faisceau.share.access`` as units: what is shown of a sensitive record,
which ads a viewer sees, who decides on which network; and migration 0010, which names ad
distributions by ``source:ad_id`` (both stores)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import insert, text

from faisceau.config import Settings
from faisceau.share.access import (
    BEYOND_TERRITORY,
    MASKED,
    NO_TERRITORY,
    NOT_DECIDER,
    OUTSIDE_TERRITORY,
    SHOWN,
    WITH_REASON,
    AdScope,
    Viewer,
    decision_rule,
    disclosure,
    lead_value_shown,
    personal_value,
    shown_evidence,
)
from faisceau.store import open_store
from faisceau.store.bulk import utc_now
from faisceau.store.engine import alembic_config
from faisceau.store.schema import ad, share_distribution


def test_a_sensitive_record_is_masked_without_a_reason_and_shown_with_one() -> None:
    assert disclosure("suspect", False, None) == SHOWN
    assert disclosure("suspect", False, "motif") == SHOWN  # no reason needed, none logged
    for category, minor in (("victim", False), ("runaway", False), ("witness", True),
                            ("suspect", 1)):
        assert disclosure(category, minor, None) == MASKED, (category, minor)
        assert disclosure(category, minor, "un motif") == WITH_REASON, (category, minor)
    # A lead's value is shown as its record's values are; a given name only with a reason.
    assert lead_value_shown("phone", SHOWN) and lead_value_shown("name", WITH_REASON)
    assert not lead_value_shown("name", SHOWN) and not lead_value_shown("phone", MASKED)


def test_personal_values_are_names_contacts_dates_of_birth_and_identifiers() -> None:
    for prop, prop_type in (("name", "name"), ("firstName", "string"), ("phone", "phone"),
                            ("email", "email"), ("birthDate", "date"), ("address", "address"),
                            ("idNumber", "identifier")):
        assert personal_value(prop, prop_type), prop
    for prop, prop_type in (("gender", "gender"), ("country", "country"),
                            ("keywords", "string"), ("case", "entity")):
        assert not personal_value(prop, prop_type), prop


def test_an_ad_scope_sees_by_default_but_for_the_ads_ruled_otherwise() -> None:
    scope = AdScope(True, {"s:1": False, "s:2": True, "s:gone": False}, {1: False, 2: True})
    assert not scope.unrestricted and scope.sees_pk(3) and not scope.sees_pk(1)
    assert scope.sees_ref("s:3") and not scope.sees_ref("s:gone")
    assert (scope.hidden_pks(), scope.only_pks()) == ([1], None)
    assert shown_evidence(scope, ["s:1", "s:2", "s:3"], 10) == (["s:2", "s:3"], 9)
    only = AdScope(False, {"s:2": True}, {2: True})
    assert (only.hidden_pks(), only.only_pks()) == ([], [2])
    assert not only.sees_pk(1) and only.sees_ref("s:2")
    assert AdScope(True).unrestricted and AdScope(True, {"s:1": True}).unrestricted


def test_territorial_units_decide_within_their_departement() -> None:
    def rule(unit: str, decision: str, unit_dep: str | None, deps: set[str],
             role: str = "referent") -> str | None:
        return decision_rule(Viewer("x", role, unit), decision, unit_dep, deps)

    assert rule("OCRTEH", "dismissed", None, {"13", "69"}, "analyst") is None
    assert rule("DEP-13", "dismissed", "13", {"13"}) is None
    assert rule("DEP-13", "investigate", "13", {"13", "69"}) is None
    assert rule("DEP-13", "known", "13", {"13", "69"}) is None
    assert rule("DEP-13", "dismissed", "13", {"13", "69"}) == BEYOND_TERRITORY
    assert rule("DEP-69", "investigate", "69", {"13"}) == OUTSIDE_TERRITORY
    assert rule("DEP-69", "investigate", "69", set()) == OUTSIDE_TERRITORY
    assert rule("DOUANE", "investigate", None, {"13"}) == NO_TERRITORY
    assert rule("OCRTEH", "investigate", None, {"13"}, "investigator") == NOT_DECIDER


def test_migration_0010_names_ad_distributions_by_source_and_id(
        store_settings: Settings) -> None:
    store = open_store(store_settings)
    cfg = alembic_config(store.settings.url)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0009")
    now = utc_now()
    with store.begin() as conn:
        pk = conn.execute(insert(ad).values(
            source="exemple", ad_id="a1", first_seen=now, last_seen=now, sightings=1,
            versions=1)).inserted_primary_key[0]
        for record_id in (str(pk), "999999", "exemple:a9"):
            conn.execute(insert(share_distribution).values(
                record_kind="ad", record_id=record_id, level="own_unit", owner_unit="DEP-13",
                set_by="test", set_at=now))
        conn.execute(insert(share_distribution).values(
            record_kind="network", record_id=str(pk), level="own_unit", owner_unit="DEP-13",
            set_by="test", set_at=now))
    store.dispose()
    store = open_store(store_settings)  # upgrades to the head
    with store.begin() as conn:
        rows = set(conn.execute(text(
            "SELECT record_kind, record_id FROM share_distribution")).all())
    # The ad's number became its source:ad_id; a number naming no ad, and other kinds, stay.
    assert rows == {("ad", "exemple:a1"), ("ad", "999999"), ("ad", "exemple:a9"),
                    ("network", str(pk))}
    store.dispose()
