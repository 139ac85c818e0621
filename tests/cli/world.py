"""A small world for the command line's consultation tests: a day of ads, two cases with a
victim, a minor witness, a victim's online account and two suspects, a runaway report, a
quarantined line; resolved, cross-referenced with the ads (leads).

Everything that names the victim, the minor and the runaway is in ``SECRETS``: a command
must not print any of it without a reason. The suspect's name holds Rich markup, which must
be printed as it is.
"""

from __future__ import annotations

import json
from pathlib import Path

from faisceau.ingest.pipeline import Ingestor
from faisceau.intel.casefiles import import_case_files
from faisceau.intel.leads import find_leads
from faisceau.intel.people import load_people_settings, resolve_people
from faisceau.score.run import detect_and_score
from faisceau.store import Store

SOURCE = "annonces-test"
VICTIM, MINOR, ACCOUNT, RUNAWAY = "C1-V", "C1-M", "C1-A", "F1-P"
# NAMESAKE: a suspect of another case, "Leanore Vicroux", whom the resolution pairs with the
# victim for an analyst to review (his name is not a secret: SECRETS are case-sensitive).
SUSPECT, NAMESAKE = "C1-S", "C2-S"
SUSPECT_NAME = "Karim [bold]Moreau[/]"
VICTIM_NAME, VICTIM_PHONE = "Léanore Vicroux", "+33612345678"
MINOR_PHONE = "+33611112222"
SECRETS = ("Léanore", "leanore", "Jadeline", "Minaud", "Sarahine", "Fugaro", VICTIM_PHONE,
           MINOR_PHONE)
QUARANTINED_NAME = "Nadège"  # in the line set aside, whose reason quotes "[/]"

CASE_FILES = {
    "cases.csv": [
        "affaire_id;numero_procedure;unite_code;departement;date_ouverture;statut",
        "C1;2026/SD-59/0001;SD-59;59;2026-02-01;ouverte",
        "C2;2026/SD-59/0002;SD-59;59;2026-02-15;ouverte",
    ],
    "people.csv": [
        "personne_id;affaire_id;categorie;statut;role;nom;prenom;date_naissance;mineur;"
        "adresse;telephones;emails",
        f"{SUSPECT};C1;suspect;suspect;proxénète;{SUSPECT_NAME.split(' ', 1)[1]};Karim;1980;"
        "non;;+33699887766;karim.moreau@mail.example",
        f"{VICTIM};C1;victime;victime présumée;;Vicroux;Léanore;2001-04-05;non;"
        f"12 rue des Lilas Lille;{VICTIM_PHONE};leanore.vicroux@mail.example",
        f"{MINOR};C1;témoin;témoin;;Minaud;Jadeline;2010-06-01;oui;;{MINOR_PHONE};",
        f"{NAMESAKE};C2;suspect;mise en cause;recruteur;Vicroux;Leanore;2001-04-05;non;;"
        "+33600000009;",
    ],
    "online_accounts.csv": [
        "compte_en_ligne_id;affaire_id;service;pseudo;titulaire_id;telephone",
        f"{ACCOUNT};C1;snapchat;leanore_vx;{VICTIM};",
    ],
    "runaway_reports.csv": [
        "signalement_id;date_signalement;departement;commune;nom;prenom;sexe;date_naissance;"
        "age;statut",
        "F1;2026-02-10;59;Lille;Fugaro;Sarahine;F;2010-01-01;16;en cours",
    ],
}


def _ad(ad_id: str, hour: int, name: str, phone: str, text: str) -> dict[str, object]:
    return {"ad_id": ad_id, "source": SOURCE, "seen_at": f"2026-03-02T{hour:02d}:00:00Z",
            "url": f"https://annonces.example/a/{ad_id}", "name": name, "age": 23,
            "location": "Lille", "phone": phone, "text": text}


ADS = [
    _ad("p1", 10, "Léa", "06 12 34 56 78", "Léa, douce et souriante, reçoit en appartement."),
    _ad("p2", 11, "Léa", "06.12.34.56.78", "Nouvelle en ville, discrétion assurée, appelez."),
    _ad("k1", 12, "Jade", "06 11 11 22 22", "Jeune et fraîche, de passage quelques jours."),
]
# Set aside at ingestion: its reason quotes the date as written.
BAD_LINE = {**_ad("q1", 13, QUARANTINED_NAME, "06 55 44 33 22", "Bonjour."),
            "seen_at": "[/]hier"}


def build(store: Store, root: Path) -> None:
    """Ingest the ads, detect networks, import the case files, resolve people, find leads."""
    crawl = root / "crawl"
    crawl.mkdir(parents=True)
    lines = [*ADS, BAD_LINE]
    (crawl / "ads-2026-03-02.jsonl").write_text(
        "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in lines), "utf-8")
    with Ingestor(store, images=False, workers=1).session() as ingestor:
        ingestor.ingest_paths([crawl])
    detect_and_score(store)
    cases = root / "cases"
    cases.mkdir()
    for name, rows in CASE_FILES.items():
        (cases / name).write_text("\n".join(rows) + "\n", "utf-8")
    summary = import_case_files(store, [cases])
    assert summary.set_aside == [], summary.set_aside
    resolve_people(store, load_people_settings())
    find_leads(store)
