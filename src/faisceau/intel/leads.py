"""Leads: where the ads that monitoring sees meet what the case files know.

``find_leads`` cross-references, in set-based SQL, the values of the ads (``ad_value``:
the phones, e-mails and handles that ``link_key`` copies for linking, indexed by kind and
value; ``ad_image`` hashes; scoring's narrow per-version features for pseudonyms) and
their current networks (``ad_network``) with the statements of the case files
(``intel_statement``). Both sides are read by the same normalisers
(``faisceau.normalise``): phones in E.164, e-mails lower-cased, handles as
``service:handle`` folded to ASCII, pseudonyms folded for case and accents.

What is looked for, and the strength of a lead (0 to 1):

- 1.0, an identifier a case file holds: a ``phone`` or ``email`` of any case entity (the
  people, the phones of ``phones.csv``, online accounts), the ``booking_phone:`` and
  ``booking_email:`` of an accommodation, an online account's handle on its own service,
  a ``checksum`` statement that is the SHA-256 of an ad's photo. A phone also matches the
  messaging handles that are that number (``whatsapp:+336...``, national form too).
- 0.8, an online account's username shown on another service (or the account names no
  service).
- 0.6, a phone or e-mail a partner's signal mentions (``Event``: ``phoneMentioned``,
  ``emailMentioned``): an unchecked report, most of them false alarms.
- 0.4, a victim's given name with her stated age, on ads of the case's département
  within the case's period; 0.3, the given name where the age is unknown on either side
  (an ad showing another age is someone else: no lead).
- 0.2, the given name a partner's signal mentions, on ads of its commune (else its
  département) within ``SIGNAL_DAYS`` of it.
- Weak leads (names and signals) on a network that scoring does not suspect of
  trafficking are most likely namesakes and false alarms: their strength is halved
  (``UNSUSPECTED_FACTOR``). On the mid-size synthetic world, 22 of 22 true alarms' phone
  leads were on suspected networks and 19 of 19 false alarms' on unsuspected ones; a
  victim's name and age were right on 449 of 595 suspected networks, 1 of 308 others.

A lead on several keys (a phone in the phone field and as a WhatsApp handle) takes the
strongest. A case's period runs from ``LOOKBACK_DAYS`` before it was opened to its
closing (open cases: no end). The case files of the synthetic world hold no image hash
and its ads no e-mail: image and e-mail leads come only with data that has them.

Each lead is one network, one case entity, one kind and one value, with the number of the
network's ads that show it, the first ``EVIDENCE_ADS`` of them in time ("source:ad_id"),
when those ads were first and last seen with it, and its strength.

Re-running is idempotent: every run recomputes the matches (the cost grows with the case
values and the ads that show them, plus one pass over the narrow pseudonym features) and
writes only the leads that changed. A lead keeps its identifier, derived from its network,
entity, kind and value when it was first found, and its decisions: when its network is
absorbed by another (or split), the lead follows the ads of its evidence to their
network. A lead that no ad shows any longer is removed, unless an analyst decided on it:
then it is kept, with no ads, for the record.

Decisions (``confirmed``, ``dismissed`` with a reason) are only ever appended; the store
refuses to change them (migration 0004).
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import Any

import orjson
import phonenumbers
from sqlalchemy import Connection

from faisceau.ingest.lock import ingest_lock
from faisceau.normalise.ad import field_values, name_key
from faisceau.score.features import name_key as pseudonym_key
from faisceau.store import Store, bulk
from faisceau.store.schema import intel_lead_decision

KINDS = ("phone", "email", "handle", "image", "name")
DECISIONS = ("confirmed", "dismissed")
EVIDENCE_ADS = 50
MAX_TEXT = 100  # the width of ``intel_lead_decision.analyst``

# Strengths (see the table above).
CASE_IDENTIFIER = 1.0
OTHER_SERVICE_HANDLE = 0.8
SIGNAL_IDENTIFIER = 0.6
VICTIM_NAME_AGE = 0.4
VICTIM_NAME = 0.3
SIGNAL_NAME = 0.2

# Ads seen this long before a case was opened still belong to its period: a case is opened
# on activity that went on before it.
LOOKBACK_DAYS = 180
# A signal's given name matches ads seen this many days either side of the signal.
SIGNAL_DAYS = 7
# A victim's stated age matches an ad's within this many years (ads round, and lie).
AGE_TOLERANCE = 0
# Weak leads (names, partners' signals) on a network that scoring does not suspect of
# trafficking are most likely namesakes and false alarms: their strength is multiplied by
# this.
UNSUSPECTED_FACTOR = 0.5

_LEAD_COLUMNS = ("id", "network_id", "entity_id", "case_id", "kind", "value", "ads",
                 "evidence", "first_seen", "last_seen", "strength", "found_at", "updated_at")
_KEY_COLUMNS = ("entity_id", "case_id", "kind", "value", "ad_kind", "match_value", "strength",
                "weak", "departement", "commune", "date_from", "date_to", "age_low", "age_high",
                "age_missing", "name_hash")
_SHA256 = frozenset("0123456789abcdef")


class LeadError(ValueError):
    """A decision that cannot be recorded; the message is one line, in French."""


# -- finding -------------------------------------------------------------------------------


@dataclass
class LeadSummary:
    """What a run of ``find_leads`` found and changed."""

    keys: int = 0  # case values looked for (identifiers, names with place and period)
    leads: int = 0  # leads that ads show now
    new: int = 0
    updated: int = 0  # more ads, a later sighting, a stronger key...
    unchanged: int = 0
    followed: int = 0  # moved to the network their ads went to (merge, split)
    removed: int = 0  # no ad shows them any longer, and nobody decided on them
    kept_without_ads: int = 0  # no ad shows them any longer, kept for their decisions
    by_kind: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def lead_id(network_id: str, entity_id: str, kind: str, value: str, attempt: int = 0) -> str:
    """The identifier a lead is given when first found: stable across runs and stores.
    (``attempt`` > 0 only when a lead that moved to another network holds it already.)"""
    parts = (network_id, entity_id, kind, value) + ((str(attempt),) if attempt else ())
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).hexdigest()
    return f"l-{digest}"


@functools.cache
def _services() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(services whose handle may be a phone number, services with usernames), from the
    handle normaliser's data."""
    data = json.loads(resources.files("faisceau.normalise").joinpath(
        "data", "handle_services.json").read_text("utf-8"))
    phone = tuple(sorted(n for n, s in data["services"].items()
                         if s["handle_kind"] in ("phone", "both")))
    username = tuple(sorted(n for n, s in data["services"].items()
                            if s["handle_kind"] in ("username", "both")))
    return phone, username


