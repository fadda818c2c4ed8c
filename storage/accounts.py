"""The web app's accounts: who may sign in, with which role, their sessions, API tokens,
sign-in attempts and what each did. Secrets arrive here already hashed (crawler/web/secrets)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal, get_args

import sqlalchemy as sa
from sqlalchemy.orm import Session

from storage.models import Account as AccountRow
from storage.models import AccountAction, ApiToken, LoginAttempt, WebSession
from storage.queries import NotFound
from storage.store import Store

Role = Literal["viewer", "editor", "admin"]
ROLE_NAMES: Final[tuple[Role, ...]] = get_args(Role)
# An account name: what `by` of a review shows and a login form takes; no spaces, no markup.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class AccountError(Exception):
    """An account cannot be made or changed as asked (bad name, taken, unknown role)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """An account as the app sees it (never its password hash)."""

    id: int
    name: str
    role: Role
    disabled: bool
    created_at: datetime

    def may(self, needed: Role) -> bool:
        """Whether this role reaches the needed one (viewer < editor < admin)."""
        return ROLE_NAMES.index(self.role) >= ROLE_NAMES.index(needed)


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRecord:
    """One thing an account did, as history."""

    at: datetime
    account: str
    action: str
    target: str
    detail: str


def check_name(name: str) -> str:
    """The name when it is a valid account name, else AccountError."""
    if not _NAME.fullmatch(name):
        raise AccountError(
            f"account name {name!r}: 1-64 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit"
        )
    return name


def check_role(role: str) -> Role:
    """The role when it is one of viewer, editor, admin, else AccountError."""
    for known in ROLE_NAMES:
        if role == known:
            return known
    raise AccountError(f"role {role!r} is not one of {', '.join(ROLE_NAMES)}")


def _now() -> datetime:
    return datetime.now(UTC)


def _record(row: AccountRow) -> Account:
    return Account(
        id=row.id,
        name=row.name,
        role=check_role(row.role),
        disabled=row.disabled,
        created_at=row.created_at,
    )


def _row(s: Session, name: str) -> AccountRow:
    row = s.scalars(sa.select(AccountRow).filter_by(name=name)).first()
    if row is None:
        raise NotFound(f"no account {name!r}")
    return row


def add_account(store: Store, name: str, role: str, password_hash: str) -> Account:
    """Make an account; AccountError when the name is taken or invalid."""
    check_name(name)
    checked = check_role(role)
    with store.sessions.begin() as s:
        if s.scalars(sa.select(AccountRow.id).filter_by(name=name)).first() is not None:
            raise AccountError(f"account {name!r} exists already")
        row = AccountRow(
            name=name, role=checked, password_hash=password_hash, disabled=False, created_at=_now()
        )
        s.add(row)
        s.flush()
        return _record(row)


def accounts(store: Store) -> list[Account]:
    """Every account, by name."""
    with store.sessions() as s:
        return [_record(r) for r in s.scalars(sa.select(AccountRow).order_by(AccountRow.name))]


def credentials(store: Store, name: str) -> tuple[Account, str] | None:
    """The account of this name and its password hash, or None."""
    with store.sessions() as s:
        row = s.scalars(sa.select(AccountRow).filter_by(name=name)).first()
        return None if row is None else (_record(row), row.password_hash)


def set_disabled(store: Store, name: str, disabled: bool) -> Account:
    """Disable (or enable) an account; disabling ends its sessions at once."""
    with store.sessions.begin() as s:
        row = _row(s, name)
        row.disabled = disabled
        if disabled:
            s.execute(sa.delete(WebSession).filter_by(account_id=row.id))
        return _record(row)


def set_password(store: Store, name: str, password_hash: str) -> Account:
    """Replace an account's password; its sessions end (a reset signs everyone out)."""
    with store.sessions.begin() as s:
        row = _row(s, name)
        row.password_hash = password_hash
        s.execute(sa.delete(WebSession).filter_by(account_id=row.id))
        return _record(row)


def add_token(store: Store, name: str, label: str, token_hash: str) -> Account:
    """Keep a new API token (its hash) for the account."""
    with store.sessions.begin() as s:
        row = _row(s, name)
        s.add(ApiToken(account_id=row.id, label=label, token_hash=token_hash, created_at=_now()))
        return _record(row)


def token_account(store: Store, token_hash: str) -> Account | None:
    """The enabled account an API token belongs to (its last use noted), or None."""
    with store.sessions.begin() as s:
        found = s.execute(
            sa.select(ApiToken, AccountRow)
            .join(AccountRow, AccountRow.id == ApiToken.account_id)
            .where(ApiToken.token_hash == token_hash)
        ).first()
        if found is None or found[1].disabled:
            return None
        found[0].last_used_at = _now()
        return _record(found[1])


def start_session(
    store: Store, account: Account, token_hash: str, csrf: str, expires: datetime
) -> None:
    """Keep a new browser session (its cookie's hash) with its CSRF token."""
    with store.sessions.begin() as s:
        s.execute(sa.delete(WebSession).where(WebSession.expires_at < _now()))
        s.add(
            WebSession(
                token_hash=token_hash,
                account_id=account.id,
                csrf=csrf,
                created_at=_now(),
                expires_at=expires,
            )
        )


def session_account(store: Store, token_hash: str) -> tuple[Account, str] | None:
    """The enabled account of a live session and the session's CSRF token, or None."""
    with store.sessions() as s:
        found = s.execute(
            sa.select(WebSession, AccountRow)
            .join(AccountRow, AccountRow.id == WebSession.account_id)
            .where(WebSession.token_hash == token_hash)
        ).first()
    if found is None or found[1].disabled or _aware(found[0].expires_at) <= _now():
        return None
    return _record(found[1]), found[0].csrf


def end_session(store: Store, token_hash: str) -> None:
    """Forget a session (sign-out)."""
    with store.sessions.begin() as s:
        s.execute(sa.delete(WebSession).filter_by(token_hash=token_hash))


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def note_attempt(store: Store, name: str, address: str, ok: bool) -> None:
    """Keep one sign-in attempt (for throttling and as history)."""
    with store.sessions.begin() as s:
        s.add(LoginAttempt(name=name[:64], address=address[:64], at=_now(), ok=ok))


def failures_since(store: Store, name: str, address: str, since: datetime) -> tuple[int, int]:
    """Failed sign-ins since then: (for this account name, from this address)."""
    failed = (
        sa.select(sa.func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.at >= since, LoginAttempt.ok.is_(False))
    )
    with store.sessions() as s:
        by_name = s.scalar(failed.where(LoginAttempt.name == name[:64])) or 0
        by_address = s.scalar(failed.where(LoginAttempt.address == address[:64])) or 0
    return by_name, by_address


def note_action(store: Store, account: Account, action: str, target: str, detail: str) -> None:
    """Keep what an account did."""
    with store.sessions.begin() as s:
        s.add(
            AccountAction(
                account_id=account.id, at=_now(), action=action, target=target, detail=detail
            )
        )


def actions(store: Store, limit: int) -> list[ActionRecord]:
    """The newest `limit` actions of every account, newest first."""
    with store.sessions() as s:
        rows = s.execute(
            sa.select(AccountAction, AccountRow.name)
            .join(AccountRow, AccountRow.id == AccountAction.account_id)
            .order_by(AccountAction.id.desc())
            .limit(limit)
        ).all()
    return [
        ActionRecord(at=a.at, account=n, action=a.action, target=a.target, detail=a.detail)
        for a, n in rows
    ]
