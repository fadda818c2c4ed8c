"""SQLAlchemy models: history (runs, fetches, blobs, snapshots, changes), flags, reviews,
evidence anchors and the notification outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from diffs.reasons import ReasonKind, Severity
from storage.values import FailureClass, FlagStatus, Outcome, ReviewAction

# Named constraints so Alembic batch mode can alter them on SQLite.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)
BROKEN = "broken"  # the severity of a broken source's flag (storage/health.py)


def where(condition: str) -> dict[str, Any]:
    """A partial index's condition, for both SQLite and PostgreSQL."""
    clause = sa.text(condition)
    return {"sqlite_where": clause, "postgresql_where": clause}


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention."""

    metadata = sa.MetaData(naming_convention=NAMING)


class Blob(Base):
    """Compressed, content-addressed bytes (raw bodies and normalized texts)."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    codec: Mapped[str] = mapped_column(sa.String(16))
    size: Mapped[int] = mapped_column(sa.BigInteger())
    data: Mapped[bytes] = mapped_column(sa.LargeBinary())


class CrawlRun(Base):
    """One `citewatch crawl` (or scheduler cycle)."""

    __tablename__ = "crawl_runs"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(When)
    finished_at: Mapped[datetime | None] = mapped_column(When)
    catalog: Mapped[str] = mapped_column(sa.Text())
    status: Mapped[str] = mapped_column(sa.String(16))  # running | done | failed | killed
    pid: Mapped[int | None] = mapped_column(sa.Integer())  # who runs it, to tell a dead run
    host: Mapped[str | None] = mapped_column(sa.String(255))


