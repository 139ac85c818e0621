"""Administration pages: users, units, sharing groups and record distribution (role admin).

Only administrators reach them: any other role is refused (403) and the refusal is written
to the consultation log. Every change is written there too (action ``change``, the kind of
what changed: ``user``, ``unit``, ``group`` or ``distribution``, and what changed in
``detail``, never a password) in the same transaction as the change itself, so that a
change is never without its entry nor an entry without its change. Listings are logged as
views. The domain rules and their French refusals live in ``faisceau.share.accounts`` and
``faisceau.share.groups``; this module only carries them to HTTP (pages with forms, and the
same under ``/api/admin/...``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection

from faisceau.share import audit
from faisceau.share.access import LEVELS, ROLES
from faisceau.share.accounts import (
    MIN_PASSWORD,
    AccountError,
    User,
    add_user,
    list_accounts,
    reset_password,
    set_active,
    set_role_and_unit,
    unlock,
)
from faisceau.share.groups import (
    LEVEL_WORDS,
    add_member,
    add_partner_unit,
    create_group,
    list_distributions,
    list_groups,
    list_units,
    record_key,
    record_kinds,
    remove_member,
    set_distribution,
)
from faisceau.store import Store
from faisceau.web.api import ErrorOut, Refused, refused_role
from faisceau.web.pages import render
from faisceau.web.security import current_user, store_of

ADMIN = "admin"
NOT_ADMIN = "Réservé aux administrateurs."
T = TypeVar("T")

router = APIRouter()
api = APIRouter(prefix="/api/admin", tags=["administration"], responses={
    400: {"model": ErrorOut, "description": "Modification refusée (motif en français)"},
    401: {"model": ErrorOut, "description": "Connexion requise"},
    403: {"model": ErrorOut, "description": "Réservé aux administrateurs, ou jeton CSRF "
                                            "absent"}})
PageUser = Annotated[User, Depends(current_user)]


# --- Reads and changes, each with its log entry ---------------------------------------------


def _as_admin(store: Store, user: User, what: str,
              action: Callable[[Connection], tuple[T, str, str, str, Any]]) -> T:
    """Run ``action`` for an administrator in one transaction with its log entry; anyone
    else is refused (403) and the refusal logged. ``action`` returns (result, log action,
    record kind, record id, detail)."""
    refused: Refused | None = None
    with store.begin() as conn:
        viewer = user.viewer(conn)
        refused = refused_role(conn, viewer, "admin", what, (ADMIN,), NOT_ADMIN)
        if refused is None:
            result, log_action, kind, record_id, detail = action(conn)
            audit.record(conn, viewer, log_action, kind, record_id, detail=detail)
            return result
    raise refused


def _view(kind: str, record_id: str, read: Callable[[Connection], T]) -> Callable[
        [Connection], tuple[T, str, str, str, Any]]:
    def action(conn: Connection) -> tuple[T, str, str, str, Any]:
        return read(conn), "view", kind, record_id, None
    return action


def overview(store: Store, user: User) -> dict[str, Any]:
    def read(conn: Connection) -> dict[str, Any]:
        accounts = list_accounts(conn)
        return {"users": len(accounts), "active": sum(a.active for a in accounts),
                "locked": sum(a.locked for a in accounts), "units": len(list_units(conn)),
                "groups": len(list_groups(conn)),
                "distributions": len(list_distributions(conn))}
    return _as_admin(store, user, "administration", _view("admin", "administration", read))


def accounts_view(store: Store, user: User) -> list[dict[str, Any]]:
    return _as_admin(store, user, "comptes", _view(
        "user", "comptes", lambda conn: [asdict(a) for a in list_accounts(conn)]))


def units_view(store: Store, user: User) -> list[dict[str, Any]]:
    return _as_admin(store, user, "unites", _view(
        "unit", "unites", lambda conn: [asdict(u) for u in list_units(conn)]))


def groups_view(store: Store, user: User) -> list[dict[str, Any]]:
    return _as_admin(store, user, "groupes", _view(
        "group", "groupes", lambda conn: [{"name": g.name, "units": list(g.units)}
                                          for g in list_groups(conn)]))


def distributions_view(store: Store, user: User) -> list[dict[str, Any]]:
    return _as_admin(store, user, "diffusion", _view(
        "distribution", "diffusion", lambda conn: [asdict(d) for d in list_distributions(conn)]))


def _account(conn: Connection, login: str) -> dict[str, Any]:
    found = next(a for a in list_accounts(conn) if a.login == login)
    return asdict(found)


def create_account(store: Store, user: User, login: str, name: str | None, role: str,
                   unit: str, password: str) -> dict[str, Any]:
    def action(conn: Connection) -> tuple[dict[str, Any], str, str, str, Any]:
        created = add_user(conn, login, password, role, unit, name or None)
        return _account(conn, created.login), "change", "user", created.login, {
            "what": "created", "role": role, "unit": unit, "name": created.name}
    return _as_admin(store, user, "comptes", action)


def change_active(store: Store, user: User, login: str, active: bool) -> dict[str, Any]:
    def action(conn: Connection) -> tuple[dict[str, Any], str, str, str, Any]:
        set_active(conn, user.login, login, active)
        return _account(conn, login), "change", "user", login, {
            "what": "reactivated" if active else "deactivated"}
    return _as_admin(store, user, "comptes", action)


def change_password(store: Store, user: User, login: str, password: str) -> dict[str, Any]:
    def action(conn: Connection) -> tuple[dict[str, Any], str, str, str, Any]:
        reset_password(conn, login, password)
        return _account(conn, login), "change", "user", login, {"what": "password reset"}
    return _as_admin(store, user, "comptes", action)


def unlock_account(store: Store, user: User, login: str) -> dict[str, Any]:
    def action(conn: Connection) -> tuple[dict[str, Any], str, str, str, Any]:
        had_failures = unlock(conn, login)
        return _account(conn, login), "change", "user", login, {
            "what": "unlocked", "had_failures": had_failures}
    return _as_admin(store, user, "comptes", action)


def change_role(store: Store, user: User, login: str, role: str | None,
                unit: str | None) -> dict[str, Any]:
    def action(conn: Connection) -> tuple[dict[str, Any], str, str, str, Any]:
        before, after = set_role_and_unit(conn, user.login, login, role or None, unit or None)
        return _account(conn, login), "change", "user", login, {
            "what": "role and unit", "role": [before.role, after.role],
            "unit": [before.unit, after.unit]}
    return _as_admin(store, user, "comptes", action)


def create_unit(store: Store, user: User, code: str, name: str) -> dict[str, Any]:
    def action(conn: Connection) -> tuple[dict[str, Any], str, str, str, Any]:
        unit = add_partner_unit(conn, code, name)
        return asdict(unit), "change", "unit", unit.code, {
            "what": "created", "kind": unit.kind, "name": unit.name}
    return _as_admin(store, user, "unites", action)


def _group(conn: Connection, name: str) -> dict[str, Any]:
    found = next(g for g in list_groups(conn) if g.name == name)
    return {"name": found.name, "units": list(found.units)}


def new_group(store: Store, user: User, name: str) -> dict[str, Any]:
    def action(conn: Connection) -> tuple[dict[str, Any], str, str, str, Any]:
        group = create_group(conn, name)
        return _group(conn, group.name), "change", "group", group.name, {"what": "created"}
    return _as_admin(store, user, "groupes", action)


def change_member(store: Store, user: User, group: str, unit: str,
                  add: bool) -> dict[str, Any]:
    def action(conn: Connection) -> tuple[dict[str, Any], str, str, str, Any]:
        (add_member if add else remove_member)(conn, group, unit)
        return _group(conn, group), "change", "group", group, {
            "what": "unit added" if add else "unit removed", "unit": unit}
    return _as_admin(store, user, "groupes", action)


def change_distribution(store: Store, user: User, kind: str, record_id: str, level: str,
                        group: str | None, owner_unit: str | None) -> dict[str, Any]:
    def action(conn: Connection) -> tuple[dict[str, Any], str, str, str, Any]:
        before, after = set_distribution(conn, kind, record_id, level, user.login,
                                         group=group, owner_unit=owner_unit)
        key = record_key(conn, kind, record_id)  # an ad's number reads as its source:ad_id
        found = next(d for d in list_distributions(conn)
                     if d.record_kind == kind and d.record_id == key)
        return asdict(found), "change", "distribution", f"{kind}:{found.record_id}", {
            "record_kind": kind, "record_id": found.record_id,
            "before": asdict(before), "after": asdict(after)}
    return _as_admin(store, user, "diffusion", action)


# --- Pages ---------------------------------------------------------------------------------


def _flash(request: Request, kind: str, text: str) -> None:
    request.session["flash"] = {"kind": kind, "text": text}


def _done(request: Request, back: str, change: Callable[[], Any], success: str) -> Response:
    """Apply a form's change; a refusal comes back as a message on the page."""
    try:
        change()
    except AccountError as exc:
        _flash(request, "erreur", f"Modification refusée : {exc}.")
    else:
        _flash(request, "ok", success)
    return RedirectResponse(back, status_code=303)


