"""`citewatch labels export`: every standing editor decision as a label of the change it
judged, in labels.json's shape, read back by the bench's own label reader."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli.commands import cli
from crawler.ingest.review import Decision, decide
from storage import Store
from storage.records import NewChange
from tests.test_storage_store import entry, reason, snap

BENCH = Path(__file__).resolve().parents[1] / "bench"
CORPUS_LABELS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "labels.json"


def change(store: Store, text: str, *criteria: str) -> int:
    """A substantive change of tool/policy to `text`, flagging these criteria; its id."""
    pk = store.source_state("tool", "policy", "http://127.0.0.1/p").pk
    if store.latest_snapshot(pk) is None:
        store.record_fetch(entry(store, pk, "new"), [(snap("v1"), None)])
    new = NewChange(tier="substantive", reason="words changed", noise=(), added=1, removed=1)
    store.record_fetch(
        entry(store, pk, "changed"), [(snap(text), new)], [reason(c) for c in criteria]
    )
    return store.changes()[-1].id


def decision(criterion: str, action: str, rating: str | None = None, note: str = "n") -> Decision:
    return Decision("tool", criterion, action, note, "ed", rating)  # type: ignore[arg-type]


@pytest.fixture
def db(tmp_path: Path) -> str:
    """Three changes: one set + dismissed, one dismissed, one confirmed then re-opened."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    store = Store.open(url)
    change(store, "v2", "no-training", "dpa")
    decide(store, decision("no-training", "set", "no", "paid API may train"))
    decide(store, decision("dpa", "dismiss", note="menu text"))
    change(store, "v3", "no-training")
    decide(store, decision("no-training", "dismiss", note="date bump"))
    change(store, "v4", "dpa")
    decide(store, decision("dpa", "confirm"))
    decide(store, decision("dpa", "reopen", note="withdrawn"))
    store.close()
    return url


def exported(db: str, tmp_path: Path) -> list[dict[str, object]]:
    out = tmp_path / "labels.json"
    result = CliRunner().invoke(cli, ["--db", db, "labels", "export", "--out", str(out)], obj={})
    assert result.exit_code == 0, result.output
    data: list[dict[str, object]] = json.loads(out.read_text(encoding="utf-8"))
    return data


def test_each_standing_resolution_is_a_label_of_its_change(db: str, tmp_path: Path) -> None:
    first, second = exported(db, tmp_path)  # the re-opened decision is withdrawn: no third
    assert (first["substantive"], first["criteria"], first["noise_kind"]) == (
        True, ["no-training"], None
    )  # fmt: skip
    assert "no-training: set no by ed" in str(first["why"])
    assert "paid API may train" in str(first["why"]) and "dpa: dismissed as noise" in str(
        first["why"]
    )
    assert first["excerpt"] == "We train."
    assert (second["substantive"], second["criteria"], second["noise_kind"]) == (
        False, [], "other"
    )  # fmt: skip
    assert "date bump" in str(second["why"])
    assert first["version_sha"] != second["version_sha"]
    assert (first["service"], first["document"], first["scope"]) == ("tool", "policy", "text")


def test_the_export_has_labels_json_keys_and_types(db: str, tmp_path: Path) -> None:
    ours = exported(db, tmp_path)
    if not CORPUS_LABELS.exists():
        pytest.skip("../shared/corpus is not beside this checkout")
    theirs = json.loads(CORPUS_LABELS.read_text(encoding="utf-8"))
    shape = {k: type(v) for k, v in theirs[0].items() if v is not None}
    for label in ours:
        assert set(label) == set(theirs[0])
        assert all(isinstance(label[k], t) for k, t in shape.items() if label[k] is not None)


def test_the_bench_reads_the_export_as_labels(db: str, tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCH))
    try:
        from truth import _label  # bench/truth.py: how the bench reads labels.json
    finally:
        sys.path.remove(str(BENCH))
    read = [_label(x) for x in exported(db, tmp_path)]
    assert [(x.substantive, sorted(x.criteria), x.noise_kind) for x in read] == [
        (True, ["no-training"], None),
        (False, [], "other"),
    ]


def test_export_to_stdout_with_no_decisions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    Store.open(url).close()
    result = CliRunner().invoke(cli, ["--db", url, "labels", "export"], obj={})
    assert result.exit_code == 0 and json.loads(result.output) == []
