"""What a notification channel provides: its settings table, its parsed settings, its senders.

A channel is one module of this package (email.py, apprise_urls.py) that defines a `CHANNEL`
and is listed once in registry.py. The settings file parser hands the channel its own TOML
table; the parsed settings make the senders; a sender delivers one stored message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from crawler.environment import Environment
from storage.outbox import Channel as OutboxChannel
from storage.outbox import Message

# An error kept in the outbox is for people reading `citewatch notify`: one short line.
ERROR_LIMIT = 500


class DeliveryError(Exception):
    """A channel could not deliver a message (it stays in the outbox for the next try)."""


class Sender(Protocol):
    """A configured destination: its outbox identity and how to send a message through it."""

    @property
    def channel(self) -> OutboxChannel:
        """Key and label of the destination in the outbox."""
        ...

    def send(self, message: Message, at: datetime) -> None:
        """Deliver the message or raise DeliveryError."""
        ...


class ChannelSettings(Protocol):
    """One channel's table of the settings file, parsed (a frozen dataclass of the channel)."""

    def senders(self) -> tuple[Sender, ...]:
        """The destinations the table configures (none: the table configures nothing)."""
        ...


@dataclass(frozen=True, slots=True)
class Channel:
    """A kind of notification channel: the settings table it owns and how to read it."""

    table: str  # its TOML table name, e.g. "email" for [email]
    # (settings file, the table's raw TOML value, the environment for the variables the
    # table names) -> its settings; NotifySettingsError names the file and the field
    # (crawler/notify/fields.py).
    parse: Callable[[Path, Any, Environment], ChannelSettings]


def short_error(error: BaseException | str) -> str:
    """An exception or message as one short line for the outbox."""
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return " ".join(text.split())[:ERROR_LIMIT]
