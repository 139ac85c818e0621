"""People of the case files resolved (``faisceau.intel.people``), on both stores.

What analysts rely on:
- a victim of a case and the runaway report of the same minor are found and merged;
  running the resolution again changes nothing;
- an analyst's judgement is never overridden by a later run;
- a merge can be undone, and the history keeps both judgements; an automatic merge the
  model no longer supports is withdrawn and goes back to review; judgements are never
  updated nor deleted;
- records of categories the Directive keeps apart (a suspect and a witness) are never
  merged automatically: they wait in the review queue;
- the resolved person shows every value with where it came from, and each record's own
  category.

The case files are small and hand-made in the units' CSV layout: about a hundred people
with distinct names (so that Splink has something to learn chance agreement from) and a
few planted pairs.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import text

from faisceau.config import Settings
from faisceau.intel.casefiles import import_case_files
from faisceau.intel.people import (
    PeopleError,
    current_judgements,
    departement_of,
    history,
    judge,
    load_people_settings,
    merged_person,
    normal_birth_date,
    normal_name,
    person_records,
    resolve_people,
    review_queue,
    unmerge,
)
from faisceau.store import Store, open_store

# The planted pairs.
VICTIM, RUNAWAY = "C00001-P001", "F0000001-P"  # the same minor: a case and a runaway report
SUSPECT, WITNESS = "C00002-P001", "C00003-P001"  # the same man: suspect here, witness there
SAME_CASE = ("C00002-P002", "C00002-P003")  # two relatives of one case with the same name

CASES_HEADER = ("affaire_id;numero_procedure;unite_code;unite;force;departement;commune_faits;"
                "type_affaire;cadre;origine;infractions;date_ouverture;date_interpellations;"
                "date_cloture;date_jugement;statut;issue;nb_mis_en_cause;"
                "nb_victimes_identifiees\n")
PEOPLE_HEADER = ("personne_id;affaire_id;categorie;statut;role;nom;prenom;sexe;date_naissance;"
                 "age_faits;age_annonce;mineur;nationalite;pays_residence;adresse;"
                 "commune_residence;telephones;emails;proche_de;lien\n")
RUNAWAYS_HEADER = ("signalement_id;date_signalement;departement;commune;code_insee;service;nom;"
                   "prenom;sexe;date_naissance;age;lieu_de_vie;statut;date_retour\n")

FEMALE = ["Léa", "Chloé", "Manon", "Camille", "Sarah", "Inès", "Jade", "Louise", "Zoé",
          "Lina", "Emma", "Alice", "Clara", "Nina", "Rose", "Anaïs", "Elsa", "Maëlys"]
MALE = ["Lucas", "Hugo", "Louis", "Nathan", "Théo", "Jules", "Adam", "Arthur", "Karim",
        "Mathis", "Noah", "Tom", "Sacha", "Enzo", "Malik", "Bastien", "Rayan", "Kylian"]
SURNAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
            "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David",
            "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier",
            "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand"]


def write_case_files(root: Path) -> Path:
    """A directory of case files in the units' CSV layout, with the planted pairs."""
    rng = random.Random(6)
    csv_dir = root / "csv"
    csv_dir.mkdir(parents=True)
    (csv_dir / "cases.csv").write_text(CASES_HEADER + "".join(
        f"C0000{n};2026/{unit}/000{n};{unit};Sûreté;PN;{dep};Ville;proxénétisme;préliminaire;"
        f"signalement;proxénétisme aggravé;2026-0{n}-10;;;;ouverte;en cours;1;1\n"
        for n, unit, dep in ((1, "SD-59", "59"), (2, "SR-13", "13"), (3, "SD-69", "69"))),
        encoding="utf-8")
    people = [
        f"{VICTIM};C00001;victime;victime;;Karadeniz;Inès;F;2009-03-14;16;19;oui;FR;FR;;;;;;",
        f"{SUSPECT};C00002;suspect;mis en cause;proxénète;Okonkwo;Yanis;M;1990-01-02;36;;non;"
        "FR;FR;4 rue des Lilas, 13001 Marseille;Marseille;+33600000001;yanis.o@mail.example;;",
        f"{WITNESS};C00003;témoin;témoin;client;Okonkwo;Yanis;M;1990-01-02;36;;non;FR;FR;"
        "4 rue des Lilas, 13001 Marseille;Marseille;+33600000001;;;",
        f"{SAME_CASE[0]};C00002;personne en relation;personne en relation;proche;Benali;Ahmed;M;"
        f"1968;;;non;MA;MA;;;;;{SUSPECT};père",
        f"{SAME_CASE[1]};C00002;personne en relation;personne en relation;proche;Benali;Ahmed;M;"
        f"1968;;;non;MA;MA;;;;;{SUSPECT};oncle",
    ]
    for n in range(4, 44):  # witnesses and suspects of the three cases
        case = f"C0000{1 + n % 3}"
        first, last = rng.choice(MALE), rng.choice(SURNAMES)
        birth = f"{rng.randint(1955, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        category, status, role = (("suspect", "suspect", "chauffeur") if n % 5 == 0
                                  else ("témoin", "témoin", "client"))
        people.append(f"{case}-P{n:03d};{case};{category};{status};{role};{last};{first};M;"
                      f"{birth};;;non;FR;FR;{n} rue du Port, 59000 Lille;Lille;"
                      f"+3361{rng.randint(1_000_000, 9_999_999)};;;")
    (csv_dir / "people.csv").write_text(PEOPLE_HEADER + "\n".join(people) + "\n",
                                        encoding="utf-8")
    reports = ["F0000001;2026-01-05;59;Lille;59350;Commissariat de Lille;Karadeniz;Inès;F;"
               "2009-03-14;16;foyer (ASE);en cours;"]
    for n in range(2, 72):
        female = n % 3 != 0
        first = rng.choice(FEMALE if female else MALE)
        birth = f"{rng.randint(2008, 2013)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        reports.append(f"F{n:07d};2026-01-{1 + n % 28:02d};{rng.choice(['59', '13', '69', '75'])};"
                       f"Ville;00000;Commissariat;{rng.choice(SURNAMES)};{first};"
                       f"{'F' if female else 'M'};{birth};15;domicile familial;en cours;")
    (csv_dir / "runaway_reports.csv").write_text(RUNAWAYS_HEADER + "\n".join(reports) + "\n",
                                                 encoding="utf-8")
    return csv_dir


