"""Passwords, session cookies, CSRF and API tokens: made here, kept only as hashes.

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106's second recommended
setting: 64 MiB, 3 passes, 4 lanes; measured 0.45-0.6 s a hash or a check on the shared
2-core dev machine: a sign-in pays it once, a guesser on every try). Session cookies
and API tokens are 256 random bits, so a fast SHA-256 of them is enough to keep: nothing
can be guessed from it, and a stolen table opens no session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# A password shorter than this is refused when an account is made or reset: long enough
# that the sign-in throttle (5 failures / 15 min) makes guessing hopeless.
MIN_PASSWORD = 12
# Longer passwords are refused: Argon2 hashes any length, but a megabyte "password" posted
# to the sign-in form would cost the server for nothing.
MAX_PASSWORD = 1024
# Prefix of API tokens, so a leaked one is recognisable (secret scanners, logs).
TOKEN_PREFIX = "cwt_"

_HASHER = PasswordHasher()


class PasswordError(Exception):
    """A password that cannot be used (too short, too long)."""


def check_password(password: str) -> str:
    """The password when its length is allowed, else PasswordError."""
    if len(password) < MIN_PASSWORD:
        raise PasswordError(f"password too short: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise PasswordError(f"password too long: at most {MAX_PASSWORD} characters")
    return password


def hash_password(password: str) -> str:
    """An Argon2id hash (PHC string) of an allowed password."""
    return _HASHER.hash(check_password(password))


def password_matches(stored_hash: str, password: str) -> bool:
    """Whether the password is the one hashed (False for an unreadable hash, never raises)."""
    if len(password) > MAX_PASSWORD:
        return False
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_secret() -> str:
    """256 random bits, URL-safe (a session cookie or a CSRF token)."""
    return secrets.token_urlsafe(32)


def new_token() -> str:
    """A new API token, shown once."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What is kept of a session cookie or API token: its SHA-256, hex."""
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two secrets."""
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))


# A hash of a password no one has: checked against when the account does not exist, so a
# missing account takes as long to refuse as a wrong password (no account-name oracle).
DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(24))
