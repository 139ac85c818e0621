"""The one path of every read of records in the web application.

``consult`` opens the transaction, refuses a role that reads no records (403), runs the
view's read with a ``Reading`` (the viewer, the ads they may see, the disclosure of
sensitive values), answers a record the viewer may not see exactly as a missing one (404;
both logged as ``denied``, with why, by the same statements), passes the answer through
``Disclosure.apply`` and writes the consultation-log entry (with what was masked, or shown
with which reason) in the same transaction as the read. A refusal is raised after the
transaction has committed, so that the log keeps it. A view has no other way to answer: a
new page cannot forget need-to-know's last step, the masking of sensitive values, or the log.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import HTTPException
from sqlalchemy.engine import Connection

from faisceau.share import audit
from faisceau.share.access import (
    READERS,
    AdScope,
    Viewer,
    ad_scope,
    lead_value_shown,
    visible_leads,
)
from faisceau.share.accounts import User
from faisceau.store import Store
from faisceau.store.bulk import fetch_in
from faisceau.web.disclosure import Disclosure

T = TypeVar("T")
ROLE_REFUSED = "Votre rôle ne donne pas accès aux dossiers."


class Refused(HTTPException):
    """A refusal already written to the consultation log."""


class NotThere(Exception):
    """The record is missing, or the viewer may not see it: both answer 404 with
    ``message``; ``why`` ("unknown" or "need-to-know") goes to the log only."""

    def __init__(self, message: str, why: str, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.why = why
        self.detail = detail


def refused_role(conn: Connection, viewer: Viewer, kind: str, record_id: str,
                 roles: tuple[str, ...] = READERS,
                 message: str = ROLE_REFUSED) -> Refused | None:
    """None when the viewer's role reads such records; else the 403, logged as a refusal."""
    if viewer.role in roles:
        return None
    audit.record(conn, viewer, "denied", kind, record_id, detail={"why": "role"})
    return Refused(403, message)


@dataclass
class Reading:
    """What a view's read works with, and what it tells the log."""

    conn: Connection
    viewer: Viewer
    disclosure: Disclosure
    action: str = "view"
    record_id: str | None = None  # the record as the log names it, when not as asked
    detail: dict[str, Any] = field(default_factory=dict)
    logged: bool = True  # False: nothing was read (an empty search form)
    _ads: AdScope | None = None

    @property
    def ads(self) -> AdScope:
        """The ads this viewer may see (read once per request)."""
        if self._ads is None:
            self._ads = ad_scope(self.conn, self.viewer)
        return self._ads


def consult(store: Store, user: User, kind: str, record_id: str,
            read: Callable[[Reading], T], *, reasons: Mapping[str, str] | None = None) -> T:
    """``read``'s answer, disclosed and logged (see the module's docstring)."""
    refused: Refused | None = None
    with store.begin() as conn:
        viewer = user.viewer(conn)
        refused = refused_role(conn, viewer, kind, record_id)
        if refused is None:
            reading = Reading(conn, viewer, Disclosure(conn, reasons))
            try:
                answer = read(reading)
            except NotThere as gone:
                audit.record(conn, viewer, "denied", kind, reading.record_id or record_id,
                             detail={"why": gone.why, **gone.detail})
                refused = Refused(404, gone.message)
            else:
                answer, detail = reading.disclosure.apply(answer, reading.detail)
                if reading.logged:
                    shown = reading.disclosure.shown
                    audit.record(conn, viewer, reading.action, kind,
                                 reading.record_id or record_id,
                                 detail={**detail, **shown.detail()} or None,
                                 reason=shown.reason())
                return answer
    raise refused


def leads_seen(reading: Reading, leads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The leads the viewer may see (``access.visible_leads``), with their ads counted as
    the viewer sees them and their value masked as their record's values are
    (``access.lead_value_shown``); each lead a mapping with at least ``id``,
    ``network_id``, ``entity_id``, ``kind``, ``value``, ``ads`` and ``evidence`` (which
    the answer leaves out)."""
    seen = visible_leads(reading.conn, reading.viewer, reading.ads, leads)
    kept = [lead for lead in leads if lead["id"] in seen]
    people = {str(r[0]): r for r in fetch_in(
        reading.conn, "SELECT id, category, minor, canonical_id, case_id FROM intel_entity",
        "id", sorted({str(x["entity_id"]) for x in kept}))}
    out = []
    for lead in kept:
        _id, category, minor, canonical, case_id = people.get(
            str(lead["entity_id"]), (None, None, False, None, None))
        state = reading.disclosure.state(str(lead["entity_id"]), category, minor,
                                         canonical_id=canonical,
                                         case_ids=[case_id] if case_id else [])
        shown = lead_value_shown(str(lead["kind"]), state)
        out.append({k: v for k, v in lead.items() if k != "evidence"}
                   | {"ads": seen[lead["id"]].ads, "value": lead["value"] if shown else None})
    return out
