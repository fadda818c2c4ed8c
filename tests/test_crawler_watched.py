"""The reporting side of the three tiers, read from a real database: `flags`, `status`,
`report` and notifications for minor changes, suppressed changes, evidence never found and
citation gaps."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from crawler.catalog.model import load_catalog
from crawler.cli import cli
from crawler.notify.deliver import notify_pending, pending
from crawler.report import build as reporting
from crawler.report.parts import Names, suppressed_changes
from diffs.reasons import Reason
from diffs.sentences import SentenceChange
from storage import Store
from storage.outbox import Outbox
from storage.records import AnchorState, NewChange, NewSnapshot, NewSuggestion
from tests.test_crawler_notify import email_settings, fetch, free_port

QUOTE = "We never use your inputs to train our models"
TYPO = "We never use your imputs to tran our models"
CLOSEST = "We never use your inputs to train our models."


def write_catalog(folder: Path, quotes: tuple[str, ...] = (TYPO,)) -> Path:
    """One tool whose no-training rating cites the policy, with these evidence quotes."""
    (folder / "tools").mkdir(parents=True, exist_ok=True)
    evidence = "".join(f"\n      - source: policy\n        quote: {q}" for q in quotes)
    (folder / "tools" / "acme.yaml").write_text(
        "id: acme\nname: Acme AI\nsources:\n  - id: policy\n    url: https://acme.example/p\n"
        "  - id: help\n    url: https://acme.example/h\n"
        "ratings:\n  no-training:\n    rating: yes\n    sources: [policy]\n"
        f"    evidence:{evidence}\n",
        encoding="utf-8",
    )
    return folder


class History:
    """A store with one source, fed version after version (each with a stated tier)."""

    def __init__(self, store: Store, catalog: Path) -> None:
        self.store = store
        self.pk = store.source_state("acme", "policy", "https://acme.example/p").pk
        self.run = store.begin_run(str(catalog))
        self.text = "We never use your inputs to train our models.\nContact us."
        store.record_fetch(
            fetch(store, self.run, self.pk, "new", self.text.encode()),
            [(self.snap(self.text), None)],
        )

    def snap(self, text: str) -> NewSnapshot:
        return NewSnapshot(
            raw=text.encode(),
            text=text,
            extract_key="html/1",
            content_type="text/html",
            final_url=None,
        )

    def change(self, tier: str, reason: str, **extra: Any) -> int:
        """A new version whose change has this tier; returns the change id."""
        self.text = self.text + "\nx"
        change = NewChange(tier=tier, reason=reason, noise=(), added=1, removed=1)
        done = self.store.record_fetch(
            fetch(self.store, self.run, self.pk, "changed", self.text.encode()),
            [(self.snap(self.text), change)],
            **extra,
        )
        return done.change_ids[-1]

    def never_found(self, quote: str = TYPO) -> None:
        """Anchor a quote of the policy as never found, with the page's closest passage."""
        state = AnchorState(
            tool_id="acme",
            criterion_id="no-training",
            source_id="policy",
            quote=quote,
            wording=quote,
            prefix="",
            suffix="",
            status="never-found",
            score=91.5,
            passage=CLOSEST,
        )
        self.store.record_fetch(
            fetch(self.store, self.run, self.pk, "unchanged", self.text.encode()),
            anchors=[state],
        )


@pytest.fixture
def history(tmp_path: Path) -> History:
    """A store whose catalog has a mistyped quote, anchored as never found."""
    feed = History(Store.open(f"sqlite:///{tmp_path / 'cw.db'}"), write_catalog(tmp_path / "cat"))
    feed.never_found()
    return feed


