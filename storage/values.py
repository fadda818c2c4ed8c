"""The closed vocabularies of a fetch and of a flag's life, as stored: each a `Literal` type
and the tuple of its values (the columns stay strings; these say which strings)."""

from __future__ import annotations

from typing import Final, Literal, get_args

# What one fetch did to its source's history.
Outcome = Literal["new", "changed", "unchanged", "not-modified", "failed"]
OUTCOMES: Final[tuple[Outcome, ...]] = get_args(Outcome)

# Why a fetch is not a good version of its page (crawler/extract/failures.py decides).
FailureClass = Literal["transient", "blocked", "gone", "suspicious"]
FAILURE_CLASSES: Final[tuple[FailureClass, ...]] = get_args(FailureClass)

FlagStatus = Literal["open", "resolved"]
FLAG_STATUSES: Final[tuple[FlagStatus, ...]] = get_args(FlagStatus)

# What an editor decides on a flag (`citewatch review`).
EditorAction = Literal["confirm", "set", "dismiss"]
EDITOR_ACTIONS: Final[tuple[EditorAction, ...]] = get_args(EditorAction)
# A review as stored: an editor's resolution, citewatch's own when a broken source recovers,
# or an editor's re-open of a resolved flag (`review --reopen`).
ReviewAction = Literal[EditorAction, "recovered", "reopen"]
REVIEW_ACTIONS: Final[tuple[ReviewAction, ...]] = get_args(ReviewAction)