@pytest.fixture(scope="module")
def case_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_case_files(tmp_path_factory.mktemp("people"))


@pytest.fixture
def store(case_files: Path, store_settings: Settings) -> Iterator[Store]:
    opened = open_store(store_settings)
    summary = import_case_files(opened, [case_files], "units")
    assert summary.set_aside == []
    yield opened
    opened.dispose()


def _canonical(store: Store, *ids: str) -> list[str]:
    with store.begin() as conn:
        found: dict[str, str] = dict(conn.execute(text(
            "SELECT id, canonical_id FROM intel_entity WHERE schema = 'Person'")).all())
    return [found[i] for i in ids]


def _table(store: Store, name: str) -> list[tuple[object, ...]]:
    with store.begin() as conn:
        return sorted(tuple(r) for r in conn.execute(text(f"SELECT * FROM {name}")).all())


def test_records_are_normalised_for_splink() -> None:
    assert normal_name(" Maëlys-Anne  d'Arc ") == "maelys anne d arc"
    assert normal_birth_date("2009-03-14") == "2009-03-14"
    assert normal_birth_date("1968") == "1968"  # a year alone stays a year
    assert normal_birth_date("1968-05") == "1968"
    assert normal_birth_date("14/03/2009") is None
    assert departement_of("4 rue des Lilas, 13001 Marseille") == "13"
    assert departement_of("1 rue Haute, 97180 Sainte-Anne") == "971"
    assert departement_of("2 cours Napoléon, 20000 Ajaccio") == "2A"
    assert departement_of("sans domicile stable") is None


