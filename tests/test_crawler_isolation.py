"""One source fails alone: an exception at any stage of one source's handling becomes that
source's failed fetch, and every other source of the run is recorded as usual."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import LocalServer, Reply

import crawler.ingest.analysis
import diffs.flags
from crawler.cli import cli
from storage import Store

HTML = {"Content-Type": "text/html; charset=utf-8"}
NAMES = ("alpha", "victim", "gamma", "delta")
QUOTE = "We do not use your data to train our models"
CATALOG = """id: acme
name: Acme AI
sources:
{sources}
ratings:
  no-training:
    rating: yes
    sources: [{names}]
    evidence:
      - source: victim
        quote: {quote}
"""
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


def page(name: str, version: int) -> Reply:
    """Each page changes in substance between version 1 and 2 (a training statement)."""
    said = QUOTE if version == 1 else "We may use your data to train our models"
    body = f"<html><body><main><h1>{name}</h1><p>{said}.</p><p>Hosted in the EU.</p></main>"
    return Reply(200, (body + "</body></html>").encode(), HTML)


def crawl(db: str, catalog: Path, *extra: str) -> dict[str, dict[str, Any]]:
    result = CliRunner().invoke(
        cli, ["--db", db, "crawl", str(catalog), "--json", *FAST, *extra], obj={},
        catch_exceptions=False,
    )  # fmt: skip
    report = json.loads(result.stdout)
    return {s["source"]: s for s in report["sources"]}


@pytest.fixture
def two_versions(http_server: LocalServer, tmp_path: Path) -> tuple[str, Path]:
    """A catalog of four sources, crawled once; the next crawl sees each page changed."""
    for name in NAMES:
        http_server.route(f"/{name}", page(name, 1), page(name, 2))
    sources = "\n".join(f"  - id: {n}\n    url: {http_server.url('/' + n)}" for n in NAMES)
    (tmp_path / "cat" / "tools").mkdir(parents=True)
    text = CATALOG.format(sources=sources, names=", ".join(NAMES), quote=QUOTE)
    (tmp_path / "cat" / "tools" / "acme.yaml").write_text(text)
    db = f"sqlite:///{tmp_path / 'c.db'}"
    first = crawl(db, tmp_path / "cat")
    assert {s["outcome"] for s in first.values()} == {"new"}
    return db, tmp_path / "cat"


def _raise_for_victim(real: Callable[..., Any], victim_arg: Callable[..., bool]) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if victim_arg(*args, **kwargs):
            raise RuntimeError("injected failure")
        return real(*args, **kwargs)

    return wrapper


def _is_victim_text(*args: Any, **kwargs: Any) -> bool:
    return any("victim" in str(a)[:2000] for a in args)


# (stage, module, attribute, how to tell the victim's call)
STAGES = [
    ("extract", crawler.ingest.analysis, "extract_source", lambda *a, **k: "victim" in a[2]),
    ("diff", crawler.ingest.analysis, "diff_blocks", _is_victim_text),
    ("significance", crawler.ingest.analysis, "assess", _is_victim_text),
    ("flags", crawler.ingest.analysis, "flag_change", lambda *a, **k: a[0] == "victim"),
    ("evidence", diffs.flags, "track", _is_victim_text),
]


@pytest.mark.parametrize(("stage", "module", "name", "victim"), STAGES, ids=[s[0] for s in STAGES])
def test_an_exception_in_one_stage_fails_that_source_only(
    two_versions: tuple[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    stage: str,
    module: Any,
    name: str,
    victim: Callable[..., bool],
) -> None:
    db, catalog = two_versions
    monkeypatch.setattr(module, name, _raise_for_victim(getattr(module, name), victim))
    second = crawl(db, catalog)
    failed = second["victim"]
    assert (failed["outcome"], failed["failure_class"]) == ("failed", "suspicious")
    assert "citewatch failed on this page: RuntimeError: injected failure" in failed["error"]
    for name_ in NAMES:
        if name_ != "victim":
            assert second[name_]["outcome"] == "changed", (stage, name_, second[name_])
            assert second[name_]["flags"] == ["no-training"]
    # The victim's last good version is still the one the next crawl compares with.
    monkeypatch.undo()
    third = crawl(db, catalog)
    assert third["victim"]["outcome"] == "changed"


def test_a_write_the_database_refuses_fails_that_source_only(
    two_versions: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, catalog = two_versions
    real = Store.record_fetch
    victim_pk = {}

    def refusing(self: Store, entry: Any, versions: Any = (), *args: Any, **kw: Any) -> Any:
        if versions and any(b"victim" in (snap.raw or b"") for snap, _ in versions):
            victim_pk["pk"] = entry.source_pk
            raise ValueError("A string literal cannot contain NUL (0x00) characters.")
        return real(self, entry, versions, *args, **kw)

    monkeypatch.setattr(Store, "record_fetch", refusing)
    second = crawl(db, catalog)
    assert second["victim"]["outcome"] == "failed"
    assert "ValueError: A string literal cannot contain NUL" in second["victim"]["error"]
    assert [second[n]["outcome"] for n in NAMES if n != "victim"] == ["changed"] * 3
    store = Store.open(db)
    try:
        assert len(store.snapshots(victim_pk["pk"])) == 1  # nothing half-written
    finally:
        store.close()


FAULTY_MIDDLEWARE = '''
from scrapy.exceptions import IgnoreRequest


class Boom:
    """Raises inside Scrapy's downloader for one URL."""

    def process_request(self, request):
        if request.url.endswith("/victim"):
            raise RuntimeError("injected failure in the fetch child")
        return None
'''


def test_an_exception_in_the_fetch_child_fails_that_source_only(
    two_versions: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, catalog = two_versions
    (tmp_path / "faulty_fetch.py").write_text(FAULTY_MIDDLEWARE)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # the child imports the middleware
    middlewares = {
        "crawler.fetch.middlewares.FetchTimingMiddleware": 50,
        "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
        "crawler.fetch.middlewares.SafeRobotsTxtMiddleware": 100,
        "faulty_fetch.Boom": 500,
        "crawler.fetch.middlewares.RetryAfterMiddleware": 560,
    }
    second = crawl(db, catalog, "-s", f"DOWNLOADER_MIDDLEWARES={json.dumps(middlewares)}")
    assert second["victim"]["outcome"] == "failed"
    assert "injected failure in the fetch child" in second["victim"]["error"]
    assert [second[n]["outcome"] for n in NAMES if n != "victim"] == ["changed"] * 3
