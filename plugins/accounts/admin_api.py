"""Admin API for users: list, create, read, change and bulk-change accounts.

CSV import, API clients and the audit log live in ``admin_import``, ``admin_clients`` and
``admin_audit``; their endpoints are appended to :data:`router`, which the plugin registers.
Roles are declared on each route (the web layer enforces them); ownership — a person reading
their own account — is checked here, and answers 404 rather than 403 so that an id probe
cannot tell which accounts exist.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlmodel import col

from core import domain_events
from core.errors import NotFound
from plugins.accounts import admin_audit, admin_clients, admin_import
from plugins.accounts.models import BulkAction, BulkResult, NewUser, UserPage, UserPatch, UserQuery
from plugins.accounts.password_policy import check_password
from plugins.accounts.user_admin import (
    EmailTaken,
    NewAccount,
    Revoked,
    actor_id,
    add_accounts,
    announce,
    change_user,
    commit_or_discard,
    ensure_an_admin_remains,
    existing_emails,
    get_user,
    hash_password_off_loop,
    parse_id,
)
from storage.tables.user import Role, User, UserPublic
from webapp.binding import principal_of
from webapp.routing import ApiRequest, ErrorSpec, Router

ADMIN = {"admin"}
EVERYONE = {role.value for role in Role}

router = Router(prefix="/api/v1/users", tags=["users"])

_NOT_FOUND = ErrorSpec(404, "not_found", "No such user (or not yours to see).")
_OWN = ErrorSpec(409, "own_account", "An admin cannot demote or disable their own account.")
_LAST = ErrorSpec(409, "last_admin", "The change would leave no active admin.")


@router.get("", query=UserQuery, response=UserPage, roles=ADMIN)
async def list_users(req: ApiRequest[None, UserQuery]) -> UserPage:
    """Users matching every filter given, oldest first.

    ``q`` matches a part of the email or the name, ignoring case; ``%`` and ``_`` are literal.
    """
    query = req.query
    conditions = []
    if query.q:
        needle = query.q.lower()
        conditions.append(
            or_(
                func.lower(col(User.email)).contains(needle, autoescape=True),
                func.lower(col(User.display_name)).contains(needle, autoescape=True),
            )
        )
    if query.role is not None:
        conditions.append(col(User.role) == query.role.value)
    if query.active is not None:
        conditions.append(col(User.is_active).is_(query.active))
    async with req.services.db.session() as db:
        total = (
            await db.execute(select(func.count()).select_from(User).where(*conditions))
        ).scalar_one()
        rows = await db.execute(
            select(User)
            .where(*conditions)
            .order_by(col(User.id))
            .limit(query.limit)
            .offset(query.offset)
        )
        users = list(rows.scalars())
    return UserPage(
        items=[UserPublic.model_validate(u, from_attributes=True) for u in users], total=int(total)
    )


@router.post(
    "",
    body=NewUser,
    response=UserPublic,
    status=201,
    roles=ADMIN,
    errors=[ErrorSpec(409, "email_taken", "An account with this email already exists.")],
)
async def create_user(req: ApiRequest[NewUser, None]) -> User:
    """Create an account; without a password the person is sent an invitation.

    The invitation is a single-use password-reset link (valid 72 hours) written to the mail
    outbox. A given password must pass the password policy (422 ``invalid_input`` otherwise).
    """
    body = req.body
    email = str(body.email).lower()
    password_hash = None
    if body.password is not None:
        password = check_password(body.password, email=email, display_name=body.display_name)
        password_hash = await hash_password_off_loop(password)
    async with req.services.db.session() as db:
        if await existing_emails(db, [email]):
            raise EmailTaken(f"an account with email {email} already exists")
        account = NewAccount(email, body.display_name, body.role, password_hash)
        users, keys = await add_accounts(
            req.services,
            db,
            [account],
            actor=actor_id(principal_of(req.request)),
            request=req.request,
            via="api",
        )
        await commit_or_discard(req.services, db, keys)
    data = {"user_id": users[0].id, "invited": password_hash is None, "via": "api"}
    await domain_events.emit(req.services, "account.created", data)
    return users[0]


@router.get("/{user_id}", response=UserPublic, roles=EVERYONE, errors=[_NOT_FOUND])
async def read_user(req: ApiRequest) -> User:
    """One account: admins may read any, everyone else only their own (404 for the rest)."""
    principal = principal_of(req.request)
    user_id = parse_id(req.path["user_id"])
    assert principal is not None  # the route needs a role
    if user_id is None or ("admin" not in principal.roles and principal.user_id != str(user_id)):
        raise NotFound("no such user")
    async with req.services.db.session() as db:
        return await get_user(db, user_id)


@router.patch(
    "/{user_id}", body=UserPatch, response=UserPublic, roles=ADMIN, errors=[_NOT_FOUND, _OWN, _LAST]
)
async def update_user(req: ApiRequest[UserPatch, None]) -> User:
    """Change name, role or whether the account may sign in.

    A role change or disabling ends all of the user's sessions at once (reasons
    ``role_changed`` / ``account_disabled``).
    """
    user_id = parse_id(req.path["user_id"])
    if user_id is None:
        raise NotFound("no such user")
    async with req.services.db.session() as db:
        user = await get_user(db, user_id)
        revoked = await change_user(
            db,
            user,
            actor=actor_id(principal_of(req.request)),
            request=req.request,
            display_name=req.body.display_name,
            role=req.body.role,
            is_active=req.body.is_active,
        )
        if revoked is not None:
            await ensure_an_admin_remains(db)
            await db.commit()
            await db.refresh(user)
    if revoked is not None:
        await announce(req.services, [revoked])
    return user


@router.post(
    "/bulk",
    body=BulkAction,
    response=BulkResult,
    roles=ADMIN,
    errors=[
        ErrorSpec(404, "not_found", "Some user ids do not exist; nothing changed."),
        _OWN,
        _LAST,
    ],
)
async def bulk_update(req: ApiRequest[BulkAction, None]) -> BulkResult:
    """Disable, enable or set the role of many users in one transaction: all or nothing."""
    body = req.body
    ids = sorted(set(body.user_ids))
    actor = actor_id(principal_of(req.request))
    changes: list[Revoked] = []
    async with req.services.db.session() as db:
        users = list((await db.execute(select(User).where(col(User.id).in_(ids)))).scalars())
        missing = sorted(set(ids) - {u.id for u in users})
        if missing:
            raise NotFound("some users do not exist; nothing was changed", details=missing)
        for user in sorted(users, key=lambda u: u.id or 0):
            revoked = await change_user(
                db,
                user,
                actor=actor,
                request=req.request,
                role=body.role if body.action == "set_role" else None,
                is_active={"disable": False, "enable": True}.get(body.action),
            )
            if revoked is not None:
                changes.append(revoked)
        if changes:
            await ensure_an_admin_remains(db)
            await db.commit()
    await announce(req.services, changes)
    return BulkResult(updated=len(changes))


router.endpoints.extend(admin_import.router.endpoints)
router.endpoints.extend(admin_clients.router.endpoints)
router.endpoints.extend(admin_audit.router.endpoints)