def test_planted_pair_is_merged_and_a_second_run_changes_nothing(store: Store) -> None:
    with store.begin() as conn:
        records = {r["record_id"]: r for r in person_records(conn)}
    assert records[RUNAWAY]["departement"] == "59"  # from the report
    assert records[SAME_CASE[0]]["birth_date"] == "1968"
    assert records[SUSPECT]["phones"] == ["+33600000001"]

    first = resolve_people(store)
    assert first.merged >= 1 and first.records == len(records)
    assert _canonical(store, VICTIM, RUNAWAY) == [VICTIM, VICTIM]
    with store.begin() as conn:
        judged = current_judgements(conn)[(VICTIM, RUNAWAY)]
        assert (judged.judgement, judged.source) == ("positive", "splink")
        assert judged.probability is not None and judged.probability >= 0.95
        assert merged_person(conn, RUNAWAY).canonical_id == VICTIM

    tables = {t: _table(store, t) for t in ("intel_candidate", "intel_judgement",
                                           "intel_entity")}
    second = resolve_people(store)
    assert (second.merged, second.withdrawn, second.changed) == (0, 0, 0)
    assert {t: _table(store, t) for t in tables} == tables


def test_cross_category_pair_waits_for_an_analyst(store: Store) -> None:
    summary = resolve_people(store)
    assert summary.held >= 1
    with store.begin() as conn:
        assert (SUSPECT, WITNESS) not in current_judgements(conn)
        queue = {(i.left.id, i.right.id): i for i in review_queue(conn, None)}
    item = queue[(SUSPECT, WITNESS)]
    assert item.probability >= load_people_settings().match
    assert item.held is not None and "catégories distinctes" in item.held
    assert (item.left.category, item.right.category) == ("suspect", "witness")
    phones = next(f for f in item.fields if f.field == "phones")
    assert phones.level == "au moins une valeur commune" and phones.weight
    assert _canonical(store, SUSPECT, WITNESS) == [SUSPECT, WITNESS]
    # Two records of one case are not merged automatically either.
    same_case = queue[SAME_CASE].held
    assert same_case is not None and "même affaire" in same_case

    judge(store, SUSPECT, WITNESS, "positive", "alice")
    assert _canonical(store, SUSPECT, WITNESS) == [SUSPECT, SUSPECT]
    with store.begin() as conn:
        person = merged_person(conn, WITNESS)
        assert (SUSPECT, WITNESS) not in {(i.left.id, i.right.id) for i in review_queue(conn)}
    # Each record keeps its own category: never one category for the person.
    assert person.categories == [("suspect", "C00002"), ("witness", "C00003")]
    assert [(m.id, m.role) for m in person.members] == [(SUSPECT, "head"), (WITNESS, "client")]


def test_an_analysts_negative_judgement_survives_a_new_run(store: Store) -> None:
    with pytest.raises(PeopleError, match="motif"):
        judge(store, VICTIM, RUNAWAY, "negative", "alice")
    with pytest.raises(PeopleError, match="inconnue"):
        judge(store, VICTIM, "F9999999-P", "positive", "alice")
    judge(store, RUNAWAY, VICTIM, "negative", "alice", "deux jeunes filles différentes")
    summary = resolve_people(store)
    assert summary.analyst_kept >= 1
    assert _canonical(store, VICTIM, RUNAWAY) == [VICTIM, RUNAWAY]
    with store.begin() as conn:
        judged = current_judgements(conn)[(VICTIM, RUNAWAY)]
        assert (judged.judgement, judged.source, judged.decided_by) == (
            "negative", "analyst", "alice")
        assert [j.source for j in history(conn, VICTIM)] == ["analyst"]


