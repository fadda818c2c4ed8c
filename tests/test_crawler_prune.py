"""`citewatch prune`: the retention policy. Raw bodies no stored version uses go (an older
citewatch kept one per fetch), and with --failed-older-than old failed fetches outside a
source's current run of failures; a dry run unless --apply; versions are never touched."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from test_storage_scale import fetch as scale_fetch

from crawler.cli import cli
from storage import Store
from storage.blobs import compress, sha256
from storage.records import FetchEntry, NewSnapshot

URL = "http://127.0.0.1/p"
NOW = datetime.now(UTC)


def invoke(*args: str) -> Result:
    """The CLI in this process, exceptions not caught."""
    return CliRunner().invoke(cli, list(args), obj={}, catch_exceptions=False)


def fetch(store: Store, pk: int, outcome: str, at: datetime) -> FetchEntry:
    """A fetch of its own run; failed ones are transient 503s."""
    return scale_fetch(store, pk, outcome, at, raw=b"<p>v1</p>")


def scalar(store: Store, sql: str) -> int:
    """The one integer a query returns."""
    with store.sessions() as s:
        return int(s.execute(sa.text(sql)).scalar_one())


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A history: a version, then (as an older citewatch kept them) two unchanged fetches
    pointing at raw bodies with a nonce; old failures, a good fetch, and a current streak."""
    url = f"sqlite:///{tmp_path / 'cw.db'}"
    store = Store.open(url)
    pk = store.source_state("tool", "policy", URL).pk
    version = NewSnapshot(raw=b"<p>v1</p>", text="v1", extract_key="html/1",
                          content_type="text/html", final_url=None)  # fmt: skip
    store.record_fetch(fetch(store, pk, "new", NOW - timedelta(days=90)), [(version, None)])
    for day in (80, 79):
        done = store.record_fetch(fetch(store, pk, "unchanged", NOW - timedelta(days=day)))
        body = f'<script nonce="{day}"></script><p>v1</p>'.encode()
        codec, packed = compress(body)
        with store.sessions.begin() as s:  # what every fetch kept before migration 0008
            s.execute(
                sa.text("INSERT INTO blobs VALUES (:sha, :codec, :size, :data)"),
                {"sha": sha256(body), "codec": codec, "size": len(body), "data": packed},
            )
            s.execute(sa.text("UPDATE fetches SET raw_sha = :sha WHERE id = :id"),
                      {"sha": sha256(body), "id": done.fetch_id})  # fmt: skip
    for day in (70, 69):
        store.record_fetch(fetch(store, pk, "failed", NOW - timedelta(days=day)))
    store.record_fetch(fetch(store, pk, "unchanged", NOW - timedelta(days=60)))
    for day in (50, 40):  # the current run of failures: old, and kept
        store.record_fetch(fetch(store, pk, "failed", NOW - timedelta(days=day)))
    store.close()
    return url


def test_prune_is_a_dry_run_unless_applied(db: str) -> None:
    result = invoke("--db", db, "prune")
    assert result.exit_code == 0, result.output
    assert "would remove 2 raw bodies" in result.output and "2 fetches pointed" in result.output
    assert "dry run: nothing removed" in result.output
    store = Store.open(db)
    assert scalar(store, "SELECT count(*) FROM blobs") == 4
    store.close()


def test_prune_removes_raw_bodies_no_version_uses_and_keeps_every_version(db: str) -> None:
    result = invoke("--db", db, "prune", "--apply", "--json")
    assert result.exit_code == 0, result.output
    done = json.loads(result.output)
    assert (done["applied"], done["raw_blobs"], done["fetch_refs"]) == (True, 2, 2)
    assert done["raw_bytes"] > 0 and done["failed_fetches"] == 0
    store = Store.open(db)
    assert scalar(store, "SELECT count(*) FROM blobs") == 2  # the version's raw body and text
    assert scalar(store, "SELECT count(*) FROM fetches") == 8  # every fetch row stays
    (version,) = store.versions()
    assert store.blob(version.raw_sha) == b"<p>v1</p>"
    assert store.snapshot(version.id).text == "v1"
    store.close()
    again = json.loads(invoke("--db", db, "prune", "--apply", "--json").output)
    assert (again["raw_blobs"], again["fetch_refs"]) == (0, 0)


def test_prune_removes_old_failures_but_never_a_current_run_of_them(db: str) -> None:
    result = invoke("--db", db, "prune", "--apply", "--failed-older-than", "30")
    assert result.exit_code == 0, result.output
    assert "removed 2 failed fetches from before" in result.output
    store = Store.open(db)
    days = [
        (NOW - datetime.fromisoformat(at).replace(tzinfo=UTC)).days
        for at in store.sessions()
        .execute(sa.text("SELECT started_at FROM fetches WHERE outcome = 'failed' ORDER BY id"))
        .scalars()
    ]
    assert days == [50, 40]  # the streak broken-source flags and status still count
    (failure,) = store.broken_sources()
    assert failure.consecutive == 2
    store.close()


@pytest.mark.parametrize("days", ["0", "-1", "36501", "soon"])
def test_prune_refuses_an_age_out_of_range(db: str, days: str) -> None:
    result = invoke("--db", db, "prune", "--failed-older-than", days)
    assert result.exit_code == 2
