"""An editor's review: one implementation of the rules behind `citewatch review` and the app.

Confirm, set a new rating or dismiss resolves the rating's open flag (and re-anchors its
evidence in today's text); re-open opens its last resolved flag again. Every decision needs a
note and is kept as history. A rating set is written back to the catalog's tool file (the
catalog is the source of truth, see README "Ratings: one source of truth").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from crawler.catalog.conflicts import RatingConflict, find_conflicts
from crawler.catalog.model import Catalog, load_catalog, normalize_rating
from crawler.catalog.strict_yaml import CatalogError
from crawler.catalog.writeback import RatingEdit, WriteBackError, apply_edit, plan_rating_edit
from crawler.ingest.analysis import tracked
from diffs.anchors import accept
from storage import AlreadyOpen, Store
from storage.records import AnchorState, ReviewRecord
from storage.values import EditorAction

__all__ = [
    "Decision",
    "Outcome",
    "RatingConflict",
    "ReviewActionName",
    "ReviewRuleError",
    "conflicts",
    "decide",
    "refreshed_anchors",
    "resolve",
]

ReviewActionName = Literal["confirm", "set", "dismiss", "reopen"]
REVIEW_ACTION_NAMES: tuple[ReviewActionName, ...] = ("confirm", "set", "dismiss", "reopen")


class ReviewRuleError(ValueError):
    """A contradictory or invalid decision (one line, for the editor; a ValueError, so the
    CLI reports it like any bad value)."""


@dataclass(frozen=True, slots=True)
class Decision:
    """What an editor decides on a rating's flag."""

    tool_id: str
    criterion_id: str
    action: ReviewActionName
    note: str  # required, non-blank
    by: str  # account / user name
    rating: str | None = None  # required iff action == "set"; a word or symbol (✅ ⚠️ ❌ ?)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a decision did: the review recorded and, for a set, the catalog's edit."""

    review: ReviewRecord  # what was recorded (a reopen too, as history)
    catalog_written: Path | None  # the tool file rewritten by a "set", if written back
    patch: str | None  # unified diff of the catalog edit (a "set" with a known catalog)
    write_error: str | None = None  # why a "set" was not written back, when it was not


def checked(decision: Decision) -> Decision:
    """The decision with its rating normalized; ReviewRuleError when it breaks a rule."""
    d = decision
    if d.action not in REVIEW_ACTION_NAMES:
        raise ReviewRuleError(
            f"unknown action {d.action!r}: one of {', '.join(REVIEW_ACTION_NAMES)}"
        )
    if not d.note.strip():
        raise ReviewRuleError("a note is required: say why")
    if not d.by.strip():
        raise ReviewRuleError("the editor's name is required")
    if not d.tool_id.strip() or not d.criterion_id.strip():
        raise ReviewRuleError("a tool and a criterion are required")
    if d.action == "set":
        if d.rating is None or not d.rating.strip():
            raise ReviewRuleError("set needs the new rating")
        try:
            rating = normalize_rating(d.rating)
        except ValueError as exc:
            raise ReviewRuleError(str(exc)) from None
        return Decision(d.tool_id, d.criterion_id, "set", d.note, d.by, rating)
    if d.rating is not None:
        raise ReviewRuleError(f"{d.action} takes no rating (only set does)")
    return d


def decide(
    store: Store, decision: Decision, catalog: Path | None = None, *, write_back: bool = True
) -> Outcome:
    """Record the decision; a "set" is written back to the catalog's tool file (unless
    `write_back` is false: then only the patch is given).

    Raises ReviewRuleError (a broken rule), storage.NotFound (no open flag; for a reopen, no
    resolved one). A write-back that cannot be done leaves the decision recorded and says why
    in `write_error`, with the patch when there is one.
    """
    d = checked(decision)
    if d.action == "reopen":
        try:
            done = store.reopen(d.tool_id, d.criterion_id, d.note, d.by)
        except AlreadyOpen as exc:
            raise ReviewRuleError(str(exc)) from None
        return Outcome(done, None, None)
    edit, problem = (None, None)
    if d.action == "set" and catalog is not None:
        assert d.rating is not None  # checked() guarantees it
        edit, problem = _plan(catalog, d.tool_id, d.criterion_id, d.rating)
    done = resolve(store, d.tool_id, d.criterion_id, d.action, d.rating, d.note, d.by)
    if edit is None:
        return Outcome(done, None, None, problem)
    if not write_back or not edit.patch:
        return Outcome(done, None, edit.patch)
    try:
        apply_edit(edit)
    except WriteBackError as exc:
        return Outcome(done, None, edit.patch, str(exc))
    return Outcome(done, edit.file, edit.patch)


def _plan(
    catalog: Path, tool_id: str, criterion_id: str, rating: str
) -> tuple[RatingEdit | None, str | None]:
    """The catalog edit of a set, or why there is none (checked before anything is recorded)."""
    try:
        tool = load_catalog(catalog).tool(tool_id)
    except CatalogError as exc:
        return None, f"catalog {catalog} does not load: {exc}"
    except KeyError:
        return None, f"catalog {catalog} has no tool {tool_id}"
    if not any(r.criterion == criterion_id for r in tool.ratings):
        return None, f"{tool.file} has no rating {criterion_id}"
    try:
        return plan_rating_edit(Path(tool.file), criterion_id, rating), None
    except WriteBackError as exc:
        return None, str(exc)


def conflicts(store: Store, catalog: Catalog) -> list[RatingConflict]:
    """Catalog ratings that differ from the newest rating set in review (catalog order)."""
    return find_conflicts(catalog, store.reviews())


def refreshed_anchors(store: Store, tool_id: str, criterion_id: str) -> tuple[AnchorState, ...]:
    """The rating's anchors re-taken in each source's current text, as the editor saw it."""
    out = []
    texts: dict[str, str | None] = {}  # a source's text is decompressed once, not per quote
    for state in store.anchors(tool_id, criterion_id=criterion_id):
        if state.source_id not in texts:
            texts[state.source_id] = store.current_text(tool_id, state.source_id)
        text = texts[state.source_id]
        if text is None:
            continue
        fresh = accept(tracked(state), text)
        out.append(
            AnchorState(
                tool_id=tool_id,
                criterion_id=criterion_id,
                source_id=state.source_id,
                quote=state.quote,
                wording=fresh.anchor.wording,
                prefix=fresh.anchor.prefix,
                suffix=fresh.anchor.suffix,
                status=fresh.status,
                score=fresh.score,
                passage=fresh.passage,
            )
        )
    return tuple(out)


def resolve(
    store: Store,
    tool_id: str,
    criterion_id: str,
    action: EditorAction,
    rating: str | None,
    note: str,
    by: str,
) -> ReviewRecord:
    """Close the open flag; the next change is compared with the wording the editor accepted."""
    refresh = refreshed_anchors(store, tool_id, criterion_id)
    return store.resolve(tool_id, criterion_id, action, rating, note, by, refresh)