def _page(request: Request, user: User, name: str, context: dict[str, Any]) -> Response:
    return render(request, name, {"roles": ROLES, "levels": LEVELS, "level_words": LEVEL_WORDS,
                                  "kinds": record_kinds(), "min_password": MIN_PASSWORD,
                                  **context}, user=user)


@router.get("/admin", response_class=HTMLResponse, include_in_schema=False)
def admin_page(request: Request, user: PageUser) -> Response:
    return _page(request, user, "admin.html", {"o": overview(store_of(request), user)})


@router.get("/admin/comptes", response_class=HTMLResponse, include_in_schema=False)
def accounts_page(request: Request, user: PageUser) -> Response:
    store = store_of(request)
    accounts = accounts_view(store, user)
    with store.begin() as conn:
        units = [u.code for u in list_units(conn)]
    return _page(request, user, "admin_comptes.html", {"accounts": accounts, "units": units})


@router.post("/admin/comptes", include_in_schema=False)
def accounts_create(request: Request, user: PageUser,
                    identifiant: Annotated[str, Form()] = "",
                    nom: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "",
                    unite: Annotated[str, Form()] = "",
                    mot_de_passe: Annotated[str, Form()] = "") -> Response:
    return _done(request, "/admin/comptes", lambda: create_account(
        store_of(request), user, identifiant, nom.strip() or None, role, unite.strip(),
        mot_de_passe), f"Compte {identifiant.strip()} créé.")


