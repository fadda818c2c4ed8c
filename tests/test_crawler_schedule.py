"""Due times, jitter, backoff, Retry-After and catch-up: the pure core of `citewatch run`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crawler.catalog.model import Catalog, Source, Tool
from crawler.run.schedule import (
    Policy,
    SourceTiming,
    backoff,
    batch,
    due_at,
    due_now,
    jitter,
    next_wake,
    timings,
)
from storage.scheduling import SourceSchedule

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
NO_JITTER = Policy(DAY, jitter_fraction=0.0)


def timing(last: datetime | None, *, every: timedelta | None = None, failures: int = 0,
           retry_after: datetime | None = None, source: str = "p") -> SourceTiming:  # fmt: skip
    return SourceTiming(
        tool="t",
        source=source,
        every=every,
        last_fetch_at=last,
        consecutive_failures=failures,
        retry_after=retry_after,
    )


@pytest.mark.parametrize(
    ("last", "every", "failures", "retry_after", "expected"),
    [
        (None, None, 0, None, None),  # never fetched: due now
        (NOW, None, 0, None, NOW + DAY),  # policy default
        (NOW, timedelta(hours=6), 0, None, NOW + timedelta(hours=6)),  # the source's every:
        (NOW, None, 1, None, NOW + timedelta(minutes=5)),  # first failure: quick retry
        (NOW, None, 3, None, NOW + timedelta(minutes=20)),  # doubling
        (NOW, timedelta(minutes=30), 5, None, NOW + timedelta(minutes=30)),  # capped at every
        (NOW, None, 1, NOW + timedelta(hours=2), NOW + timedelta(hours=2)),  # Retry-After wins
        (NOW, None, 0, NOW + timedelta(hours=2), NOW + DAY),  # ... only when later
        (None, None, 0, NOW + timedelta(hours=1), NOW + timedelta(hours=1)),
    ],
)
def test_due_at(
    last: datetime | None,
    every: timedelta | None,
    failures: int,
    retry_after: datetime | None,
    expected: datetime | None,
) -> None:
    assert (
        due_at(timing(last, every=every, failures=failures, retry_after=retry_after), NO_JITTER)
        == expected
    )


@pytest.mark.parametrize(
    ("failures", "expected"),
    [
        (0, DAY),
        (1, timedelta(minutes=5)),
        (2, timedelta(minutes=10)),
        (9, timedelta(minutes=5 * 256)),
        (10, DAY),
        (10_000, DAY),
    ],
)
def test_backoff_doubles_and_is_capped(failures: int, expected: timedelta) -> None:
    assert backoff(failures, DAY, timedelta(minutes=5)) == expected


def test_catch_up_after_downtime_fires_each_overdue_source_once() -> None:
    """Ten days down with a daily interval: one crawl per source, not ten."""
    policy = Policy(DAY)
    down = [timing(NOW - timedelta(days=10), source=f"s{i}") for i in range(5)]
    assert len(due_now(down, policy, NOW)) == 5
    # What the crawl does to the database: last_fetch_at moves to the crawl's time.
    after = [
        SourceTiming(tool=t.tool, source=t.source, every=t.every, last_fetch_at=NOW) for t in down
    ]
    for minutes in (0, 1, 60, 60 * 20):
        assert due_now(after, policy, NOW + timedelta(minutes=minutes)) == ()
    assert len(due_now(after, policy, NOW + DAY * 1.2)) == 5


def test_jitter_is_bounded_stable_and_spreads_a_catalog() -> None:
    sources = [timing(NOW, source=f"s{i}") for i in range(200)]
    delays = [jitter(t, DAY, 0.1) for t in sources]
    assert all(timedelta(0) <= d < DAY * 0.1 for d in delays)
    assert delays == [jitter(t, DAY, 0.1) for t in sources]  # a function of its inputs
    assert len(set(delays)) == 200  # no two sources fire together
    # Each fetch draws anew: the same source jitters differently after its next fetch.
    assert jitter(timing(NOW), DAY, 0.1) != jitter(timing(NOW + DAY), DAY, 0.1)
    spread = max(delays) - min(delays)
    assert spread > DAY * 0.08  # spread over (nearly) the whole window


def test_due_with_jitter_is_never_early() -> None:
    policy = Policy(DAY)
    for i in range(50):
        t = timing(NOW, source=f"s{i}")
        assert not due_now([t], policy, NOW + DAY - timedelta(seconds=1))
        assert due_now([t], policy, NOW + DAY * 1.1) == (t,)


def test_next_wake_is_the_earliest_due_time_ahead() -> None:
    items = [
        timing(NOW, every=timedelta(hours=3), source="a"),
        timing(NOW, every=timedelta(hours=1), source="b"),
        timing(None, source="c"),  # due now: not "ahead"
    ]
    assert next_wake(items, NO_JITTER, NOW) == NOW + timedelta(hours=1)
    assert next_wake([timing(None)], NO_JITTER, NOW) is None


def test_batch_selects_exactly_the_due_sources() -> None:
    due = (
        SourceTiming(tool="a", source="privacy", every=None, last_fetch_at=None),
        SourceTiming(tool="b", source="dpa", every=None, last_fetch_at=None),
    )
    assert batch(due) == ("a/privacy", "b/dpa")


def test_timings_from_catalog_and_database() -> None:
    catalog = Catalog(
        "cat",
        (),
        (
            Tool(
                id="t",
                name="T",
                sources=(
                    Source(id="same", url="http://h/1", every=timedelta(hours=2)),
                    Source(id="moved", url="http://h/new"),
                    Source(id="unseen", url="http://h/3"),
                ),
            ),
        ),
    )
    known = {
        ("t", "same"): SourceSchedule(
            tool="t",
            source="same",
            url="http://h/1",
            last_fetch_at=NOW,
            last_ok_at=NOW,
            consecutive_failures=2,
            last_outcome="failed",
            last_error_kind="http",
            last_error="HTTP 500",
            failing_since=NOW,
        ),
        ("t", "moved"): SourceSchedule(
            tool="t",
            source="moved",
            url="http://h/old",
            last_fetch_at=NOW,
            last_ok_at=NOW,
            consecutive_failures=0,
            last_outcome="new",
            last_error_kind=None,
            last_error=None,
            failing_since=None,
        ),
    }
    same, moved, unseen = timings(catalog, known)
    assert same == SourceTiming(
        tool="t", source="same", every=timedelta(hours=2), last_fetch_at=NOW, consecutive_failures=2
    )
    assert moved.last_fetch_at is None  # a new URL is crawled at once
    assert unseen.last_fetch_at is None
