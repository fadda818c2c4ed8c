"""The one door from the web app (pages and API) to an editor's decision on a flag.

Every action of the app goes through `decide` here, so the rules are those of
`citewatch review` (crawler/ingest/review.py): one implementation behind both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from crawler.catalog.model import normalize_rating
from crawler.ingest.review import resolve
from storage import Store
from storage.records import ReviewRecord

Action = Literal["confirm", "set", "dismiss", "reopen"]
ACTIONS: tuple[Action, ...] = ("confirm", "set", "dismiss", "reopen")


class ReviewRuleError(Exception):
    """A decision the review rules refuse (blank note, missing or stray rating), one line."""


@dataclass(frozen=True, slots=True)
class Decision:
    """An editor's decision on a rating's flag."""

    tool_id: str
    criterion_id: str
    action: Action
    note: str
    by: str
    rating: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a decision did: the review kept, and the catalog file written (or a patch)."""

    review: ReviewRecord
    catalog_written: Path | None
    patch: str | None


def decide(store: Store, decision: Decision, catalog: Path | None = None) -> Outcome:
    """Apply a decision with the rules of `citewatch review`."""
    if not decision.note.strip():
        raise ReviewRuleError("a note is required (why: it is kept in history)")
    if decision.action == "reopen":
        raise ReviewRuleError("re-opening a flag needs the editorial core (not merged yet)")
    if (decision.action == "set") != (decision.rating is not None):
        raise ReviewRuleError("a rating goes with 'set' and only with it")
    try:
        rating = normalize_rating(decision.rating) if decision.rating is not None else None
    except ValueError as exc:
        raise ReviewRuleError(str(exc)) from exc
    action = decision.action
    review = resolve(
        store, decision.tool_id, decision.criterion_id, action, rating, decision.note.strip(),
        decision.by,
    )  # fmt: skip
    return Outcome(review, None, None)