@router.post("/admin/comptes/{login}/activation", include_in_schema=False)
def accounts_active(request: Request, user: PageUser, login: str,
                    actif: Annotated[str, Form()] = "") -> Response:
    active = actif == "oui"
    return _done(request, "/admin/comptes", lambda: change_active(
        store_of(request), user, login, active),
        f"Compte {login} {'réactivé' if active else 'désactivé'}.")


@router.post("/admin/comptes/{login}/mot-de-passe", include_in_schema=False)
def accounts_password(request: Request, user: PageUser, login: str,
                      mot_de_passe: Annotated[str, Form()] = "") -> Response:
    return _done(request, "/admin/comptes", lambda: change_password(
        store_of(request), user, login, mot_de_passe),
        f"Mot de passe du compte {login} réinitialisé.")


@router.post("/admin/comptes/{login}/deverrouillage", include_in_schema=False)
def accounts_unlock(request: Request, user: PageUser, login: str) -> Response:
    return _done(request, "/admin/comptes", lambda: unlock_account(
        store_of(request), user, login), f"Compte {login} déverrouillé.")


@router.post("/admin/comptes/{login}/role", include_in_schema=False)
def accounts_role(request: Request, user: PageUser, login: str,
                  role: Annotated[str, Form()] = "",
                  unite: Annotated[str, Form()] = "") -> Response:
    return _done(request, "/admin/comptes", lambda: change_role(
        store_of(request), user, login, role, unite.strip()),
        f"Rôle et unité du compte {login} enregistrés.")


@router.get("/admin/unites", response_class=HTMLResponse, include_in_schema=False)
def units_page(request: Request, user: PageUser) -> Response:
    return _page(request, user, "admin_unites.html",
                 {"units": units_view(store_of(request), user)})


@router.post("/admin/unites", include_in_schema=False)
def units_create(request: Request, user: PageUser, code: Annotated[str, Form()] = "",
                 nom: Annotated[str, Form()] = "") -> Response:
    return _done(request, "/admin/unites", lambda: create_unit(
        store_of(request), user, code, nom), f"Unité partenaire {code.strip().upper()} "
                                             "ajoutée.")


