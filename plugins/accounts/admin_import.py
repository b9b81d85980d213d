"""CSV import of users: every row is checked before anything is written.

A class list with one bad row must not leave half the class created (the admin would then fix
the row and get "already exists" for the other half), so the whole file is validated first —
syntax, duplicates inside the file and against the database, roles, the password policy — and
one transaction creates every user or none. ``dry_run=true`` only reports.
"""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass, field

from pydantic import EmailStr, TypeAdapter, ValidationError

from core import domain_events
from core.errors import InvalidInput
from plugins.accounts import audit
from plugins.accounts.models import DisplayName, ImportProblem, ImportQuery, ImportResult
from plugins.accounts.password_policy import check_password
from plugins.accounts.user_admin import (
    NewAccount,
    actor_id,
    add_accounts,
    commit_or_discard,
    existing_emails,
    hash_password_off_loop,
)
from storage.tables.user import Role
from webapp.binding import principal_of, read_body_limited
from webapp.errors import ApiError
from webapp.routing import ApiRequest, ErrorSpec, Router

MAX_CSV_BYTES = 1024 * 1024
MAX_ROWS = 1000  # hashing a password costs ~0.1 s of CPU; bigger classes are split
MAX_REPORTED_ERRORS = 200
REQUIRED = ("email", "display_name", "role")
OPTIONAL = ("password",)
ROLES = ", ".join(role.value for role in Role)

router = Router(prefix="/api/v1/users", tags=["users"])

_EMAIL: TypeAdapter[str] = TypeAdapter(EmailStr)
_NAME: TypeAdapter[str] = TypeAdapter(DisplayName)


@dataclass
class Row:
    line: int
    email: str
    name: str
    role: Role
    password: str


@dataclass
class Parsed:
    rows: list[Row] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    read: int = 0  # data rows read, valid or not


def _first_error(error: ValidationError) -> str:
    return str(error.errors(include_url=False)[0]["msg"]).removeprefix("Value error, ")


def _header_problem(header: list[str]) -> ImportProblem | None:
    missing = [name for name in REQUIRED if name not in header]
    unknown = [name for name in header if name not in REQUIRED + OPTIONAL]
    if not missing and not unknown and len(set(header)) == len(header):
        return None
    return ImportProblem(
        line=1,
        message="the header must name the columns email, display_name, role and optionally "
        f"password, each once (missing: {', '.join(missing) or 'none'}; unknown: "
        f"{', '.join(unknown) or 'none'})",
    )


def _check_row(line: int, values: dict[str, str], seen: dict[str, int]) -> Row | str:
    """The row, or what is wrong with it (the first problem only: one line, one message)."""
    raw_email = values["email"].strip()
    try:
        if len(raw_email) > 254:
            raise ValueError
        email = str(_EMAIL.validate_python(raw_email)).lower()
    except (ValidationError, ValueError) as error:
        reason = _first_error(error) if isinstance(error, ValidationError) else "too long"
        return f"email {raw_email[:80]!r} is not valid: {reason}"
    if email in seen:
        return f"email {email} appears twice in the file (first on line {seen[email]})"
    seen[email] = line
    try:
        name = _NAME.validate_python(values["display_name"])
    except ValidationError as error:
        return f"display_name: {_first_error(error)}"
    try:
        role = Role(values["role"].strip().lower())
    except ValueError:
        return f"role {values['role'][:40]!r} is not one of {ROLES}"
    password = values.get("password", "")
    if password:
        try:
            check_password(password, email=email, display_name=name)
        except InvalidInput as error:
            return error.message
    return Row(line, email, name, role, password)