def _phone(value: str) -> str | None:
    """A case phone as the ads' normaliser writes it (E.164), or None."""
    found = field_values("phone", value)
    if len(found) == 1:
        return found[0].value
    return value if value.startswith("+") and value[1:].isdigit() else None


def _email(value: str) -> str | None:
    found = field_values("email", value)
    return found[0].value if len(found) == 1 else None


def _handle(service: str | None, username: str) -> tuple[str, str] | None:
    """(service, handle) of an online account, as the ads' normaliser writes them."""
    username = username.strip().lstrip("@")
    if not username:
        return None
    if service:
        found = field_values("handle", f"{service}: {username}")
        if len(found) == 1 and found[0].detail:
            return str(found[0].detail["service"]), str(found[0].detail["handle"])
    found = field_values("handle", f"snapchat: {username}")  # the folding, whatever service
    if len(found) == 1 and found[0].detail:
        return "", str(found[0].detail["handle"])
    return None


def _phone_keys(base: tuple[Any, ...], number: str, strength: float,
                weak: int) -> list[tuple[Any, ...]]:
    """Keys of a phone: the number, and the messaging handles that are that number
    (international, and as dialled nationally)."""
    phone_services, _ = _services()
    forms = [number]
    try:
        national = phonenumbers.format_number(phonenumbers.parse(number),
                                              phonenumbers.PhoneNumberFormat.NATIONAL)
        digits = "".join(c for c in national if c.isdigit())
        if digits and digits != number.lstrip("+"):
            forms.append(digits)
    except phonenumbers.NumberParseException:
        pass
    keys = [(*base, "phone", number, "phone", number, strength, weak)]
    keys += [(*base, "phone", number, "handle", f"{service}:{form}", strength, weak)
             for service in phone_services for form in forms]
    return keys