def test_unmerge_separates_and_the_history_keeps_both_judgements(store: Store) -> None:
    resolve_people(store)
    assert _canonical(store, VICTIM, RUNAWAY) == [VICTIM, VICTIM]
    with pytest.raises(PeopleError, match="motif"):
        unmerge(store, RUNAWAY, "bob", " ")
    undone = unmerge(store, RUNAWAY, "bob", "homonyme, autre date de fugue")
    assert [(j.left_id, j.right_id, j.judgement) for j in undone] == [
        (VICTIM, RUNAWAY, "negative")]
    assert _canonical(store, VICTIM, RUNAWAY) == [VICTIM, RUNAWAY]
    with store.begin() as conn:
        steps = [(j.judgement, j.source, j.decided_by) for j in history(conn, RUNAWAY)]
    assert steps == [("positive", "splink", "splink"), ("negative", "analyst", "bob")]
    with pytest.raises(PeopleError, match="aucune autre fiche"):
        unmerge(store, RUNAWAY, "bob", "encore")
    resolve_people(store)  # Splink finds the pair again: the analyst's judgement stands
    assert _canonical(store, VICTIM, RUNAWAY) == [VICTIM, RUNAWAY]


def test_judgements_are_never_updated_nor_deleted(store: Store) -> None:
    judge(store, VICTIM, RUNAWAY, "unsure", "alice")
    for statement in ("UPDATE intel_judgement SET judgement = 'positive'",
                      "DELETE FROM intel_judgement"):
        with pytest.raises(sqlalchemy.exc.DBAPIError), store.begin() as conn:
            conn.execute(text(statement))
    with store.begin() as conn:
        assert [j.judgement for j in history(conn, VICTIM)] == ["unsure"]


def test_the_resolved_person_shows_where_each_value_came_from(store: Store) -> None:
    resolve_people(store)
    with store.begin() as conn:
        person = merged_person(conn, RUNAWAY)
    assert [(m.id, m.category) for m in person.members] == [(VICTIM, "victim"),
                                                            (RUNAWAY, "runaway")]
    assert person.members[1].reports[0]["id"] == "F0000001"
    assert [j.source for j in person.links] == ["splink"]
    values = {(v.prop, v.value): v.sources for v in person.values}
    births = values[("birthDate", "2009-03-14")]
    assert [(s.entity_id, s.category, s.dataset, s.case_id, s.unit) for s in births] == [
        (VICTIM, "victim", "units", "C00001", "SD-59"), (RUNAWAY, "runaway", "units", None, None)]
    assert [s.origin for s in births] == ["people.csv:2", "runaway_reports.csv:2"]
    assert [s.entity_id for s in values[("stated_age", "19")]] == [VICTIM]
    assert [s.entity_id for s in values[("age", "16")]] == [RUNAWAY]
    assert not any(v.prop == "keywords" and v.value.startswith("category:")
                   for v in person.values)


def test_an_automatic_merge_the_model_no_longer_supports_is_withdrawn(store: Store) -> None:
    shipped = load_people_settings()
    resolve_people(store, shipped)
    stricter = dataclasses.replace(shipped, match=0.999999)
    summary = resolve_people(store, stricter)
    assert summary.withdrawn == 1 and summary.merged == 0
    assert _canonical(store, VICTIM, RUNAWAY) == [VICTIM, RUNAWAY]
    with store.begin() as conn:
        steps = history(conn, RUNAWAY)
        waiting = {(i.left.id, i.right.id) for i in review_queue(conn, None)}
    assert [(j.judgement, j.source) for j in steps] == [("positive", "splink"),
                                                         ("negative", "splink")]
    assert steps[1].reason is not None and "sous le seuil" in steps[1].reason
    assert (VICTIM, RUNAWAY) in waiting  # back to an analyst
    assert resolve_people(store, shipped).merged == 1
    assert _canonical(store, VICTIM, RUNAWAY) == [VICTIM, VICTIM]
