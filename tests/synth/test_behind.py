"""The world behind the ads: deterministic, consistent with the ads world, calibrated, and the
same entities in the CSV files and the FollowTheMoney file."""

from __future__ import annotations

import hashlib
import random
import re
import shutil
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faisceau.export import safecsv
from faisceau.synth import identity
from faisceau.synth.behind import BehindSummary, write_behind
from faisceau.synth.casefiles import LATIN_AMERICA
from faisceau.synth.intel_writer import LAYOUT
from faisceau.synth.world import Params, write_world

START = date(2026, 3, 2)
MID = Params(scale=0.3, days=60, seed=3, start=START)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line]


def _csv(root: Path, name: str) -> list[dict[str, str]]:
    with open(root / "intel" / "csv" / f"{name}.csv", encoding="utf-8", newline="") as handle:
        header, *rows = safecsv.reader(handle, delimiter=";")
        return [dict(zip(header, row, strict=True)) for row in rows]


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for sub in ("intel", "truth") for p in sorted((root / sub).rglob("*"))
            if p.is_file() and p.name not in ("ads.jsonl", "controllers.jsonl")}


@pytest.fixture(scope="module")
def mid(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BehindSummary]:
    out = tmp_path_factory.mktemp("behind")
    write_world(MID, out)
    return out, write_behind(out, MID.seed, MID.start, MID.scale)


@pytest.fixture(scope="module")
def controllers(mid: tuple[Path, BehindSummary]) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in _jsonl(mid[0] / "truth" / "controllers.jsonl")}


@pytest.fixture(scope="module")
def entities(mid: tuple[Path, BehindSummary]) -> list[dict[str, Any]]:
    return _jsonl(mid[0] / "intel" / "ftm.jsonl")


# -- determinism ------------------------------------------------------------------------------

def test_same_inputs_same_bytes_other_seed_other_world(tmp_path: Path) -> None:
    params = Params(scale=0.05, days=14, seed=11, start=START)
    write_world(params, tmp_path / "world")
    for name in ("a", "b", "c"):
        (tmp_path / name / "truth").mkdir(parents=True)
        shutil.copy(tmp_path / "world" / "world.json", tmp_path / name / "world.json")
        shutil.copy(tmp_path / "world" / "truth" / "controllers.jsonl",
                    tmp_path / name / "truth" / "controllers.jsonl")
    write_behind(tmp_path / "a", 11, START, 0.05)
    write_behind(tmp_path / "b", 11, START, 0.05)
    write_behind(tmp_path / "c", 12, START, 0.05)
    a, b, c = (_digest(tmp_path / n) for n in "abc")
    assert a == b
    assert a != c
    assert "intel/ftm.jsonl" in a and "truth/patterns.jsonl" in a


# -- consistency with the ads world -----------------------------------------------------------

def test_victims_are_the_trafficking_controllers_persons(
        mid: tuple[Path, BehindSummary], controllers: dict[str, dict[str, Any]]) -> None:
    root, _ = mid
    persons = {p["id"]: (c, p) for c in controllers.values() for p in c["persons"]}
    truth = {v["entity"]: v for case in _jsonl(root / "truth" / "cases.jsonl")
             for v in case["victims"]}
    victims = [r for r in _csv(root, "people") if r["categorie"] == "victime"]
    assert victims
    identified = 0
    for row in victims:
        controller, person = persons[truth[row["personne_id"]]["person"]]
        assert controller["kind"] in ("pimp", "network")
        assert row["prenom"] == person["name"]
        assert row["mineur"] == ("oui" if person["minor"] else "non")
        assert int(row["age_annonce"]) == person["stated_age"]
        if row["statut"] == "victime":
            identified += 1
            assert int(row["age_faits"]) == person["age"]
            assert row["nationalite"] == person["origin"]
        else:
            assert row["age_faits"] == ""
    assert identified > 0


def test_case_phones_are_the_controllers_phones(
        mid: tuple[Path, BehindSummary], controllers: dict[str, dict[str, Any]]) -> None:
    root, _ = mid
    from_ads: dict[str, set[str]] = defaultdict(set)
    others: dict[str, set[str]] = defaultdict(set)
    for row in _csv(root, "phones"):
        (from_ads if row["source"] == "annonces" else others)[row["affaire_id"]].add(row["numero"])
    all_ad_phones = {n for c in controllers.values() for n in c["phones"]}
    for case in _jsonl(root / "truth" / "cases.jsonl"):
        expected = {n for cid in case["controllers"] for n in controllers[cid]["phones"]}
        assert from_ads[case["case"]] == expected, case["case"]
        # Personal phones never collide with a phone of the ads: a link must mean something.
        assert not others[case["case"]] & all_ad_phones
    # Accommodations are booked with one of the case's ad phones, in the controller's cities.
    cities = {cid: {c["commune"] for c in controllers[cid]["cities"]} for cid in controllers}
    case_controllers = {c["case"]: c["controllers"] for c in
                        _jsonl(root / "truth" / "cases.jsonl")}
    for row in _csv(root, "accommodations"):
        assert row["telephone_reservation"] in from_ads[row["affaire_id"]]
        assert any(row["code_insee"] in cities[cid] for cid in case_controllers[row["affaire_id"]])