@router.get("/admin/groupes", response_class=HTMLResponse, include_in_schema=False)
def groups_page(request: Request, user: PageUser) -> Response:
    store = store_of(request)
    groups = groups_view(store, user)
    with store.begin() as conn:
        units = [u.code for u in list_units(conn)]
    return _page(request, user, "admin_groupes.html", {"groups": groups, "units": units})


@router.post("/admin/groupes", include_in_schema=False)
def groups_create(request: Request, user: PageUser,
                  nom: Annotated[str, Form()] = "") -> Response:
    return _done(request, "/admin/groupes", lambda: new_group(store_of(request), user, nom),
                 f"Groupe {nom.strip()} créé.")


@router.post("/admin/groupes/{name}/membres", include_in_schema=False)
def groups_member(request: Request, user: PageUser, name: str,
                  unite: Annotated[str, Form()] = "",
                  retirer: Annotated[str, Form()] = "") -> Response:
    add = retirer != "oui"
    return _done(request, "/admin/groupes", lambda: change_member(
        store_of(request), user, name, unite.strip(), add),
        f"Unité {unite.strip()} {'ajoutée au' if add else 'retirée du'} groupe {name}.")


@router.get("/admin/diffusion", response_class=HTMLResponse, include_in_schema=False)
def distributions_page(request: Request, user: PageUser) -> Response:
    store = store_of(request)
    rows = distributions_view(store, user)
    with store.begin() as conn:
        groups = [g.name for g in list_groups(conn)]
        units = [u.code for u in list_units(conn)]
    return _page(request, user, "admin_diffusion.html",
                 {"distributions": rows, "groups": groups, "units": units})


@router.post("/admin/diffusion", include_in_schema=False)
def distributions_set(request: Request, user: PageUser,
                      kind: Annotated[str, Form(alias="type")] = "",
                      identifiant: Annotated[str, Form()] = "",
                      niveau: Annotated[str, Form()] = "",
                      groupe: Annotated[str, Form()] = "",
                      unite: Annotated[str, Form()] = "") -> Response:
    return _done(request, "/admin/diffusion", lambda: change_distribution(
        store_of(request), user, kind, identifiant, niveau, groupe or None, unite or None),
        f"Diffusion de {kind} {identifiant.strip()} : {LEVEL_WORDS.get(niveau, niveau)}.")


# --- API -----------------------------------------------------------------------------------

Role = Literal["analyst", "referent", "investigator", "auditor", "admin"]
Level = Literal["own_unit", "with_central", "all_units", "group"]
Code = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00]*$")]


class AccountOut(BaseModel):
    login: str
    name: str
    role: str
    unit: str
    active: bool
    locked: bool
    failed_logins: int
    created_at: str


class AccountIn(BaseModel):
    login: Code
    name: Annotated[str, Field(max_length=200, pattern=r"^[^\x00]*$")] | None = None
    role: Role
    unit: Code
    password: Annotated[str, Field(min_length=1, max_length=1000,
                                   description=f"au moins {MIN_PASSWORD} caractères")]


class ActiveIn(BaseModel):
    active: bool


class PasswordIn(BaseModel):
    password: Annotated[str, Field(min_length=1, max_length=1000)]


class RoleIn(BaseModel):
    role: Role | None = None
    unit: Code | None = None


class UnitOut(BaseModel):
    code: str
    name: str
    kind: str
    departement: str | None


class UnitIn(BaseModel):
    code: Code
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]


class GroupOut(BaseModel):
    name: str
    units: list[str]


class GroupIn(BaseModel):
    name: Code


class MemberIn(BaseModel):
    unit: Code


class DistributionOut(BaseModel):
    record_kind: str
    record_id: str
    level: str
    owner_unit: str
    group: str | None
    set_by: str
    set_at: str


class DistributionIn(BaseModel):
    record_kind: Code
    record_id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00]*$")]
    level: Level
    group: Code | None = None
    owner_unit: Code | None = Field(None, description="par défaut, l'unité propriétaire "
                                                      "actuelle")


class OverviewOut(BaseModel):
    users: int
    active: int
    locked: int
    units: int
    groups: int
    distributions: int


def _api(change: Callable[[], T]) -> T:
    try:
        return change()
    except AccountError as exc:
        raise HTTPException(400, str(exc)) from None


