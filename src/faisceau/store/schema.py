"""The tables. All times are UTC, stored without offset.

Ads are kept at three grains, so that a daily crawl does not multiply data:

- ``ad``: one row per (source, ad_id), with first/last seen and the sighting count;
- ``ad_version``: one row per distinct content of an ad, the record as collected;
- ``sighting``: one row per (ad, moment seen), which makes re-ingestion a no-op.

``ad_value`` holds every normalised value with its provenance (version and field);
``ad_image`` the hashes of each image; ``quarantine`` the records set aside.

Linking (``faisceau.link``) adds: ``link_features`` and ``link_key`` (per ad version, what
comparisons need, computed once, narrow), ``network`` and ``ad_network`` (every ad in exactly one
network), ``network_evidence`` (why the ads of a network are together, with provenance),
``network_event`` (networks created, merged and split, with cause and date) and
``detect_state`` (how far detection has read).

Scoring (``faisceau.score``) adds: ``score_features`` (per ad version, the cues read in its
text and values, computed once), ``ad_minor`` (the ads suspected of showing a minor),
``network_score`` (each network's latest risk and reasons) and ``review_decision``
(analysts' decisions, append-only: the store refuses to update or delete them).

The intelligence picture (``faisceau.intel``) adds: ``intel_statement`` (every fact of the
case files with its provenance), ``intel_entity`` (each source entity, derived from its
statements, with the person it resolves to), ``intel_candidate`` and ``intel_judgement``
(entity resolution: pairs found, and decisions on them, append-only), ``intel_lead`` and
``intel_lead_decision`` (ads and case entities that meet, and what analysts made of it).

Search over ads (``faisceau.ingest.fulltext``) adds ``ad_search``: one row per ad version
indexed, with what the filters need (narrow) and its stemmed words. The full-text index
itself depends on the store (``SEARCH_INDEX``): an FTS5 table on SQLite, a GIN index on
PostgreSQL; neither can be declared here, so comparisons with this metadata skip them
(``declared``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import TSVECTOR

metadata = MetaData()

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL wants BIGINT at national scale.
Id = BigInteger().with_variant(Integer(), "sqlite")

ingest_file = Table(
    "ingest_file",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("path", Text, nullable=False, unique=True),
    Column("first_ingested_at", DateTime, nullable=False),
    Column("last_ingested_at", DateTime, nullable=False),
    Column("lines", Integer, nullable=False, server_default="0"),
)

ad = Table(
    "ad",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", String(200), nullable=False),
    Column("ad_id", String(500), nullable=False),
    Column("first_seen", DateTime, nullable=False),
    Column("last_seen", DateTime, nullable=False),
    Column("sightings", Integer, nullable=False),
    Column("versions", Integer, nullable=False),
    Column("current_version_id", Id),
    UniqueConstraint("source", "ad_id", name="uq_ad_source_ad_id"),
)

ad_version = Table(
    "ad_version",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ad_pk", Id, ForeignKey("ad.id"), nullable=False),
    Column("version_no", Integer, nullable=False),
    Column("content_hash", String(32), nullable=False),
    Column("first_seen", DateTime, nullable=False),
    Column("last_seen", DateTime, nullable=False),
    Column("sightings", Integer, nullable=False),
    Column("file_id", Id, ForeignKey("ingest_file.id"), nullable=False),
    Column("line", Integer, nullable=False),
    Column("record", Text, nullable=False),
    Column("title", Text),
    Column("text", Text),
    Column("name", Text),
    Column("age", SmallInteger),
    Column("language", String(8)),
    Column("commune", String(8)),
    Column("departement", String(3)),
    Column("region", String(3)),
    UniqueConstraint("ad_pk", "content_hash", name="uq_ad_version_content"),
)

sighting = Table(
    "sighting",
    metadata,
    Column("ad_pk", Id, ForeignKey("ad.id"), primary_key=True),
    Column("seen_at", DateTime, primary_key=True),
    Column("version_id", Id, ForeignKey("ad_version.id"), nullable=False),
    Column("file_id", Id, ForeignKey("ingest_file.id"), nullable=False),
    Column("line", Integer, nullable=False),
    # Hash of the raw line: a file read again skips the lines it already gave, unparsed.
    Column("line_hash", String(16), nullable=False),
    Index("ix_sighting_file_line", "file_id", "line"),
)

ad_value = Table(
    "ad_value",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("version_id", Id, ForeignKey("ad_version.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("value", Text, nullable=False),
    Column("shown", Text, nullable=False),
    Column("field", String(32), nullable=False),
    Column("detail", Text),
    Index("ix_ad_value_version", "version_id"),
    Index("ix_ad_value_kind_value", "kind", "value"),
)

ad_image = Table(
    "ad_image",
    metadata,
    Column("version_id", Id, ForeignKey("ad_version.id"), primary_key=True),
    Column("position", SmallInteger, primary_key=True),
    Column("path", Text),
    Column("url", Text),
    Column("sha256", String(64)),
    Column("phash", String(16)),
    Column("dhash", String(16)),
    Column("width", Integer),
    Column("height", Integer),
    Column("error", Text),
    Index("ix_ad_image_sha256", "sha256"),
    Index("ix_ad_image_phash", "phash"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("path", Text, nullable=False),
    Column("line", Integer, nullable=False),
    Column("line_hash", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("raw", Text, nullable=False),
    Column("set_aside_at", DateTime, nullable=False),
    Column("resolved_at", DateTime),
    Column("resolution", Text),
    UniqueConstraint("path", "line", "line_hash", name="uq_quarantine_line"),
    Index("ix_quarantine_open", "path", "resolved_at"),
)

link_features = Table(
    "link_features",
    metadata,
    Column("version_id", Id, ForeignKey("ad_version.id"), primary_key=True),
    Column("ad_pk", Id, ForeignKey("ad.id"), nullable=False),
    # MinHash signature of the slot-masked text (uint32 little-endian), or NULL: no text.
    Column("text_signature", LargeBinary),
    # Stable hash of (name, stated age): the persona an ad presents, or NULL.
    Column("persona", BigInteger),
    Column("commune", String(8)),
    Index("ix_link_features_ad", "ad_pk"),
)

# The identifiers and photos of each version, copied narrow from ``ad_value`` and
# ``ad_image`` when features are computed: detection reads these for every ad each run.
link_key = Table(
    "link_key",
    metadata,
    Column("version_id", Id, ForeignKey("ad_version.id"), nullable=False),
    Column("ad_pk", Id, ForeignKey("ad.id"), nullable=False),
    Column("kind", String(8), nullable=False),  # phone, email, handle, image
    Column("value", Text, nullable=False),  # image: "sha256 phash"
    Index("ix_link_key_version", "version_id"),
)

network = Table(
    "network",
    metadata,
    Column("id", String(24), primary_key=True),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    # "active", or "merged" / "emptied" when its ads went to other networks.
    Column("status", String(8), nullable=False),
    Column("ads", Integer, nullable=False),
    Column("first_seen", DateTime),
    Column("last_seen", DateTime),
)

ad_network = Table(
    "ad_network",
    metadata,
    Column("ad_pk", Id, ForeignKey("ad.id"), primary_key=True),
    Column("network_id", String(24), ForeignKey("network.id"), nullable=False),
    Index("ix_ad_network_network", "network_id"),
)

network_evidence = Table(
    "network_evidence",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("network_id", String(24), ForeignKey("network.id"), nullable=False),
    # phone, email, handle, image, text, or "corroborated" for a link between two groups.
    Column("kind", String(16), nullable=False),
    Column("value", Text, nullable=False),
    Column("ads", Text, nullable=False),  # JSON list of "source:ad_id"
    Column("first_seen", DateTime, nullable=False),
    Column("last_seen", DateTime, nullable=False),
    Column("detail", Text),  # JSON
    Index("ix_network_evidence_network", "network_id"),
)

network_event = Table(
    "network_event",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),  # when detection recorded it
    Column("data_date", DateTime),  # the latest sighting that caused it
    Column("kind", String(8), nullable=False),  # created, merged, split
    Column("network_id", String(24), nullable=False),
    Column("others", Text, nullable=False),  # JSON list of the other networks involved
    Column("cause", Text, nullable=False),
    Index("ix_network_event_network", "network_id"),
)

detect_state = Table(
    "detect_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("last_version_id", BigInteger, nullable=False),
    Column("runs", Integer, nullable=False),
    Column("last_run_at", DateTime, nullable=False),
)

score_features = Table(
    "score_features",
    metadata,
    Column("version_id", Id, ForeignKey("ad_version.id"), primary_key=True),
    Column("ad_pk", Id, ForeignKey("ad.id"), nullable=False),
    Column("cues", Integer, nullable=False),  # bit mask of ``score.cues.Cue``
    Column("name_key", BigInteger),  # stable hash of the pseudonym, or NULL
    Column("stated_age", SmallInteger),
    Column("departement", String(3)),
    Column("price_hour", Integer),  # EUR asked for one hour, or NULL
    Column("price_half", Integer),  # EUR asked for half an hour, or NULL
    # Keys of the first capitalised words of the text (little-endian int64s), or NULL.
    Column("mentions", LargeBinary),
    Index("ix_score_features_ad", "ad_pk"),
)

# How many versions asked each price, per département (empty: unknown) and length: the
# market the price indicator compares with, kept up to date as versions arrive.
price_histogram = Table(
    "price_histogram",
    metadata,
    Column("departement", String(3), primary_key=True),
    Column("minutes", SmallInteger, primary_key=True),
    Column("price", Integer, primary_key=True),
    Column("versions", Integer, nullable=False),
)

# Ads suspected of showing a minor, and why (``score.combine.MINOR_WHY``). An ad's risk is
# its network's: it is not stored twice.
ad_minor = Table(
    "ad_minor",
    metadata,
    Column("ad_pk", Id, ForeignKey("ad.id"), primary_key=True),
    Column("why", SmallInteger, nullable=False),
)

network_score = Table(
    "network_score",
    metadata,
    Column("network_id", String(24), ForeignKey("network.id"), primary_key=True),
    Column("risk", Float, nullable=False),
    Column("trafficking_suspected", Boolean, nullable=False),
    Column("minor_suspected", Boolean, nullable=False),
    # Fake ads defrauding clients rather than exploitation (``[scam]`` of the catalogue).
    Column("scam_suspected", Boolean, nullable=False, server_default=false()),
    Column("ads", Integer, nullable=False),
    # JSON object {indicator: count} of the indicators that fired.
    Column("indicators", Text, nullable=False),
    # JSON object {"risk": [...], "minor": [...], "scam": [...]}: reasons with evidence.
    Column("reasons", Text, nullable=False),
    Column("scored_at", DateTime, nullable=False),  # when this score last changed
    # The queue's order (risk, then size, then id): a page is read straight off the index,
    # even inside the large groups of networks that share one risk.
    Index("ix_network_score_queue", "risk", "ads", "network_id"),
)

# How far scoring has read, and with which catalogue: a run re-scores only the networks
# that changed since, unless the catalogue did.
score_state = Table(
    "score_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("last_version_id", BigInteger, nullable=False),
    Column("catalogue", String(64), nullable=False),  # hash of the indicator settings
    # The detection run it scored (``detect_state.runs``): a run that follows a failed one
    # scores everything again.
    Column("detect_runs", Integer, nullable=False),
    Column("last_run_at", DateTime, nullable=False),
)

review_decision = Table(
    "review_decision",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("network_id", String(24), nullable=False),
    Column("decision", String(16), nullable=False),  # investigate, dismissed, known
    Column("reason", Text),
    Column("case_ref", String(100)),
    Column("analyst", String(100), nullable=False),
    Column("decided_at", DateTime, nullable=False),
    # What the analyst saw, so that a material change can be told later.
    Column("risk", Float, nullable=False),
    Column("ads", Integer, nullable=False),
    Column("indicators", Text, nullable=False),  # JSON object, as in network_score
    Column("minor_suspected", Boolean, nullable=False),
    Index("ix_review_decision_network", "network_id"),
)

# -- The intelligence picture (``faisceau.intel``) -------------------------------------------
#
# Case files are kept as FollowTheMoney statements: one row per (entity, property, value,
# source), so that a person merged across cases still shows where each value came from.
# ``intel_entity`` is derived from the statements (one row per source entity: its schema,
# caption, the category the Directive keeps apart, and the person it was resolved to).

intel_statement = Table(
    "intel_statement",
    metadata,
    Column("id", String(40), primary_key=True),  # followthemoney's Statement.make_key
    Column("entity_id", String(128), nullable=False),
    Column("schema", String(32), nullable=False),
    Column("prop", String(64), nullable=False),
    Column("prop_type", String(16), nullable=False),
    Column("value", Text, nullable=False),
    Column("original_value", Text),
    # Provenance: the source (a file set, as named at import), the case and unit the fact
    # belongs to, the date of the fact as the source gives it (ISO), and file:line.
    Column("dataset", String(100), nullable=False),
    Column("case_id", String(64)),
    Column("unit", String(32)),
    Column("fact_date", String(10)),
    Column("origin", Text, nullable=False),
    Column("first_seen", DateTime, nullable=False),  # first imported
    Column("last_seen", DateTime, nullable=False),  # last imported
    Index("ix_intel_statement_entity", "entity_id"),
    Index("ix_intel_statement_value", "prop_type", "value"),
)

intel_entity = Table(
    "intel_entity",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("schema", String(32), nullable=False),
    Column("caption", Text),
    # People only: suspect, victim, witness, relation, runaway, fined_client.
    Column("category", String(16)),
    Column("role", String(32)),
    Column("status", String(32)),
    Column("minor", Boolean, nullable=False),
    Column("case_id", String(64)),
    Column("unit", String(32)),
    Column("departement", String(3)),
    Column("first_date", String(10)),
    Column("last_date", String(10)),
    # The resolved entity (the smallest id of its cluster); its own id until merged.
    Column("canonical_id", String(128), nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_intel_entity_canonical", "canonical_id"),
    Index("ix_intel_entity_case", "case_id"),
    Index("ix_intel_entity_schema", "schema", "category"),
)

# Pairs of person records Splink found, with their match probability; those between the
# review and match thresholds wait for an analyst.
intel_candidate = Table(
    "intel_candidate",
    metadata,
    Column("left_id", String(128), primary_key=True),
    Column("right_id", String(128), primary_key=True),
    Column("probability", Float, nullable=False),
    Column("detail", Text, nullable=False),  # JSON: each field's comparison level
    Column("found_at", DateTime, nullable=False),
)

# Judgements on pairs, append-only: positive (same person), negative, unsure. A pair's
# judgement is its latest row; merges are the connected components of positive pairs, so
# undoing a merge is one more (negative) row, and the history stays.
intel_judgement = Table(
    "intel_judgement",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("left_id", String(128), nullable=False),
    Column("right_id", String(128), nullable=False),
    Column("judgement", String(12), nullable=False),
    Column("probability", Float),
    Column("source", String(16), nullable=False),  # splink, analyst
    Column("decided_by", String(100), nullable=False),
    Column("decided_at", DateTime, nullable=False),
    Column("reason", Text),
    Index("ix_intel_judgement_pair", "left_id", "right_id"),
)

# Leads: an ad network and a case entity that share a phone, an e-mail, a handle, an image
# or a name in the same place and time, with the ads that show it.
intel_lead = Table(
    "intel_lead",
    metadata,
    Column("id", String(40), primary_key=True),  # stable hash of network, entity, kind, value
    Column("network_id", String(24), nullable=False),
    Column("entity_id", String(128), nullable=False),
    Column("case_id", String(64)),
    Column("kind", String(16), nullable=False),  # phone, email, handle, image, name
    Column("value", Text, nullable=False),
    Column("ads", Integer, nullable=False),
    Column("evidence", Text, nullable=False),  # JSON list of "source:ad_id" (first 50)
    Column("first_seen", DateTime),
    Column("last_seen", DateTime),
    Column("strength", Float, nullable=False),
    Column("found_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_intel_lead_network", "network_id"),
    Index("ix_intel_lead_entity", "entity_id"),
)

intel_lead_decision = Table(
    "intel_lead_decision",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("lead_id", String(40), nullable=False),
    Column("decision", String(12), nullable=False),  # confirmed, dismissed
    Column("reason", Text),
    Column("analyst", String(100), nullable=False),
    Column("decided_at", DateTime, nullable=False),
    Index("ix_intel_lead_decision_lead", "lead_id"),
)

# -- Sharing under need-to-know (``faisceau.share``) ----------------------------------------
#
# Units (the central office, one per département, partners), accounts with a role and a
# unit, sharing groups of units, the distribution level of each record, and the consultation
# log (Directive 2016/680, art. 25), hash-chained and append-only.

share_unit = Table(
    "share_unit",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(16), nullable=False),  # central, territorial, partner
    Column("departement", String(3)),
)

share_user = Table(
    "share_user",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("login", String(100), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("password_hash", Text, nullable=False),  # argon2id
    Column("role", String(16), nullable=False),  # analyst, referent, investigator, auditor, admin
    Column("unit", String(32), ForeignKey("share_unit.code"), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

# Failed logins (``faisceau.share.throttle``): one row per login tried (whether an account
# has it or not, so that the answers say nothing of which exist), per client address and
# per trusted browser, with when the next attempt may be checked. Successes leave no row.
share_login_throttle = Table(
    "share_login_throttle",
    metadata,
    Column("scope", String(16), primary_key=True),  # login, address, device
    Column("key", String(128), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_start", DateTime, nullable=False),  # when the count began (addresses)
    Column("not_before", DateTime),  # no attempt is checked before then
    Column("refused", Integer, nullable=False),  # attempts refused since the last delay began
    Column("updated_at", DateTime, nullable=False),
)

# Server-side sessions (``faisceau.share.sessions``): the signed cookie names one by a random
# token, of which only the SHA-256 is kept; every request checks it is neither revoked
# (logout, password change or reset, deactivation) nor idle nor past its end.
share_session = Table(
    "share_session",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("login", String(100), ForeignKey("share_user.login"), nullable=False),
    Column("address", String(64)),
    Column("created_at", DateTime, nullable=False),
    Column("last_seen", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
    Column("revoked_why", String(32)),
    Index("ix_share_session_login", "login"),
)

share_group = Table(
    "share_group",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("created_at", DateTime, nullable=False),
)

share_group_member = Table(
    "share_group_member",
    metadata,
    Column("group_name", String(100), ForeignKey("share_group.name"), primary_key=True),
    Column("unit", String(32), ForeignKey("share_unit.code"), primary_key=True),
)

# A record's distribution (MISP's levels): own_unit, with_central, all_units, group. A
# record without a row has its kind's default (``share/distribution.toml``).
share_distribution = Table(
    "share_distribution",
    metadata,
    Column("record_kind", String(16), primary_key=True),  # network, ad, case, entity, lead
    # The record's id; an ad's is "source:ad_id" (migration 0010), as users see it.
    Column("record_id", String(128), primary_key=True),
    Column("level", String(16), nullable=False),
    Column("owner_unit", String(32), nullable=False),
    Column("group_name", String(100)),
    Column("set_by", String(100), nullable=False),
    Column("set_at", DateTime, nullable=False),
)

consultation_log = Table(
    "consultation_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("login", String(100), nullable=False),
    Column("unit", String(32), nullable=False),
    Column("action", String(16), nullable=False),  # view, search, export, denied
    Column("record_kind", String(16), nullable=False),
    Column("record_id", Text, nullable=False),
    Column("detail", Text),  # JSON: the query, filters, what was exported
    Column("reason", Text),  # the reason the user gave (victims, minors)
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),  # sha256(prev_hash + the entry)
    Index("ix_consultation_log_record", "record_kind", "record_id"),
    Index("ix_consultation_log_login", "login", "at"),
)

# -- Search over ads (``faisceau.ingest.fulltext``) ------------------------------------------
#
# One row per ad version indexed (versions are indexed once, in id order: the highest
# ``version_id`` is how far indexing has read). ``terms`` holds the version's title and text
# as stemmed, accent-free words: their tsvector on PostgreSQL (GIN-indexed), their text on
# SQLite (the content of the FTS5 table ``ad_fts``).
ad_search = Table(
    "ad_search",
    metadata,
    Column("version_id", Id, ForeignKey("ad_version.id"), primary_key=True),
    Column("ad_pk", Id, ForeignKey("ad.id"), nullable=False),
    Column("departement", String(3)),
    Column("terms", Text().with_variant(TSVECTOR(), "postgresql")),
    Index("ix_ad_search_ad", "ad_pk"),
    Index("ix_ad_search_departement", "departement", "ad_pk"),
)

# What the store-specific full-text index is made of (created by migration 0006): the FTS5
# table and its shadow tables on SQLite, the GIN index on PostgreSQL.
SEARCH_INDEX = ("ad_fts", "ix_ad_search_terms")


def declared(name: str | None, type_: str, _parents: object = None) -> bool:
    """Whether a store object is declared in this metadata (Alembic's ``include_name``):
    everything but the store-specific full-text index."""
    if name is None:
        return True
    if type_ == "table":
        return not (name == "ad_fts" or name.startswith("ad_fts_"))
    if type_ == "index":
        return name not in SEARCH_INDEX
    return True


# -- What changed when ----------------------------------------------------------------------
#
# One counter per stage that writes what the web application keeps in memory (the link
# graph): a reader compares a few small rows instead of counting million-row tables.
store_change = Table(
    "store_change",
    metadata,
    Column("stage", String(32), primary_key=True),  # networks, case_files, people, leads
    Column("version", BigInteger, nullable=False),
    Column("changed_at", DateTime, nullable=False),
)
