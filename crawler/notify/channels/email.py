"""The email channel: the [email] table (SMTP server, login, from, to) and its SMTP sender.

Multipart text + HTML, with optional STARTTLS or implicit TLS and login.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.environment import Environment
from crawler.notify.channels.channel import Channel, DeliveryError, Sender, short_error
from crawler.notify.fields import fail, table, typed
from reports.mail import email_message
from storage.outbox import Channel as OutboxChannel
from storage.outbox import Message

log = logging.getLogger("citewatch.notify")
TABLE = "email"
_KEYS = {
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

    def senders(self) -> tuple[Sender, ...]:
        """One sender: the SMTP server, to every recipient at once."""
        return (EmailSender(self),)


def parse(path: Path, value: Any, env: Environment) -> EmailSettings:
    """The [email] table (NotifySettingsError names the file and the key)."""
    data = table(path, TABLE, value, _KEYS)
    for key in ("host", "from", "to"):
        if key not in data:
            raise fail(path, f"[{TABLE}]", f"{key} is required")
    to = data["to"]
    recipients = (to,) if isinstance(to, str) else tuple(typed(path, "to", t, str) for t in to)
    security_ssl = bool(typed(path, "ssl", data.get("ssl", False), bool))
    password_env = (
        typed(path, "password_env", data["password_env"], str) if "password_env" in data else None
    )
    return EmailSettings(
        host=typed(path, "host", data["host"], str),
        port=typed(path, "port", data.get("port", 465 if security_ssl else 587), int),
        starttls=typed(path, "starttls", data.get("starttls", not security_ssl), bool),
        ssl=security_ssl,
        user=typed(path, "user", data["user"], str) if "user" in data else None,
        password_env=password_env,
        sender=typed(path, "from", data["from"], str),
        recipients=recipients,
        timeout=float(typed(path, "timeout", data.get("timeout", 30), (int, float))),
        password_value=env.named(password_env) if password_env else None,
    )


@dataclass(frozen=True, slots=True)
class EmailSender:
    """SMTP with optional STARTTLS or implicit TLS and login; multipart text + HTML."""

    settings: EmailSettings

    @property
    def channel(self) -> OutboxChannel:
        """One email channel; its label names the server and recipients, never the password."""
        s = self.settings
        return OutboxChannel("email", f"email to {', '.join(s.recipients)} via {s.host}:{s.port}")

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
            raise DeliveryError(short_error(exc)) from exc
        if refused:
            # Some recipients took it: sending again would duplicate it for them.
            log.warning("email refused by some recipients: %s", ", ".join(sorted(refused)))


CHANNEL = Channel(TABLE, parse)