def parse_csv(text: str) -> Parsed:
    """Rows that passed and every problem found; no database access."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    parsed = Parsed()
    seen: dict[str, int] = {}
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        problem = _header_problem(header)
        if problem is not None:
            parsed.problems.append(problem)
            return parsed
        start = reader.line_num + 1
        for record in reader:
            # Report the line a record starts on: a quoted field may span several lines.
            line, start = start, reader.line_num + 1
            if not any(value.strip() for value in record):
                continue  # blank lines are harmless
            parsed.read += 1
            if parsed.read > MAX_ROWS:
                message = f"more than {MAX_ROWS} rows; split the file"
                parsed.problems.append(ImportProblem(line=line, message=message))
                break
            if len(record) != len(header):
                message = f"expected {len(header)} fields, found {len(record)}"
                parsed.problems.append(ImportProblem(line=line, message=message))
                continue
            checked = _check_row(line, dict(zip(header, record, strict=True)), seen)
            if isinstance(checked, str):
                parsed.problems.append(ImportProblem(line=line, message=checked))
            else:
                parsed.rows.append(checked)
    except csv.Error as error:
        message = f"malformed CSV: {error}"
        parsed.problems.append(ImportProblem(line=reader.line_num, message=message))
    return parsed


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ApiError(
            422,
            "invalid_import",
            "the file is not UTF-8 text",
            [{"line": raw[: error.start].count(b"\n") + 1, "message": "not UTF-8"}],
        ) from None


@router.post(
    "/import",
    query=ImportQuery,
    response=ImportResult,
    roles={"admin"},
    max_body_bytes=MAX_CSV_BYTES,
    errors=[
        ErrorSpec(413, "payload_too_large", "The file is larger than 1 MiB."),
        ErrorSpec(415, "unsupported_media_type", "The body is not sent as text/csv."),
        ErrorSpec(422, "invalid_import", "Rows are invalid; `details` lists {line, message}."),
    ],
)
async def import_users(req: ApiRequest[None, ImportQuery]) -> ImportResult:
    """Create users from a ``text/csv`` body (UTF-8, header ``email,display_name,role`` and
    optionally ``password``; at most 1,000 rows).

    Rows without a password get an invitation. Any invalid row answers 422 ``invalid_import``
    with every problem as ``[{line, message}]`` in ``details`` and creates nobody. A dry run
    answers 200 with the same problems in ``errors`` and writes nothing.
    """
    if req.request.content_type != "text/csv":
        raise ApiError(415, "unsupported_media_type", "send the file as text/csv")
    text = _decode(await read_body_limited(req.request, MAX_CSV_BYTES))
    parsed = parse_csv(text)
    rows, problems = parsed.rows, parsed.problems
    async with req.services.db.session() as db:
        taken = await existing_emails(db, [row.email for row in rows])
        problems += [
            ImportProblem(line=row.line, message=f"an account with email {row.email} exists")
            for row in rows
            if row.email in taken
        ]
        problems.sort(key=lambda problem: problem.line)
        problems = problems[:MAX_REPORTED_ERRORS]
        invited = sum(1 for row in rows if not row.password)
        if req.query.dry_run:
            return ImportResult(
                dry_run=True, rows=parsed.read, created=0, invited=invited, errors=problems
            )
        if problems:
            raise ApiError(
                422,
                "invalid_import",
                f"{len(problems)} problem(s) in the file; nothing was imported",
                [problem.model_dump() for problem in problems],
            )
        hashes = await asyncio.gather(
            *(hash_password_off_loop(check_password(r.password)) for r in rows if r.password)
        )
        by_line = dict(zip([r.line for r in rows if r.password], hashes, strict=True))
        accounts = [
            NewAccount(r.email, r.name, r.role, by_line.get(r.line), {"line": r.line}) for r in rows
        ]
        actor = actor_id(principal_of(req.request))
        users, keys = await add_accounts(
            req.services, db, accounts, actor=actor, request=req.request, via="import"
        )
        audit.record(
            db,
            "users.imported",
            actor_id=actor,
            request=req.request,
            created=len(accounts),
            invited=invited,
            with_password=len(accounts) - invited,
        )
        await commit_or_discard(req.services, db, keys)
    for user, account in zip(users, accounts, strict=True):
        data = {"user_id": user.id, "invited": account.password_hash is None, "via": "import"}
        await domain_events.emit(req.services, "account.created", data)
    return ImportResult(dry_run=False, rows=len(rows), created=len(rows), invited=invited)
