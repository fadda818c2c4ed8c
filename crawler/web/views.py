"""What each page of the web app shows: one frozen view per page (the site's own pages use
reports/views.py), rendered with the site's Jinja2 environment and templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crawler.run.status import StatusReport
from crawler.web.queue import QueueFilter, QueueItem
from reports.context import ReportFailure, Resolution
from reports.history import Version
from reports.render import DiffHunk
from reports.views import FlagCard
from storage.accounts import ActionRecord


@dataclass(frozen=True, slots=True)
class User:
    """The signed-in account as pages show it, with its forms' CSRF token."""

    name: str
    role: str
    csrf: str
    may_review: bool
    is_admin: bool


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of a select: its value and label."""

    value: str
    label: str


@dataclass(frozen=True, slots=True)
class QueueView:
    """The review queue: the filter, the flags passing it, and the filter's choices."""

    wanted: QueueFilter
    items: tuple[QueueItem, ...]
    open_total: int
    tools: tuple[Choice, ...]
    criteria: tuple[Choice, ...]
    severities: tuple[Choice, ...]
    sources: tuple[Choice, ...]
    ages: tuple[Choice, ...]
    ratings: tuple[Choice, ...]
    done: str  # what the last action did, shown once after it
    linked: tuple[int, ...]  # changes with a page
    here: str  # this queue's path and filters, where an action comes back to


@dataclass(frozen=True, slots=True)
class FlagView:
    """One flag's page: its card, its id, the actions it allows, the last error."""

    flag_id: int
    card: FlagCard
    linked: tuple[int, ...]  # changes with a page
    ratings: tuple[Choice, ...]
    error: str
    note: str  # the note typed before an error, kept


@dataclass(frozen=True, slots=True)
class ResolvedItem:
    """A resolved flag and the decision that closed it."""

    item: QueueItem
    last: Resolution | None


@dataclass(frozen=True, slots=True)
class ResolvedView:
    """Flags resolved since a moment, newest decision first."""

    since: datetime
    days: int
    items: tuple[ResolvedItem, ...]


@dataclass(frozen=True, slots=True)
class CompareView:
    """Two versions of one source compared (any two, chosen on its timeline)."""

    tool_id: str
    tool_name: str
    source_id: str
    versions: tuple[Version, ...]  # every version, newest first, for the two selects
    old: Version
    new: Version
    hunks: tuple[DiffHunk, ...]


@dataclass(frozen=True, slots=True)
class StatusView:
    """The scheduler's heartbeat, each source's state, and the failing sources."""

    report: StatusReport
    failures: tuple[ReportFailure, ...]


@dataclass(frozen=True, slots=True)
class LogView:
    """What accounts did, newest first (admins only)."""

    actions: tuple[ActionRecord, ...]


@dataclass(frozen=True, slots=True)
class LoginView:
    """The sign-in form."""

    error: str
    name: str
    next: str
    token: str  # the form's CSRF token (also in a cookie: double submit)


@dataclass(frozen=True, slots=True)
class ErrorView:
    """An error page: the status and one line."""

    status: int
    message: str
