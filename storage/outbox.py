"""The notification outbox: composed messages, what each covered, and every delivery attempt."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from storage.bulk import chunks
from storage.models import Change, Delivery, Fetch, Notification, NotificationItem, SourceRow

ItemKind = Literal["change", "reason", "fetch", "review"]


@dataclass(frozen=True, slots=True)
class Channel:
    """A delivery target as the outbox knows it: a stable key and a label without secrets."""

    key: str
    label: str


@dataclass(frozen=True, slots=True)
class Message:
    """A composed notification, rendered once and kept until every channel delivered it."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryRecord:
    """One channel's delivery of one message, with its attempts so far."""

    id: int
    notification_id: int
    channel: str
    label: str
    attempts: int
    last_error: str | None
    last_attempt_at: datetime | None
    sent_at: datetime | None
    message: Message


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; the outbox hands out aware UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Outbox:
    """Notification state in the database, on the store's sessions; short transactions."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def covered(self, kind: ItemKind) -> frozenset[int]:
        """Ids of the items of this kind some notification already covered."""
        with self.sessions() as s:
            query = sa.select(NotificationItem.item_id).filter_by(kind=kind)
            return frozenset(s.scalars(query))

    def last_queued_at(self) -> datetime | None:
        """When the latest notification was queued (None: never)."""
        with self.sessions() as s:
            return _utc(s.scalar(sa.select(sa.func.max(Notification.created_at))))

    def enqueue(
        self,
        message: Message,
        items: Iterable[tuple[ItemKind, int]],
        channels: Sequence[Channel],
        at: datetime,
    ) -> int | None:
        """Store a message, mark its items covered and queue one delivery per channel, at once.

        None when another process covered some of the items first (nothing is stored then).
        """
        try:
            return self._enqueue(message, items, channels, at)
        except sa.exc.IntegrityError:
            return None

    def _enqueue(
        self,
        message: Message,
        items: Iterable[tuple[ItemKind, int]],
        channels: Sequence[Channel],
        at: datetime,
    ) -> int:
        with self.sessions.begin() as s:
            row = Notification(
                created_at=at,
                subject=message.subject,
                text_body=message.text,
                html_body=message.html,
            )
            s.add(row)
            s.flush()
            s.add_all(
                NotificationItem(notification_id=row.id, kind=kind, item_id=item)
                for kind, item in dict.fromkeys(items)
            )
            s.add_all(
                Delivery(notification_id=row.id, channel=c.key, label=c.label, attempts=0)
                for c in channels
            )
            return row.id

    def deliveries(self, *, pending: bool = False) -> list[DeliveryRecord]:
        """Deliveries oldest first; only those not yet sent when `pending`."""
        query = sa.select(Delivery, Notification).join(
            Notification, Delivery.notification_id == Notification.id
        )
        if pending:
            query = query.where(Delivery.sent_at.is_(None))
        with self.sessions() as s:
            return [_delivery(d, n) for d, n in s.execute(query.order_by(Delivery.id))]

    def claim(self, delivery: DeliveryRecord, at: datetime) -> bool:
        """Count an attempt before sending; False when another process claimed it first.

        Compare-and-set on the attempt count, so two overlapping `notify` runs (a manual
        one beside the scheduler) never both send the same delivery.
        """
        with self.sessions.begin() as s:
            done = s.execute(
                sa.update(Delivery)
                .where(
                    Delivery.id == delivery.id,
                    Delivery.sent_at.is_(None),
                    Delivery.attempts == delivery.attempts,
                )
                .values(attempts=Delivery.attempts + 1, last_attempt_at=at)
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def record_result(self, delivery_id: int, at: datetime, error: str | None) -> None:
        """After a claimed attempt: sent when `error` is None, else keep the error for next time."""
        with self.sessions.begin() as s:
            row = s.get_one(Delivery, delivery_id)
            row.last_error = error
            if error is None:
                row.sent_at = at

    def uncovered_changes(self) -> list[int]:
        """Ids of the changes no notification covered yet, oldest first: an anti-join on the
        unique (kind, item_id) index, instead of every covered id and every change read
        into memory each scheduler cycle. Exact even when overlapping crawls commit changes
        out of id order (a watermark on the highest id told would miss those)."""
        covered = (
            sa.select(NotificationItem.id)
            .where(NotificationItem.kind == "change", NotificationItem.item_id == Change.id)
            .exists()
        )
        with self.sessions() as s:
            return list(s.scalars(sa.select(Change.id).where(~covered).order_by(Change.id)))

    def covered_among(self, kind: ItemKind, ids: Iterable[int]) -> frozenset[int]:
        """Which of these items of this kind some notification already covered (looked up
        by the unique (kind, item_id) index, not by reading every item ever covered)."""
        found: set[int] = set()
        with self.sessions() as s:
            for batch in chunks(dict.fromkeys(ids)):
                query = sa.select(NotificationItem.item_id).where(
                    NotificationItem.kind == kind, NotificationItem.item_id.in_(batch)
                )
                found.update(s.scalars(query))
        return frozenset(found)

    def broken_streaks(self) -> dict[tuple[str, str], tuple[int, ...]]:
        """Failed fetch ids of each source's current failure streak, by (tool, source): the
        fetches after each failing source's last good one, searched on fetches(source_pk,
        id) for those sources only, never by a scan of the whole fetch log."""
        # A literal 0, not a bound value: only then may SQLite use the partial index of the
        # failing sources (ix_sources_failing).
        failing_query = sa.select(
            SourceRow.id, SourceRow.tool_id, SourceRow.source_id, SourceRow.last_ok_fetch_id
        ).where(SourceRow.consecutive_failures > sa.literal_column("0"))
        streaks: dict[tuple[str, str], list[int]] = {}
        with self.sessions() as s:
            failing = {
                pk: (tool, source, ok or 0) for pk, tool, source, ok in s.execute(failing_query)
            }
            floor = min((ok for _, _, ok in failing.values()), default=0)
            found: list[tuple[int, int]] = []
            for batch in chunks(sorted(failing)):
                query = sa.select(Fetch.id, Fetch.source_pk).where(
                    Fetch.source_pk.in_(batch), Fetch.id > floor, Fetch.outcome == "failed"
                )
                found.extend((fetch_id, pk) for fetch_id, pk in s.execute(query))
        for fetch_id, pk in sorted(found):
            tool, source, ok = failing[pk]
            if fetch_id > ok:
                streaks.setdefault((tool, source), []).append(fetch_id)
        return {key: tuple(ids) for key, ids in streaks.items()}


def _delivery(d: Delivery, n: Notification) -> DeliveryRecord:
    return DeliveryRecord(
        id=d.id,
        notification_id=d.notification_id,
        channel=d.channel,
        label=d.label,
        attempts=d.attempts,
        last_error=d.last_error,
        last_attempt_at=_utc(d.last_attempt_at),
        sent_at=_utc(d.sent_at),
        message=Message(n.subject, n.text_body, n.html_body),
    )
