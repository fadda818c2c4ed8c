"""`citewatch status` as a pure function: scheduler liveness, due times, broken sources."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from crawler.catalog.model import Catalog, Source, Tool
from crawler.run.schedule import Policy
from crawler.run.status import build_status, render, scheduler_status
from storage.scheduling import Heartbeat, SourceSchedule

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
POLICY = Policy(timedelta(days=1), jitter_fraction=0.0)


def heartbeat(age_s: float, stopped: bool = False) -> Heartbeat:
    beat = NOW - timedelta(seconds=age_s)
    return Heartbeat(
        pid=7,
        host="host-a",
        started_at=NOW - timedelta(hours=1),
        heartbeat_at=beat,
        stopped_at=beat if stopped else None,
        catalog="/cat",
        every_s=86400,
        heartbeat_s=30,
        next_wake_at=NOW + timedelta(minutes=5),
        cycles=12,
        last_cycle_at=beat,
    )


@pytest.mark.parametrize(
    ("beat", "state"),
    [
        (None, "not running"),
        (heartbeat(10), "running"),
        (heartbeat(89), "running"),
        (heartbeat(91), "stale"),  # three beats of 30 s missed
        (heartbeat(10, stopped=True), "stopped"),
    ],
)
def test_scheduler_state_from_heartbeat(beat: Heartbeat | None, state: str) -> None:
    assert scheduler_status(beat, NOW).state == state


def schedule(source: str, failures: int, url: str = "", broken: bool = False) -> SourceSchedule:
    last = NOW - timedelta(hours=1)
    since = NOW - timedelta(days=2) if failures else None
    return SourceSchedule(
        tool="t",
        source=source,
        url=url or f"http://h/{source}",
        last_fetch_at=last,
        last_ok_at=None if failures else last,
        consecutive_failures=failures,
        last_outcome="failed" if failures else "unchanged",
        last_error_kind="http" if failures else None,
        last_error="HTTP 404" if failures else None,
        failing_since=since,
        failure_class="gone" if failures else None,
        broken_since=since if broken else None,
    )


def test_sources_due_broken_and_unknown() -> None:
    catalog = Catalog(
        "/cat",
        (),
        (
            Tool(
                id="t",
                name="T",
                sources=(
                    Source(id="ok", url="http://h/ok"),
                    Source(id="new", url="http://h/new"),
                    Source(id="dead", url="http://h/dead"),
                ),
            ),
        ),
    )
    known = {
        ("t", "ok"): schedule("ok", 0),
        ("t", "dead"): schedule("dead", 3, broken=True),  # the crawl flagged it broken
        ("t", "flaky"): schedule("flaky", 1),  # no longer in the catalog
    }
    report = build_status(heartbeat(5), known, catalog, POLICY, NOW)
    by_id = {s.source: s for s in report.sources}
    assert list(by_id) == ["ok", "new", "dead", "flaky"]
    assert by_id["ok"].due_at == NOW + timedelta(hours=23)
    assert by_id["new"].due_at is None and by_id["new"].outcome is None
    assert by_id["dead"].broken and by_id["dead"].broken_since == NOW - timedelta(days=2)
    assert by_id["dead"].due_at == NOW - timedelta(hours=1) + timedelta(minutes=20)  # backoff
    assert not by_id["flaky"].broken and not by_id["flaky"].in_catalog
    text = render(report)
    assert "scheduler: running — pid 7 on host-a" in text
    assert "t/dead" in text and "failed (gone) ×3" in text and "never fetched" in text
    assert "4 sources, 1 broken" in text
    data = json.loads(json.dumps(report.as_json()))
    assert data["scheduler"]["state"] == "running"
    assert data["sources"][2]["broken_since"] == (NOW - timedelta(days=2)).isoformat()


def test_render_without_scheduler() -> None:
    report = build_status(None, {}, None, POLICY, NOW)
    assert render(report).startswith("scheduler: not running")
    assert report.as_json()["sources"] == []