def run(history: History, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--db", str(history.store.engine.url), *args], obj={})
    assert result.exit_code == 0, result.output
    return result.stdout


# --- flags and status --------------------------------------------------------------------------


def test_flags_shows_the_ratings_not_watched(history: History) -> None:
    text = run(history, "flags")
    assert "no open flags" in text
    assert "Not watched — evidence never found (1):" in text
    assert "acme / no-training — source policy" in text
    assert f'quote never found: "{TYPO}"' in text
    assert f'closest passage (92% similar): "{CLOSEST}"' in text


@pytest.mark.parametrize(
    ("args", "shape"),
    [
        (("flags", "--json"), "flags"),  # the list of flags, as before: no unwatched in it
        (("flags", "--json", "--status", "all"), "flags"),
        (("flags", "--json", "--unwatched"), "unwatched"),
    ],
)
def test_flags_json_keeps_its_shape(history: History, args: tuple[str, ...], shape: str) -> None:
    history.change(
        "substantive",
        "the wording changed",
        reasons=[
            Reason(
                tool="acme",
                criterion="no-training",
                source="policy",
                severity="topic",
                kind="topic",
                text="speaks about training",
                sentences=(SentenceChange(None, "We train."),),
                matched_terms=("train",),
            )
        ],
    )
    data = json.loads(run(history, *args))
    assert isinstance(data, list) and len(data) == 1
    if shape == "flags":
        assert set(data[0]) >= {"id", "tool", "criterion", "reasons"}
    else:
        assert data == [
            {"tool": "acme", "criterion": "no-training", "source": "policy", "quote": TYPO,
             "closest": CLOSEST, "score": 91.5}
        ]  # fmt: skip


def test_flags_unwatched_alone(history: History) -> None:
    text = run(history, "flags", "--unwatched")
    assert "no open flags" not in text and f'"{TYPO}"' in text


def test_status_shows_the_ratings_not_watched(history: History) -> None:
    text = run(history, "status")
    assert "1 evidence quote(s) never found" in text
    assert "Not watched — evidence never found (1):" in text and CLOSEST in text
    data = json.loads(run(history, "status", "--json"))
    assert [u["quote"] for u in data["unwatched"]] == [TYPO]
    assert data["unwatched"][0]["score"] == 91.5


def test_a_quote_fixed_in_the_catalog_is_no_longer_unwatched(history: History) -> None:
    write_catalog(Path(history.store.last_catalog() or ""), (QUOTE,))  # the editor fixed it
    assert "Not watched" not in run(history, "flags")
    assert json.loads(run(history, "status", "--json"))["unwatched"] == []
    assert json.loads(run(history, "flags", "--json", "--unwatched")) == []


# --- report ------------------------------------------------------------------------------------


def listed(page: str) -> list[int]:
    """The change ids a suppressed-changes page lists, in order."""
    return [int(i) for i in re.findall(r'href="changes/(\d+)\.html">change', page)]


def test_report_shows_everything_new(history: History, tmp_path: Path) -> None:
    catalog = history.store.last_catalog() or ""
    noise = history.change("noise", "only a relative date changed")
    minor = history.change("minor", "only punctuation or letter case changed (a minor edit)")
    gap = NewSuggestion(
        tool_id="acme", criterion_id="no-training", source_id="help", text="May concern …",
        sentences=((None, "We may train on help requests."),), matched_terms=("train",),
    )  # fmt: skip
    big = history.change("substantive", "the wording changed", suggestions=[gap])
    out = tmp_path / "report"
    reporting.write_reports(history.store, catalog, out, ["html", "md", "json"], None)
    data = json.loads((out / "report.json").read_text("utf-8"))
    digest = data["digest"]
    counts = digest["counts"]
    assert (counts["minor_changes"], counts["noise_suppressed"]) == (1, 1)
    assert (counts["evidence_never_found"], counts["citation_gaps"]) == (1, 1)
    assert counts["ratings_to_review"] == 0  # a citation gap is no flag
    (tool,) = digest["tools"]
    assert [c["id"] for c in tool["minor_changes"]] == [minor]
    assert tool["minor_changes"][0]["diff"] == f"changes/{minor}.html"
    assert tool["evidence_never_found"][0]["closest"] == CLOSEST
    assert (
        tool["citation_gaps"][0]["change"] == big and tool["citation_gaps"][0]["source"] == "help"
    )
    assert [c["tier"] for c in data["changes"]] == ["minor", "substantive"]
    md = (out / "report.md").read_text("utf-8")
    assert "### Evidence never found" in md and "### Minor changes" in md
    page = (out / "suppressed.html").read_text("utf-8")
    assert [int(i) for i in re.findall(r'href="changes/(\d+)\.html">change', page)] == [
        minor,
        noise,
    ]
    assert (out / "changes" / f"{noise}.html").is_file()  # a noise change has its page here
    tool_page = (out / "tools" / "acme.html").read_text("utf-8")
    assert "<strong>never found</strong> — not watched" in tool_page
    assert "May concern No training on customer data (this source is not cited by it)" in tool_page


def test_the_suppressed_page_is_bounded(
    history: History, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [history.change("noise" if i % 2 else "minor", f"quiet {i}") for i in range(5)]
    monkeypatch.setattr(reporting, "SUPPRESSED_LIMIT", 2)
    out = tmp_path / "report"
    reporting.write_reports(history.store, history.store.last_catalog(), out, ["html"], None)
    page = (out / "suppressed.html").read_text("utf-8")
    assert listed(page) == ids[:-3:-1]  # the two newest
    assert "The newest 2 of 5 suppressed changes" in page and "3 older one(s)" in page
    assert not (out / "changes" / f"{ids[1]}.html").exists()  # noise beyond the bound: no page
    assert (out / "changes" / f"{ids[0]}.html").exists()  # a minor change always has one
    records = history.store.changes()
    quiet = suppressed_changes(history.store, records, Names({}, {}), limit=0)
    assert (quiet.changes, quiet.total, quiet.more) == ((), 5, 5)


# --- notifications -----------------------------------------------------------------------------


def test_a_minor_change_alone_sends_no_message(history: History) -> None:
    catalog = load_catalog(history.store.last_catalog() or "")
    settings = email_settings(free_port())  # nobody listens: a queued message would fail
    history.change("minor", "only punctuation or letter case changed (a minor edit)")
    history.change("noise", "only a relative date changed")
    quiet = notify_pending(history.store, catalog, settings)
    assert quiet.queued is None and quiet.outcomes == ()
    todo = pending(history.store, catalog, settings).digest
    assert (todo.minor_count, todo.noise_count, todo.unwatched_count) == (1, 1, 1)
    assert not todo.raised  # nor does evidence never found, alone

    history.change("substantive", "the wording changed")
    told = notify_pending(history.store, catalog, settings)
    assert told.queued is not None
    (delivery,) = Outbox(history.store.sessions).deliveries()
    text = delivery.message.text
    assert "1 minor change(s) not alerted" in text  # the minor edit is counted, not listed
    assert "(a minor edit)" not in text
    assert "NOT WATCHED" in text and TYPO in text  # every message carries the unwatched
    assert pending(history.store, catalog, settings).digest.minor_count == 0  # covered once
