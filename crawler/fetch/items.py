"""The item the `sources` spider yields: one fetch result and the job position it answers."""

from __future__ import annotations

from dataclasses import dataclass

from crawler.fetch.request import FetchResult


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """A FetchResult tagged with its request's position in the job file."""

    index: int
    result: FetchResult
