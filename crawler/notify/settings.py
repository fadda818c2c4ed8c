"""The notification settings file (TOML): SMTP email, apprise URLs and the reviewer site's URL."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.environment import Environment, read_environment

_TOP_KEYS = {"site_url", "email", "apprise"}
_EMAIL_KEYS = {
    "host",
    "port",
    "starttls",
    "ssl",
    "user",
    "password_env",
    "from",
    "to",
    "timeout",
}
_APPRISE_KEYS = {"urls", "urls_env"}


class NotifySettingsError(Exception):
    """The settings file is missing, unreadable or has a wrong or unknown key."""


@dataclass(frozen=True, slots=True)
class EmailSettings:
    """Where and how to send the email; the password is read from the environment."""

    host: str
    port: int
    starttls: bool
    ssl: bool
    user: str | None
    password_env: str | None
    sender: str
    recipients: tuple[str, ...]
    timeout: float
    # The value of $password_env when the file was loaded (None when unset or not named).
    # Out of repr and comparisons: a secret must not reach a log line.
    password_value: str | None = field(default=None, repr=False, compare=False)

    def password(self) -> str | None:
        """The SMTP password from the environment variable the file names, if any."""
        return self.password_value


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """Every notification channel and the link base, from one file."""

    site_url: str  # base URL of the reviewer site, ending in "/" ("" when not published)
    email: EmailSettings | None
    apprise_urls: tuple[str, ...]

    @property
    def has_channels(self) -> bool:
        """Whether any channel is configured."""
        return self.email is not None or bool(self.apprise_urls)


def _fail(path: Path, where: str, problem: str) -> NotifySettingsError:
    return NotifySettingsError(f"{path}: {where}: {problem}")


def _check_keys(path: Path, where: str, table: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise _fail(path, where, f"unknown key(s) {', '.join(unknown)}")


def _typed(path: Path, where: str, value: Any, kind: type | tuple[type, ...]) -> Any:
    # bool is an int in Python: `port = true` must fail, `starttls = 1` too.
    if not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool):
        raise _fail(path, where, f"wrong type {type(value).__name__}")
    return value


def _site_url(path: Path, value: Any) -> str:
    url = str(_typed(path, "site_url", value, str)).strip()
    if not url:
        return ""
    if urlsplit(url).scheme not in {"http", "https", "file"}:
        raise _fail(path, "site_url", f"{url!r} is not an http(s) or file URL")
    return url if url.endswith("/") else url + "/"


def _email(path: Path, table: Any, env: Environment) -> EmailSettings:
    where = "[email]"
    if not isinstance(table, dict):
        raise _fail(path, where, "must be a table")
    _check_keys(path, where, table, _EMAIL_KEYS)
    for key in ("host", "from", "to"):
        if key not in table:
            raise _fail(path, where, f"{key} is required")
    to = table["to"]
    recipients = (to,) if isinstance(to, str) else tuple(_typed(path, "to", t, str) for t in to)
    security_ssl = bool(_typed(path, "ssl", table.get("ssl", False), bool))
    password_env = (
        _typed(path, "password_env", table["password_env"], str)
        if "password_env" in table
        else None
    )
    return EmailSettings(
        host=_typed(path, "host", table["host"], str),
        port=_typed(path, "port", table.get("port", 465 if security_ssl else 587), int),
        starttls=_typed(path, "starttls", table.get("starttls", not security_ssl), bool),
        ssl=security_ssl,
        user=_typed(path, "user", table["user"], str) if "user" in table else None,
        password_env=password_env,
        sender=_typed(path, "from", table["from"], str),
        recipients=recipients,
        timeout=float(_typed(path, "timeout", table.get("timeout", 30), (int, float))),
        password_value=env.named(password_env) if password_env else None,
    )


def _apprise(path: Path, table: Any, env: Environment) -> tuple[str, ...]:
    where = "[apprise]"
    if not isinstance(table, dict):
        raise _fail(path, where, "must be a table")
    _check_keys(path, where, table, _APPRISE_KEYS)
    urls = [_typed(path, "urls", u, str) for u in table.get("urls", [])]
    name = table.get("urls_env")
    if name is not None:
        # Chat URLs embed tokens: they may live in the environment instead of the file.
        urls.extend((env.named(_typed(path, "urls_env", name, str)) or "").split())
    return tuple(dict.fromkeys(u.strip() for u in urls if u.strip()))


def load_settings(path: Path, env: Environment | None = None) -> NotifySettings:
    """Read and validate the settings file (NotifySettingsError names file and key).

    The variables it names are looked up in ``env`` (default: read now).
    """
    env = read_environment() if env is None else env
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise NotifySettingsError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise NotifySettingsError(f"{path}: not valid TOML: {exc}") from exc
    _check_keys(path, "top level", data, _TOP_KEYS)
    settings = NotifySettings(
        site_url=_site_url(path, data.get("site_url", "")),
        email=_email(path, data["email"], env) if "email" in data else None,
        apprise_urls=_apprise(path, data["apprise"], env) if "apprise" in data else (),
    )
    if not settings.has_channels:
        raise _fail(path, "top level", "no channel: add an [email] or [apprise] table")
    return settings
