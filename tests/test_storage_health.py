"""Broken sources: streaks of failed fetches raise flags of their own; recovery closes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from diffs.reasons import Reason
from storage import Store
from storage.health import transition
from storage.records import BrokenPolicy, FetchEntry, NewChange, NewSnapshot
from storage.store import migrate

URL = "http://127.0.0.1/p"
POLICY = BrokenPolicy(3, ("no-training", "server-location"))
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)

# (failures before, broken already, this fetch failed, after, expected)
TRANSITIONS = [
    (0, False, True, 3, "none"),
    (1, False, True, 3, "none"),
    (2, False, True, 3, "broke"),
    (0, False, True, 1, "broke"),
    (5, False, True, 3, "broke"),  # BROKEN_AFTER lowered while failing
    (3, True, True, 3, "none"),  # already broken: no second flag
    (3, True, False, 3, "recovered"),
    (2, False, False, 3, "none"),  # a blip that healed before counting as broken
    (0, False, False, 3, "none"),
    (9, False, True, None, "none"),  # no policy: counted, never declared
]


@pytest.mark.parametrize(("before", "broken", "failed", "after", "expected"), TRANSITIONS)
def test_transition(
    before: int, broken: bool, failed: bool, after: int | None, expected: str
) -> None:
    assert transition(before, broken, failed, after) == expected


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A fresh migrated SQLite store."""
    return Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")


def fetch(store: Store, pk: int, outcome: str, at: datetime, kind: str | None = None) -> FetchEntry:
    """A fetch log entry of a run of its own; failed ones are 404s of class `kind`."""
    failed = outcome == "failed"
    return FetchEntry(
        run_id=store.begin_run("catalog"),
        source_pk=pk,
        requested_url=URL,
        final_url=URL,
        redirects=(),
        status=404 if failed else 200,
        outcome=outcome,
        error="HTTP 404 Not Found" if failed else None,
        error_kind="http" if failed else None,
        content_type="text/html",
        raw=None if failed else b"<p>x</p>",
        started_at=at,
        elapsed_ms=3,
        failure_class=(kind or "gone") if failed else None,
    )


def snap(text: str) -> NewSnapshot:
    """A snapshot whose raw body embeds the text."""
    return NewSnapshot(
        raw=f"<p>{text}</p>".encode(),
        text=text,
        extract_key="html/2#x",
        content_type="text/html",
        final_url=None,
    )


def evidence_reason() -> Reason:
    """A change-driven reason on the no-training rating."""
    return Reason(
        tool="tool",
        criterion="no-training",
        source="policy",
        severity="evidence",
        kind="evidence-lost",
        text="quote gone",
        sentences=(),
    )


def open_flags(store: Store) -> list[tuple[str, str]]:
    """(criterion, severity) of the open flags."""
    return [(f.criterion_id, f.severity) for f in store.flags("open")]


def test_streak_raises_one_flag_per_citing_rating(store: Store) -> None:
    pk = store.source_state("tool", "policy", URL).pk
    store.record_fetch(fetch(store, pk, "new", T0), [(snap("v1"), None)], broken=POLICY)
    opened: list[tuple[int, ...]] = []
    for day in range(1, 5):
        at = T0 + timedelta(days=day)
        opened.append(
            store.record_fetch(fetch(store, pk, "failed", at), broken=POLICY).broken_flag_ids
        )
    assert [len(o) for o in opened] == [0, 0, 2, 0]  # on the 3rd failure, once
    assert open_flags(store) == [("no-training", "broken"), ("server-location", "broken")]
    (reason,) = store.flags("open")[0].reasons
    assert reason.kind == "source-broken" and reason.change_id is None
    assert reason.failure_class == "gone"
    assert reason.broken_since == T0 + timedelta(days=1)  # the first failure, not the third
    assert "policy" in reason.text and "gone" in reason.text and "2026-11-02" in reason.text
    state = store.source_state("tool", "policy", URL)
    assert (state.consecutive_failures, state.failure_class) == (4, "gone")
    assert state.broken_since == T0 + timedelta(days=1)
    (failing,) = store.broken_sources()
    assert failing.broken_since == T0 + timedelta(days=1) and failing.failure_class == "gone"
    latest = store.latest_snapshot(pk)
    assert latest is not None and latest.text == "v1"  # failures never replace the good version


def test_recovery_resolves_broken_flags_only(store: Store) -> None:
    pk = store.source_state("tool", "policy", URL).pk
    store.record_fetch(fetch(store, pk, "new", T0), [(snap("v1"), None)], broken=POLICY)
    change = NewChange(tier="substantive", reason="words changed", noise=(), added=1, removed=1)
    store.record_fetch(
        fetch(store, pk, "changed", T0), [(snap("v2"), change)], [evidence_reason()], POLICY
    )
    for day in range(1, 4):
        store.record_fetch(fetch(store, pk, "failed", T0 + timedelta(days=day)), broken=POLICY)
    assert sorted(open_flags(store)) == [
        ("no-training", "broken"),
        ("no-training", "evidence"),
        ("server-location", "broken"),
    ]
    done = store.record_fetch(fetch(store, pk, "unchanged", T0 + timedelta(days=5)), broken=POLICY)
    assert len(done.recovered_flag_ids) == 2
    assert open_flags(store) == [("no-training", "evidence")]  # the editor's work stays open
    recovered = [r for r in store.reviews() if r.action == "recovered"]
    assert len(recovered) == 2 and {r.by for r in recovered} == {"citewatch"}
    assert all("recovered" in r.note and "3 failed" in r.note for r in recovered)
    state = store.source_state("tool", "policy", URL)
    assert (state.consecutive_failures, state.failure_class, state.broken_since) == (0, None, None)
    assert store.broken_sources() == []


