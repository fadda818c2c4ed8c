"""The review rules behind `citewatch review` and the web app: `decide` (confirm, set,
dismiss, reopen), their rules, write-back to the catalog, and catalog/database conflicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.catalog import load_catalog
from crawler.ingest.review import Decision, ReviewRuleError, conflicts, decide
from storage import NotFound, Store
from tests.test_storage_postgres import pg_url  # noqa: F401  (the throw-away cluster fixture)
from tests.test_storage_store import entry, reason, snap

TOOL = """\
# Acme: a tool rated on training.
id: tool   # the id the flags use
name: Tool
sources:
  - id: policy
    url: http://127.0.0.1/p
ratings:
  no-training:
    rating: partial      # checked 2026-01-02
    summary: "Inputs are not used for training."
    sources: [policy]
"""


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A SQLite store whose rating tool / no-training has an open flag."""
    s = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    flag(s)
    return s


def flag(store: Store, version: str = "v2") -> None:
    """A substantive change of the policy, flagging tool / no-training."""
    from storage.records import NewChange

    pk = store.source_state("tool", "policy", "http://127.0.0.1/p").pk
    if store.latest_snapshot(pk) is None:
        store.record_fetch(entry(store, pk, "new"), [(snap("v1"), None)])
    change = NewChange(tier="substantive", reason="words changed", noise=(), added=1, removed=1)
    store.record_fetch(entry(store, pk, "changed"), [(snap(version), change)], [reason()])


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    """A catalog folder holding TOOL."""
    (tmp_path / "catalog" / "tools").mkdir(parents=True)
    (tmp_path / "catalog" / "tools" / "tool.yaml").write_text(TOOL)
    return tmp_path / "catalog"


def d(action: str, rating: str | None = None, note: str = "read it", by: str = "ed") -> Decision:
    """A decision on tool / no-training."""
    return Decision("tool", "no-training", action, note, by, rating)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        (d("set"), "set needs the new rating"),
        (d("set", "  "), "set needs the new rating"),
        (d("set", "maybe"), "is not a rating"),
        (d("confirm", "no"), "confirm takes no rating"),
        (d("dismiss", "yes"), "dismiss takes no rating"),
        (d("reopen", "yes"), "reopen takes no rating"),
        (d("confirm", note="  "), "a note is required"),
        (d("confirm", by=""), "the editor's name is required"),
        (d("undo"), "unknown action 'undo'"),
    ],
)
def test_contradictory_or_invalid_decisions_are_refused(
    store: Store, decision: Decision, message: str
) -> None:
    with pytest.raises(ReviewRuleError, match=message):
        decide(store, decision)
    assert [f.status for f in store.flags()] == ["open"]  # nothing recorded
    assert store.reviews() == []


@pytest.mark.parametrize(
    ("action", "rating", "stored"),
    [("confirm", None, None), ("dismiss", None, None), ("set", "❌", "no")],
)
def test_each_decision_resolves_the_flag_and_is_kept(
    store: Store, action: str, rating: str | None, stored: str | None
) -> None:
    out = decide(store, d(action, rating))
    assert (out.review.action, out.review.rating, out.review.by) == (action, stored, "ed")
    assert store.flags("open") == []
    assert out.catalog_written is None and out.patch is None  # no catalog given
    with pytest.raises(NotFound):
        decide(store, d("confirm"))


def test_reopen_then_resolve_again_keeps_the_whole_history(store: Store) -> None:
    with pytest.raises(NotFound, match="no resolved flag"):
        decide(store, d("reopen"))
    decide(store, d("set", "no", note="paid API may train"))
    out = decide(store, d("reopen", note="misread the clause", by="lead"))
    assert (out.review.action, out.review.by, out.review.note) == (
        "reopen",
        "lead",
        "misread the clause",
    )
    (again,) = store.flags("open")
    assert again.resolved_at is None
    decide(store, d("confirm", note="partial after all"))
    assert [(r.action, r.by) for r in store.reviews()] == [
        ("set", "ed"), ("reopen", "lead"), ("confirm", "ed")
    ]  # fmt: skip
    assert store.current_ratings() == {("tool", "no-training"): "no"}  # a reopen undoes no set
    assert store.flags("open") == []


def test_reopen_is_refused_while_the_rating_has_another_open_flag(store: Store) -> None:
    decide(store, d("dismiss"))
    flag(store, "v3")  # a new change opens a new flag
    with pytest.raises(ReviewRuleError, match="already has an open flag"):
        decide(store, d("reopen"))
    assert len(store.flags("open")) == 1


def test_set_writes_the_rating_back_to_the_catalog(store: Store, catalog: Path) -> None:
    out = decide(store, d("set", "no"), catalog)
    file = catalog / "tools" / "tool.yaml"
    assert out.catalog_written == file and out.write_error is None
    assert file.read_text() == TOOL.replace("rating: partial ", "rating: no ")
    assert out.patch is not None and "-    rating: partial" in out.patch
    assert "+    rating: no      # checked" in out.patch
    assert load_catalog(catalog).tool("tool").ratings[0].rating == "no"
    assert conflicts(store, load_catalog(catalog)) == []


def test_set_without_write_back_gives_the_patch_and_leaves_the_file(
    store: Store, catalog: Path
) -> None:
    out = decide(store, d("set", "yes"), catalog, write_back=False)
    assert out.catalog_written is None and out.patch and "+    rating: yes" in out.patch
    assert (catalog / "tools" / "tool.yaml").read_text() == TOOL
    (c,) = conflicts(store, load_catalog(catalog))  # until the patch is applied
    assert (c.catalog_rating, c.database_rating, c.set_by) == ("partial", "yes", "ed")
    assert c.file == str(catalog / "tools" / "tool.yaml")


def test_set_of_a_rating_the_catalog_lacks_is_recorded_and_says_why(
    store: Store, catalog: Path
) -> None:
    (catalog / "tools" / "tool.yaml").write_text(TOOL.replace("no-training", "dpa"))
    out = decide(store, d("set", "no"), catalog)
    assert out.review.rating == "no" and out.catalog_written is None
    assert out.write_error is not None and "has no rating no-training" in out.write_error


def test_a_catalog_edit_that_contradicts_the_newest_set_is_a_conflict(
    store: Store, catalog: Path
) -> None:
    decide(store, d("set", "no"), catalog)
    file = catalog / "tools" / "tool.yaml"
    file.write_text(file.read_text().replace("rating: no ", "rating: yes "))
    (c,) = conflicts(store, load_catalog(catalog))
    assert (c.tool_id, c.criterion_id, c.catalog_rating, c.database_rating) == (
        "tool", "no-training", "yes", "no"
    )  # fmt: skip


@pytest.mark.postgres
def test_reopen_and_resolve_again_on_postgres(pg_url: str) -> None:  # noqa: F811
    s = Store.open(pg_url)
    flag(s, "pg-v2")
    decide(s, d("set", "no"))
    assert decide(s, d("reopen", by="lead")).review.action == "reopen"
    flag(s, "pg-v3")  # the new reason joins the re-opened flag: still one open
    assert len(s.flags("open")) == 1
    decide(s, d("dismiss"))
    assert [r.action for r in s.reviews("tool")] == ["set", "reopen", "dismiss"]
    s.close()
