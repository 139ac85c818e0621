"""Writes the world behind the ads twice, with the same facts: as FollowTheMoney entities
(``OUT/intel/ftm.jsonl``) and as the spreadsheets units keep (``OUT/intel/csv/*.csv``).

The CSV files are UTF-8, ``;``-separated, one header line with French column names, dates in
ISO 8601, amounts in euros with a decimal point, several values in one cell separated by
``|``, booleans ``oui``/``non``. The FtM entities are the plain JSON form
(``{"id", "schema", "properties"}``) with property values as FtM cleans them (ISO dates,
lower-case country codes, E.164 phones); faisceau-specific facts go in ``keywords`` as
``key:value`` (``category:victim``, ``role:head``, ``case:C00012``, ...). The layouts and the
correspondence between the two are documented in docs/synthetic-world.md; the tests check that
both hold the same entities.

The entities are built as dictionaries without importing ``followthemoney`` (too slow for a
national year); the tests validate them against the FtM model.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import orjson

from faisceau.export import safecsv
from faisceau.synth.alerts import FineRec, RunawayRec, SignalRec
from faisceau.synth.casefiles import (
    AccountRec,
    AssetRec,
    Case,
    CompanyRec,
    PersonRec,
)
from faisceau.synth.money import National, TxnRec

# File -> columns. The order is the file's.
LAYOUT: dict[str, list[str]] = {
    "cases": ["affaire_id", "numero_procedure", "unite_code", "unite", "force", "departement",
              "commune_faits", "type_affaire", "cadre", "origine", "infractions",
              "date_ouverture", "date_interpellations", "date_cloture", "date_jugement",
              "statut", "issue", "nb_mis_en_cause", "nb_victimes_identifiees"],
    "people": ["personne_id", "affaire_id", "categorie", "statut", "role", "nom", "prenom",
               "sexe", "date_naissance", "age_faits", "age_annonce", "mineur", "nationalite",
               "pays_residence", "adresse", "commune_residence", "telephones", "emails",
               "proche_de", "lien"],
    "phones": ["affaire_id", "numero", "utilisateur_id", "titulaire_declare", "type_ligne",
               "source", "premiere_date", "derniere_date"],
    "online_accounts": ["compte_en_ligne_id", "affaire_id", "service", "pseudo",
                        "titulaire_id", "telephone"],
    "accommodations": ["hebergement_id", "affaire_id", "type", "nom", "adresse", "code_postal",
                       "commune", "code_insee", "departement", "date_arrivee", "date_depart",
                       "reservant_id", "telephone_reservation", "email_reservation",
                       "plateforme", "etablissement_id", "montant_eur"],
    "vehicles": ["vehicule_id", "affaire_id", "immatriculation", "pays", "modele",
                 "proprietaire_id", "utilisateur_id", "valeur_eur", "origine"],
    "accounts": ["compte_id", "affaire_id", "iban", "bic", "banque", "pays", "titulaire_id",
                 "type_compte", "date_ouverture"],
    "companies": ["societe_id", "affaire_id", "raison_sociale", "type", "forme_juridique",
                  "siren", "code_naf", "adresse", "gerant_id", "beneficiaire_id",
                  "date_creation"],
    "assets": ["bien_id", "affaire_id", "type", "description", "valeur_eur", "statut",
               "date_identification", "date_saisie", "date_confiscation", "proprietaire_id",
               "reference_id", "service_saisissant", "pays"],
    "transactions": ["transaction_id", "affaire_id", "date", "montant", "devise", "canal",
                     "donneur_id", "compte_donneur_id", "beneficiaire_id",
                     "compte_beneficiaire_id", "pays_destination", "operateur", "libelle"],
    "runaway_reports": ["signalement_id", "date_signalement", "departement", "commune",
                        "code_insee", "service", "nom", "prenom", "sexe", "date_naissance",
                        "age", "lieu_de_vie", "statut", "date_retour"],
    "client_fines": ["amende_id", "date", "departement", "commune", "code_insee", "service",
                     "client_id", "age_client", "qualification", "montant_eur",
                     "stage_sensibilisation", "affaire_id"],
    "partner_signals": ["signal_id", "date", "partenaire_type", "partenaire", "motif",
                        "departement", "commune", "code_insee", "telephone", "email",
                        "nom_indique", "montant_eur"],
}

CASE_TYPES = {"network": "réseau", "pimp": "proxénétisme"}
STAY_TYPES = {"hotel": "hôtel", "short_term_rental": "location courte durée"}


def _yn(flag: bool) -> str:
    return "oui" if flag else "non"


def _money(value: float) -> str:
    return f"{value:.2f}"


class IntelWriter:
    """Open files under ``out_dir/intel``; ``close()`` when done. Counts what it wrote."""

    def __init__(self, out_dir: Path, start: date, lex: dict[str, Any]) -> None:
        self.start = start
        self.lex = lex
        intel = out_dir / "intel"
        (intel / "csv").mkdir(parents=True, exist_ok=True)
        self.paths = [intel / "ftm.jsonl"] + [intel / "csv" / f"{n}.csv" for n in LAYOUT]
        self._ftm: IO[bytes] = open(intel / "ftm.jsonl", "wb")  # noqa: SIM115
        self._handles: dict[str, IO[str]] = {}
        self._csv: dict[str, Any] = {}
        for name, columns in LAYOUT.items():
            handle = open(intel / "csv" / f"{name}.csv", "w", encoding="utf-8",  # noqa: SIM115
                          newline="")
            writer = safecsv.writer(handle, delimiter=";", lineterminator="\n")
            writer.writerow(columns)
            self._handles[name] = handle
            self._csv[name] = writer
        self.rows: Counter[str] = Counter()
        self.entities: Counter[str] = Counter()
        self._date = lru_cache(maxsize=4096)(self._date_uncached)

    def close(self) -> None:
        self._ftm.close()
        for handle in self._handles.values():
            handle.close()

    # -- helpers ----------------------------------------------------------------------------

    def _date_uncached(self, day: int | None) -> str:
        if day is None:
            return ""
        return (self.start + timedelta(days=day)).isoformat()

    def _row(self, name: str, values: list[Any]) -> None:
        self._csv[name].writerow(values)
        self.rows[name] += 1

    def _entity(self, entity_id: str, schema: str, **props: Any) -> None:
        properties: dict[str, list[str]] = {}
        for key, value in props.items():
            values = value if isinstance(value, list) else [value]
            cleaned = [str(v) for v in values if v not in (None, "")]
            if cleaned:
                properties[key] = cleaned
        self._ftm.write(orjson.dumps({"id": entity_id, "schema": schema,
                                      "properties": properties}) + b"\n")
        self.entities[schema] += 1

    # -- counterparties ---------------------------------------------------------------------

    def national(self, national: National) -> None:
        for company in national.companies:
            self._company(company)
        for account in national.accounts:
            self._account(account)

    def _company(self, c: CompanyRec) -> None:
        d = self._date
        self._row("companies", [c.id, c.case, c.name, c.kind, c.legal_form, c.siren, c.naf,
                                c.address, c.director, c.owner, d(c.incorporated)])
        keywords = [f"kind:{c.kind}"] + ([f"case:{c.case}"] if c.case else [])
        self._entity(c.id, "Company", name=c.name, legalForm=c.legal_form,
                     registrationNumber=c.siren, classification=c.naf, address=c.address,
                     incorporationDate=d(c.incorporated), jurisdiction="fr", country="fr",
                     keywords=keywords)
        if c.director:
            self._entity(f"{c.id}-dir", "Directorship", director=c.director, organization=c.id,
                         role="gérant")
        if c.owner:
            self._entity(f"{c.id}-own", "Ownership", owner=c.owner, asset=c.id,
                         role="bénéficiaire effectif")

    def _account(self, a: AccountRec) -> None:
        d = self._date
        self._row("accounts", [a.id, a.case, a.iban, a.bic, a.bank, a.country, a.holder, a.kind,
                               d(a.opened)])
        self._entity(a.id, "BankAccount", iban=a.iban, bic=a.bic, bankName=a.bank,
                     country=a.country.lower(), accountType=a.kind, openingDate=d(a.opened),
                     keywords=[f"case:{a.case}"] if a.case else [])
        self._entity(f"{a.id}-own", "Ownership", owner=a.holder, asset=a.id, role="titulaire")

    # -- a case -----------------------------------------------------------------------------

    def case(self, case: Case, txns: list[TxnRec]) -> None:
        d = self._date
        lex = self.lex
        suspects = sum(1 for p in case.people if p.category == "suspect" and
                       p.status == "mis en cause")
        victims = sum(1 for p in case.people if p.category == "victim" and p.status == "victime")
        status = lex["statuses"][case.status]
        outcome = lex["outcomes"][case.outcome]
        self._row("cases", [
            case.id, case.number, case.unit_code, case.unit_name, case.force, case.departement,
            case.commune, CASE_TYPES[case.kind], case.framework, case.origin,
            "|".join(case.offences), d(case.opened), d(case.arrests), d(case.closed),
            d(case.judgment), status, outcome, suspects, victims])
        keywords = [f"unit:{case.unit_code}", f"departement:{case.departement}",
                    f"outcome:{outcome}", f"origin:{case.origin}", f"framework:{case.framework}"]
        if case.arrests is not None:
            keywords.append(f"arrests:{d(case.arrests)}")
        if case.judgment is not None:
            keywords.append(f"judgment:{d(case.judgment)}")
        self._entity(case.id, "CourtCase", name=f"Procédure {case.number}",
                     caseNumber=case.number, type=CASE_TYPES[case.kind], category=case.offences,
                     fileDate=d(case.opened), closeDate=d(case.closed), status=status,
                     publisher=case.unit_name, country="fr",
                     address=f"{case.commune} ({case.departement})", keywords=keywords)
        phones_of: dict[str, list[str]] = defaultdict(list)
        for phone in case.phones:
            phones_of[phone.user].append(phone.number)
            self._row("phones", [case.id, phone.number, phone.user, phone.subscriber,
                                 phone.line, phone.source, d(phone.first_day),
                                 d(phone.last_day)])
        for person in case.people:
            self._person(case, person, phones_of.get(person.id, []))
        for online in case.online:
            self._row("online_accounts", [online.id, case.id, online.service, online.username,
                                          online.owner, online.phone])
            self._entity(online.id, "UserAccount", username=online.username,
                         service=online.service, owner=online.owner, phone=online.phone,
                         keywords=[f"case:{case.id}"])
        for stay in case.stays:
            self._row("accommodations", [
                stay.id, case.id, STAY_TYPES[stay.kind], stay.name, stay.street, stay.postcode,
                stay.commune, stay.commune_code, stay.departement, d(stay.start), d(stay.end),
                stay.booker, stay.phone, stay.email, stay.platform, stay.venue,
                _money(stay.amount)])
            full = f"{stay.street}, {stay.postcode} {stay.commune}"
            self._entity(stay.id, "Address", full=full, name=stay.name, street=stay.street,
                         postalCode=stay.postcode, city=stay.commune, country="fr",
                         summary=f"{stay.name}, du {d(stay.start)} au {d(stay.end)}",
                         keywords=[f"case:{case.id}", f"accommodation:{stay.kind}",
                                   f"from:{d(stay.start)}", f"to:{d(stay.end)}",
                                   f"booking_phone:{stay.phone}",
                                   *([f"booking_email:{stay.email}"] if stay.email else []),
                                   *([f"platform:{stay.platform}"] if stay.platform else []),
                                   *([f"venue:{stay.venue}"] if stay.venue else []),
                                   f"amount_eur:{_money(stay.amount)}"])
            if stay.booker:
                self._entity(f"{stay.id}-booking", "UnknownLink", subject=stay.booker,
                             object=stay.id, role="réservation", startDate=d(stay.start),
                             endDate=d(stay.end))
        for vehicle in case.vehicles:
            self._row("vehicles", [vehicle.id, case.id, vehicle.plate, vehicle.country,
                                   vehicle.model, vehicle.owner, vehicle.user,
                                   _money(vehicle.value), vehicle.origin])
            self._entity(vehicle.id, "Vehicle", registrationNumber=vehicle.plate,
                         country=vehicle.country.lower(), model=vehicle.model, type="voiture",
                         owner=vehicle.owner, operator=vehicle.user,
                         amountEur=_money(vehicle.value),
                         keywords=[f"case:{case.id}", f"origin:{vehicle.origin}"])
        for company in case.companies:
            self._company(company)
        for account in case.accounts:
            self._account(account)
        for asset in case.assets:
            self._asset(asset)
        for txn in txns:
            self._txn(txn)

    def _person(self, case: Case, p: PersonRec, phones: list[str]) -> None:
        d = self._date
        birth = d(p.birth_day)
        if p.birth_year_only and birth:
            birth = birth[:4]
        self._row("people", [
            p.id, case.id, self.lex["categories"][p.category], p.status,
            self._role_label(case, p), p.last,
            p.first, p.sex, birth, "" if p.age is None else p.age,
            "" if p.stated_age is None else p.stated_age, _yn(p.minor), p.nationality or "",
            p.residence_country, p.address, p.commune, "|".join(phones), "|".join(p.emails),
            p.relative_of, p.relation])
        keywords = [f"category:{p.category}", f"case:{case.id}", f"status:{p.status}"]
        if p.role:
            keywords.append(f"role:{p.role}")
        if p.minor:
            keywords.append("minor")
        if p.age is not None:
            keywords.append(f"age_at_facts:{p.age}")
        if p.stated_age is not None:
            keywords.append(f"stated_age:{p.stated_age}")
        self._entity(p.id, "Person", name=f"{p.first} {p.last}".strip(), firstName=p.first,
                     lastName=p.last, gender={"F": "female", "M": "male"}.get(p.sex, ""),
                     birthDate=birth, nationality=(p.nationality or "").lower(),
                     country=p.residence_country.lower(), address=p.address, phone=phones,
                     email=p.emails, keywords=keywords)
        self._entity(f"{p.id}-party", "CourtCaseParty", case=case.id, party=p.id,
                     role=f"{p.category}:{p.role}" if p.role else p.category, status=p.status)
        if p.relative_of:
            self._entity(f"{p.id}-family", "Family", person=p.relative_of, relative=p.id,
                         relationship=p.relation)

    def _role_label(self, case: Case, p: PersonRec) -> str:
        """The role as the file writes it, in French (the code stays in FtM keywords)."""
        if not p.role:
            return ""
        if p.role == "head" and case.kind == "pimp":
            return str(self.lex["pimp_head_role"])
        labels = {**self.lex["roles"], **self.lex["witness_roles"], "relative": "proche"}
        return str(labels.get(p.role, p.role))

    def _asset(self, a: AssetRec) -> None:
        d = self._date
        self._row("assets", [a.id, a.case, a.kind, a.description, _money(a.value), a.status,
                             d(a.identified), d(a.seized), d(a.confiscated), a.owner, a.ref,
                             a.seized_by, a.country])
        keywords = [f"case:{a.case}", f"asset:{a.kind}", f"status:{a.status}",
                    f"identified:{d(a.identified)}"]
        if a.seized is not None:
            keywords += [f"seized:{d(a.seized)}", f"seized_by:{a.seized_by}"]
        if a.confiscated is not None:
            keywords.append(f"confiscated:{d(a.confiscated)}")
        if a.ref:
            keywords.append(f"ref:{a.ref}")
        schema = "RealEstate" if a.kind == "bien immobilier" else "Asset"
        extra = {"address": a.description.split(", ", 1)[1]} if schema == "RealEstate" and \
            ", " in a.description else {}
        self._entity(a.id, schema, name=f"{a.kind} : {a.description}", description=a.description,
                     amount=_money(a.value), currency="EUR", amountEur=_money(a.value),
                     country=a.country.lower(), keywords=keywords, **extra)
        if a.owner:
            self._entity(f"{a.id}-own", "Ownership", owner=a.owner, asset=a.id, role="détenteur")

    def _txn(self, t: TxnRec) -> None:
        date_text = self._date(t.day)
        self._row("transactions", [t.id, t.case, date_text, _money(t.amount), t.currency,
                                   t.channel, t.payer, t.payer_account, t.beneficiary,
                                   t.beneficiary_account, t.country, t.operator, t.label])
        description = f"canal: {t.channel}; affaire: {t.case}; pays: {t.country}"
        if t.operator:
            description += f"; opérateur: {t.operator}"
        self._entity(t.id, "Payment", payer=t.payer, payerAccount=t.payer_account,
                     beneficiary=t.beneficiary, beneficiaryAccount=t.beneficiary_account,
                     amount=_money(t.amount), currency=t.currency, date=date_text,
                     purpose=t.label, transactionNumber=t.id, description=description)

    # -- outside the case files -------------------------------------------------------------

    def runaway(self, r: RunawayRec) -> None:
        d = self._date
        self._row("runaway_reports", [r.id, d(r.day), r.departement, r.commune, r.commune_code,
                                      r.unit, r.last, r.first, r.sex, d(r.birth_day), r.age,
                                      r.placement, r.status, d(r.return_day)])
        person = f"{r.id}-P"
        self._entity(person, "Person", name=f"{r.first} {r.last}", firstName=r.first,
                     lastName=r.last, gender={"F": "female", "M": "male"}[r.sex],
                     birthDate=d(r.birth_day), country="fr",
                     keywords=["category:runaway", "minor", f"age:{r.age}"])
        self._entity(r.id, "Event", name="Signalement de fugue", date=d(r.day),
                     endDate=d(r.return_day), address=f"{r.commune} ({r.departement})",
                     country="fr", involved=person, summary=r.status, publisher=r.unit,
                     keywords=["report:runaway", f"departement:{r.departement}",
                               f"commune:{r.commune_code}", f"placement:{r.placement}",
                               f"status:{r.status}"])

    def fine(self, f: FineRec) -> None:
        d = self._date
        self._row("client_fines", [f.id, d(f.day), f.departement, f.commune, f.commune_code,
                                   f.unit, f.client_id, f.client_age, f.qualification,
                                   _money(f.amount), _yn(f.course), f.case])
        self._entity(f.client_id, "Person", name=f"Client verbalisé {f.client_id}",
                     keywords=["category:fined_client", f"age:{f.client_age}"])
        provisions = f"amende {_money(f.amount)} EUR" + (
            " ; stage de sensibilisation" if f.course else "")
        self._entity(f.id, "Sanction", entity=f.client_id, authority=f.unit,
                     program="recours à la prostitution", reason=f.qualification,
                     provisions=provisions, startDate=d(f.day), country="fr",
                     description=f"{f.commune} ({f.departement})",
                     **({"summary": f"affaire: {f.case}"} if f.case else {}))

    def signal(self, s: SignalRec) -> None:
        d = self._date
        self._row("partner_signals", [s.id, d(s.day), self.lex["partner_kinds"][s.partner_kind],
                                      s.partner, s.reason,
                                      s.departement, s.commune, s.commune_code, s.phone,
                                      s.email, s.name_given, _money(s.amount)])
        self._entity(s.id, "Event", name=f"Signalement {self.lex['partner_kinds'][s.partner_kind]}",
                     date=d(s.day), address=f"{s.commune} ({s.departement})", country="fr",
                     summary=s.reason, publisher=s.partner, phoneMentioned=s.phone,
                     emailMentioned=s.email, namesMentioned=s.name_given,
                     keywords=["report:partner_signal", f"partner:{s.partner_kind}",
                               f"departement:{s.departement}", f"commune:{s.commune_code}",
                               f"amount_eur:{_money(s.amount)}"])