class SourceRow(Base):
    """A cited page of a tool, with what the next conditional GET needs."""

    __tablename__ = "sources"
    __table_args__ = (
        sa.UniqueConstraint("tool_id", "source_id", name="uq_sources_tool_source"),
        # The failing sources (notify's failure streaks): a few rows, found without a scan.
        sa.Index("ix_sources_failing", "id", **where("consecutive_failures > 0")),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    tool_id: Mapped[str] = mapped_column(sa.String(200))
    source_id: Mapped[str] = mapped_column(sa.String(200))
    url: Mapped[str] = mapped_column(sa.Text())
    etag: Mapped[str | None] = mapped_column(sa.Text())
    last_modified: Mapped[str | None] = mapped_column(sa.Text())
    extract_key: Mapped[str | None] = mapped_column(sa.Text())  # rules the last text came from
    last_fetch_at: Mapped[datetime | None] = mapped_column(When)
    last_ok_at: Mapped[datetime | None] = mapped_column(When)
    consecutive_failures: Mapped[int] = mapped_column(sa.Integer(), default=0)
    failure_class: Mapped[FailureClass | None] = mapped_column(sa.String(16))  # of the last fetch
    # Set when the source is declared broken: the start of its run of failures.
    broken_since: Mapped[datetime | None] = mapped_column(When)
    # The last fetch, kept on the row (migration 0008) so that the scheduler's due decision,
    # `status` and notify read one row per source instead of scanning the fetch log.
    last_fetch_id: Mapped[int | None] = mapped_column(Id)
    last_outcome: Mapped[Outcome | None] = mapped_column(sa.String(16))
    last_error_kind: Mapped[str | None] = mapped_column(sa.String(32))
    last_error: Mapped[str | None] = mapped_column(sa.Text())
    last_started_at: Mapped[datetime | None] = mapped_column(When)  # Retry-After counts from it
    last_retry_after: Mapped[float | None] = mapped_column(sa.Float())
    last_ok_fetch_id: Mapped[int | None] = mapped_column(Id)  # the failure streak comes after
    failing_since: Mapped[datetime | None] = mapped_column(When)  # the streak's first start


class Fetch(Base):
    """Every fetch attempt, good or bad: the log of what the crawler saw."""

    __tablename__ = "fetches"
    # A source's fetches newest first (failure streaks, prune) without a sort: the composite
    # index replaces the one on source_pk alone (migration 0008).
    __table_args__ = (sa.Index("ix_fetches_source_pk_id", "source_pk", "id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("crawl_runs.id"), index=True)
    source_pk: Mapped[int] = mapped_column(sa.ForeignKey("sources.id"))
    requested_url: Mapped[str] = mapped_column(sa.Text())
    final_url: Mapped[str | None] = mapped_column(sa.Text())
    redirects: Mapped[list[str]] = mapped_column(sa.JSON(), default=list)
    status: Mapped[int | None] = mapped_column(sa.Integer())
    outcome: Mapped[Outcome] = mapped_column(sa.String(16))
    error: Mapped[str | None] = mapped_column(sa.Text())
    error_kind: Mapped[str | None] = mapped_column(sa.String(32))
    content_type: Mapped[str | None] = mapped_column(sa.Text())
    raw_sha: Mapped[str | None] = mapped_column(sa.ForeignKey("blobs.sha256"))
    started_at: Mapped[datetime] = mapped_column(When)
    elapsed_ms: Mapped[int] = mapped_column(sa.Integer())
    failure_class: Mapped[FailureClass | None] = mapped_column(sa.String(16))
    retry_after: Mapped[float | None] = mapped_column(sa.Float())  # seconds the server asked
    # The body is the DOM Chromium rendered (render: true, or auto on a JavaScript shell).
    rendered: Mapped[bool] = mapped_column(sa.Boolean(), default=False, server_default=sa.false())


class Snapshot(Base):
    """A good version of a source: raw body and the normalized text compared."""

    __tablename__ = "snapshots"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source_pk: Mapped[int] = mapped_column(sa.ForeignKey("sources.id"), index=True)
    fetch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("fetches.id"))
    taken_at: Mapped[datetime] = mapped_column(When)
    raw_sha: Mapped[str] = mapped_column(sa.ForeignKey("blobs.sha256"))
    text_sha: Mapped[str] = mapped_column(sa.ForeignKey("blobs.sha256"))
    extract_key: Mapped[str] = mapped_column(sa.Text())
    content_type: Mapped[str | None] = mapped_column(sa.Text())
    final_url: Mapped[str | None] = mapped_column(sa.Text())
    technical: Mapped[bool] = mapped_column(sa.Boolean(), default=False)
    # A rendered version's JPEG screenshot (a blob), its size and where its text blocks sat on
    # it: {"width": W, "height": H, "boxes": [[x, y, w, h, text], ...]} in CSS pixels
    # (migration 0009).
    screenshot_sha: Mapped[str | None] = mapped_column(sa.ForeignKey("blobs.sha256"))
    screenshot_boxes: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON())


class Change(Base):
    """A difference in normalized text between two consecutive snapshots of a source."""

    __tablename__ = "changes"
    __table_args__ = (
        sa.UniqueConstraint("old_snapshot_id", "new_snapshot_id", name="uq_changes_pair"),
        # The digest's "not reported yet": a few rows among a long history (migration 0008).
        sa.Index("ix_changes_unreported", "id", **where("reported_at IS NULL")),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source_pk: Mapped[int] = mapped_column(sa.ForeignKey("sources.id"), index=True)
    old_snapshot_id: Mapped[int] = mapped_column(sa.ForeignKey("snapshots.id"))
    new_snapshot_id: Mapped[int] = mapped_column(sa.ForeignKey("snapshots.id"))
    detected_at: Mapped[datetime] = mapped_column(When, index=True)
    significant: Mapped[bool] = mapped_column(sa.Boolean())  # tier == "substantive"
    # substantive | minor | noise (diffs.significance.Tier; migration 0007)
    tier: Mapped[str] = mapped_column(sa.String(16), default="noise")
    technical: Mapped[bool] = mapped_column(sa.Boolean(), default=False)
    reason: Mapped[str] = mapped_column(sa.Text())
    noise: Mapped[list[str]] = mapped_column(sa.JSON(), default=list)
    added: Mapped[int] = mapped_column(sa.Integer())
    removed: Mapped[int] = mapped_column(sa.Integer())
    reported_at: Mapped[datetime | None] = mapped_column(When)


class Flag(Base):
    """A rating (tool, criterion) that needs an editor's re-review."""

    __tablename__ = "flags"
    # One open flag per rating, and one open broken-source flag per rating and source: two
    # overlapping crawls cannot open a second one (writers insert ON CONFLICT DO NOTHING).
    __table_args__ = (
        sa.Index("uq_flags_open", "tool_id", "criterion_id", unique=True,
                 **where(f"status = 'open' AND severity <> '{BROKEN}'")),
        sa.Index("uq_flags_open_broken", "tool_id", "criterion_id", "source_id", unique=True,
                 **where(f"status = 'open' AND severity = '{BROKEN}'")),
    )  # fmt: skip
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    tool_id: Mapped[str] = mapped_column(sa.String(200), index=True)
    criterion_id: Mapped[str] = mapped_column(sa.String(200))
    source_id: Mapped[str | None] = mapped_column(sa.String(200))  # a broken-source flag's
    status: Mapped[FlagStatus] = mapped_column(sa.String(16))
    severity: Mapped[Severity] = mapped_column(sa.String(16))
    opened_at: Mapped[datetime] = mapped_column(When)
    resolved_at: Mapped[datetime | None] = mapped_column(When)


class FlagReason(Base):
    """Why a flag was raised or grown: one change of one source, or a broken source."""

    __tablename__ = "flag_reasons"
    __table_args__ = (sa.Index("ix_flag_reasons_unreported", "id", **where("reported_at IS NULL")),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    flag_id: Mapped[int] = mapped_column(sa.ForeignKey("flags.id"), index=True)
    change_id: Mapped[int | None] = mapped_column(sa.ForeignKey("changes.id"), index=True)
    source_id: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[ReasonKind] = mapped_column(sa.String(32))
    text: Mapped[str] = mapped_column(sa.Text())
    sentences: Mapped[list[dict[str, str | None]]] = mapped_column(sa.JSON())
    matched_terms: Mapped[list[str]] = mapped_column(sa.JSON())
    old_quote: Mapped[str | None] = mapped_column(sa.Text())
    new_quote: Mapped[str | None] = mapped_column(sa.Text())
    created_at: Mapped[datetime] = mapped_column(When)
    reported_at: Mapped[datetime | None] = mapped_column(When)  # first `citewatch report` with it
    failure_class: Mapped[FailureClass | None] = mapped_column(sa.String(16))  # source-broken
    broken_since: Mapped[datetime | None] = mapped_column(When)


class Suggestion(Base):
    """A change that speaks about a criterion in a source its rating does not cite (a citation
    gap): shown to editors, never a flag."""

    __tablename__ = "suggestions"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    change_id: Mapped[int] = mapped_column(sa.ForeignKey("changes.id"), index=True)
    tool_id: Mapped[str] = mapped_column(sa.String(200))
    criterion_id: Mapped[str] = mapped_column(sa.String(200))
    source_id: Mapped[str] = mapped_column(sa.String(200))
    text: Mapped[str] = mapped_column(sa.Text())
    sentences: Mapped[list[dict[str, str | None]]] = mapped_column(sa.JSON())
    matched_terms: Mapped[list[str]] = mapped_column(sa.JSON())
    created_at: Mapped[datetime] = mapped_column(When)


class Review(Base):
    """An editor's resolution of a flag: kept forever as history."""

    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    flag_id: Mapped[int | None] = mapped_column(sa.ForeignKey("flags.id"), index=True)
    tool_id: Mapped[str] = mapped_column(sa.String(200))
    criterion_id: Mapped[str] = mapped_column(sa.String(200))
    action: Mapped[ReviewAction] = mapped_column(sa.String(16))
    rating: Mapped[str | None] = mapped_column(sa.String(16))
    note: Mapped[str] = mapped_column(sa.Text())
    by: Mapped[str] = mapped_column(sa.String(200))
    at: Mapped[datetime] = mapped_column(When)
    reported_at: Mapped[datetime | None] = mapped_column(When)  # first report that listed it


class AnchorRow(Base):
    """Where an evidence quote of a rating stands in its source's latest version."""

    __tablename__ = "anchors"
    __table_args__ = (
        sa.UniqueConstraint(
            "tool_id", "criterion_id", "source_id", "quote_sha", name="uq_anchors_quote"
        ),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    tool_id: Mapped[str] = mapped_column(sa.String(200), index=True)
    criterion_id: Mapped[str] = mapped_column(sa.String(200))
    source_id: Mapped[str] = mapped_column(sa.String(200))
    quote_sha: Mapped[str] = mapped_column(sa.String(64))  # quotes can outgrow an index key
    quote: Mapped[str] = mapped_column(sa.Text())  # as the catalog has it
    wording: Mapped[str] = mapped_column(sa.Text())  # as the editor last accepted it
    prefix: Mapped[str] = mapped_column(sa.Text())
    suffix: Mapped[str] = mapped_column(sa.Text())
    status: Mapped[str] = mapped_column(sa.String(16))  # found | moved | altered | lost
    score: Mapped[float] = mapped_column(sa.Float())
    passage: Mapped[str | None] = mapped_column(sa.Text())  # the page's current wording
    updated_at: Mapped[datetime] = mapped_column(When)


class Notification(Base):
    """A composed notification (the outbox): kept until every channel has delivered it."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(When)
    subject: Mapped[str] = mapped_column(sa.Text())
    text_body: Mapped[str] = mapped_column(sa.Text())
    html_body: Mapped[str] = mapped_column(sa.Text())


class NotificationItem(Base):
    """What a notification covered (a change, a flag reason, a failed fetch): covered once."""

    __tablename__ = "notification_items"
    __table_args__ = (sa.UniqueConstraint("kind", "item_id", name="uq_notification_items_item"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    notification_id: Mapped[int] = mapped_column(sa.ForeignKey("notifications.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # change | reason | fetch | review
    item_id: Mapped[int] = mapped_column(sa.BigInteger())


class Delivery(Base):
    """One channel's delivery of a notification: retried until sent, every attempt counted."""

    __tablename__ = "deliveries"
    __table_args__ = (
        sa.UniqueConstraint("notification_id", "channel", name="uq_deliveries_channel"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    notification_id: Mapped[int] = mapped_column(sa.ForeignKey("notifications.id"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(200))  # email | apprise:<hash of the URL>
    label: Mapped[str] = mapped_column(sa.Text())  # the channel without secrets, for people
    attempts: Mapped[int] = mapped_column(sa.Integer(), default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text())
    last_attempt_at: Mapped[datetime | None] = mapped_column(When)
    sent_at: Mapped[datetime | None] = mapped_column(When, index=True)


class SchedulerRow(Base):
    """The one `citewatch run` of this database: who it is and its heartbeat (one row, id 1)."""

    __tablename__ = "scheduler"
    id: Mapped[int] = mapped_column(sa.Integer(), primary_key=True)
    pid: Mapped[int] = mapped_column(sa.Integer())
    host: Mapped[str] = mapped_column(sa.String(255))
    started_at: Mapped[datetime] = mapped_column(When)
    heartbeat_at: Mapped[datetime] = mapped_column(When)
    stopped_at: Mapped[datetime | None] = mapped_column(When)  # set by a clean stop
    catalog: Mapped[str] = mapped_column(sa.Text())
    every_s: Mapped[int] = mapped_column(sa.Integer())  # default interval (--every)
    heartbeat_s: Mapped[int] = mapped_column(sa.Integer())  # how often heartbeat_at moves
    next_wake_at: Mapped[datetime | None] = mapped_column(When)
    cycles: Mapped[int] = mapped_column(sa.Integer())
    last_cycle_at: Mapped[datetime | None] = mapped_column(When)


# The web app's accounts (citewatch serve, citewatch users): storage/accounts.py reads them.
ROLES = ("viewer", "editor", "admin")


class Account(Base):
    """A person (or script) who may use the web app, with one role."""

    __tablename__ = "accounts"
    __table_args__ = (sa.CheckConstraint("role IN ('viewer', 'editor', 'admin')", name="role"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    password_hash: Mapped[str] = mapped_column(sa.Text())  # Argon2id, PHC string
    disabled: Mapped[bool] = mapped_column(sa.Boolean(), default=False)
    created_at: Mapped[datetime] = mapped_column(When)


class ApiToken(Base):
    """A named API token of an account; only its SHA-256 is kept (shown once when made)."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    label: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(When)
    last_used_at: Mapped[datetime | None] = mapped_column(When)


class WebSession(Base):
    """A signed-in browser: the cookie's SHA-256, its account and its CSRF token."""

    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    csrf: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(When)
    expires_at: Mapped[datetime] = mapped_column(When, index=True)


class LoginAttempt(Base):
    """One sign-in attempt, kept for throttling (name and address of each failure)."""

    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), index=True)
    address: Mapped[str] = mapped_column(sa.String(64), index=True)
    at: Mapped[datetime] = mapped_column(When, index=True)
    ok: Mapped[bool] = mapped_column(sa.Boolean())


class AccountAction(Base):
    """What an account did in the web app or API (review, sign-in, token use), as history."""

    __tablename__ = "account_actions"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    at: Mapped[datetime] = mapped_column(When)
    action: Mapped[str] = mapped_column(sa.String(32))
    target: Mapped[str] = mapped_column(sa.Text())
    detail: Mapped[str] = mapped_column(sa.Text())