def _anywhere(keys: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Identifiers: no place, period or age to meet."""
    return [k if len(k) == len(_KEY_COLUMNS) else
            (*k, None, None, None, None, None, None, 0, None) for k in keys]


def _day(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value[:10]), datetime.min.time())
    except ValueError:
        return None


def case_keys(conn: Connection) -> list[tuple[Any, ...]]:
    """What the case files hold that ads may show, as rows of ``_KEY_COLUMNS``: each value
    normalised as the ads' values are, with its strength and, for names, the place and
    period it must be seen in. Read from the statements through their indexes."""
    keys: list[tuple[Any, ...]] = []
    # Identifiers: phones and e-mails of any entity, hashes.
    rows = bulk.fetch(conn, (
        "SELECT s.entity_id, s.schema, s.prop_type, s.value, COALESCE(e.case_id, s.case_id) "
        "FROM intel_statement s LEFT JOIN intel_entity e ON e.id = s.entity_id "
        "WHERE s.prop_type IN ('phone', 'email', 'checksum')"), ())
    for entity_id, schema, prop_type, value, case_id in rows:
        signal = schema == "Event"
        strength, weak = (SIGNAL_IDENTIFIER, 1) if signal else (CASE_IDENTIFIER, 0)
        base = (entity_id, case_id)
        if prop_type == "phone":
            number = _phone(value)
            if number:
                keys += _phone_keys(base, number, strength, weak)
        elif prop_type == "email":
            email = _email(value)
            if email:
                keys.append((*base, "email", email, "email", email, strength, weak))
        elif len(value) == 64 and set(value.lower()) <= _SHA256:
            keys.append((*base, "image", value.lower(), "image", value.lower(), strength,
                         weak))
    # Bookings: the phone and e-mail an accommodation was booked with (keywords).
    rows = bulk.fetch(conn, (
        "SELECT s.entity_id, s.value, COALESCE(e.case_id, s.case_id) FROM intel_statement s "
        "LEFT JOIN intel_entity e ON e.id = s.entity_id WHERE s.prop_type = 'string' "
        "AND s.value >= 'booking_' AND s.value < 'booking`' AND s.prop = 'keywords'"), ())
    for entity_id, keyword, case_id in rows:
        what, _, value = keyword.partition(":")
        if what == "booking_phone" and (number := _phone(value)):
            keys += _phone_keys((entity_id, case_id), number, CASE_IDENTIFIER, 0)
        elif what == "booking_email" and (email := _email(value)):
            keys.append((entity_id, case_id, "email", email, "email", email, CASE_IDENTIFIER,
                         0))
    keys += _account_keys(conn)
    keys += _victim_keys(conn)
    keys += _signal_name_keys(conn)
    return sorted(set(_anywhere(keys)), key=lambda k: tuple(str(v) for v in k))


def _account_keys(conn: Connection) -> list[tuple[Any, ...]]:
    """Online accounts: the handle on its service, and the same username elsewhere."""
    accounts: dict[str, dict[str, Any]] = defaultdict(dict)
    for entity_id, case_id, prop, value in bulk.fetch(conn, (
            "SELECT e.id, e.case_id, s.prop, s.value FROM intel_entity e "
            "JOIN intel_statement s ON s.entity_id = e.id WHERE e.schema = 'UserAccount' "
            "AND s.prop IN ('username', 'service')"), ()):
        account = accounts[entity_id]
        account["case"] = case_id
        account.setdefault(prop, []).append(value)
    _, username_services = _services()
    keys: list[tuple[Any, ...]] = []
    for entity_id, account in accounts.items():
        service = (account.get("service") or [None])[0]
        for username in account.get("username", []):
            handle = _handle(service, username)
            if handle is None:
                continue
            own, name = handle
            for other in username_services:
                value = f"{other}:{name}"
                strength = CASE_IDENTIFIER if other == own else OTHER_SERVICE_HANDLE
                keys.append((entity_id, account["case"], "handle", value, "handle", value,
                             strength, 0))
    return keys


def _case_periods(conn: Connection) -> dict[str, tuple[datetime | None, datetime | None]]:
    """Each case's period: from ``LOOKBACK_DAYS`` before it was opened to its closing."""
    dates: dict[str, dict[str, str]] = defaultdict(dict)
    for case_id, prop, value in bulk.fetch(conn, (
            "SELECT e.id, s.prop, s.value FROM intel_entity e JOIN intel_statement s "
            "ON s.entity_id = e.id WHERE e.schema = 'CourtCase' "
            "AND s.prop IN ('fileDate', 'closeDate')"), ()):
        dates[case_id][prop] = min(value, dates[case_id].get(prop, value))
    periods = {}
    for case_id, known in dates.items():
        opened, closed = _day(known.get("fileDate")), _day(known.get("closeDate"))
        start = opened - timedelta(days=LOOKBACK_DAYS) if opened else None
        periods[case_id] = (start, closed + timedelta(days=1) if closed else None)
    return periods


def _victim_keys(conn: Connection) -> list[tuple[Any, ...]]:
    """Victims' given names (and stated ages), in their case's département and period."""
    periods = _case_periods(conn)
    victims: dict[str, dict[str, Any]] = defaultdict(dict)
    for entity_id, case_id, departement, prop, value in bulk.fetch(conn, (
            "SELECT e.id, e.case_id, e.departement, s.prop, s.value FROM intel_entity e "
            "JOIN intel_statement s ON s.entity_id = e.id WHERE e.schema = 'Person' "
            "AND e.category = 'victim' AND s.prop IN ('firstName', 'keywords')"), ()):
        victim = victims[entity_id]
        victim.update(case=case_id, departement=departement)
        if prop == "firstName":
            victim.setdefault("names", set()).add(name_key(value))
        elif value.startswith("stated_age:") and value[11:].isdigit():
            victim["age"] = int(value[11:])
    keys: list[tuple[Any, ...]] = []
    for entity_id, victim in victims.items():
        case_id, departement = victim["case"], victim["departement"]
        if not departement or case_id not in periods:
            continue  # no place or no period: a name alone is no lead
        start, end = periods[case_id]
        for name in victim.get("names", ()):
            if not name:
                continue
            base = (entity_id, case_id, "name", name, "name", name)
            age = victim.get("age")
            place = (departement, None, start, end)
            hashed = pseudonym_key(name)
            if age:
                # The age is known: an ad showing another age is someone else.
                keys.append((*base, VICTIM_NAME_AGE, 1, *place, age, age, 0, hashed))
                if AGE_TOLERANCE:
                    keys.append((*base, VICTIM_NAME, 1, *place, age - AGE_TOLERANCE,
                                 age + AGE_TOLERANCE, 0, hashed))
                keys.append((*base, VICTIM_NAME, 1, *place, None, None, 1, hashed))
            else:
                keys.append((*base, VICTIM_NAME, 1, *place, None, None, 0, hashed))
    return keys


def _signal_name_keys(conn: Connection) -> list[tuple[Any, ...]]:
    """The given name a partner's signal mentions, in its commune (else its département),
    near its date."""
    signals: dict[str, dict[str, Any]] = defaultdict(dict)
    for entity_id, case_id, departement, prop, value, fact_date in bulk.fetch(conn, (
            "SELECT s.entity_id, e.case_id, e.departement, s.prop, s.value, "
            "COALESCE(s.fact_date, e.first_date) FROM intel_statement k "
            "JOIN intel_statement s ON s.entity_id = k.entity_id "
            "JOIN intel_entity e ON e.id = s.entity_id "
            "WHERE k.prop_type = 'string' AND k.value = 'report:partner_signal' "
            "AND k.prop = 'keywords' AND s.prop IN ('namesMentioned', 'keywords')"), ()):
        signal = signals[entity_id]
        signal.update(case=case_id, departement=departement)
        if prop == "namesMentioned":
            signal.setdefault("names", []).append(value)
            signal["day"] = _day(fact_date)
        elif value.startswith("commune:") and len(value) > 8:
            signal["commune"] = value[8:]
    keys: list[tuple[Any, ...]] = []
    for entity_id, signal in signals.items():
        day = signal.get("day")
        if day is None or not (signal["departement"] or signal.get("commune")):
            continue
        start, end = day - timedelta(days=SIGNAL_DAYS), day + timedelta(days=SIGNAL_DAYS + 1)
        commune = signal.get("commune")
        for value in signal.get("names", ()):
            words = value.split()
            if not words:
                continue
            name = name_key(words[0])  # the given name: ads show no surname
            keys.append((entity_id, signal["case"], "name", name, "name", name, SIGNAL_NAME, 1,
                         None if commune else signal["departement"], commune, start, end,
                         None, None, 0, pseudonym_key(name)))
    return keys


_TEMP_KEY = "lead_key"
_TEMP_HIT = "lead_hit"


def _temp_tables(conn: Connection) -> None:
    """The case keys and the ads they meet, in temporary tables of this transaction."""
    postgresql = conn.dialect.name == "postgresql"
    suffix = " ON COMMIT DROP" if postgresql else ""
    timestamp = "TIMESTAMP" if postgresql else "DATETIME"
    if not postgresql:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{_TEMP_KEY}")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{_TEMP_HIT}")
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE {_TEMP_KEY} (entity_id VARCHAR(128), case_id VARCHAR(64), "
        "kind VARCHAR(16), value TEXT, ad_kind VARCHAR(16), match_value TEXT, "
        f"strength FLOAT, weak INTEGER, departement VARCHAR(3), commune VARCHAR(8), "
        f"date_from {timestamp}, "
        f"date_to {timestamp}, age_low INTEGER, age_high INTEGER, age_missing INTEGER, "
        f"name_hash BIGINT){suffix}")
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE {_TEMP_HIT} (network_id VARCHAR(24), entity_id VARCHAR(128), "
        "case_id VARCHAR(64), kind VARCHAR(16), value TEXT, strength FLOAT, weak INTEGER, "
        f"ad_pk BIGINT, first_seen {timestamp}, last_seen {timestamp}){suffix}")


