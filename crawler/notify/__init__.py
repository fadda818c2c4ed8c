"""Notifications: the settings file, the outbox of digests, and the channels that send them."""

from crawler.notify.deliver import NotifyReport, notify_pending
from crawler.notify.settings import NotifySettings, NotifySettingsError, load_settings

__all__ = [
    "NotifyReport",
    "NotifySettings",
    "NotifySettingsError",
    "load_settings",
    "notify_pending",
]
