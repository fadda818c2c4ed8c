"""Notification channels: SMTP email and apprise URLs; each sends one stored message or raises."""

from __future__ import annotations

import hashlib
import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

import apprise

from crawler.notify.settings import EmailSettings, NotifySettings
from reports.mail import email_message
from storage.outbox import Channel, Message

log = logging.getLogger("citewatch.notify")
# An error kept in the outbox is for people reading `citewatch notify`: one short line.
ERROR_LIMIT = 500


class DeliveryError(Exception):
    """A channel could not deliver a message (it stays in the outbox for the next try)."""


class Sender(Protocol):
    """A configured channel: its outbox identity and how to send a message through it."""

    @property
    def channel(self) -> Channel:
        """Key and label of the channel in the outbox."""
        ...

    def send(self, message: Message, at: datetime) -> None:
        """Deliver the message or raise DeliveryError."""
        ...


def _short(error: BaseException | str) -> str:
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return " ".join(text.split())[:ERROR_LIMIT]


@dataclass(frozen=True, slots=True)
class EmailSender:
    """SMTP with optional STARTTLS or implicit TLS and login; multipart text + HTML."""

    settings: EmailSettings

    @property
    def channel(self) -> Channel:
        """One email channel; its label names the server and recipients, never the password."""
        s = self.settings
        return Channel("email", f"email to {', '.join(s.recipients)} via {s.host}:{s.port}")

    def send(self, message: Message, at: datetime) -> None:
        """Send through the SMTP server (DeliveryError on any refusal or network error)."""
        s = self.settings
        password = s.password()
        if s.password_env and password is None:
            raise DeliveryError(f"${s.password_env} is not set")
        mail = email_message(message, s.sender, s.recipients, at)
        try:
            smtp_class = smtplib.SMTP_SSL if s.ssl else smtplib.SMTP
            with smtp_class(s.host, s.port, timeout=s.timeout) as smtp:
                if s.starttls and not s.ssl:
                    smtp.starttls(context=ssl.create_default_context())
                if s.user:
                    smtp.login(s.user, password or "")
                refused = smtp.send_message(mail)
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            raise DeliveryError(_short(exc)) from exc
        if refused:
            # Some recipients took it: sending again would duplicate it for them.
            log.warning("email refused by some recipients: %s", ", ".join(sorted(refused)))


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
    def channel(self) -> Channel:
        """Keyed by a hash of the URL, so the outbox holds no token."""
        digest = hashlib.sha256(self.url.encode("utf-8")).hexdigest()[:16]
        return Channel(f"apprise:{digest}", f"apprise {redact(self.url)}")

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
            raise DeliveryError(_short(" / ".join(captured.lines) or "apprise could not deliver"))


def senders(settings: NotifySettings) -> tuple[Sender, ...]:
    """Every configured channel, email first."""
    out: list[Sender] = []
    if settings.email is not None:
        out.append(EmailSender(settings.email))
    out.extend(AppriseSender(url) for url in settings.apprise_urls)
    return tuple(out)
