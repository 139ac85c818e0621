"""Ad pages and search over ads: an ad with its provenance and versions; French full-text
search with filters (département, dates, phone, handle). Every view and search is logged.

Need-to-know: an ad is the record kind ``ad``, named ``source:ad_id`` in distributions and
in the log (the page's address holds its primary key), national by default; which ads a
viewer may see is ``access.AdScope``. A search only ever reads the ads the viewer may see
(the refused ones are left out in the query itself, so counts and pages are theirs), and an
ad the viewer may not see answers exactly as a missing one (404, the same statements).
The search is one consultation-log entry with the query, the filters and the ads shown;
each ad page one more.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date
from pathlib import PurePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from faisceau.ingest import fulltext
from faisceau.score.combine import MINOR_WHY
from faisceau.share.access import MISSING, VISIBLE, ad_ref, ad_visibility, visible_networks
from faisceau.share.accounts import User
from faisceau.store import Store
from faisceau.store.bulk import fetch, iso_utc, mark
from faisceau.web.api import ErrorOut
from faisceau.web.consult import NotThere, Reading, consult
from faisceau.web.pages import render
from faisceau.web.security import current_user, store_of

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_PAGE = 200
MAX_ID = 2**63 - 1
AD_NOT_FOUND = "Annonce introuvable."
SEARCH_RECORD = "recherche"
KIND_WORDS = {"phone": "téléphone", "handle": "messagerie", "email": "adresse électronique"}
CONTACT_KINDS = tuple(KIND_WORDS)

router = APIRouter()
CurrentUser = Annotated[User, Depends(current_user)]


# --- Models (the OpenAPI schema) -----------------------------------------------------------


class SegmentOut(BaseModel):
    text: str
    match: bool = Field(description="mot de la recherche")


class AdHitOut(BaseModel):
    ad_pk: int
    ad: str = Field(description="source:identifiant")
    source: str
    ad_id: str
    version: int = Field(description="la version qui répond à la recherche")
    current: bool = Field(description="cette version est la version actuelle")
    title: str
    title_segments: list[SegmentOut]
    snippet: list[SegmentOut]
    name: str | None
    commune: str | None
    departement: str | None
    first_seen: str
    last_seen: str
    score: float


class SearchOut(BaseModel):
    query: str
    filters: dict[str, str]
    total: int = Field(description=f"annonces trouvées, au plus {fulltext.COUNT_CAP}")
    more: bool = Field(description=f"plus de {fulltext.COUNT_CAP} annonces trouvées")
    page: int
    page_size: int
    notes: list[str]
    hits: list[AdHitOut]


class AdValueOut(BaseModel):
    kind: str
    value: str
    shown: list[str] = Field(description="comme l'annonce l'a écrit")
    versions: list[int]


class ImageOut(BaseModel):
    position: int
    sha256: str | None
    phash: str | None
    dhash: str | None
    error: str | None


class ChangeOut(BaseModel):
    field: str
    before: str | None
    after: str | None
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)


class VersionOut(BaseModel):
    version: int
    current: bool
    first_seen: str | None
    last_seen: str | None
    sightings: int
    file: str = Field(description="fichier d'ingestion")
    line: int
    title: str | None
    text: str | None
    name: str | None
    age: int | None
    language: str | None
    commune: str | None
    departement: str | None
    values: list[AdValueOut]
    images: list[ImageOut]
    changes: list[ChangeOut] = Field(description="ce qui a changé depuis la version précédente")


class AdDetailOut(BaseModel):
    ad_pk: int
    ad: str
    source: str
    ad_id: str
    first_seen: str | None
    last_seen: str | None
    sightings: int
    current_version: int | None
    network_id: str | None = Field(description="le réseau de l'annonce, s'il vous est visible")
    minor: list[str] = Field(description="pourquoi un mineur est suspecté")
    contacts: list[AdValueOut]
    versions: list[VersionOut]


NOT_FOUND_RESPONSE: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Connexion requise"},
    403: {"model": ErrorOut, "description": "Rôle sans accès aux annonces"},
    404: {"model": ErrorOut, "description": "Annonce introuvable"},
}
SEARCH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Connexion requise"},
    403: {"model": ErrorOut, "description": "Rôle sans accès aux annonces"},
}


def _digits(value: str, most: int) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= most


# --- Search --------------------------------------------------------------------------------


@dataclass
class SearchForm:
    """What the user asked, as typed (echoed back in the form)."""

    q: str = ""
    departement: str = ""
    du: str = ""
    au: str = ""
    telephone: str = ""
    pseudo: str = ""

    def filters(self) -> dict[str, str]:
        return {k: v for k, v in (("departement", self.departement), ("du", self.du),
                                  ("au", self.au), ("telephone", self.telephone),
                                  ("pseudo", self.pseudo)) if v}

    def empty(self) -> bool:
        return not self.q.strip() and not self.filters()


def _date(value: str, label: str, notes: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        notes.append(f"date « {label} » invalide (attendu : AAAA-MM-JJ)")
        return None


def search_view(store: Store, user: User, form: SearchForm, *, page: int = 1,
                page_size: int = PAGE_SIZE) -> fulltext.SearchResult:
    """The ads the user may see that answer the search; the search is logged with the ads
    shown. An empty form reads nothing and logs nothing."""
    form = SearchForm(*(v.replace("\x00", "").strip() for v in (
        form.q, form.departement, form.du, form.au, form.telephone, form.pseudo)))

    def read(reading: Reading) -> fulltext.SearchResult:
        notes: list[str] = []
        seen_from = _date(form.du, "du", notes)
        seen_to = _date(form.au, "au", notes)
        if seen_from and seen_to and seen_from > seen_to:
            notes.append("la date « du » suit la date « au »")
        if notes or form.empty():
            reading.logged = False
            return fulltext.SearchResult(notes=notes)
        conn, scope = reading.conn, reading.ads
        fulltext.index_new(conn)  # a store migrated with ads: indexed at first search
        # The ads the viewer may not see are left out inside the query: counts and pages
        # are the viewer's own.
        result = fulltext.search_ads(
            conn, form.q, departement=form.departement or None, seen_from=seen_from,
            seen_to=seen_to, phone=form.telephone or None, handle=form.pseudo or None,
            limit=page_size, offset=(page - 1) * page_size, hidden_ads=scope.hidden_pks(),
            only_ads=scope.only_pks())
        result.hits = [h for h in result.hits if scope.sees_pk(h.ad_pk)]
        reading.action = "search"
        reading.detail = {"query": form.q, "filters": form.filters(), "page": page,
                          "total": result.total, "more": result.capped,
                          "ads": [ad_ref(h.source, h.ad_id) for h in result.hits]}
        return result

    return consult(store, user, "ad", SEARCH_RECORD, read)


def _search_out(form: SearchForm, result: fulltext.SearchResult, page: int,
                page_size: int) -> dict[str, Any]:
    return {"query": form.q, "filters": form.filters(), "total": result.total,
            "more": result.capped, "page": page, "page_size": page_size,
            "notes": result.notes, "hits": [h.to_dict() for h in result.hits]}


# --- One ad --------------------------------------------------------------------------------


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """What differs between two consecutive versions, field by field."""
    out: list[dict[str, Any]] = []
    for key, label in (("title", "titre"), ("name", "nom"), ("age", "âge")):
        if before[key] != after[key]:
            out.append({"field": label, "before": _str(before[key]),
                        "after": _str(after[key]), "added": [], "removed": []})
    place_before = (before["commune"], before["departement"])
    place_after = (after["commune"], after["departement"])
    if place_before != place_after:
        out.append({"field": "lieu", "before": _place(*place_before),
                    "after": _place(*place_after), "added": [], "removed": []})
    if before["text"] != after["text"]:
        old, new = (before["text"] or "").split(), (after["text"] or "").split()
        added, removed = [], []
        for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, old, new,
                                                          autojunk=False).get_opcodes():
            if op in ("replace", "delete"):
                removed.append(" ".join(old[a1:a2]))
            if op in ("replace", "insert"):
                added.append(" ".join(new[b1:b2]))
        out.append({"field": "texte", "before": None, "after": None,
                    "added": added[:20], "removed": removed[:20]})
    contacts_before = {(v["kind"], v["value"]) for v in before["values"]
                       if v["kind"] in CONTACT_KINDS}
    contacts_after = {(v["kind"], v["value"]) for v in after["values"]
                      if v["kind"] in CONTACT_KINDS}
    if contacts_before != contacts_after:
        out.append({"field": "contacts", "before": None, "after": None,
                    "added": sorted(v for _, v in contacts_after - contacts_before),
                    "removed": sorted(v for _, v in contacts_before - contacts_after)})
    return out


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _place(commune: str | None, departement: str | None) -> str | None:
    if commune is None and departement is None:
        return None
    return f"{commune or '?'} ({departement or '?'})"


def _grouped_values(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Values of one or more versions, once each, with every way the ad showed them."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        item = out.setdefault((row["kind"], row["value"]), {
            "kind": row["kind"], "value": row["value"], "shown": [], "versions": []})
        if row["shown"] not in item["shown"]:
            item["shown"].append(row["shown"])
        if row["version"] not in item["versions"]:
            item["versions"].append(row["version"])
    return list(out.values())


def ad_detail(conn: Connection, ad_pk: int) -> dict[str, Any] | None:
    """One ad: every version with its provenance and what changed, its values and images,
    its network and minor flags (the network given whatever the viewer may see of it)."""
    m = mark(conn)
    head = fetch(conn, "SELECT id, source, ad_id, first_seen, last_seen, sightings, "
                 f"current_version_id FROM ad WHERE id = {m}", (ad_pk,))
    if not head:
        return None
    pk, source, ad_id, first, last, sightings, current = head[0]
    versions = fetch(conn, "SELECT v.id, v.version_no, v.first_seen, v.last_seen, "
                     "v.sightings, f.path, v.line, v.title, v.text, v.name, v.age, v.language, "
                     "v.commune, v.departement FROM ad_version v "
                     f"JOIN ingest_file f ON f.id = v.file_id WHERE v.ad_pk = {m} "
                     "ORDER BY v.version_no", (pk,))
    numbers = {int(v[0]): int(v[1]) for v in versions}
    values: dict[int, list[dict[str, Any]]] = {vid: [] for vid in numbers}
    for vid, kind, value, shown, field_name in fetch(
            conn, "SELECT x.version_id, x.kind, x.value, x.shown, x.field FROM ad_value x "
            f"JOIN ad_version v ON v.id = x.version_id WHERE v.ad_pk = {m} ORDER BY x.id",
            (pk,)):
        values[int(vid)].append({"kind": kind, "value": value, "shown": shown,
                                 "field": field_name, "version": numbers[int(vid)]})
    images: dict[int, list[dict[str, Any]]] = {vid: [] for vid in numbers}
    for vid, position, sha256, phash, dhash, error in fetch(
            conn, "SELECT i.version_id, i.position, i.sha256, i.phash, i.dhash, i.error "
            f"FROM ad_image i JOIN ad_version v ON v.id = i.version_id WHERE v.ad_pk = {m} "
            "ORDER BY i.version_id, i.position", (pk,)):
        images[int(vid)].append({"position": position, "sha256": sha256, "phash": phash,
                                 "dhash": dhash, "error": error})
    network_rows = fetch(conn, f"SELECT network_id FROM ad_network WHERE ad_pk = {m}", (pk,))
    minor_rows = fetch(conn, f"SELECT why FROM ad_minor WHERE ad_pk = {m}", (pk,))
    out_versions: list[dict[str, Any]] = []
    previous: dict[str, Any] | None = None
    for (vid, number, v_first, v_last, v_sightings, path, line, title, text, name, age,
         language, commune, departement) in versions:
        item = {"version": int(number), "current": vid == current,
                "first_seen": iso_utc(v_first), "last_seen": iso_utc(v_last),
                "sightings": int(v_sightings), "file": PurePath(path).name, "line": int(line),
                "title": title, "text": text, "name": name, "age": age, "language": language,
                "commune": commune, "departement": departement,
                "values": values[int(vid)], "images": images[int(vid)]}
        item["changes"] = _changes(previous, item) if previous else []
        previous = item
        out_versions.append(item)
    for item in out_versions:
        item["values"] = _grouped_values(item["values"])
    all_values = [v for vals in values.values() for v in vals if v["kind"] in CONTACT_KINDS]
    return {
        "ad_pk": int(pk), "ad": f"{source}:{ad_id}", "source": source, "ad_id": ad_id,
        "first_seen": iso_utc(first), "last_seen": iso_utc(last), "sightings": int(sightings),
        "current_version": numbers.get(int(current)) if current is not None else None,
        "network_id": network_rows[0][0] if network_rows else None,
        "minor": [MINOR_WHY.get(int(r[0]), f"motif {r[0]}") for r in minor_rows],
        "contacts": _grouped_values(all_values),
        "versions": out_versions,
    }


def ad_view(store: Store, user: User, ad_pk: int) -> dict[str, Any]:
    """One ad as the user may see it; the view (or the refusal) is logged under the ad's
    ``source:ad_id``. A hidden ad answers as a missing one, from the same statements."""

    def read(reading: Reading) -> dict[str, Any]:
        conn = reading.conn
        answer, ref = ad_visibility(conn, reading.viewer, reading.ads, [ad_pk])[ad_pk]
        reading.record_id = ref
        if answer != VISIBLE:
            raise NotThere(AD_NOT_FOUND, "unknown" if answer == MISSING else "need-to-know")
        detail = ad_detail(conn, ad_pk)
        assert detail is not None
        network_id = detail["network_id"]
        if network_id is not None and not visible_networks(conn, reading.viewer, reading.ads,
                                                           [network_id]):
            detail["network_id"] = None
        return detail

    if not 1 <= ad_pk <= MAX_ID:
        ad_pk = 0  # no ad: the same statements, the same answer
    return consult(store, user, "ad", str(ad_pk), read)


# --- Routes --------------------------------------------------------------------------------


@router.get("/api/annonces", response_model=SearchOut, tags=["api"],
            summary="Rechercher des annonces", responses=SEARCH_RESPONSES)
def api_search(
    request: Request, user: CurrentUser,
    q: Annotated[str, Query(max_length=fulltext.MAX_QUERY_CHARS,
                            description="mots ; \"expression exacte\" ; -exclu ; a OU b")] = "",
    departement: Annotated[str, Query(max_length=3, description="code : 13, 2A, 971")] = "",
    du: Annotated[date | None, Query(description="vue à partir du (AAAA-MM-JJ)")] = None,
    au: Annotated[date | None, Query(description="vue jusqu'au (AAAA-MM-JJ) inclus")] = None,
    telephone: Annotated[str, Query(max_length=100)] = "",
    pseudo: Annotated[str, Query(max_length=200, description="snap: lola_75, ou lola_75")] = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    limite: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = PAGE_SIZE,
) -> dict[str, Any]:
    form = SearchForm(q, departement, du.isoformat() if du else "",
                      au.isoformat() if au else "", telephone, pseudo)
    result = search_view(store_of(request), user, form, page=page, page_size=limite)
    return _search_out(form, result, page, limite)


@router.get("/api/annonces/{ad_pk}", response_model=AdDetailOut, tags=["api"],
            summary="Une annonce", responses=NOT_FOUND_RESPONSE)
def api_ad(request: Request, user: CurrentUser,
           ad_pk: Annotated[int, Path(ge=1, le=MAX_ID)]) -> dict[str, Any]:
    return ad_view(store_of(request), user, ad_pk)


@router.get("/annonces", response_class=HTMLResponse, include_in_schema=False)
def search_page(request: Request, user: CurrentUser, q: str = "", departement: str = "",
                du: str = "", au: str = "", telephone: str = "", pseudo: str = "",
                page: str = "1") -> Response:
    form = SearchForm(q[:fulltext.MAX_QUERY_CHARS], departement[:3], du[:10], au[:10],
                      telephone[:100], pseudo[:200])
    number = min(max(int(page), 1), MAX_PAGE) if _digits(page, 6) else 1
    result = search_view(store_of(request), user, form, page=number)
    base = {k: v for k, v in (("q", form.q), *form.filters().items())}
    pages = max(1, -(-result.total // PAGE_SIZE))
    return render(request, "annonces.html", {
        "form": form, "searched": not form.empty(),
        "result": result, "page": number, "pages": min(pages, MAX_PAGE), "base": base,
        "page_size": PAGE_SIZE, "cap": fulltext.COUNT_CAP}, user=user)


@router.get("/annonces/{ad_pk}", response_class=HTMLResponse, include_in_schema=False)
def ad_page(request: Request, user: CurrentUser, ad_pk: str) -> Response:
    if not _digits(ad_pk, 19):
        raise HTTPException(404, AD_NOT_FOUND)
    detail = ad_view(store_of(request), user, int(ad_pk))
    return render(request, "annonce.html", {"a": detail, "kind_words": KIND_WORDS},
                  user=user)
