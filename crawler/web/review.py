"""The one door from the web app (pages and API) to an editor's decision on a flag.

Every action of the app goes through the editorial core's `decide` (crawler/ingest/review.py):
the rules of `citewatch review` (re-anchoring, re-open, write-back to the catalog), one
implementation behind both. This module only names what the app uses of it.
"""

from __future__ import annotations

from crawler.ingest.review import (
    REVIEW_ACTION_NAMES,
    Decision,
    Outcome,
    ReviewActionName,
    ReviewRuleError,
    decide,
)

Action = ReviewActionName
ACTIONS: tuple[Action, ...] = REVIEW_ACTION_NAMES

__all__ = ["ACTIONS", "Action", "Decision", "Outcome", "ReviewRuleError", "decide"]