@api.get("", response_model=OverviewOut, summary="Administration : vue d'ensemble")
def api_overview(request: Request, user: PageUser) -> dict[str, Any]:
    return overview(store_of(request), user)


@api.get("/comptes", response_model=list[AccountOut], summary="Les comptes")
def api_accounts(request: Request, user: PageUser) -> list[dict[str, Any]]:
    return accounts_view(store_of(request), user)


@api.post("/comptes", response_model=AccountOut, status_code=201,
          summary="Créer un compte (en-tête X-CSRF-Token)")
def api_create_account(request: Request, user: PageUser, body: AccountIn) -> dict[str, Any]:
    return _api(lambda: create_account(store_of(request), user, body.login, body.name,
                                       body.role, body.unit, body.password))


@api.post("/comptes/{login}/activation", response_model=AccountOut,
          summary="Désactiver ou réactiver un compte")
def api_active(request: Request, user: PageUser, login: str, body: ActiveIn) -> dict[str, Any]:
    return _api(lambda: change_active(store_of(request), user, login, body.active))


@api.post("/comptes/{login}/mot-de-passe", response_model=AccountOut,
          summary="Réinitialiser le mot de passe d'un compte")
def api_password(request: Request, user: PageUser, login: str,
                 body: PasswordIn) -> dict[str, Any]:
    return _api(lambda: change_password(store_of(request), user, login, body.password))


@api.post("/comptes/{login}/deverrouillage", response_model=AccountOut,
          summary="Lever le délai que des échecs de connexion imposent à un compte")
def api_unlock(request: Request, user: PageUser, login: str) -> dict[str, Any]:
    return _api(lambda: unlock_account(store_of(request), user, login))


@api.post("/comptes/{login}/role", response_model=AccountOut,
          summary="Changer le rôle ou l'unité d'un compte")
def api_role(request: Request, user: PageUser, login: str, body: RoleIn) -> dict[str, Any]:
    return _api(lambda: change_role(store_of(request), user, login, body.role, body.unit))


@api.get("/unites", response_model=list[UnitOut], summary="Les unités")
def api_units(request: Request, user: PageUser) -> list[dict[str, Any]]:
    return units_view(store_of(request), user)


@api.post("/unites", response_model=UnitOut, status_code=201,
          summary="Ajouter une unité partenaire")
def api_create_unit(request: Request, user: PageUser, body: UnitIn) -> dict[str, Any]:
    return _api(lambda: create_unit(store_of(request), user, body.code, body.name))


@api.get("/groupes", response_model=list[GroupOut], summary="Les groupes de partage")
def api_groups(request: Request, user: PageUser) -> list[dict[str, Any]]:
    return groups_view(store_of(request), user)


@api.post("/groupes", response_model=GroupOut, status_code=201,
          summary="Créer un groupe de partage")
def api_create_group(request: Request, user: PageUser, body: GroupIn) -> dict[str, Any]:
    return _api(lambda: new_group(store_of(request), user, body.name))


@api.post("/groupes/{name}/membres", response_model=GroupOut,
          summary="Ajouter une unité à un groupe")
def api_add_member(request: Request, user: PageUser, name: str,
                   body: MemberIn) -> dict[str, Any]:
    return _api(lambda: change_member(store_of(request), user, name, body.unit, True))


@api.delete("/groupes/{name}/membres/{unit}", response_model=GroupOut,
            summary="Retirer une unité d'un groupe")
def api_remove_member(request: Request, user: PageUser, name: str,
                      unit: str) -> dict[str, Any]:
    return _api(lambda: change_member(store_of(request), user, name, unit, False))


@api.get("/diffusion", response_model=list[DistributionOut],
         summary="Les enregistrements dont la diffusion a été fixée")
def api_distributions(request: Request, user: PageUser) -> list[dict[str, Any]]:
    return distributions_view(store_of(request), user)


@api.put("/diffusion", response_model=DistributionOut,
         summary="Fixer la diffusion d'un enregistrement")
def api_set_distribution(request: Request, user: PageUser,
                         body: DistributionIn) -> dict[str, Any]:
    return _api(lambda: change_distribution(store_of(request), user, body.record_kind,
                                            body.record_id, body.level, body.group,
                                            body.owner_unit))


router.include_router(api)
