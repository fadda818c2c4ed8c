"""The scheduler's and status's per-source objects are built with the cyclic garbage
collector paused (issue 15: at 100,000 sources it walked the heap again and again), and the
collector is left as it was."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from crawler.catalog.model import Catalog, Source, Tool
from crawler.run.schedule import Policy, timings
from crawler.run.status import build_status
from storage.scheduling import SourceSchedule

SOURCES = 20_000  # enough objects for many young-generation collections were it running
NOW = datetime(2026, 5, 1, tzinfo=UTC)


def _catalog() -> Catalog:
    tools = tuple(
        Tool(
            id=f"t{t}",
            name=f"T{t}",
            sources=tuple(Source(id=f"s{s}", url=f"http://h{t}/{s}") for s in range(100)),
        )
        for t in range(SOURCES // 100)
    )
    return Catalog("/cat", (), tools)


def _schedule(tool: str, source: str, url: str) -> SourceSchedule:
    return SourceSchedule(
        tool=tool, source=source, url=url, last_fetch_at=NOW, last_ok_at=NOW,
        consecutive_failures=0, last_outcome="unchanged", last_error_kind=None,
        last_error=None, failing_since=None,
    )  # fmt: skip


def _known(catalog: Catalog) -> dict[tuple[str, str], SourceSchedule]:
    return {(t.id, s.id): _schedule(t.id, s.id, s.url) for t in catalog.tools for s in t.sources}


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """The collections that run while the test does (generation of each)."""
    seen: list[int] = []

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(count)
    try:
        yield seen
    finally:
        gc.callbacks.remove(count)


def test_timings_run_no_collection_and_leave_the_collector_on(collections: list[int]) -> None:
    catalog = _catalog()
    known = _known(catalog)
    assert gc.isenabled()
    collections.clear()
    found = timings(catalog, known)
    during = len(collections)
    assert len(found) == SOURCES
    assert during <= 1  # at most the one as the collector resumes (dozens when it runs)
    assert gc.isenabled()


def test_status_lines_run_no_collection(collections: list[int]) -> None:
    catalog = _catalog()
    known = _known(catalog)
    collections.clear()
    report = build_status(None, known, catalog, Policy(timedelta(days=1)), NOW)
    during = len(collections)
    assert len(report.sources) == SOURCES
    assert during <= 1
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled() -> None:
    catalog = _catalog()
    gc.disable()
    try:
        timings(catalog, _known(catalog))
        assert not gc.isenabled()
    finally:
        gc.enable()