def test_editor_review_closes_the_change_flag_before_the_broken_one(store: Store) -> None:
    pk = store.source_state("tool", "policy", URL).pk
    store.record_fetch(fetch(store, pk, "new", T0), [(snap("v1"), None)], broken=POLICY)
    for day in range(1, 4):
        store.record_fetch(fetch(store, pk, "failed", T0 + timedelta(days=day)), broken=POLICY)
    change = NewChange(tier="substantive", reason="words changed", noise=(), added=1, removed=1)
    store.record_fetch(
        fetch(store, pk, "changed", T0), [(snap("v2"), change)], [evidence_reason()], POLICY
    )
    # The recovery closed the broken flags; the evidence reason opened its own flag.
    assert open_flags(store) == [("no-training", "evidence")]
    for day in range(6, 9):
        store.record_fetch(fetch(store, pk, "failed", T0 + timedelta(days=day)), broken=POLICY)
    store.resolve("tool", "no-training", "confirm", None, "still true", "ed")
    assert sorted(open_flags(store)) == [("no-training", "broken"), ("server-location", "broken")]


def test_broken_again_after_recovery_opens_new_flags(store: Store) -> None:
    pk = store.source_state("tool", "policy", URL).pk
    policy = BrokenPolicy(1, ("no-training",))
    store.record_fetch(fetch(store, pk, "new", T0), [(snap("v1"), None)], broken=policy)
    outcomes = ["failed", "failed", "not-modified", "failed"]
    for day, outcome in enumerate(outcomes, start=1):
        store.record_fetch(fetch(store, pk, outcome, T0 + timedelta(days=day)), broken=policy)
    flags = store.flags()
    assert [(f.status, f.severity) for f in flags] == [("resolved", "broken"), ("open", "broken")]
    assert flags[1].reasons[0].broken_since == T0 + timedelta(days=4)


def test_without_policy_failures_are_counted_not_flagged(store: Store) -> None:
    pk = store.source_state("tool", "policy", URL).pk
    for day in range(5):
        store.record_fetch(fetch(store, pk, "failed", T0 + timedelta(days=day), "blocked"))
    assert store.flags() == []
    state = store.source_state("tool", "policy", URL)
    assert (state.consecutive_failures, state.failure_class, state.broken_since) == (
        5,
        "blocked",
        None,
    )


def test_fetch_rows_keep_class_and_retry_after(store: Store) -> None:
    pk = store.source_state("tool", "policy", URL).pk
    entry = fetch(store, pk, "failed", T0, "transient")
    store.record_fetch(
        FetchEntry(**{**{f: getattr(entry, f) for f in entry.__slots__}, "retry_after": 120.0})
    )
    with store.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT failure_class, retry_after FROM fetches")).one()
    assert tuple(row) == ("transient", 120.0)
    (failure,) = store.failures()
    assert failure.failure_class == "transient"


def broken_source(store: Store) -> int:
    """A source with a first version, then three failures: broken, with open flags."""
    pk = store.source_state("tool", "policy", URL).pk
    store.record_fetch(fetch(store, pk, "new", T0), [(snap("v1"), None)], broken=POLICY)
    for day in range(1, 4):
        store.record_fetch(fetch(store, pk, "failed", T0 + timedelta(days=day)), broken=POLICY)
    return pk


def downgrade(store: Store, revision: str) -> None:
    """Run the store's migrations down to a revision."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("storage") / "migrations"))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_migration_0003_downgrades_and_upgrades_with_broken_flags(store: Store) -> None:
    pk = broken_source(store)
    downgrade(store, "0002")
    with store.engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("flag_reasons")}
        assert "broken_since" not in columns
        assert conn.execute(sa.text("SELECT count(*) FROM flags")).scalar() == 0
    migrate(store.engine)
    latest = store.latest_snapshot(pk)
    assert latest is not None and latest.text == "v1"


def test_schedule_state_carries_class_broken_since_and_retry_after(store: Store) -> None:
    from dataclasses import replace

    from storage.scheduling import source_schedules

    pk = store.source_state("tool", "policy", URL).pk
    policy = BrokenPolicy(2, ("no-training",))
    store.record_fetch(fetch(store, pk, "failed", T0, "transient"), broken=policy)
    slow_down = replace(fetch(store, pk, "failed", T0 + timedelta(hours=1), "transient"),
                        retry_after=120.0)  # fmt: skip
    store.record_fetch(slow_down, broken=policy)
    state = source_schedules(store)[("tool", "policy")]
    assert (state.failure_class, state.consecutive_failures) == ("transient", 2)
    assert state.broken_since is not None
    assert state.retry_after == T0 + timedelta(hours=1, seconds=120)  # its start + Retry-After
    store.record_fetch(fetch(store, pk, "changed", T0 + timedelta(hours=2)), broken=policy)
    healed = source_schedules(store)[("tool", "policy")]
    assert (healed.failure_class, healed.broken_since, healed.retry_after) == (None, None, None)


def test_migration_0006_counts_earlier_resolutions_as_reported(store: Store) -> None:
    broken_source(store)  # a flag to resolve
    store.resolve("tool", "no-training", "confirm", None, "Checked.", "ed")
    downgrade(store, "0005")
    with store.engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("reviews")}
        assert "reported_at" not in columns
    migrate(store.engine)
    (review,) = store.reviews()
    # A database from before the column sent its reports already: no old news in the next one.
    assert review.reported_at == review.at