def test_transactions_reference_existing_accounts_and_parties(
        mid: tuple[Path, BehindSummary]) -> None:
    root, _ = mid
    accounts = {r["compte_id"]: r for r in _csv(root, "accounts")}
    parties = {r["personne_id"] for r in _csv(root, "people")} | \
        {r["societe_id"] for r in _csv(root, "companies")}
    transactions = _csv(root, "transactions")
    assert len(transactions) > 1_000
    for t in transactions:
        assert t["donneur_id"] in parties and t["beneficiaire_id"] in parties
        for key, owner in (("compte_donneur_id", "donneur_id"),
                           ("compte_beneficiaire_id", "beneficiaire_id")):
            if t[key]:
                assert accounts[t[key]]["titulaire_id"] == t[owner], t
        assert t["compte_donneur_id"] or t["compte_beneficiaire_id"] or t["operateur"], t
        assert float(t["montant"]) > 0
    for r in _csv(root, "accommodations"):
        assert not r["reservant_id"] or r["reservant_id"] in parties


def test_planted_patterns_are_made_of_existing_things(
        mid: tuple[Path, BehindSummary], entities: list[dict[str, Any]]) -> None:
    root, _ = mid
    ids = {e["id"] for e in entities}
    transactions = {t["transaction_id"]: t for t in _csv(root, "transactions")}
    patterns = _jsonl(root / "truth" / "patterns.jsonl")
    kinds = Counter(p["typology"] for p in patterns)
    assert set(kinds) >= {"flow_to_head", "smurfing", "funnel_account", "vehicle_purchase"}
    people = {r["personne_id"]: r for r in _csv(root, "people")}
    for p in patterns:
        assert p["members"] and p["transactions"]
        assert set(p["members"]) <= ids and set(p["accounts"]) <= ids
        assert all(transactions[t]["affaire_id"] == p["case"] for t in p["transactions"])
        if p["head"]:
            assert people[p["head"]]["role"] in ("tête de réseau", "proxénète")
        if p["typology"] == "smurfing":
            deposits = [transactions[t] for t in p["transactions"]
                        if transactions[t]["canal"] == "dépôt d'espèces"]
            assert len(deposits) >= 10
            assert all(float(d["montant"]) < p["extra"]["threshold"] for d in deposits)
            assert len({d["compte_beneficiaire_id"] for d in deposits}) >= 2
        if p["typology"] == "funnel_account":
            funnel = p["extra"]["funnel"]
            sources = {transactions[t]["compte_donneur_id"] for t in p["transactions"]
                       if transactions[t]["compte_beneficiaire_id"] == funnel}
            assert len(sources) >= 5
        if p["typology"] == "flow_to_head":
            last = p["extra"]["path"][-1]
            assert any(transactions[t]["compte_beneficiaire_id"] == last
                       for t in p["transactions"])
            assert people[p["head"]]["personne_id"] in {
                a["titulaire_id"] for a in _csv(root, "accounts") if a["compte_id"] == last}


def test_runaway_reports_of_victims_come_before_their_ads(
        mid: tuple[Path, BehindSummary], controllers: dict[str, dict[str, Any]]) -> None:
    root, _ = mid
    reports = {r["signalement_id"]: r for r in _csv(root, "runaway_reports")}
    truth = _jsonl(root / "truth" / "runaways.jsonl")
    assert len(truth) == len(reports)
    related = [t for t in truth if t["person"]]
    assert related and len(related) < len(truth) / 2
    for t in related:
        report = reports[t["report"]]
        controller = controllers[t["controller"]]
        person = next(p for p in controller["persons"] if p["id"] == t["person"])
        assert person["minor"]
        first_ad = date.fromordinal(START.toordinal() + controller["first_day"])
        assert date.fromisoformat(report["date_signalement"]) < first_ad
        assert int(report["age"]) == person["age"]
        if t["same_name"]:
            assert report["prenom"] == person["name"]