def _drop_temp_tables(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{_TEMP_KEY}")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{_TEMP_HIT}")


def _match(conn: Connection) -> None:
    """Every (key, ad version in a network) that meet, into the hit table.

    Identifiers drive: each is looked up in the index of the ads' values (or of their
    image hashes). Names are too common for that (every "Nina" of the country): the narrow
    per-version features of scoring (pseudonym key, stated age, département) are read once
    and each looked up among the keys; only the versions that pass are read whole."""
    insert = (f"INSERT INTO {_TEMP_HIT} SELECT n.network_id, k.entity_id, k.case_id, k.kind, "
              "k.value, k.strength, k.weak, v.ad_pk, v.first_seen, v.last_seen FROM ")
    # CROSS JOIN fixes SQLite's join order (PostgreSQL plans it as an inner join).
    conn.exec_driver_sql(
        f"{insert}{_TEMP_KEY} k CROSS JOIN ad_value av JOIN ad_version v "
        "ON v.id = av.version_id JOIN ad_network n ON n.ad_pk = v.ad_pk "
        "WHERE av.kind = k.ad_kind AND av.value = k.match_value "
        "AND k.ad_kind IN ('phone', 'email', 'handle')")
    conn.exec_driver_sql(
        f"{insert}{_TEMP_KEY} k CROSS JOIN ad_image i JOIN ad_version v "
        "ON v.id = i.version_id JOIN ad_network n ON n.ad_pk = v.ad_pk "
        "WHERE i.sha256 = k.match_value AND k.ad_kind = 'image'")
    conn.exec_driver_sql(
        f"{insert}score_features f CROSS JOIN {_TEMP_KEY} k JOIN ad_version v "
        "ON v.id = f.version_id JOIN ad_network n ON n.ad_pk = f.ad_pk "
        "WHERE k.name_hash = f.name_key AND k.ad_kind = 'name' "
        "AND (k.departement IS NULL OR f.departement = k.departement) "
        "AND ((k.age_missing = 1 AND f.stated_age IS NULL) OR (k.age_missing = 0 AND "
        "(k.age_low IS NULL OR f.stated_age BETWEEN k.age_low AND k.age_high))) "
        "AND (k.commune IS NULL OR v.commune = k.commune) "
        "AND (k.date_from IS NULL OR v.last_seen >= k.date_from) "
        "AND (k.date_to IS NULL OR v.first_seen < k.date_to)")


