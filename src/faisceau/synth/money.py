"""The money of the world behind the ads: bank accounts, companies, assets and transactions,
with laundering typologies planted in the networks' books.

Two steps, so that seizures can be calibrated over all cases before anything is written:

- ``plan_money`` (when the case is built): accounts of the case's people and counterparties,
  the shell company, the car dealer and notary, the typologies the case will show, and its
  assets with their natural values (``behind.py`` then scales the fungible seized ones);
- ``ledger`` (when the case is written): the transactions, generated again from the case's own
  random stream, and one ground-truth record per planted typology instance.

Transactions: clients' payments (instant transfers to the victims' or the collector's
accounts), weekly sweeps of the victims' accounts to the collector and on to the head (the
flow to the head), hotel and short-term rental bills, ad-site fees, transfers abroad through
money-transfer services, ordinary life. Typologies: smurfing (cash deposits just under a
threshold into several accounts), funnel account (many accounts feeding one), transfers to the
head's relatives abroad, shell-company invoices, purchase of a vehicle or a property.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from faisceau.synth import identity
from faisceau.synth.casefiles import (
    AccountRec,
    AssetRec,
    Case,
    CompanyRec,
    Context,
    PersonRec,
    VehicleRec,
    add_relatives,
    add_victim_family,
    full_address,
)

TYPOLOGIES = ("funnel_account", "smurfing", "transfers_to_relatives", "shell_company_invoices",
              "vehicle_purchase", "property_purchase")


@dataclass(slots=True)
class TxnRec:
    id: str
    case: str
    day: int
    amount: float
    currency: str
    channel: str
    payer: str
    payer_account: str
    beneficiary: str
    beneficiary_account: str
    country: str
    operator: str
    label: str


@dataclass(slots=True)
class PatternRec:
    id: str
    typology: str
    case: str
    controllers: list[str]
    head: str
    members: list[str]
    accounts: list[str]
    transactions: list[str]
    amount: float
    description: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class National:
    """Counterparties every case may pay: the ad site, rental platforms, money-transfer
    services, and the utilities of ordinary life (companies with an account)."""

    companies: list[CompanyRec]
    accounts: list[AccountRec]
    ad_site: CompanyRec
    platforms: list[CompanyRec]
    mts: list[CompanyRec]
    ordinary: list[tuple[CompanyRec, str]]
    account_of: dict[str, str]

    @classmethod
    def make(cls, seed: int) -> National:
        rng = random.Random(f"{seed}:national")
        lex = identity.lexicon()
        spec = lex["national_counterparties"]
        companies: list[CompanyRec] = []
        accounts: list[AccountRec] = []
        account_of: dict[str, str] = {}

        def company(name: str, kind: str, with_account: bool) -> CompanyRec:
            rec = CompanyRec(
                id=f"NAT-S{len(companies) + 1:03d}", case="", name=name, kind=kind,
                legal_form="SAS", siren=identity.siren(rng), naf="", address="", director="",
                owner="", incorporated=None)
            companies.append(rec)
            if with_account:
                bank = rng.choice([b for b in lex["banks_fr"] if b["kind"] != "online"])
                acc = AccountRec(
                    id=f"NAT-A{len(accounts) + 1:03d}", case="",
                    iban=identity.iban(rng, "FR", bank["code"]), bic=bank["bic"],
                    bank=bank["name"], country="FR", holder=rec.id, kind="professionnel",
                    opened=None)
                accounts.append(acc)
                account_of[rec.id] = acc.id
            return rec

        ad_site = company(spec["ad_site"]["name"], spec["ad_site"]["kind"], True)
        platforms = [company(p["name"], p["kind"], True) for p in spec["platforms"]]
        mts = [company(m["name"], m["kind"], False) for m in spec["mts"]]
        ordinary = [(company(o["name"], o["kind"], True), str(o["label"]))
                    for o in spec["ordinary"]]
        return cls(companies, accounts, ad_site, platforms, mts, ordinary, account_of)


def _account(ctx: Context, rng: random.Random, case: Case, holder: str, country: str = "FR",
             kind: str | None = None) -> AccountRec:
    lex = identity.lexicon()
    if country == "FR":
        if kind is None:
            kind = "en ligne" if rng.random() < 0.35 else "particulier"
        wanted = {"en ligne": "online", "professionnel": "business"}.get(kind, "retail")
        bank = rng.choice([b for b in lex["banks_fr"] if b["kind"] == wanted])
        code, bic, name = bank["code"], bank["bic"], bank["name"]
    else:
        bank = rng.choice(lex["banks_foreign"][country])
        code, bic, name = bank["code"], "", bank["name"]
        kind = kind or "particulier"
    lo = case.period[0]
    rec = AccountRec(id=case.new_id("A"), case=case.id, iban=identity.iban(rng, country, code),
                     bic=bic, bank=name, country=country, holder=holder, kind=kind,
                     opened=lo - rng.randint(10, 900))
    case.accounts.append(rec)
    return rec


def accounts_of(case: Case) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for acc in case.accounts:
        out[acc.holder].append(acc.id)
    return out


def plan_money(ctx: Context, rng: random.Random, case: Case, national: National) -> None:
    """Accounts, companies, typologies and assets (natural values) of a case."""
    if case.outcome == "dropped":
        return
    cal = ctx.cal
    lex = identity.lexicon()
    chances = cal["typologies"][case.kind]
    case.typologies = [t for t in TYPOLOGIES if rng.random() < chances[t]]
    head = case.head
    if head is None:  # an open case whose head is not identified yet: no flow leads to him
        case.typologies = [t for t in case.typologies
                           if t in ("smurfing", "funnel_account")]
    # Accounts of suspects.
    for person in [p for p in case.people if p.category == "suspect"]:
        share = {"head": 1.0, "money_collector": 0.95, "straw_man": 1.0, "logistics": 0.8,
                 "operator": 0.6, "lieutenant": 0.6, "accomplice": 0.6}.get(person.role, 0.3)
        if person.residence_country != "FR" and person.role != "head":
            continue
        if rng.random() < share:
            _account(ctx, rng, case, person.id)
        # Members from IBAN countries keep an account at home (the money leaves by wire).
        home_share = {"head": 0.5, "money_collector": 0.4, "lieutenant": 0.4}.get(person.role, 0)
        if person.nationality in identity.IBAN_COUNTRIES and person.nationality != "FR" and \
                rng.random() < home_share:
            _account(ctx, rng, case, person.id, str(person.nationality))
    # Victims' accounts (often opened online by the network in their names).
    for victim in case.victims():
        if rng.random() < cal["money"]["victim_account_share"][case.kind]:
            if not victim.last:  # the bank knows her surname, the file now too
                victim.last = identity.surname(rng, victim.origin)
            _account(ctx, rng, case, victim.id, kind="en ligne" if rng.random() < 0.6 else None)
            if victim.nationality in identity.IBAN_COUNTRIES and victim.nationality != "FR" \
                    and rng.random() < 0.3:
                _account(ctx, rng, case, victim.id, str(victim.nationality))
    # Clients pay by instant transfer from their own accounts.
    for client in [p for p in case.people if p.role == "client"]:
        _account(ctx, rng, case, client.id)
    # Hotels' accounts.
    for company in case.companies:
        if company.kind == "hôtel":
            _account(ctx, rng, case, company.id, kind="professionnel")
    # Foreign victims send money home: their family is a person in relation.
    for victim in case.victims():
        if victim.status == "victime" and victim.nationality not in (None, "FR") and \
                rng.random() < 0.6:
            add_victim_family(ctx, rng, case, victim)
    if head is not None and "transfers_to_relatives" in case.typologies:
        for relative in add_relatives(ctx, rng, case, head, rng.randint(1, 3)):
            if relative.residence_country in identity.IBAN_COUNTRIES and rng.random() < 0.6:
                _account(ctx, rng, case, relative.id, relative.residence_country)
    straw = case.by_role("straw_man")
    if head is not None and "shell_company_invoices" in case.typologies:
        activity = rng.choice(lex["shell_activities"])
        director = rng.choice(straw) if straw else (
            case.by_role("lieutenant", "accomplice", "money_collector") or [head])[0]
        code = ctx.places.commune_in(rng, case.departement)
        street, postcode, name = ctx.places.address(rng, code)
        lo, _ = case.period
        shell = CompanyRec(
            id=case.new_id("S"), case=case.id,
            name=f"{rng.choice(lex['company_words'])} {activity['label']}",
            kind="société écran", legal_form=rng.choice(lex["legal_forms"]),
            siren=identity.siren(rng), naf=activity["naf"],
            address=full_address(f"domiciliation, {street}", postcode, name),
            director=director.id, owner=head.id, incorporated=lo - rng.randint(30, 700))
        case.companies.append(shell)
        _account(ctx, rng, case, shell.id, kind="professionnel")
    if head is not None and "vehicle_purchase" in case.typologies:
        dealer_name = f"{rng.choice(lex['dealer_words'])} {rng.choice(lex['company_words'])}"
        dealer = _counterparty(ctx, rng, case, "concessionnaire", dealer_name, "4511Z")
        model = rng.choice(lex["car_models"][3:])
        shells = [c for c in case.companies if c.kind == "société écran"]
        owner = rng.choice([head.id, *(s.id for s in straw), *(c.id for c in shells)])
        vehicle = VehicleRec(
            id=case.new_id("V"), case=case.id, plate=identity.plate_fr(rng), country="FR",
            model=model["model"], owner=owner, user=head.id,
            value=float(rng.randint(*model["value"]) // 100 * 100), origin="achat")
        case.vehicles.append(vehicle)
        case.notes["dealer"] = dealer.id
        case.notes["vehicle"] = vehicle.id
    if head is not None and "property_purchase" in case.typologies:
        notary = _counterparty(ctx, rng, case, "office notarial",
                               f"{rng.choice(lex['notary_words'])} {identity.surname(rng, 'FR')}",
                               "6910Z")
        case.notes["notary"] = notary.id
    _plan_assets(ctx, rng, case)


def _counterparty(ctx: Context, rng: random.Random, case: Case, kind: str, name: str,
                  naf: str) -> CompanyRec:
    code = ctx.places.commune_in(rng, case.departement)
    street, postcode, commune = ctx.places.address(rng, code)
    rec = CompanyRec(id=case.new_id("S"), case=case.id, name=name, kind=kind,
                     legal_form=rng.choice(["SAS", "SARL", "SCP"]), siren=identity.siren(rng),
                     naf=naf, address=full_address(street, postcode, commune), director="",
                     owner="", incorporated=None)
    case.companies.append(rec)
    _account(ctx, rng, case, rec.id, kind="professionnel")
    return rec


def _plan_assets(ctx: Context, rng: random.Random, case: Case) -> None:
    """Assets with natural values: seized at the arrests in concluded cases, identified in
    open ones. Cash, balances and goods are fungible: ``behind.py`` scales them."""
    cal = ctx.cal["assets"]
    kind = case.kind
    head = case.head
    holders = accounts_of(case)
    keepers = [p for p in case.people if p.category == "suspect" and
               p.role in ("head", "money_collector", "lieutenant", "accomplice")]
    day = case.arrests if case.concluded and case.arrests is not None else case.facts_day
    seized = case.concluded
    status = "saisi" if seized else "identifié"
    lex = identity.lexicon()

    def add(kind_label: str, description: str, value: float, owner: str, ref: str,
            country: str = "FR", fungible: bool = False, can_seize: bool = True) -> None:
        taken = seized and can_seize
        case.assets.append(AssetRec(
            id=case.new_id("B"), case=case.id, kind=kind_label, description=description,
            value=round(value, 2), status=status if can_seize else "identifié",
            identified=day - (0 if taken else rng.randint(0, 30)),
            seized=day if taken else None, confiscated=None, owner=owner, ref=ref,
            seized_by=case.unit_code if taken else "", country=country, fungible=fungible))

    if case.concluded and keepers:
        owner = rng.choice(keepers)
        add("numéraire", "espèces découvertes lors des perquisitions",
            rng.uniform(*cal["cash_eur"][kind]), owner.id, "", fungible=True)
    # French accounts only: a balance abroad needs mutual legal assistance first.
    french = {a.id for a in case.accounts if a.country == "FR"}
    suspects_accounts = [a for p in keepers for a in holders.get(p.id, []) if a in french]
    suspects_accounts += [a for c in case.companies if c.kind == "société écran"
                          for a in holders.get(c.id, [])]
    if case.concluded:
        for acc_id in rng.sample(suspects_accounts, min(len(suspects_accounts),
                                                        rng.randint(1, 3))):
            acc = next(a for a in case.accounts if a.id == acc_id)
            add("solde bancaire", f"solde créditeur du compte {acc.iban}",
                rng.uniform(*cal["balance_eur"][kind]), acc.holder, acc.id, fungible=True)
        goods = rng.uniform(*cal["goods_eur"][kind])
        if goods >= 500 and keepers:
            add("biens", rng.choice(lex["luxury_items"]), goods, rng.choice(keepers).id, "",
                fungible=True)
        for vehicle in case.vehicles:
            if vehicle.origin == "achat" or (vehicle.origin == "personnel" and rng.random() < 0.3):
                add("véhicule", f"{vehicle.model} immatriculé {vehicle.plate}", vehicle.value,
                    vehicle.owner, vehicle.id)
    else:
        for acc_id in rng.sample(suspects_accounts, min(len(suspects_accounts),
                                                        rng.randint(0, 2))):
            acc = next(a for a in case.accounts if a.id == acc_id)
            add("solde bancaire", f"solde créditeur du compte {acc.iban}",
                rng.uniform(*cal["identified_open_eur"]), acc.holder, acc.id)
        for vehicle in case.vehicles:
            if vehicle.origin == "achat":
                add("véhicule", f"{vehicle.model} immatriculé {vehicle.plate}", vehicle.value,
                    vehicle.owner, vehicle.id)
    if head is not None and "property_purchase" in case.typologies:
        code = ctx.places.commune_in(rng, case.departement)
        street, postcode, name = ctx.places.address(rng, code)
        owners = [head.id, *(p.id for p in case.by_role("straw_man")),
                  *(c.id for c in case.companies if c.kind == "société écran")]
        add("bien immobilier", f"appartement, {full_address(street, postcode, name)}",
            float(rng.randint(*cal["property_eur"]) // 1000 * 1000), rng.choice(owners), "")
        case.notes["property"] = case.assets[-1].id
    if head is not None and "transfers_to_relatives" in case.typologies and rng.random() < 0.4:
        country = next((p.residence_country for p in case.people
                        if p.relative_of == head.id), head.nationality or "FR")
        add("bien immobilier", "maison en construction au pays (financée par les envois)",
            float(rng.randint(*cal["property_abroad_eur"]) // 1000 * 1000), head.id, "",
            country=country, can_seize=False)


# -- the ledger -------------------------------------------------------------------------------

class _Book:
    def __init__(self, case: Case, currency: str) -> None:
        self.case = case
        self.currency = currency
        self.txns: list[TxnRec] = []
        self.patterns: list[PatternRec] = []

    def pay(self, day: int, amount: float, channel: str, payer: str, payer_account: str,
            beneficiary: str, beneficiary_account: str, label: str, country: str = "FR",
            operator: str = "") -> str:
        rec = TxnRec(id=self.case.new_id("T", 5), case=self.case.id, day=day,
                     amount=round(amount, 2), currency=self.currency, channel=channel,
                     payer=payer, payer_account=payer_account, beneficiary=beneficiary,
                     beneficiary_account=beneficiary_account, country=country,
                     operator=operator, label=label)
        self.txns.append(rec)
        return rec.id

    def pattern(self, typology: str, members: list[str], accounts: list[str], txns: list[str],
                description: str, **extra: Any) -> None:
        case = self.case
        amount = sum(t.amount for t in self.txns if t.id in set(txns))
        head = case.head
        self.patterns.append(PatternRec(
            id=f"PAT-{case.id}-{len(self.patterns) + 1:02d}", typology=typology, case=case.id,
            controllers=[c.id for c in case.controllers], head=head.id if head else "",
            members=sorted(set(members)), accounts=sorted(set(accounts)), transactions=txns,
            amount=round(amount, 2), description=description, extra=extra))


def ledger(ctx: Context, rng: random.Random, case: Case,
           national: National) -> tuple[list[TxnRec], list[PatternRec]]:
    """The case's transactions and the typology instances planted in them."""
    if case.outcome == "dropped":
        return [], []
    cal = ctx.cal["money"]
    lex = ctx.lex["labels"]
    book = _Book(case, str(cal["currency"]))
    holders = accounts_of(case)
    head = case.head
    lo_all, hi = case.period
    lo = max(lo_all, hi - int(cal["requisition_days"]))
    collectors = [p for p in case.by_role("money_collector") if holders.get(p.id)]
    head_acc = holders[head.id][0] if head is not None and holders.get(head.id) else ""
    # Where the victims' money goes: the collector's account (the funnel) or the head's.
    funnel_owner: PersonRec | None = collectors[0] if collectors else (
        head if head_acc else None)
    if funnel_owner is None:
        others = [p for p in case.people if p.category == "suspect" and holders.get(p.id)]
        funnel_owner = others[0] if others else None
    funnel_acc = holders[funnel_owner.id][0] if funnel_owner is not None else ""
    clients = [p for p in case.people if p.role == "client" and holders.get(p.id)]
    inflow: dict[str, list[tuple[int, float]]] = defaultdict(list)

    # Clients' payments.
    for victim in case.victims():
        controller = next(c for c in case.controllers if c.id == victim.controller)
        start, end = max(lo, controller.first_day), min(hi, controller.last_day)
        if end < start or not clients:
            continue
        target = holders.get(victim.id, [""])[0]
        owner = victim.id if target else (funnel_owner.id if funnel_owner else "")
        target = target or funnel_acc
        if not target:
            continue
        for _ in range(rng.randint(*cal["client_payments_per_victim"])):
            client = rng.choice(clients)
            day = rng.randint(start, end)
            amount = float(rng.randrange(cal["client_payment_eur"][0],
                                         cal["client_payment_eur"][1] + 1, 10))
            label = rng.choice(lex["client_payment"]).format(name=client.last.upper())
            book.pay(day, amount, "virement instantané", client.id, holders[client.id][0],
                     owner, target, label)
            inflow[target].append((day, amount))

    # Flow to the head: weekly sweeps of the victims' accounts, then collector -> head.
    flow_txns: list[str] = []
    flow_members: list[str] = []
    flow_accounts: list[str] = []
    victim_accounts = [(v, holders[v.id][0]) for v in case.victims() if holders.get(v.id)]
    if funnel_owner is not None and funnel_acc:
        for victim, acc in victim_accounts:
            for day, amount in _weekly(inflow[acc], rng, 0.7, 0.9):
                tid = book.pay(day, amount, "virement", victim.id, acc, funnel_owner.id,
                               funnel_acc, rng.choice(lex["to_collector"]).format(
                                   name=funnel_owner.last.upper()))
                flow_txns.append(tid)
                inflow[funnel_acc].append((day, amount))
                flow_members.append(victim.id)
                flow_accounts.append(acc)
        if head is not None and head_acc and funnel_acc != head_acc:
            for day, amount in _weekly(inflow[funnel_acc], rng, 0.6, 0.8, period=14):
                tid = book.pay(day, amount, "virement", funnel_owner.id, funnel_acc, head.id,
                               head_acc, rng.choice(lex["to_head"]).format(name=head.last.upper()))
                flow_txns.append(tid)
                inflow[head_acc].append((day, amount))
        if head is not None and head_acc and flow_txns:
            book.pattern("flow_to_head", [*flow_members, funnel_owner.id, head.id],
                         [*flow_accounts, funnel_acc, head_acc], flow_txns,
                         "Clients' payments swept from the victims' accounts to the collector "
                         "and on to the head.", path=[*sorted(set(flow_accounts)), funnel_acc,
                                                      head_acc])

    # Bills: hotels, short-term rentals, ad-site fees.
    for stay in case.stays:
        payer_acc = holders.get(stay.booker, [""])[0]
        if not payer_acc:
            continue
        if stay.kind == "hotel":
            venue_acc = holders.get(stay.venue, [""])[0]
            book.pay(stay.start, stay.amount, "carte bancaire", stay.booker, payer_acc,
                     stay.venue, venue_acc, lex["hotel"].format(hotel=stay.name.upper()))
        else:
            platform = next((p for p in national.platforms if p.name == stay.platform),
                            national.platforms[0])
            book.pay(stay.start, stay.amount, "carte bancaire", stay.booker, payer_acc,
                     platform.id, national.account_of[platform.id],
                     lex["rental"].format(platform=platform.name.split()[0].upper()))
    posters = [p for p in case.by_role("operator", "head") if holders.get(p.id)]
    if posters:
        poster = posters[0]
        day = lo
        site = national.ad_site
        while day <= hi:
            for _ in range(rng.randint(*cal["ad_fees_per_week"])):
                book.pay(min(hi, day + rng.randrange(7)),
                         float(rng.randint(*cal["ad_fee_eur"])), "carte bancaire", poster.id,
                         holders[poster.id][0], site.id, national.account_of[site.id],
                         lex["ad_fee"].format(site=site.name.split()[0].upper()))
            day += 7

    # Foreign victims send money home through money-transfer services.
    for family in [p for p in case.people if p.category == "relation" and
                   p.relative_of and p.relative_of != (head.id if head else "")]:
        victim = next(p for p in case.people if p.id == family.relative_of)
        mts = rng.choice(national.mts)
        day = lo + rng.randint(0, 20)
        while day <= hi:
            book.pay(day, float(rng.randint(*cal["transfer_abroad_eur"])), "transfert d'argent",
                     victim.id, "", family.id, "", lex["transfer_abroad"].format(mts=mts.name),
                     country=family.residence_country, operator=mts.name)
            day += rng.randint(14, 35)

    threshold = float(cal["threshold_eur"])
    if "smurfing" in case.typologies:
        _smurfing(ctx, rng, case, book, holders, lo, hi, threshold, funnel_owner, funnel_acc,
                  inflow)
    if "funnel_account" in case.typologies and funnel_owner is not None and funnel_acc:
        _funnel(ctx, rng, case, book, holders, lo, hi, funnel_owner, funnel_acc, inflow)
    if head is not None:
        if "transfers_to_relatives" in case.typologies:
            _relatives(rng, case, book, holders, lo, hi, head, threshold, national, lex)
        if "shell_company_invoices" in case.typologies:
            _shell(rng, case, book, holders, lo, hi, head, funnel_owner, funnel_acc, lex)
        if "vehicle_purchase" in case.typologies:
            _vehicle(rng, case, book, holders, lo, hi, head, lex)
        if "property_purchase" in case.typologies:
            _property(rng, case, book, holders, lo, hi, head, lex)

    # Ordinary life on suspects' French accounts.
    for person in [p for p in case.people if p.category == "suspect"]:
        for acc_id in holders.get(person.id, []):
            if not acc_id or next(a for a in case.accounts if a.id == acc_id).country != "FR":
                continue
            for _ in range(rng.randint(*cal["ordinary_per_account"])):
                company, label = rng.choice(national.ordinary)
                book.pay(rng.randint(lo, hi), float(rng.randint(15, 900)), "prélèvement",
                         person.id, acc_id, company.id, national.account_of[company.id], label)
    # Numbered in date order, as a bank statement reads.
    book.txns.sort(key=lambda t: (t.day, t.id))
    renamed = {}
    for i, txn in enumerate(book.txns, 1):
        renamed[txn.id] = txn.id = f"{case.id}-T{i:05d}"
    for pattern in book.patterns:
        pattern.transactions = sorted(renamed[t] for t in pattern.transactions)
    return book.txns, book.patterns


