"""The notification settings file (TOML): the reviewer site's URL and one table per channel.

Each table belongs to a channel of crawler/notify/channels/ (registry.py lists them: [email],
[apprise]); this module reads the file, rejects a table no channel owns and hands each
channel its own table.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from crawler.environment import Environment, read_environment
from crawler.notify.channels import registry
from crawler.notify.channels.apprise_urls import AppriseSettings
from crawler.notify.channels.channel import ChannelSettings, Sender
from crawler.notify.channels.email import EmailSettings
from crawler.notify.fields import NotifySettingsError, fail, typed

__all__ = ["EmailSettings", "NotifySettings", "NotifySettingsError", "load_settings"]

_SITE_URL = "site_url"
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True, init=False)
class NotifySettings:
    """Every notification channel and the link base, from one file."""

    site_url: str  # base URL of the reviewer site, ending in "/" ("" when not published)
    channels: tuple[ChannelSettings, ...]  # each channel table of the file, in registry order

    def __init__(
        self,
        site_url: str,
        email: EmailSettings | None = None,
        apprise_urls: Sequence[str] = (),
        *,
        channels: Iterable[ChannelSettings] = (),
    ) -> None:
        # `email` and `apprise_urls` are the shorthand code and tests build settings with;
        # the file (and any channel added since) gives its parsed tables as `channels`.
        shorthand: list[ChannelSettings] = [email] if email is not None else []
        shorthand += [AppriseSettings(tuple(apprise_urls))] if apprise_urls else []
        object.__setattr__(self, "site_url", site_url)
        object.__setattr__(self, "channels", (*shorthand, *channels))

    def table(self, kind: type[_T]) -> _T | None:
        """The parsed table of one channel (e.g. EmailSettings), None when there is none."""
        return next((c for c in self.channels if isinstance(c, kind)), None)

    @property
    def email(self) -> EmailSettings | None:
        """The [email] table, if any (it also gives a previewed email its addresses)."""
        return self.table(EmailSettings)

    @property
    def apprise_urls(self) -> tuple[str, ...]:
        """The URLs of the [apprise] table (none without one)."""
        found = self.table(AppriseSettings)
        return found.urls if found is not None else ()

    def senders(self) -> tuple[Sender, ...]:
        """Every configured destination, in registry order (email first)."""
        return tuple(s for c in self.channels for s in c.senders())

    @property
    def has_channels(self) -> bool:
        """Whether any channel is configured."""
        return bool(self.senders())


def _site_url(path: Path, value: Any) -> str:
    url = str(typed(path, _SITE_URL, value, str)).strip()
    if not url:
        return ""
    if urlsplit(url).scheme not in {"http", "https", "file"}:
        raise fail(path, _SITE_URL, f"{url!r} is not an http(s) or file URL")
    return url if url.endswith("/") else url + "/"


def _check_tables(path: Path, data: dict[str, Any]) -> None:
    """Reject a top-level key that is neither site_url nor a registered channel's table."""
    known = (_SITE_URL, *registry.tables())
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise fail(
            path, "top level", f"unknown key(s) {', '.join(unknown)} (known: {', '.join(known)})"
        )


def load_settings(path: Path, env: Environment | None = None) -> NotifySettings:
    """Read and validate the settings file (NotifySettingsError names file and key).

    The variables the file names (a password, more URLs) are looked up in ``env`` (default:
    this process's environment, read now).
    """
    env = read_environment() if env is None else env
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise NotifySettingsError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise NotifySettingsError(f"{path}: not valid TOML: {exc}") from exc
    _check_tables(path, data)
    settings = NotifySettings(
        _site_url(path, data.get(_SITE_URL, "")),
        channels=tuple(
            channel.parse(path, data[channel.table], env)
            for channel in registry.CHANNELS
            if channel.table in data
        ),
    )
    if not settings.has_channels:
        tables = " or ".join(f"[{t}]" for t in registry.tables())
        raise fail(path, "top level", f"no channel: add an {tables} table")
    return settings