@dataclass
class _Found:
    network_id: str
    entity_id: str
    case_id: str | None
    kind: str
    value: str
    ads: int
    first_seen: datetime
    last_seen: datetime
    strength: float
    evidence: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.network_id, self.entity_id, self.kind, self.value)


def _found(conn: Connection) -> dict[tuple[str, str, str, str], _Found]:
    """The leads the hits make, aggregated in SQL, with the first ads of each in time."""
    group = "network_id, entity_id, kind, value"
    suspected = ("COALESCE((SELECT CASE WHEN s.trafficking_suspected THEN 1 ELSE 0 END FROM "
                 "network_score s WHERE s.network_id = h.network_id), 0)")
    found = {}
    for network_id, entity_id, kind, value, case_id, ads, first, last, strength in bulk.fetch(
            conn, f"SELECT {group}, MAX(case_id), COUNT(DISTINCT ad_pk), MIN(first_seen), "
                  f"MAX(last_seen), MAX(CASE WHEN weak = 1 AND {suspected} = 0 THEN strength "
                  f"* {UNSUSPECTED_FACTOR} ELSE strength END) FROM {_TEMP_HIT} h "
                  f"GROUP BY {group}", ()):
        lead = _Found(network_id, entity_id, case_id, kind, value, int(ads),
                      bulk.as_datetime(first), bulk.as_datetime(last), round(float(strength), 6))
        found[lead.key] = lead
    evidence = bulk.fetch(conn, (
        f"SELECT {group}, ref FROM (SELECT h.network_id, h.entity_id, h.kind, h.value, "
        f"{_concat(conn, 'a.source', 'a.ad_id')} AS ref, ROW_NUMBER() OVER (PARTITION BY "
        "h.network_id, h.entity_id, h.kind, h.value ORDER BY a.first_seen, a.source, a.ad_id"
        f") AS pos FROM (SELECT DISTINCT {group}, ad_pk FROM {_TEMP_HIT}) h "
        f"JOIN ad a ON a.id = h.ad_pk) ranked WHERE pos <= {EVIDENCE_ADS} "
        f"ORDER BY {group}, pos"), ())
    for network_id, entity_id, kind, value, ref in evidence:
        found[(network_id, entity_id, kind, value)].evidence.append(ref)
    return found


def _concat(conn: Connection, left: str, right: str) -> str:
    return f"({left} || ':' || {right})"


def _ads_now(conn: Connection, refs: Iterable[str]) -> dict[str, str]:
    """The network each of these ads ("source:ad_id") is in now."""
    by_source: dict[str, list[str]] = defaultdict(list)
    for ref in set(refs):
        source, _, ad_id = ref.partition(":")
        by_source[source].append(ad_id)
    pk_ref: dict[int, str] = {}
    for source, ad_ids in by_source.items():
        for row in bulk.ads_by_key(conn, source, sorted(ad_ids)):
            pk_ref[int(row[0])] = f"{source}:{row[1]}"
    rows = bulk.fetch_in(conn, "SELECT ad_pk, network_id FROM ad_network", "ad_pk",
                         sorted(pk_ref))
    return {pk_ref[int(pk)]: str(network_id) for pk, network_id in rows}


def _where_now(evidence: list[str], network_of: dict[str, str]) -> str | None:
    """The network most of a lead's evidence ads are in now."""
    counts = Counter(network_of[r] for r in evidence if r in network_of)
    if not counts:
        return None
    return min(counts, key=lambda n: (-counts[n], n))


