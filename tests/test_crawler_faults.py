"""Faults end to end: real `citewatch crawl --json` runs against misbehaving local servers.

Each table row is one source of one catalog: the replay server's real pages with injected
faults, and our own pages for what it cannot serve. Crawl 1 takes every page good; crawl 2
meets the row's fault; crawl 3 is good again. Every fault must end in its failure class, leave
the last good snapshot as it was, and no crawl may record a change (nothing really changed).
Both servers are crawled by the same three runs (two hosts fetch in parallel): each crawl is a
real Scrapy child process, the slow part of these tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import LocalServer, Reply

from storage import Store

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CITEWATCH = shutil.which("citewatch") or str(ROOT / ".venv/bin/citewatch")
# Fast and local: no politeness waits, short timeouts, no retries (a retry cannot change the
# class), and a Retry-After is recorded rather than waited for.
FAST = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_TIMEOUT": "5",  # generous: a loaded CI box can take a second to accept
    "RETRY_TIMES": "0",
    "RETRY_AFTER_MAX_DELAY": "0",
}
HTML = {"Content-Type": "text/html; charset=utf-8"}
Run = dict[str, dict[str, Any]]  # one crawl's sources by id


def write_catalog(folder: Path, urls: dict[str, str]) -> Path:
    """One tool citing every URL, with one rating resting on all of them."""
    (folder / "tools").mkdir(parents=True)
    sources = "".join(f"  - id: {sid}\n    url: {url}\n" for sid, url in urls.items())
    (folder / "tools" / "t.yaml").write_text(
        f"id: t\nname: T\nsources:\n{sources}ratings:\n  no-training:\n    rating: yes\n"
        f"    sources: [{', '.join(urls)}]\n",
        encoding="utf-8",
    )
    return folder


def crawl(db: str, catalog: Path, settings: dict[str, str] = FAST) -> Run:
    """One real crawl in a subprocess; its sources by id."""
    argv = [CITEWATCH, "--db", db, "crawl", str(catalog), "--json"]
    for key, value in settings.items():
        argv += ["-s", f"{key}={value}"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode in (0, 3), done.stderr[-3000:]
    sources = {s["source"]: s for s in json.loads(done.stdout)["sources"]}
    failed = any(s["outcome"] == "failed" for s in sources.values())
    assert done.returncode == (3 if failed else 0)  # a recorded run: 3 when some source failed
    return sources


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault, the class it must end in, and the outcomes accepted for it."""

    name: str
    failure_class: str | None  # None: not a failure at all
    outcomes: tuple[str, ...] = ("failed",)


def check_history(db: str, faults: Sequence[Fault], runs: Sequence[Run]) -> None:
    """The three crawls: good, faulty, good again; one snapshot per source, no change ever."""
    first, faulty, after = runs
    assert {s["outcome"] for s in first.values()} == {"new"}
    for fault in faults:
        got = faulty[fault.name]
        assert (got["outcome"], got["failure_class"]) in {
            (o, fault.failure_class) for o in fault.outcomes
        }, got
        assert got["change"] is None and got["flags"] == []
        assert after[fault.name]["outcome"] in ("unchanged", "not-modified"), after[fault.name]
        assert after[fault.name]["failure_class"] is None
    store = Store.open(db)
    try:
        assert store.changes() == []  # no false change, in any of the three crawls
        with store.engine.connect() as conn:
            per_source = conn.execute(
                sa.text("SELECT source_pk, count(*) FROM snapshots GROUP BY source_pk")
            ).all()
        assert len(per_source) == len(faults) and {n for _, n in per_source} == {1}
        assert store.broken_sources() == []  # crawl 3 healed every source
    finally:
        store.close()


# --- the replay server: real pages, injected faults ------------------------------------------

REPLAY_FAULTS = [
    (Fault("r404", "gone"), "404", {}),
    (Fault("r500", "transient"), "500", {}),
    (Fault("r503", "transient"), "503", {"retry_after": "7"}),
    (Fault("slow", "transient"), "slow", {"delay": "8"}),  # > DOWNLOAD_TIMEOUT
    (Fault("redirect", None, ("unchanged", "not-modified")), "redirect", {}),
    (Fault("cut-short", "suspicious"), "truncate", {"declared": "full"}),
    (Fault("cut-declared", "suspicious"), "truncate", {"declared": "truncated"}),
    (Fault("healthy", None, ("not-modified",)), "none", {}),
]
REPLAY_PAGES = [
    *(f"/deepseek/{d}/main" for d in ("developer-terms", "privacy-policy", "terms-of-service")),
    *(f"/vibe/{d}/main" for d in ("privacy-policy", "acceptable-use-policy", "commercial-terms")),
    "/vibe/data-processor-agreement/main",
    "/vibe/trackers-policy/main",
]


