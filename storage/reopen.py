"""Re-opening a resolved flag: the editor's decision is undone as a new step of history."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from storage.health import BROKEN
from storage.models import Flag, Review
from storage.queries import NotFound, _review_record
from storage.records import ReviewRecord
from storage.values import EDITOR_ACTIONS


class AlreadyOpen(Exception):
    """The rating already has an open flag of the kind a re-open would open again."""


class Reopening:
    """Re-open (mixed into Store)."""

    sessions: sessionmaker[Session]

    def reopen(self, tool_id: str, criterion_id: str, note: str, by: str) -> ReviewRecord:
        """Open again the flag of the rating's newest editor decision, recorded as a `reopen`
        review (the resolution stays in history; a rating set stays until another set)."""
        at = datetime.now(UTC)
        with self.sessions.begin() as s:
            flag = _last_resolved(s, tool_id, criterion_id)
            if flag is None:
                raise NotFound(f"no resolved flag for {tool_id} / {criterion_id}")
            if _open_twin(s, flag):
                raise AlreadyOpen(
                    f"{tool_id} / {criterion_id} already has an open flag: review it instead"
                )
            flag.status, flag.resolved_at = "open", None
            review = Review(
                flag_id=flag.id,
                tool_id=tool_id,
                criterion_id=criterion_id,
                action="reopen",
                rating=None,
                note=note,
                by=by,
                at=at,
            )
            s.add(review)
            try:
                s.flush()  # the one-open-flag indexes catch a flag a crawl opened meanwhile
            except sa.exc.IntegrityError as exc:
                raise AlreadyOpen(
                    f"{tool_id} / {criterion_id} already has an open flag: review it instead"
                ) from exc
            return _review_record(review)


def _last_resolved(s: Session, tool_id: str, criterion_id: str) -> Flag | None:
    """The resolved flag of the rating's newest editor decision (not a source's recovery)."""
    return s.scalars(
        sa.select(Flag)
        .join(Review, Review.flag_id == Flag.id)
        .where(
            Flag.tool_id == tool_id,
            Flag.criterion_id == criterion_id,
            Flag.status == "resolved",
            Review.action.in_(EDITOR_ACTIONS),
        )
        .order_by(Review.id.desc())
        .limit(1)
    ).first()


def _open_twin(s: Session, flag: Flag) -> bool:
    """Whether re-opening `flag` would make a second open flag where one is allowed."""
    query = sa.select(Flag.id).filter_by(
        tool_id=flag.tool_id, criterion_id=flag.criterion_id, status="open"
    )
    if flag.severity == BROKEN:
        query = query.filter_by(severity=BROKEN, source_id=flag.source_id)
    else:
        query = query.where(Flag.severity != BROKEN)
    return s.scalar(query.limit(1)) is not None
