"""The notification channel registry: every registered channel's table is read from the settings
file, a table no channel owns is refused with the known ones listed, and a channel added to
the registry list gets its table and the digest without any other change."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from crawler.catalog.model import load_catalog
from crawler.environment import Environment
from crawler.notify import fields
from crawler.notify.channels import registry
from crawler.notify.channels.channel import Channel, Sender
from crawler.notify.deliver import notify_pending
from crawler.notify.settings import NotifySettingsError, load_settings
from storage import Store
from storage.outbox import Channel as OutboxChannel
from storage.outbox import Message
from tests.test_crawler_notify import HOSTILE_NEW, OLD, record_change, write_catalog

# The smallest table that configures each registered channel: a new channel adds its own.
SMALLEST_TABLES = {
    "email": "[email]\nhost = 'smtp.example.org'\nfrom = 'cw@example.org'\nto = 'ed@example.org'\n",
    "apprise": "[apprise]\nurls = ['json://hooks.example.org/cw']\n",
}


def write(tmp_path: Path, text: str) -> Path:
    """A settings file with this text."""
    path = tmp_path / "notify.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_registered_channel_has_a_table_example() -> None:
    assert registry.tables() == tuple(SMALLEST_TABLES)


@pytest.mark.parametrize("table", list(SMALLEST_TABLES))
def test_each_registered_channel_reads_its_table(tmp_path: Path, table: str) -> None:
    settings = load_settings(write(tmp_path, SMALLEST_TABLES[table]))
    (parsed,) = settings.channels
    (sender,) = parsed.senders()
    assert settings.has_channels and settings.senders() == (sender,)
    assert sender.channel.key.startswith(table)


def test_channels_keep_the_registry_order(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "".join(reversed(SMALLEST_TABLES.values()))))
    assert [s.channel.key.split(":")[0] for s in settings.senders()] == list(SMALLEST_TABLES)


def test_a_table_no_channel_owns_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, SMALLEST_TABLES["email"] + "[slack]\nurl = 'x'\n")
    with pytest.raises(NotifySettingsError) as info:
        load_settings(path)
    assert str(info.value) == (
        f"{path}: top level: unknown key(s) slack (known: site_url, email, apprise)"
    )


def test_no_channel_names_every_registered_table(tmp_path: Path) -> None:
    with pytest.raises(NotifySettingsError, match=r"add an \[email\] or \[apprise\] table"):
        load_settings(write(tmp_path, "site_url = 'https://x/'\n"))


@dataclass(frozen=True, slots=True)
class PagerSender:
    """A test channel's sender: keeps what it is given."""

    number: str
    inbox: list[str]

    @property
    def channel(self) -> OutboxChannel:
        """Keyed by the number."""
        return OutboxChannel(f"pager:{self.number}", f"pager {self.number}")

    def send(self, message: Message, at: datetime) -> None:
        """Keep the subject."""
        self.inbox.append(message.subject)


@dataclass(frozen=True, slots=True)
class PagerSettings:
    """A test channel's [pager] table."""

    number: str
    inbox: list[str] = field(default_factory=list)

    def senders(self) -> tuple[Sender, ...]:
        """One pager."""
        return (PagerSender(self.number, self.inbox),)


def parse_pager(path: Path, value: Any, env: Environment) -> PagerSettings:
    """The [pager] table, read with the same checks as the real channels."""
    data = fields.table(path, "pager", value, {"number"})
    return PagerSettings(fields.typed(path, "number", data["number"], str))


def test_a_channel_added_to_the_registry_gets_its_table_and_the_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "CHANNELS", (*registry.CHANNELS, Channel("pager", parse_pager)))
    with pytest.raises(NotifySettingsError, match=r"\[pager\]: unknown key\(s\) numbr"):
        load_settings(write(tmp_path, "[pager]\nnumbr = '555'\n"))
    settings = load_settings(write(tmp_path, "[pager]\nnumber = '555'\n"))
    pager = settings.table(PagerSettings)
    assert pager is not None and pager.number == "555"

    store = Store.open(f"sqlite:///{tmp_path / 'cw.db'}")
    catalog_dir = write_catalog(tmp_path / "catalog")
    record_change(store, catalog_dir, OLD, HOSTILE_NEW, first=True)
    report = notify_pending(store, load_catalog(catalog_dir), settings)
    assert [(o.channel, o.sent) for o in report.outcomes] == [("pager 555", True)]
    assert pager.inbox == ["[citewatch] Re-review Acme AI: No training on customer data"]
