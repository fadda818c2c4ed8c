"""Notifications after a crawl or scheduler cycle: queue the digest of what is new, deliver it.

`notify_pending` is what `crawl --notify`, `citewatch notify` and the scheduler call. A
digest is queued in the outbox (with the items it covers, so each is told once) only when
something was raised; every pending delivery is then tried, and a failed one stays pending
for the next call, never lost and never sent twice after a success.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from crawler.catalog.model import Catalog
from crawler.notify.channels.channel import DeliveryError
from crawler.notify.settings import NotifySettings
from crawler.report.build import build_context
from reports.digest import Digest, DigestScope, build_digest
from reports.mail import compose, email_message
from storage import Store
from storage.outbox import ItemKind, Message, Outbox

log = logging.getLogger("citewatch.notify")
# Addresses for a previewed email when no [email] table says who sends and who receives.
PREVIEW_FROM = "citewatch <citewatch@localhost>"
PREVIEW_TO = ("editors@localhost",)


@dataclass(frozen=True, slots=True)
class Pending:
    """What the next notification would say, and the items it would cover."""

    digest: Digest
    items: tuple[tuple[ItemKind, int], ...]


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """One delivery attempt of one message through one channel."""

    notification_id: int
    channel: str  # the channel's label (no secrets)
    sent: bool
    error: str | None
    attempts: int  # attempts so far, this one included


@dataclass(frozen=True, slots=True)
class NotifyReport:
    """What a notify call did: the message it queued (if any) and every delivery it tried."""

    queued: int | None  # id of the notification queued now
    subject: str | None
    outcomes: tuple[DeliveryOutcome, ...]

    @property
    def failed(self) -> tuple[DeliveryOutcome, ...]:
        """Deliveries that will be retried next time."""
        return tuple(o for o in self.outcomes if not o.sent)

    def lines(self) -> tuple[str, ...]:
        """For people: the message queued, then one line per delivery tried."""
        out = [f"notification {self.queued} queued: {self.subject}"] if self.queued else []
        for o in self.outcomes:
            state = (
                "sent" if o.sent else f"FAILED (attempt {o.attempts}, kept for retry): {o.error}"
            )
            out.append(f"notification {o.notification_id} → {o.channel}: {state}")
        return tuple(out) or ("nothing to notify",)


def pending(
    store: Store, catalog: Catalog, settings: NotifySettings, now: datetime | None = None
) -> Pending:
    """The digest of everything no notification covered yet (nothing is marked here)."""
    outbox = Outbox(store.sessions)
    seen_reasons, seen_reviews = outbox.covered("reason"), outbox.covered("review")
    fresh = store.changes(ids=outbox.uncovered_changes())  # not the whole history each cycle
    reasons = [(f, r) for f in store.flags() for r in f.reasons if r.id not in seen_reasons]
    streaks = outbox.broken_streaks()
    seen_fetches = outbox.covered_among("fetch", (i for ids in streaks.values() for i in ids))
    broken = {key: ids for key, ids in streaks.items() if not seen_fetches.intersection(ids)}
    # Resolutions since the last digest: made after it was queued (so an upgraded database
    # does not retell its whole review history) and covered by none.
    last = outbox.last_queued_at()
    reviews = [
        r for r in store.reviews() if r.id not in seen_reviews and (last is None or r.at >= last)
    ]
    scope = DigestScope.of(fresh, reasons, broken, reviews=reviews)
    # Diff only the changes not told yet (a scheduler calls this every cycle for months);
    # the published site has a page for every significant, minor or technical change.
    at = now or datetime.now(UTC)
    ctx = build_context(store, catalog, min((c.detected_at for c in fresh), default=at), at)
    pages = frozenset(store.change_ids(("substantive", "minor"), technical=True))
    items: list[tuple[ItemKind, int]] = [("change", c.id) for c in fresh]
    items.extend(("reason", r.id) for _, r in reasons)
    items.extend(("fetch", fetch_id) for ids in broken.values() for fetch_id in ids)
    # Resolutions ride along with the next digest sent for something raised; alone they
    # send nothing (an editor's own decision is no alert). Minor edits and citation gaps are
    # changes: covered by the message that counts them, never a reason to send one.
    items.extend(("review", r.id) for r in reviews)
    return Pending(build_digest(ctx, scope, settings.site_url, pages), tuple(items))


def deliver(store: Store, settings: NotifySettings, now: datetime) -> tuple[DeliveryOutcome, ...]:
    """Try every pending delivery once; failures are logged and kept for the next call."""
    outbox = Outbox(store.sessions)
    by_key = {s.channel.key: s for s in settings.senders()}
    outcomes: list[DeliveryOutcome] = []
    for d in outbox.deliveries(pending=True):
        if not outbox.claim(d, now):
            continue  # another notify run is sending this one
        sender = by_key.get(d.channel)
        error: str | None = None
        try:
            if sender is None:
                raise DeliveryError("channel no longer in the settings file")
            sender.send(d.message, now)
        except DeliveryError as exc:
            error = str(exc)
            log.warning("notification %d via %s failed: %s", d.notification_id, d.label, error)
        outbox.record_result(d.id, now, error)
        outcomes.append(
            DeliveryOutcome(d.notification_id, d.label, error is None, error, d.attempts + 1)
        )
    return tuple(outcomes)


def notify_pending(
    store: Store, catalog: Catalog, settings: NotifySettings, now: datetime | None = None
) -> NotifyReport:
    """Queue a digest if something was raised since the last one, then deliver what is pending."""
    at = now or datetime.now(UTC)
    todo = pending(store, catalog, settings, at)
    queued: int | None = None
    subject: str | None = None
    if todo.digest.raised and settings.has_channels:
        message = compose(todo.digest)
        channels = [s.channel for s in settings.senders()]
        queued = Outbox(store.sessions).enqueue(message, todo.items, channels, at)
        subject = message.subject
    return NotifyReport(queued, subject, deliver(store, settings, at))


def write_email(message: Message, settings: NotifySettings, target: Path, at: datetime) -> Path:
    """Write the email as it would be sent (an .eml file any mail client opens)."""
    email = settings.email
    sender = email.sender if email else PREVIEW_FROM
    recipients = email.recipients if email else PREVIEW_TO
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(bytes(email_message(message, sender, recipients, at)))
    return target


def preview_email(
    store: Store, catalog: Catalog, settings: NotifySettings, target: Path
) -> tuple[Path, bool]:
    """Write the email the next notification would send, plus its plain text beside it.

    Nothing is queued, sent or marked. Returns the .eml path and whether it would be sent.
    """
    at = datetime.now(UTC)
    todo = pending(store, catalog, settings, at)
    message = compose(todo.digest)
    write_email(message, settings, target, at)
    target.with_suffix(".txt").write_text(message.text, encoding="utf-8")
    return target, todo.digest.raised


def outbox_lines(store: Store) -> tuple[str, ...]:
    """For people: every delivery of every message, sent or pending with its last error."""
    out: list[str] = []
    for d in Outbox(store.sessions).deliveries():
        if d.sent_at is not None:
            state = f"sent {d.sent_at:%Y-%m-%d %H:%M} UTC"
        else:
            state = f"PENDING — last error: {d.last_error}" if d.last_error else "pending"
        out.append(
            f"notification {d.notification_id} → {d.label}: {state} "
            f"({d.attempts} attempt(s)) — {d.message.subject}"
        )
    return tuple(out) or ("no notifications yet",)