@pytest.fixture
def replay() -> Iterator[Any]:
    """The shared replay server of real capture history on 127.0.0.1 (None without ../shared)."""
    if not (SHARED / "tools" / "replay_server.py").exists():
        if os.environ.get("CI"):
            pytest.fail("../shared is missing; CI runs with it beside the checkout")
        yield None  # the rows of our own pages still run
        return
    sys.path.insert(0, str(SHARED / "tools"))
    try:
        from replay_server import ReplayServer
    finally:
        sys.path.pop(0)
    with ReplayServer(str(SHARED / "corpus"), port=0) as server:
        yield server


# --- our own pages: what the replay server cannot serve -------------------------------------

PARAGRAPH = "We do not use your Input and Output to train our models. "
GOOD = (
    f"<!DOCTYPE html><html><body><main><h1>Privacy</h1><p>{PARAGRAPH * 60}</p></main></body></html>"
)
FRENCH = "<html><body><main><p>Données à caractère personnel : nous ne les vendons pas. " * 30
CLOUDFLARE = (
    "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    "<h1>example.com</h1><p>Enable JavaScript and cookies to continue</p>"
    "<script>window._cf_chl_opt={cType: 'managed'};</script></body></html>"
)
CONSENT = (
    "<html><body><div class='cookie-wall'><h2>Before you continue</h2><p>We use cookies.</p>"
    "<button>Accept all</button><button>Reject all</button></div></body></html>"
)
LOADING = "<!DOCTYPE html><html><body><main><p>Loading…</p></main></body></html>"


def page(body: str, headers: dict[str, str] = HTML, status: int = 200) -> Reply:
    """An HTML reply."""
    return Reply(status, body.encode("utf-8"), headers)


# (fault, good reply, faulty reply)
OWN_FAULTS = [
    (Fault("challenge", "blocked"), page(GOOD), page(CLOUDFLARE)),
    (Fault("challenge-403", "blocked"), page(GOOD), page(CLOUDFLARE, status=403)),
    (Fault("consent-wall", "blocked"), page(GOOD), page(CONSENT)),
    (Fault("empty", "suspicious"), page(GOOD), page("")),
    (Fault("collapsed", "suspicious"), page(GOOD), page(LOADING)),
    (Fault("huge", "suspicious"), page(GOOD), Reply(200, b"<html><body>", HTML, stream=50 << 20)),
    (Fault("gone-410", "gone"), page(GOOD), page("gone", status=410)),
    (
        Fault("rate-limited", "transient"),
        page(GOOD),
        page("slow down", {**HTML, "Retry-After": "30"}, status=429),
    ),
    (
        Fault("wrong-charset", None, ("unchanged",)),
        page(FRENCH),
        page(FRENCH, {"Content-Type": "text/html; charset=iso-8859-1"}),
    ),
]


def test_faults_end_in_their_class_and_change_nothing(
    replay: Any, http_server: LocalServer, tmp_path: Path
) -> None:
    urls: dict[str, str] = {}
    for fault, good, bad in OWN_FAULTS:
        http_server.route(f"/{fault.name}", good, bad, good)
        urls[fault.name] = http_server.url(f"/{fault.name}")
    replayed = REPLAY_FAULTS if replay is not None else []
    paths = dict(zip((f.name for f, _, _ in replayed), REPLAY_PAGES, strict=False))
    urls.update({name: replay.base_url + path for name, path in paths.items()})
    catalog = write_catalog(tmp_path / "cat", urls)
    db = f"sqlite:///{tmp_path / 'cw.db'}"

    runs = [crawl(db, catalog)]
    for fault, kind, params in replayed:
        replay.set_fault(paths[fault.name], kind, **params)
    runs.append(crawl(db, catalog))
    if replay is not None:
        replay.clear_faults()
    runs.append(crawl(db, catalog))

    check_history(db, [f for f, _, _ in (*OWN_FAULTS, *replayed)], runs)
    assert runs[1]["huge"]["error"].startswith("too-large")
    engine = sa.create_engine(db)
    with engine.connect() as conn:
        waits = conn.execute(
            sa.text("SELECT retry_after FROM fetches WHERE status IN (429, 503) ORDER BY status")
        ).scalars()
        assert list(waits) == [30.0, 7.0][: 1 + (replay is not None)]
    engine.dispose()
