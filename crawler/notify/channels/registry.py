"""Every notification channel citewatch knows: the one list a new channel is added to."""

from __future__ import annotations

from crawler.notify.channels import apprise_urls, email
from crawler.notify.channels.channel import Channel

# Settings, senders and deliveries follow this order (email first, as it always was).
CHANNELS: tuple[Channel, ...] = (email.CHANNEL, apprise_urls.CHANNEL)


def tables() -> tuple[str, ...]:
    """The TOML table of every registered channel, in registry order."""
    return tuple(c.table for c in CHANNELS)
