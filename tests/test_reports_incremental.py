"""The reviewers' site written incrementally: a report run again into its folder renders only
what changed, leaves the rest untouched, removes what the site no longer has, and ends with
the same files, byte for byte, as a fresh full report of the same database."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import reports.site as site
import reports.views as views
from crawler.report import build
from diffs.reasons import Reason
from diffs.sentences import SentenceChange
from reports import feeds
from reports.files import Folder
from reports.render import iso, when
from storage import Store
from storage.records import FetchEntry, NewChange, NewSnapshot

TOOLS = {"acme": ("policy", "terms"), "bolt": ("policy", "dpa")}
T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def write_catalog(folder: Path) -> Path:
    """Two tools of two sources each; each rates no-training and dpa on both."""
    (folder / "tools").mkdir(parents=True, exist_ok=True)
    for tool, sources in TOOLS.items():
        lines = [f"id: {tool}", f"name: {tool.title()} AI", "sources:"]
        for s in sources:
            lines += [f"  - id: {s}", f"    url: https://{tool}.example/{s}"]
        lines.append("ratings:")
        for criterion in ("no-training", "dpa"):
            lines += [f"  {criterion}:", "    rating: yes", f"    sources: [{', '.join(sources)}]"]
        (folder / "tools" / f"{tool}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


class Pages:
    """A store fed version after version of the catalog's pages, through record_fetch."""

    def __init__(self, path: Path) -> None:
        self.store = Store.open(f"sqlite:///{path}")
        self.catalog = write_catalog(path.parent / "catalog")
        self.run = self.store.begin_run(str(self.catalog))
        self.texts: dict[tuple[str, str], str] = {}
        self.day = 0
        for tool, sources in TOOLS.items():
            for source in sources:
                self.version(tool, source, None)

    def version(self, tool: str, source: str, tier: str | None, flag: str | None = None) -> int:
        """A new version of a page (tier None: its first); returns the change id (or 0)."""
        self.day += 1
        key = (tool, source)
        old = self.texts.get(key, f"# {source} of {tool}\nWe keep your data for 30 days.")
        new = old if tier is None else f"{old}\nEdit {self.day}: we may use your data."
        self.texts[key] = new
        pk = self.store.source_state(tool, source, f"https://{tool}.example/{source}").pk
        entry = FetchEntry(
            run_id=self.run,
            source_pk=pk,
            requested_url=f"https://{tool}.example/{source}",
            final_url=None,
            redirects=(),
            status=200,
            outcome="new" if tier is None else "changed",
            error=None,
            error_kind=None,
            content_type="text/html",
            raw=f"<p>{new}</p>".encode(),
            started_at=T0 + timedelta(days=self.day),
            elapsed_ms=5,
        )
        snapshot = NewSnapshot(
            raw=entry.raw or b"", text=new, extract_key="html/1", content_type="text/html",
            final_url=None,
        )  # fmt: skip
        change = None
        if tier is not None:
            change = NewChange(tier=tier, reason=f"a {tier} edit", noise=(), added=1, removed=0)
        reasons = [] if flag is None else [reason(tool, source, flag, self.day)]
        done = self.store.record_fetch(entry, [(snapshot, change)], reasons)
        return done.change_ids[-1] if done.change_ids else 0

    def copy(self, target: Path) -> Path:
        """A copy of the database as it stands (SQLite's backup: the WAL included)."""
        source = sqlite3.connect(self.store.engine.url.database or "")
        with closing(source), closing(sqlite3.connect(target)) as copy:
            source.backup(copy)
        return target

    def report(self, out: Path, day: int) -> list[Path]:
        """`citewatch report --format html,md,json` into `out`, as of a given day."""
        at = T0 + timedelta(days=100 + day)
        return build.write_reports(
            self.store, str(self.catalog), out, ["html", "md", "json"], None, now=at
        )


def reason(tool: str, source: str, criterion: str, day: int) -> Reason:
    """A topic reason of a change."""
    return Reason(
        tool=tool,
        criterion=criterion,
        source=source,
        severity="topic",
        kind="topic",
        text=f"The {source} now speaks about {criterion}.",
        sentences=(SentenceChange(None, f"Edit {day}: we may use your data."),),
        matched_terms=("data",),
    )


def stamps(days: range) -> list[tuple[str, str]]:
    """The "generated at" stamps of reports made on these days, as pages print them."""
    moments = [T0 + timedelta(days=100 + d) for d in days]
    return [(iso(m), when(m)) for m in moments] + [(m.isoformat(), "") for m in moments]


def files(folder: Path, days: range) -> dict[str, bytes]:
    """Every file of a report folder (its bookkeeping aside), with the report times blanked."""
    found = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and not rel.startswith(".citewatch/"):
            text = path.read_bytes()
            for machine, people in stamps(days):
                text = text.replace(machine.encode(), b"GENERATED")
                if people:
                    text = text.replace(people.encode(), b"GENERATED")
            found[rel] = text
    return found