def test_partner_signals_point_where_the_truth_says(
        mid: tuple[Path, BehindSummary], controllers: dict[str, dict[str, Any]]) -> None:
    root, _ = mid
    signals = {r["signal_id"]: r for r in _csv(root, "partner_signals")}
    truth = _jsonl(root / "truth" / "signals.jsonl")
    assert {t["signal"] for t in truth} == set(signals)
    all_ad_phones = {n for c in controllers.values() for n in c["phones"]}
    true = [t for t in truth if t["trafficking"]]
    assert true and len(true) < len(truth)
    for t in truth:
        phone = signals[t["signal"]]["telephone"]
        if t["controller"]:
            controller = controllers[t["controller"]]
            assert phone in controller["phones"]
            assert (controller["kind"] in ("pimp", "network")) == t["trafficking"]
        else:
            assert not t["trafficking"] and phone not in all_ad_phones


def test_people_are_kept_apart_by_category(mid: tuple[Path, BehindSummary]) -> None:
    root, _ = mid
    rows = _csv(root, "people")
    by_category = Counter(r["categorie"] for r in rows)
    assert set(by_category) == {"suspect", "victime", "témoin", "personne en relation"}
    for r in rows:
        if r["categorie"] == "victime":
            assert r["role"] == "" and r["statut"] in ("victime", "victime présumée")
        elif r["categorie"] == "suspect":
            assert r["role"] and r["statut"] in ("mis en cause", "suspect")
        if r["age_faits"]:
            assert (int(r["age_faits"]) < 18) == (r["mineur"] == "oui")
    cases = {r["affaire_id"]: r for r in _csv(root, "cases")}
    for r in rows:
        assert r["affaire_id"] in cases


# -- calibration ------------------------------------------------------------------------------

def test_mid_size_world_follows_the_plan_figures(mid: tuple[Path, BehindSummary]) -> None:
    root, s = mid
    t = s.targets
    assert abs(s.networks_dismantled - t["networks_dismantled"]) < 1
    assert abs(s.suspects_identified - t["suspects_identified"]) <= 1
    assert abs(s.victims_identified - t["victims_identified"]) / t["victims_identified"] < 0.15
    assert abs(s.victims_french_share - 0.53) < 0.06
    assert abs(s.french_minor_share - 0.45) < 0.1
    assert abs(s.latin_america_share - 0.29) < 0.06
    territorial = s.seized_eur - s.seized_central_eur
    territorial_target = t["seized_eur"] - t["seized_central_eur"]
    assert abs(territorial - territorial_target) / territorial_target < 0.01
    assert s.seized_central_eur == 0 or \
        abs(s.seized_central_eur - t["seized_central_eur"]) / t["seized_central_eur"] < 0.01
    # The summary says what the files hold.
    people = _csv(root, "people")
    cases = {c["affaire_id"]: c for c in _csv(root, "cases")}
    victims = [p for p in people if p["statut"] == "victime"]
    assert len(victims) == s.victims_identified
    french = [p for p in victims if p["nationalite"] == "FR"]
    assert round(len(french) / len(victims), 4) == s.victims_french_share
    assert sum(p["nationalite"] in LATIN_AMERICA for p in victims) / len(victims) == \
        pytest.approx(s.latin_america_share, abs=1e-4)
    arrested = [p for p in people if p["statut"] == "mis en cause"]
    assert len(arrested) == s.suspects_identified
    assert sum(c["statut"] == "réseau démantelé" for c in cases.values()) == \
        s.networks_dismantled
    seized = sum(float(a["valeur_eur"]) for a in _csv(root, "assets") if a["date_saisie"])
    assert seized == pytest.approx(s.seized_eur, abs=1)
    # Dismantled networks: their ads stop on the day of the arrests.
    for case in _jsonl(root / "truth" / "cases.jsonl"):
        row = cases[case["case"]]
        if case["outcome"] in ("dismantled", "arrests"):
            assert row["date_interpellations"] and row["date_ouverture"] < \
                row["date_interpellations"] <= row["date_cloture"]
        else:
            assert row["date_interpellations"] == ""


def test_open_cases_are_a_stock_and_other_kinds_show(mid: tuple[Path, BehindSummary]) -> None:
    _, s = mid
    assert s.cases_by_outcome["open"] == pytest.approx(180 * MID.scale, abs=1)
    assert s.runaway_reports_of_victims > 0
    assert s.client_fines == pytest.approx(1_500 * MID.scale * MID.days / 365, abs=1)
    assert s.partner_signals == pytest.approx(1_100 * MID.scale * MID.days / 365, abs=3)


# -- identifiers ------------------------------------------------------------------------------

def test_every_iban_validates(mid: tuple[Path, BehindSummary]) -> None:
    stdnum_iban = pytest.importorskip("stdnum.iban")
    rows = _csv(mid[0], "accounts")
    countries = Counter(r["pays"] for r in rows)
    assert countries["FR"] > 100 and len(countries) > 2
    for r in rows:
        assert identity.iban_valid(r["iban"]), r["iban"]
        assert stdnum_iban.is_valid(r["iban"]), r["iban"]
        if r["pays"] == "FR":
            bban = r["iban"][4:]
            assert identity.rib_key(bban[:5], bban[5:10], bban[10:21]) == bban[21:]
    assert len({r["iban"] for r in rows}) == len(rows)