def _weekly(entries: list[tuple[int, float]], rng: random.Random, low: float, high: float,
            period: int = 7) -> list[tuple[int, float]]:
    """Sweeps of an account: every ``period`` days, a share of what came in since."""
    if not entries:
        return []
    buckets: dict[int, float] = defaultdict(float)
    first = min(d for d, _ in entries)
    for day, amount in entries:
        buckets[first + ((day - first) // period + 1) * period] += amount
    out = []
    for day in sorted(buckets):
        amount = round(buckets[day] * rng.uniform(low, high) / 10) * 10
        if amount >= 50:
            out.append((day + rng.randint(0, 2), float(amount)))
    return out


def _smurfing(ctx: Context, rng: random.Random, case: Case, book: _Book,
              holders: dict[str, list[str]], lo: int, hi: int, threshold: float,
              funnel_owner: PersonRec | None, funnel_acc: str,
              inflow: dict[str, list[tuple[int, float]]]) -> None:
    """Many cash deposits just under the threshold, by several people, into several accounts,
    then forwarded to the funnel."""
    depositors = [p for p in case.people if p.category == "suspect" and
                  p.role in ("straw_man", "watcher", "driver", "accomplice", "money_collector",
                             "lieutenant")] or [p for p in case.people if p.category == "suspect"]
    depositors += [v for v in case.victims() if v.status == "victime"][:3]
    if not depositors:
        return
    candidates = [a for a in case.accounts if a.id != funnel_acc and a.country == "FR" and
                  any(p.id == a.holder and p.category in ("suspect", "victim")
                      for p in case.people)]
    while len(candidates) < 2:
        holder = rng.choice(depositors)
        candidates.append(_account(ctx, rng, case, holder.id, kind="en ligne"))
    targets = rng.sample(candidates, min(len(candidates), rng.randint(2, 4)))
    start = rng.randint(lo, max(lo, hi - 42))
    txns: list[str] = []
    members = [p.id for p in depositors]
    label = str(ctx.lex["labels"]["cash_deposit"])
    for _ in range(rng.randint(10, 40)):
        acc = rng.choice(targets)
        who = rng.choice(depositors)
        amount = float(rng.randrange(int(threshold * 0.85), int(threshold) - 5, 10))
        day = min(hi, start + rng.randint(0, 42))
        txns.append(book.pay(day, amount, "dépôt d'espèces", who.id, "", acc.holder, acc.id,
                             label))
        inflow[acc.id].append((day, amount))
    if funnel_acc and funnel_owner is not None:
        for acc in targets:
            total = sum(a for d, a in inflow[acc.id] if d >= start)
            if total > 0:
                txns.append(book.pay(min(hi, start + 43 + rng.randint(0, 5)),
                                     round(total * rng.uniform(0.8, 0.95), 2), "virement",
                                     acc.holder, acc.id, funnel_owner.id, funnel_acc,
                                     "virement"))
                members.append(acc.holder)
    book.pattern("smurfing", members, [a.id for a in targets] + ([funnel_acc] if funnel_acc
                                                                  else []), txns,
                 f"Cash deposits just under {threshold:.0f} EUR by several people into "
                 "several accounts, then forwarded.", threshold=threshold)


def _funnel(ctx: Context, rng: random.Random, case: Case, book: _Book,
            holders: dict[str, list[str]], lo: int, hi: int, funnel_owner: PersonRec,
            funnel_acc: str, inflow: dict[str, list[tuple[int, float]]]) -> None:
    """At least five accounts feed one account within a few weeks; it forwards at once."""
    sources = [a for a in case.accounts if a.id != funnel_acc and a.country == "FR" and
               any(p.id == a.holder and p.category in ("suspect", "victim") and
                   p.role != "head" for p in case.people)]
    people = [p for p in case.people if (p.category == "victim" and p.status == "victime") or
              p.role in ("straw_man", "driver", "watcher", "logistics")]
    while len(sources) < 5 and people:
        sources.append(_account(ctx, rng, case, rng.choice(people).id, kind="en ligne"))
    if len(sources) < 5:
        return
    start = rng.randint(lo, max(lo, hi - 28))
    txns: list[str] = []
    total = 0.0
    for acc in sources:
        for _ in range(rng.randint(1, 4)):
            amount = float(rng.randrange(300, 2500, 10))
            day = min(hi, start + rng.randint(0, 21))
            txns.append(book.pay(day, amount, "virement", acc.holder, acc.id, funnel_owner.id,
                                 funnel_acc, "virement"))
            total += amount
    head = case.head
    out_owner, out_acc = (head.id, holders[head.id][0]) if head is not None and \
        holders.get(head.id) and holders[head.id][0] != funnel_acc else ("", "")
    if not out_acc:
        shells = [c for c in case.companies if c.kind == "société écran" and holders.get(c.id)]
        if shells:
            out_owner, out_acc = shells[0].id, holders[shells[0].id][0]
    if out_acc:
        txns.append(book.pay(min(hi, start + 22 + rng.randint(0, 2)),
                             round(total * rng.uniform(0.85, 0.97), 2), "virement",
                             funnel_owner.id, funnel_acc, out_owner, out_acc, "virement"))
    book.pattern("funnel_account", [funnel_owner.id, *(a.holder for a in sources)],
                 [funnel_acc, *(a.id for a in sources)], txns,
                 f"{len(sources)} accounts feed one account within three weeks, which "
                 "forwards the total at once.", funnel=funnel_acc)


def _relatives(rng: random.Random, case: Case, book: _Book, holders: dict[str, list[str]],
               lo: int, hi: int, head: PersonRec, threshold: float, national: National,
               lex: dict[str, Any]) -> None:
    relatives = [p for p in case.people if p.relative_of == head.id]
    if not relatives:
        return
    senders = [head, *case.by_role("money_collector", "lieutenant")]
    txns: list[str] = []
    for _ in range(rng.randint(6, 30)):
        relative = rng.choice(relatives)
        sender = rng.choice(senders)
        day = rng.randint(lo, hi)
        rel_acc = holders.get(relative.id, [""])[0]
        snd_acc = holders.get(sender.id, [""])[0]
        if rel_acc and snd_acc and rng.random() < 0.5:
            txns.append(book.pay(day, float(rng.randrange(1000, 5000, 50)), "virement",
                                 sender.id, snd_acc, relative.id, rel_acc, "aide familiale",
                                 country=relative.residence_country))
        else:
            mts = rng.choice(national.mts)
            txns.append(book.pay(day, float(rng.randrange(int(threshold * 0.3),
                                                          int(threshold) - 5, 5)),
                                 "transfert d'argent", sender.id, "", relative.id, "",
                                 lex["transfer_abroad"].format(mts=mts.name),
                                 country=relative.residence_country, operator=mts.name))
    book.pattern("transfers_to_relatives", [head.id, *(s.id for s in senders),
                                            *(r.id for r in relatives)],
                 [a for p in [*senders, *relatives] for a in holders.get(p.id, [])], txns,
                 "Repeated transfers to the head's relatives in the origin country, mostly "
                 "through money-transfer services under the threshold.",
                 countries=sorted({r.residence_country for r in relatives}))


def _shell(rng: random.Random, case: Case, book: _Book, holders: dict[str, list[str]],
           lo: int, hi: int, head: PersonRec, funnel_owner: PersonRec | None, funnel_acc: str,
           lex: dict[str, Any]) -> None:
    shell = next((c for c in case.companies if c.kind == "société écran"), None)
    if shell is None or not holders.get(shell.id):
        return
    shell_acc = holders[shell.id][0]
    activity = next((a for a in identity.lexicon()["shell_activities"]
                     if shell.name.endswith(a["label"])), {"invoice": "prestation"})
    payer, payer_acc = (funnel_owner.id, funnel_acc) if funnel_owner is not None and \
        funnel_acc else (head.id, holders.get(head.id, [""])[0])
    if not payer_acc:
        return
    txns: list[str] = []
    year = 2000 + (lo // 365) % 100  # only a label: invoice numbers look yearly
    for n in range(rng.randint(5, 15)):
        number = f"FA-{year:04d}-{rng.randint(10, 90) + n:03d}"
        txns.append(book.pay(rng.randint(lo, hi), float(rng.randrange(1200, 4800, 10)),
                             "virement", payer, payer_acc, shell.id, shell_acc,
                             lex["invoice"].format(number=number, activity=activity["invoice"])))
    head_acc = holders.get(head.id, [""])[0]
    if head_acc:
        day = lo + 25
        months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                  "septembre", "octobre", "novembre", "décembre"]
        while day <= hi:
            txns.append(book.pay(day, float(rng.randrange(1500, 2600, 50)), "virement", shell.id,
                                 shell_acc, head.id, head_acc,
                                 lex["salary"].format(month=months[(day // 30) % 12])))
            day += 30
    director = next((p.id for p in case.people if p.id == shell.director), "")
    book.pattern("shell_company_invoices", [shell.id, director, head.id, payer],
                 [shell_acc, payer_acc, *([head_acc] if head_acc else [])], txns,
                 "Invoices for services never rendered paid into a shell company run by a "
                 "straw man, which pays the head a salary.", company=shell.id)


def _vehicle(rng: random.Random, case: Case, book: _Book, holders: dict[str, list[str]],
             lo: int, hi: int, head: PersonRec, lex: dict[str, Any]) -> None:
    vehicle = next((v for v in case.vehicles if v.id == case.notes.get("vehicle")), None)
    dealer = case.notes.get("dealer", "")
    if vehicle is None or not dealer:
        return
    payer_acc = holders.get(vehicle.owner, [""])[0] or holders.get(head.id, [""])[0]
    payer = vehicle.owner if holders.get(vehicle.owner) else head.id
    if not payer_acc:
        return
    parts = rng.randint(1, 3)
    day = rng.randint(lo, hi)
    txns = []
    for i in range(parts):
        txns.append(book.pay(min(hi, day + i), round(vehicle.value / parts, 2), "virement",
                             payer, payer_acc, dealer, holders[dealer][0],
                             lex["vehicle"].format(model=vehicle.model)))
    book.pattern("vehicle_purchase", [payer, head.id, dealer, vehicle.id], [payer_acc,
                                                                            holders[dealer][0]],
                 txns, "A car bought in another name than the head's, who drives it.",
                 vehicle=vehicle.id)


def _property(rng: random.Random, case: Case, book: _Book, holders: dict[str, list[str]],
              lo: int, hi: int, head: PersonRec, lex: dict[str, Any]) -> None:
    asset = next((a for a in case.assets if a.id == case.notes.get("property")), None)
    notary = case.notes.get("notary", "")
    if asset is None or not notary:
        return
    payer = asset.owner if holders.get(asset.owner) else head.id
    payer_acc = holders.get(payer, [""])[0]
    if not payer_acc:
        return
    day = rng.randint(lo, max(lo, hi - 60))
    txns = [
        book.pay(day, round(asset.value * 0.1, 2), "virement", payer, payer_acc, notary,
                 holders[notary][0], "dépôt de garantie compromis"),
        book.pay(min(hi, day + rng.randint(45, 90)), round(asset.value * 0.9, 2), "virement",
                 payer, payer_acc, notary, holders[notary][0], lex["property"]),
    ]
    book.pattern("property_purchase", [payer, head.id, notary, asset.id],
                 [payer_acc, holders[notary][0]], txns,
                 "A flat bought through a notary with the proceeds.", asset=asset.id)