def find_leads(store: Store, *, now: datetime | None = None) -> LeadSummary:
    """Cross-reference the ads' networks with the case files; see the module's description.
    One transaction, under the store's writer lock (so that networks do not change while
    they are read): a run killed midway leaves the previous leads whole."""
    started = time.perf_counter()
    stamp = _utc_naive(now)
    summary = LeadSummary()
    with ingest_lock(store), store.begin() as conn:
        keys = case_keys(conn)
        summary.keys = len({(k[0], k[2], k[3]) for k in keys})
        _temp_tables(conn)
        bulk.insert_rows(conn, _TEMP_KEY, _KEY_COLUMNS, keys)
        conn.exec_driver_sql(f"CREATE INDEX {_TEMP_KEY}_match ON {_TEMP_KEY} "
                             "(ad_kind, match_value)")
        conn.exec_driver_sql(f"CREATE INDEX {_TEMP_KEY}_name ON {_TEMP_KEY} (name_hash)")
        _match(conn)
        found = _found(conn)
        _drop_temp_tables(conn)
        _write(conn, found, stamp, summary)
    bulk.refresh_statistics(store, ("intel_lead",))
    summary.leads = len(found)
    summary.by_kind = dict(sorted(Counter(f.kind for f in found.values()).items()))
    summary.seconds = time.perf_counter() - started
    return summary


def _write(conn: Connection, found: dict[tuple[str, str, str, str], _Found], now: datetime,
           summary: LeadSummary) -> None:
    """Insert, update, move and remove leads so that the table says what ``found`` does,
    keeping every lead an analyst decided on."""
    existing = {r[0]: r for r in bulk.fetch(conn, (
        "SELECT id, network_id, entity_id, kind, value, case_id, ads, evidence, first_seen, "
        "last_seen, strength, found_at FROM intel_lead"), ())}
    decided = {str(r[0]) for r in bulk.fetch(
        conn, "SELECT DISTINCT lead_id FROM intel_lead_decision", ())}
    by_key: dict[tuple[str, str, str, str], list[Any]] = defaultdict(list)
    for row in existing.values():
        by_key[(row[1], row[2], row[3], row[4])].append(row)
    # Leads whose network no longer shows their value: their ads may be in another one now.
    orphans = [r for key, rows in by_key.items() if key not in found for r in rows]
    wanted = {(e, k, v) for (_n, e, k, v) in found}
    movable = [r for r in orphans if (r[2], r[3], r[4]) in wanted]
    network_of = _ads_now(conn, [ref for r in movable for ref in orjson.loads(r[7])])
    heirs: dict[tuple[str, str, str, str], list[Any]] = defaultdict(list)
    for row in movable:
        network_now = _where_now(orjson.loads(row[7]), network_of)
        if network_now is not None and (network_now, row[2], row[3], row[4]) in found:
            heirs[(network_now, row[2], row[3], row[4])].append(row)
    upserts: list[tuple[Any, ...]] = []
    removals: list[str] = []
    settled: set[str] = set()  # existing leads given a fate below
    for key, lead in found.items():
        candidates = by_key.get(key, []) + heirs.get(key, [])
        # The lead to keep: one an analyst decided on, else the one already on this network,
        # else the oldest.
        candidates.sort(key=lambda r: (r[0] not in decided, r[1] != key[0],
                                       bulk.as_datetime(r[11]), r[0]))
        values = (lead.network_id, lead.entity_id, lead.case_id, lead.kind, lead.value,
                  lead.ads, orjson.dumps(lead.evidence).decode(), lead.first_seen,
                  lead.last_seen, lead.strength)
        if not candidates:
            # A lead that followed its ads elsewhere keeps the identifier it was found with:
            # a new lead where it was gets another one.
            new_id, attempt = lead_id(*key), 0
            while new_id in existing:
                attempt += 1
                new_id = lead_id(*key, attempt=attempt)
            upserts.append((new_id, *values, now, now))
            summary.new += 1
            continue
        keeper = candidates[0]
        settled.update(r[0] for r in candidates)
        before = (keeper[1], keeper[2], keeper[5], keeper[3], keeper[4], int(keeper[6]),
                  keeper[7], bulk.as_datetime(keeper[8]) if keeper[8] else None,
                  bulk.as_datetime(keeper[9]) if keeper[9] else None,
                  round(float(keeper[10]), 6))
        if before != values:
            upserts.append((keeper[0], *values, bulk.as_datetime(keeper[11]), now))
            if keeper[1] != key[0]:
                summary.followed += 1
            else:
                summary.updated += 1
        else:
            summary.unchanged += 1
        _retire(candidates[1:], decided, upserts, removals, now, summary)
    _retire([r for r in orphans if r[0] not in settled], decided, upserts, removals, now,
            summary)
    _delete_undecided(conn, removals)
    bulk.upsert_rows(conn, "intel_lead", "id", _LEAD_COLUMNS, upserts,
                     update=[c for c in _LEAD_COLUMNS if c not in ("id", "found_at")])
    bulk.note_change(conn, "leads")


