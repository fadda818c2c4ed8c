"""Who is asking: the session cookie (browsers) or a bearer token (scripts), CSRF checks,
and the sign-in throttle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from crawler.web.secrets import DUMMY_HASH, digest, new_secret, password_matches, same
from storage import Store
from storage.accounts import (
    Account,
    credentials,
    end_session,
    failures_since,
    note_action,
    note_attempt,
    session_account,
    start_session,
    token_account,
)

SESSION_COOKIE: Final = "citewatch_session"
LOGIN_COOKIE: Final = "citewatch_login"  # the sign-in form's own CSRF token (double submit)
# A session lasts a working day: an editor signs in once a day; a stolen cookie dies soon.
SESSION_TTL: Final = timedelta(hours=12)
# Sign-in throttle: after this many failures for one account name, or from one address,
# within the window, sign-in is refused (without checking the password) until the window
# has passed. 5 per 15 minutes: a person mistyping is not stopped; a guesser gets 480 a day.
MAX_LOGIN_FAILURES: Final = 5
LOGIN_WINDOW: Final = timedelta(minutes=15)


class AuthError(Exception):
    """A request that may not do what it asks (signed out, wrong role, bad CSRF token)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Caller:
    """A signed-in account, and the CSRF token its forms carry (empty for API tokens)."""

    account: Account
    csrf: str


def address(request: Request) -> str:
    """The client's address (behind a trusted proxy, uvicorn puts the forwarded one here)."""
    return request.client.host if request.client is not None else "unknown"


def session_caller(store: Store, request: Request) -> Caller | None:
    """The account of the request's session cookie, or None."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    found = session_account(store, digest(cookie))
    return None if found is None else Caller(found[0], found[1])


def token_caller(store: Store, request: Request) -> Caller | None:
    """The account of the request's `Authorization: Bearer` token, or None."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    account = token_account(store, digest(token.strip()))
    return None if account is None else Caller(account, "")


def require(caller: Caller | None, role: str) -> Caller:
    """The caller when signed in with at least this role, else AuthError (401 / 403)."""
    if caller is None:
        raise AuthError(401, "sign in first")
    if not caller.account.may(role):  # type: ignore[arg-type]
        raise AuthError(
            403, f"this needs the {role} role ({caller.account.name} is {caller.account.role})"
        )
    return caller


def check_csrf(caller: Caller, sent: str | None) -> None:
    """Refuse a form whose CSRF token is not the session's."""
    if not sent or not caller.csrf or not same(sent, caller.csrf):
        raise AuthError(403, "the form's CSRF token is missing or wrong: reload the page")


def throttled(store: Store, name: str, where: str) -> bool:
    """Whether sign-in for this name or from this address is refused for now."""
    since = datetime.now(UTC) - LOGIN_WINDOW
    by_name, by_address = failures_since(store, name, where, since)
    return by_name >= MAX_LOGIN_FAILURES or by_address >= MAX_LOGIN_FAILURES


def sign_in(store: Store, name: str, password: str, where: str) -> Account | None:
    """The account when the password is right and it is enabled (the attempt is kept)."""
    found = credentials(store, name)
    # A missing account costs a hash check too, so timing does not tell which names exist.
    ok = password_matches(found[1] if found else DUMMY_HASH, password) and found is not None
    account = found[0] if found is not None and ok and not found[0].disabled else None
    note_attempt(store, name, where, account is not None)
    if account is not None:
        note_action(store, account, "sign-in", where, "")
    return account


def open_session(store: Store, account: Account, response: Response, secure: bool) -> None:
    """Start a session for the account and set its cookie on the response."""
    cookie = new_secret()
    start_session(store, account, digest(cookie), new_secret(), datetime.now(UTC) + SESSION_TTL)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def signed_out(store: Store, request: Request) -> None:
    """End the request's session."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        end_session(store, digest(cookie))
