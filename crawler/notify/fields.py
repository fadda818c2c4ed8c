"""Checked values of the notification settings file: every error names the file and the field.

The file-level parser (crawler/notify/settings.py) and each channel's table parser
(crawler/notify/channels/) read their values through these, so all report alike.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any


class NotifySettingsError(Exception):
    """The settings file is missing, unreadable or has a wrong or unknown key."""


def fail(path: Path, where: str, problem: str) -> NotifySettingsError:
    """The error for one problem at one place of the file ("[email]", "port", "top level")."""
    return NotifySettingsError(f"{path}: {where}: {problem}")


def check_keys(path: Path, where: str, table: Mapping[str, Any], allowed: Collection[str]) -> None:
    """Reject a key the table does not know (a typo would otherwise be silently ignored)."""
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise fail(path, where, f"unknown key(s) {', '.join(unknown)}")


def typed(path: Path, where: str, value: Any, kind: type | tuple[type, ...]) -> Any:
    """The value if it has the expected TOML type, else an error naming the key."""
    # bool is an int in Python: `port = true` must fail, `starttls = 1` too.
    if not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool):
        raise fail(path, where, f"wrong type {type(value).__name__}")
    return value


def table(path: Path, name: str, value: Any, allowed: Collection[str]) -> Mapping[str, Any]:
    """A channel's table with only keys it knows (`name` is the table's, e.g. "email")."""
    where = f"[{name}]"
    if not isinstance(value, dict):
        raise fail(path, where, "must be a table")
    check_keys(path, where, value, allowed)
    return value