def _delete_undecided(conn: Connection, lead_ids: list[str]) -> None:
    """Delete these leads, except any an analyst decided on meanwhile (decisions are taken
    without the writer lock that ``find_leads`` holds)."""
    if not lead_ids:
        return
    keep = ("NOT EXISTS (SELECT 1 FROM intel_lead_decision d "
            "WHERE d.lead_id = intel_lead.id)")
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("DELETE FROM intel_lead WHERE id IN (SELECT value FROM "
                             f"json_each(?)) AND {keep}", (orjson.dumps(lead_ids).decode(),))
    else:
        conn.exec_driver_sql(f"DELETE FROM intel_lead WHERE id = ANY(%s) AND {keep}",
                             (lead_ids,))


def _retire(rows: Sequence[Any], decided: set[str], upserts: list[tuple[Any, ...]],
            removals: list[str], now: datetime, summary: LeadSummary) -> None:
    """Leads no ad shows any more: removed, or, when decided on, kept with no ads."""
    for row in rows:
        if row[0] not in decided:
            removals.append(row[0])
            summary.removed += 1
        elif int(row[6]) != 0:
            upserts.append((row[0], row[1], row[2], row[5], row[3], row[4], 0, row[7],
                            _optional_time(row[8]), _optional_time(row[9]), row[10],
                            bulk.as_datetime(row[11]), now))
            summary.kept_without_ads += 1


def _utc_naive(value: datetime | None) -> datetime:
    if value is None:
        return bulk.utc_now()
    if value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


# -- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadDecision:
    id: int
    lead_id: str
    decision: str  # confirmed, dismissed
    reason: str | None
    analyst: str
    decided_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "lead_id": self.lead_id, "decision": self.decision,
                "reason": self.reason, "analyst": self.analyst,
                "decided_at": bulk.iso_utc(self.decided_at)}


@dataclass
class Lead:
    """A lead as analysts see it: with its entity, case, network risk and decisions."""

    id: str
    network_id: str
    entity_id: str
    case_id: str | None
    kind: str
    value: str
    ads: int  # the network's ads that show the value; 0: none any longer
    evidence: list[str]
    first_seen: datetime | None
    last_seen: datetime | None
    strength: float
    found_at: datetime
    updated_at: datetime
    entity_schema: str | None = None
    entity_caption: str | None = None
    entity_category: str | None = None
    case_caption: str | None = None
    network_risk: float | None = None
    network_ads: int | None = None
    decisions: list[LeadDecision] = field(default_factory=list)  # oldest first

    @property
    def decision(self) -> LeadDecision | None:
        """The latest decision, which counts."""
        return self.decisions[-1] if self.decisions else None

    @property
    def status(self) -> str:
        """``new`` (nobody decided yet), or the latest decision."""
        return self.decision.decision if self.decision else "new"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "network_id": self.network_id, "entity_id": self.entity_id,
            "case_id": self.case_id, "kind": self.kind, "value": self.value, "ads": self.ads,
            "evidence": self.evidence, "first_seen": bulk.iso_utc(self.first_seen),
            "last_seen": bulk.iso_utc(self.last_seen), "strength": self.strength,
            "found_at": bulk.iso_utc(self.found_at), "updated_at": bulk.iso_utc(self.updated_at),
            "entity": {"schema": self.entity_schema, "caption": self.entity_caption,
                       "category": self.entity_category},
            "case_caption": self.case_caption,
            "network": {"risk": self.network_risk, "ads": self.network_ads},
            "status": self.status,
            "decisions": [d.to_dict() for d in self.decisions],
        }


_SELECT_LEADS = (
    "SELECT l.id, l.network_id, l.entity_id, l.case_id, l.kind, l.value, l.ads, l.evidence, "
    "l.first_seen, l.last_seen, l.strength, l.found_at, l.updated_at, e.schema, e.caption, "
    "e.category, c.caption, s.risk, n.ads FROM intel_lead l "
    "LEFT JOIN intel_entity e ON e.id = l.entity_id "
    "LEFT JOIN intel_entity c ON c.id = l.case_id "
    "LEFT JOIN network n ON n.id = l.network_id "
    "LEFT JOIN network_score s ON s.network_id = l.network_id")


def _optional_time(value: Any) -> datetime | None:
    return bulk.as_datetime(value) if value is not None else None


def _leads(conn: Connection, rows: Sequence[Sequence[Any]]) -> list[Lead]:
    leads = [Lead(
        id=r[0], network_id=r[1], entity_id=r[2], case_id=r[3], kind=r[4], value=r[5],
        ads=int(r[6]), evidence=list(orjson.loads(r[7])), first_seen=_optional_time(r[8]),
        last_seen=_optional_time(r[9]), strength=float(r[10]),
        found_at=bulk.as_datetime(r[11]), updated_at=bulk.as_datetime(r[12]),
        entity_schema=r[13], entity_caption=r[14], entity_category=r[15], case_caption=r[16],
        network_risk=float(r[17]) if r[17] is not None else None,
        network_ads=int(r[18]) if r[18] is not None else None) for r in rows]
    decisions = _decisions(conn, [lead.id for lead in leads])
    for lead in leads:
        lead.decisions = decisions.get(lead.id, [])
    return leads


