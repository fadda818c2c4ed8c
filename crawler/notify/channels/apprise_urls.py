"""The apprise channel: the [apprise] table of URLs (Slack, Teams, Matrix, json://, form://, …)
and one sender per URL, sent the plain-text part.

Named apprise_urls so that `import apprise` here is the apprise package.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import apprise

from crawler.environment import Environment
from crawler.notify.channels.channel import Channel, DeliveryError, Sender, short_error
from crawler.notify.fields import table, typed
from storage.outbox import Channel as OutboxChannel
from storage.outbox import Message

TABLE = "apprise"
_KEYS = {"urls", "urls_env"}


@dataclass(frozen=True, slots=True)
class AppriseSettings:
    """The apprise URLs to notify, in file order, each once."""

    urls: tuple[str, ...]

    def senders(self) -> tuple[Sender, ...]:
        """One sender per URL."""
        return tuple(AppriseSender(url) for url in self.urls)


def parse(path: Path, value: Any, env: Environment) -> AppriseSettings:
    """The [apprise] table (NotifySettingsError names the file and the key)."""
    data = table(path, TABLE, value, _KEYS)
    urls = [typed(path, "urls", u, str) for u in data.get("urls", [])]
    name = data.get("urls_env")
    if name is not None:
        # Chat URLs embed tokens: they may live in the environment instead of the file.
        urls.extend((env.named(typed(path, "urls_env", name, str)) or "").split())
    return AppriseSettings(tuple(dict.fromkeys(u.strip() for u in urls if u.strip())))


class _Captured(logging.Handler):
    """Keeps apprise's warnings, which say why a delivery failed (notify() only says False)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def redact(url: str) -> str:
    """A chat/webhook URL without its secrets: scheme and host only."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}{':' + str(parts.port) if parts.port else ''}/…"


@dataclass(frozen=True, slots=True)
class AppriseSender:
    """One apprise URL (Slack, Teams, Matrix, json://, form://, …), sent the plain-text part."""

    url: str

    @property
    def channel(self) -> OutboxChannel:
        """Keyed by a hash of the URL, so the outbox holds no token."""
        digest = hashlib.sha256(self.url.encode("utf-8")).hexdigest()[:16]
        return OutboxChannel(f"apprise:{digest}", f"apprise {redact(self.url)}")

    def send(self, message: Message, at: datetime) -> None:
        """Notify through apprise (DeliveryError with apprise's own explanation on failure)."""
        notifier = apprise.Apprise()
        if not notifier.add(self.url):
            raise DeliveryError(f"not a valid apprise URL: {redact(self.url)}")
        captured = _Captured()
        logger = logging.getLogger(apprise.LOGGER_NAME)
        logger.addHandler(captured)
        try:
            ok = notifier.notify(
                body=message.text, title=message.subject, body_format=apprise.NotifyFormat.TEXT
            )
        finally:
            logger.removeHandler(captured)
        if not ok:
            raise DeliveryError(
                short_error(" / ".join(captured.lines) or "apprise could not deliver")
            )


CHANNEL = Channel(TABLE, parse)
