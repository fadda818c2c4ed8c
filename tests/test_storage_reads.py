"""Reading history at scale: flags in a fixed number of statements, versions as metadata (no
text decompressed), blobs in batches, and marks on more ids than SQLite binds at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from test_storage_store import entry, reason, snap

from storage import Store, blobs
from storage.models import Flag, FlagReason, Review
from storage.queries import _reason_record, _review_record
from storage.records import NewChange


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    """Every SQL statement the store's engine runs inside the block."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", count)


def change(tier: str = "substantive") -> NewChange:
    """A change of the given tier."""
    return NewChange(tier=tier, reason="wording changed", noise=(), added=1, removed=1)


def flagged_store(path: Path, flags: int) -> Store:
    """A store with `flags` flags: each opened by a change, every other one resolved."""
    store = Store.open(f"sqlite:///{path}")
    pk = store.source_state("tool", "policy", "http://127.0.0.1/p").pk
    store.record_fetch(entry(store, pk, "new"), [(snap("v0"), None)])
    for i in range(flags):
        criterion = f"c{i}"
        store.record_fetch(
            entry(store, pk, "changed"), [(snap(f"v{i + 1}"), change())], [reason(criterion)]
        )
        if i % 2:
            store.resolve("tool", criterion, "confirm", None, "fine", "ed")
    return store


def one_by_one(store: Store, status: str | None) -> list[tuple[object, ...]]:
    """(flag id, reasons, reviews) as the store read them before: each flag's reasons, then
    its rating's reviews, two statements a flag."""
    out: list[tuple[object, ...]] = []
    with store.sessions() as s:
        query = sa.select(Flag).order_by(Flag.id)
        if status:
            query = query.filter_by(status=status)
        for f in s.scalars(query):
            reasons = s.scalars(
                sa.select(FlagReason).filter_by(flag_id=f.id).order_by(FlagReason.id)
            )
            reviews = s.scalars(
                sa.select(Review)
                .filter_by(tool_id=f.tool_id, criterion_id=f.criterion_id)
                .order_by(Review.id)
            )
            out.append(
                (
                    f.id,
                    tuple(_reason_record(r) for r in reasons),
                    tuple(_review_record(r) for r in reviews),
                )
            )
    return out


@pytest.mark.parametrize("status", [None, "open", "resolved"])
def test_flags_take_a_fixed_number_of_statements(tmp_path: Path, status: str | None) -> None:
    few, many = flagged_store(tmp_path / "few.db", 3), flagged_store(tmp_path / "many.db", 40)
    with statements(few) as small:
        few.flags(status)
    with statements(many) as large:
        found = many.flags(status)
    assert len(large) == len(small) <= 6, large
    assert [(f.id, f.reasons, f.reviews) for f in found] == one_by_one(many, status)
    assert len(found) == {None: 40, "open": 20, "resolved": 20}[status]


def test_versions_are_listed_without_reading_their_texts(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'cw.db'}")
    a = store.source_state("tool", "a", "http://127.0.0.1/a").pk
    b = store.source_state("tool", "b", "http://127.0.0.1/b").pk
    store.record_fetch(entry(store, a, "new"), [(snap("a0"), None)])
    store.record_fetch(entry(store, b, "new"), [(snap("b0"), None)])
    store.record_fetch(entry(store, a, "changed"), [(snap("a1"), change("noise"))])
    with statements(store) as seen:
        listed = store.versions()
    assert not any("blobs" in s for s in seen)  # no text is read, let alone decompressed
    full = {pk: store.snapshots(pk) for pk in (a, b)}
    assert [(v.source_pk, v.id) for v in listed] == [(a, s.id) for s in full[a]] + [
        (b, s.id) for s in full[b]
    ]
    for v in listed:
        s = next(x for x in full[v.source_pk] if x.id == v.id)
        assert (v.taken_at, v.raw_sha, v.text_sha, v.content_type, v.technical) == (
            s.taken_at,
            s.raw_sha,
            s.text_sha,
            s.content_type,
            s.technical,
        )
    assert [v.id for v in store.versions(ids=[listed[-1].id])] == [listed[-1].id]


def test_blobs_are_read_in_batches(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'cw.db'}")
    pk = store.source_state("tool", "a", "http://127.0.0.1/a").pk
    texts = [f"version {i}" for i in range(25)]
    store.record_fetch(entry(store, pk, "new"), [(snap(texts[0]), None)])
    for text in texts[1:]:
        store.record_fetch(entry(store, pk, "changed"), [(snap(text), change("noise"))])
    shas = [blobs.sha256(t.encode()) for t in texts]
    with statements(store) as seen:
        found = dict(store.blobs([*shas, *shas[:3], "0" * 64], batch=10))
    selects = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3  # 26 distinct hashes, 10 a query
    assert found == {sha: t.encode() for sha, t in zip(shas, texts, strict=True)}  # none missing


def test_marks_cover_more_ids_than_sqlite_binds_at_once(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'cw.db'}")
    pk = store.source_state("tool", "a", "http://127.0.0.1/a").pk
    store.record_fetch(entry(store, pk, "new"), [(snap("v0"), None)])
    store.record_fetch(entry(store, pk, "changed"), [(snap("v1"), change())])
    (only,) = store.changes()
    at = datetime(2026, 4, 1, tzinfo=UTC)
    # SQLite refuses statements with more bound values than it was built for: 32,766 by
    # default, 250,000 in Debian's build (a first report of ten years of 1,000 sources).
    store.mark_reported([only.id, *range(10**6, 10**6 + 300_000)], at)
    assert store.change(only.id).reported_at == at
    assert store.suggestions(range(300_000)) == []
    assert [c.id for c in store.changes(ids=range(300_001))] == [only.id]