def _decisions(conn: Connection, lead_ids: Sequence[str]) -> dict[str, list[LeadDecision]]:
    out: dict[str, list[LeadDecision]] = defaultdict(list)
    rows = bulk.fetch_in(conn, "SELECT id, lead_id, decision, reason, analyst, decided_at "
                               "FROM intel_lead_decision", "lead_id", sorted(set(lead_ids)))
    for r in sorted(rows, key=lambda r: (bulk.as_datetime(r[5]), int(r[0]))):
        out[r[1]].append(LeadDecision(int(r[0]), r[1], r[2], r[3], r[4],
                                      bulk.as_datetime(r[5])))
    return out


def lead_queue(conn: Connection, *, limit: int | None = 20,
               include_decided: bool = False) -> list[Lead]:
    """Leads to look at: those nobody decided on, strongest first, then those with more
    ads (then identifier). ``include_decided`` adds, after them, the leads decided on and
    those no ad shows any longer, in the same order."""
    if limit is not None and limit < 1:
        raise LeadError("la limite doit être d'au moins 1")
    undecided = ("NOT EXISTS (SELECT 1 FROM intel_lead_decision d WHERE d.lead_id = l.id) "
                 "AND l.ads > 0")
    if include_decided:
        where, order = "", f"CASE WHEN {undecided} THEN 0 ELSE 1 END, "
    else:
        where, order = f" WHERE {undecided}", ""
    sql = (f"{_SELECT_LEADS}{where} ORDER BY {order}l.strength DESC, l.ads DESC, l.id"
           + (f" LIMIT {int(limit)}" if limit is not None else ""))
    return _leads(conn, bulk.fetch(conn, sql, ()))


def lead_detail(conn: Connection, lead_id: str) -> Lead | None:
    """One lead with its decisions, or None."""
    rows = bulk.fetch(conn, f"{_SELECT_LEADS} WHERE l.id = {bulk.mark(conn)}", (lead_id,))
    leads = _leads(conn, rows)
    return leads[0] if leads else None


def leads_for_network(conn: Connection, network_id: str) -> list[Lead]:
    """The leads of a network, strongest first."""
    return _leads(conn, bulk.fetch(conn, (
        f"{_SELECT_LEADS} WHERE l.network_id = {bulk.mark(conn)} "
        "ORDER BY l.strength DESC, l.ads DESC, l.id"), (network_id,)))


def leads_for_entity(conn: Connection, entity_id: str) -> list[Lead]:
    """The leads of a case entity and of the records resolved to the same person
    (``intel_entity.canonical_id``), strongest first."""
    m = bulk.mark(conn)
    # One IN over a UNION, not an OR: PostgreSQL then reads the lead index instead of every
    # lead (10 ms a page on a national month).
    return _leads(conn, bulk.fetch(conn, (
        f"{_SELECT_LEADS} WHERE l.entity_id IN (SELECT {m} UNION SELECT o.id FROM "
        "intel_entity o JOIN intel_entity me ON me.canonical_id = o.canonical_id "
        f"WHERE me.id = {m}) ORDER BY l.strength DESC, l.ads DESC, l.id"),
        (entity_id, entity_id)))


# -- deciding ------------------------------------------------------------------------------


def decide(store: Store, lead: str, decision: str, analyst: str, reason: str | None = None,
           *, now: datetime | None = None) -> int:
    """Record an analyst's decision on a lead: ``confirmed`` (with an optional reason) or
    ``dismissed`` (the reason is required). Returns its id. Decisions are appended, never
    changed: the latest counts."""
    if decision not in DECISIONS:
        raise LeadError(f"décision inconnue « {decision} » (attendu : {', '.join(DECISIONS)})")
    name = (analyst or "").strip()
    why = (reason or "").strip() or None
    if not name:
        raise LeadError("le nom de l'analyste est obligatoire")
    if len(name) > MAX_TEXT:
        raise LeadError(f"nom de l'analyste trop long ({len(name)} caractères, "
                        f"{MAX_TEXT} au plus)")
    if decision == "dismissed" and why is None:
        raise LeadError("écarter une piste exige un motif")
    with store.begin() as conn:
        m = bulk.mark(conn)
        if not bulk.fetch(conn, f"SELECT id FROM intel_lead WHERE id = {m}", (lead,)):
            raise LeadError(f"piste inconnue : {lead}")
        bulk.note_change(conn, "leads")
        result = conn.execute(intel_lead_decision.insert().values(
            lead_id=lead, decision=decision, reason=why, analyst=name,
            decided_at=_utc_naive(now)))
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])