def test_plates_and_company_numbers_have_their_formats(mid: tuple[Path, BehindSummary]) -> None:
    siv = re.compile(r"^[A-HJ-NP-TV-Z]{2}-\d{3}-[A-HJ-NP-TV-Z]{2}$")
    plates = [r for r in _csv(mid[0], "vehicles") if r["pays"] == "FR"]
    assert plates
    assert all(siv.match(r["immatriculation"]) for r in plates)
    for r in _csv(mid[0], "companies"):
        assert identity.luhn_ok(r["siren"]) and r["siren"].startswith("000")


def test_known_iban_and_rib_key() -> None:
    assert identity.iban_valid("FR76 3000 6000 0112 3456 7890 189")
    assert identity.iban_valid("GB82WEST12345698765432")
    assert not identity.iban_valid("GB82WEST12345698765433")
    assert identity.rib_key("30006", "00001", "12345678901") == "89"


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32), st.sampled_from(sorted(identity.IBAN_COUNTRIES)),
       st.integers(4, 30), st.integers(0, 9))
def test_generated_ibans_validate_and_a_changed_digit_breaks_them(
        seed: int, country: str, position: int, delta: int) -> None:
    lex = identity.lexicon()
    code = lex["banks_fr"][0]["code"] if country == "FR" else \
        lex["banks_foreign"][country][0]["code"]
    value = identity.iban(random.Random(seed), country, code)
    assert identity.iban_valid(value)
    index = min(position, len(value) - 1)
    if value[index].isdigit() and delta:
        changed = value[:index] + str((int(value[index]) + delta) % 10) + value[index + 1:]
        assert not identity.iban_valid(changed)


# -- the two layouts --------------------------------------------------------------------------

def test_csv_and_ftm_hold_the_same_entities(mid: tuple[Path, BehindSummary],
                                            entities: list[dict[str, Any]]) -> None:
    root, s = mid
    rows = {name: _csv(root, name) for name in LAYOUT}
    by_schema = Counter(e["schema"] for e in entities)
    keyword = Counter(k for e in entities for k in e["properties"].get("keywords", [])
                      if k.startswith(("category:", "report:")))
    assert len(rows["cases"]) == by_schema["CourtCase"]
    assert len(rows["people"]) == by_schema["CourtCaseParty"] == sum(
        keyword[f"category:{c}"] for c in ("suspect", "victim", "witness", "relation"))
    assert len(rows["online_accounts"]) == by_schema["UserAccount"]
    assert len(rows["accommodations"]) == by_schema["Address"]
    assert len(rows["vehicles"]) == by_schema["Vehicle"]
    assert len(rows["accounts"]) == by_schema["BankAccount"]
    assert len(rows["companies"]) == by_schema["Company"]
    assert len(rows["assets"]) == by_schema["Asset"] + by_schema["RealEstate"]
    assert len(rows["transactions"]) == by_schema["Payment"]
    assert len(rows["runaway_reports"]) == keyword["report:runaway"] == \
        keyword["category:runaway"]
    assert len(rows["client_fines"]) == by_schema["Sanction"] == keyword["category:fined_client"]
    assert len(rows["partner_signals"]) == keyword["report:partner_signal"]
    phones = Counter()  # type: Counter[tuple[str, str]]
    for e in entities:
        if e["schema"] == "Person":
            for number in e["properties"].get("phone", []):
                phones[(e["id"], number)] += 1
    assert phones == Counter((r["utilisateur_id"], r["numero"]) for r in rows["phones"])
    assert s.rows == {name: len(r) for name, r in rows.items()}
    assert sum(s.entities.values()) == len(entities)


def test_ftm_entities_fit_the_followthemoney_model(entities: list[dict[str, Any]]) -> None:
    ftm = pytest.importorskip("followthemoney")
    model = ftm.model
    ids = {e["id"] for e in entities}
    assert len(ids) == len(entities)
    for e in entities:
        schema = model.get(e["schema"])
        assert schema is not None, e["schema"]
        for name in schema.required:
            assert e["properties"].get(name), (e["id"], name)
        proxy = model.get_proxy(e, cleaned=False)
        cleaned = proxy.to_dict()["properties"]
        for name, values in e["properties"].items():
            assert sorted(cleaned.get(name, [])) == sorted(values), (e["id"], name, values)
            prop = schema.get(name)
            assert prop is not None, (e["schema"], name)
            if prop.type.name == "entity":
                assert set(values) <= ids, (e["id"], name, values)