def inodes(folder: Path) -> dict[str, tuple[int, int]]:
    """Each file's inode and time of last write: a rewrite changes one of them."""
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bounds small enough for a few versions to cross them."""
    monkeypatch.setattr(build, "SUPPRESSED_LIMIT", 3)
    monkeypatch.setattr(views, "TIMELINE_PAGE", 2)
    monkeypatch.setattr(views, "TOOL_RESOLVED_FLAGS", 1)
    monkeypatch.setattr(views, "CARD_HISTORY", 1)
    monkeypatch.setattr(site, "INDEX_LIMIT", 1)
    monkeypatch.setattr(feeds, "FEED_ENTRIES", 2)


def grow(pages: Pages) -> None:
    """A few days of every kind of change: noise, minor, substantive with flags, reviews."""
    pages.version("acme", "policy", "noise")
    pages.version("acme", "policy", "substantive", flag="no-training")
    pages.version("acme", "terms", "minor")
    pages.version("bolt", "dpa", "substantive", flag="dpa")
    pages.store.resolve("acme", "no-training", "confirm", None, "Still holds.", "ed")
    pages.version("acme", "policy", "noise")
    pages.version("bolt", "policy", "substantive", flag="dpa")


def test_an_incremental_report_ends_with_the_files_of_a_full_one(
    tmp_path: Path, small: None
) -> None:
    pages = Pages(tmp_path / "db" / "cw.db")
    grow(pages)
    site_dir = tmp_path / "site"
    pages.report(site_dir, 0)
    # What changes a site: new pages, suppressed changes pushed out of the newest three (their
    # pages go), a flag resolved (its cards and pages), timelines growing into older pages.
    grow(pages)
    pages.version("bolt", "dpa", "noise")
    pages.store.resolve("bolt", "dpa", "set", "partial", "Narrowed.", "ed")
    copy = pages.copy(tmp_path / "copy.db")
    pages.report(site_dir, 1)
    fresh = tmp_path / "fresh"
    build.write_reports(
        Store.open(f"sqlite:///{copy}"), str(pages.catalog), fresh, ["html", "md", "json"],
        None, now=T0 + timedelta(days=101),
    )  # fmt: skip
    incremental, full = files(site_dir, range(2)), files(fresh, range(2))
    assert sorted(incremental) == sorted(full)
    assert [p for p in full if incremental[p] != full[p]] == []
    assert any(re.fullmatch(r"sources/acme/policy/\d+\.html", p) for p in full)  # older pages


def test_a_report_with_nothing_new_rewrites_only_the_index_and_the_digests(
    tmp_path: Path,
) -> None:
    pages = Pages(tmp_path / "db" / "cw.db")
    grow(pages)
    out = tmp_path / "site"
    pages.report(out, 0)
    before = inodes(out)
    pages.report(out, 1)
    after = inodes(out)
    rewritten = sorted(p for p in after if after[p] != before.get(p))
    assert rewritten == ["index.html", "report.json", "report.md"]


def test_a_new_change_rewrites_its_own_pages_only(tmp_path: Path) -> None:
    pages = Pages(tmp_path / "db" / "cw.db")
    grow(pages)
    out = tmp_path / "site"
    pages.report(out, 0)
    before = inodes(out)
    change = pages.version("bolt", "dpa", "minor")
    pages.report(out, 1)
    after = inodes(out)
    rewritten = {p for p in after if after[p] != before.get(p)}
    assert f"changes/{change}.html" in rewritten
    assert {"sources/bolt/dpa.html", "tools/bolt.html", "suppressed.html"} <= rewritten
    untouched = [p for p in before if p.startswith(("changes/", "sources/acme/", "tools/acme"))]
    assert untouched and not rewritten.intersection(untouched)
    assert "feeds/tool-acme.atom" not in rewritten


def test_change_pages_are_diffed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pages = Pages(tmp_path / "db" / "cw.db")
    grow(pages)
    diffed: list[str] = []
    real = site.diff_texts

    def counting(old: str, new: str) -> object:
        diffed.append(new)
        return real(old, new)

    monkeypatch.setattr(site, "diff_texts", counting)
    out = tmp_path / "site"
    pages.report(out, 0)
    assert len(diffed) == 6  # every change has a page (fewer than 500 suppressed)
    pages.report(out, 1)
    assert len(diffed) == 6  # nothing new: nothing diffed, for pages or report.json
    pages.version("acme", "terms", "noise")
    pages.report(out, 2)
    assert len(diffed) == 7


def test_a_report_cut_short_is_completed_by_the_next_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small: None
) -> None:
    pages = Pages(tmp_path / "db" / "cw.db")
    grow(pages)
    out = tmp_path / "site"
    pages.report(out, 0)
    grow(pages)
    writes = 0
    real = Folder.write

    def crash_after_some(self: Folder, rel: str, data: bytes) -> None:
        nonlocal writes
        writes += 1
        if writes > 6 and not rel.startswith(("raw/", "text/")):
            raise OSError("disk full")
        real(self, rel, data)

    monkeypatch.setattr(Folder, "write", crash_after_some)
    with pytest.raises(OSError, match="disk full"):
        pages.report(out, 1)
    monkeypatch.setattr(Folder, "write", real)
    copy = pages.copy(tmp_path / "copy.db")  # the crashed report marked nothing reported
    pages.report(out, 1)
    fresh = tmp_path / "fresh"
    build.write_reports(
        Store.open(f"sqlite:///{copy}"), str(pages.catalog), fresh, ["html", "md", "json"],
        None, now=T0 + timedelta(days=101),
    )  # fmt: skip
    incremental, full = files(out, range(2)), files(fresh, range(2))
    assert sorted(incremental) == sorted(full)
    assert [p for p in full if incremental[p] != full[p]] == []


def test_the_manifest_never_removes_a_file_outside_the_folder(tmp_path: Path) -> None:
    pages = Pages(tmp_path / "db" / "cw.db")
    out = tmp_path / "site"
    pages.report(out, 0)
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me", encoding="utf-8")
    manifest = out / ".citewatch" / "site.json"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace('"files":{', '"files":{"../precious.txt":"x",'), "utf-8")
    pages.report(out, 1)
    assert outside.read_text(encoding="utf-8") == "keep me"


def test_bounded_pages_link_to_what_they_leave_out(tmp_path: Path, small: None) -> None:
    pages = Pages(tmp_path / "db" / "cw.db")
    grow(pages)
    grow(pages)
    out = tmp_path / "site"
    pages.report(out, 0)
    index = (out / "index.html").read_text("utf-8")
    assert "The newest 1 of 2; the 1 older one(s)" in index
    assert 'href="tools/acme.html">Acme AI</a> · <a href="tools/bolt.html">' in index
    timeline = (out / "sources/acme/policy.html").read_text("utf-8")
    assert timeline.count('<th scope="row"><time') == 3  # 7 versions: 2 + 2 older, 3 here
    assert 'href="../../sources/acme/policy/2.html">versions 3–4</a>' in timeline
    older = (out / "sources/acme/policy/1.html").read_text("utf-8")
    assert "first version" in older and older.count('<th scope="row"><time') == 2
    tool = (out / "tools/acme.html").read_text("utf-8")
    assert "1 older resolved flag(s) are not shown" in tool
    assert "1 earlier one(s) are not shown" in tool
    assert (out / "feeds/all.atom").read_text("utf-8").count("<entry>") == 2
    for page in out.rglob("*.html"):
        for href in re.findall(r'href="([^"]+)"', page.read_text(encoding="utf-8")):
            if href.startswith(("https://", "#")):
                continue
            target = (page.parent / unquote(urlsplit(href).path)).resolve()
            assert target.is_file(), f"{page.relative_to(out)} links to missing {href}"


def test_a_page_deleted_from_the_folder_is_written_again(tmp_path: Path) -> None:
    pages = Pages(tmp_path / "db" / "cw.db")
    grow(pages)
    out = tmp_path / "site"
    pages.report(out, 0)
    kept = files(out, range(2))["changes/5.html"]
    before = inodes(out)
    (out / "changes" / "5.html").unlink()
    pages.report(out, 1)
    # Its manifest entry alone does not keep it away; the other pages stay as they were.
    assert files(out, range(2))["changes/5.html"] == kept
    after = inodes(out)
    others = [p for p in before if p.startswith("changes/") and p != "changes/5.html"]
    assert others and all(after[p] == before[p] for p in others)


@pytest.mark.parametrize("state", ["site.json", "diffs.json", "site.pending.json"])
def test_unreadable_bookkeeping_means_rendering_again(tmp_path: Path, state: str) -> None:
    pages = Pages(tmp_path / "db" / "cw.db")
    grow(pages)
    out = tmp_path / "site"
    pages.report(out, 0)
    site_files = {p: b for p, b in files(out, range(2)).items() if not p.startswith("report.")}
    (out / ".citewatch" / state).write_bytes(b"\x00{not json")
    pages.report(out, 1)  # the digests tell what is new: nothing
    again = {p: b for p, b in files(out, range(3)).items() if not p.startswith("report.")}
    assert again == site_files
    before = inodes(out)
    pages.report(out, 2)  # and the bookkeeping is whole again
    after = inodes(out)
    rewritten = sorted(p for p in after if after[p] != before.get(p))
    assert rewritten == ["index.html", "report.json", "report.md"]


def test_a_folder_emptied_by_a_removal_is_made_again_for_the_next_write(tmp_path: Path) -> None:
    folder = Folder(tmp_path / "site")
    folder.write("sources/a/b.html", b"one")
    folder.remove("sources/a/b.html")
    assert not (tmp_path / "site" / "sources").exists()
    folder.write("sources/a/c.html", b"two")
    assert (tmp_path / "site" / "sources" / "a" / "c.html").read_bytes() == b"two"
