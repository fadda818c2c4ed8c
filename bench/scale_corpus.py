"""The synthetic databases of bench/scale.py, written through the store API.

* **history**: tools x sources legal pages of ~20-50 KB with a version every day: each day a
  build token changes (noise); on a source's schedule a sentence is reworded (substantive,
  about every 18 days) or a comma added (minor, about every 45 days). The first `flags`
  substantive changes each flag one criterion of the tool, and an editor confirms every open
  flag at the end of the day (the last day's stay open): about 5 % of the versions are real
  edits, as in the dev corpus (408 labelled real changes in 7,846 captures).
* **wide**: many sources with one version each.

Timestamps are those of the simulated days (the store writes "now"; they are moved back).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from diffs.reasons import Reason
from diffs.sentences import SentenceChange
from storage import Store, blobs
from storage.models import Base, Blob, Change, CrawlRun, Fetch, Flag, FlagReason, Review, Snapshot
from storage.records import FetchEntry, NewChange, NewSnapshot

START = datetime(2025, 1, 1, 6, 0, tzinfo=UTC)
CRITERIA = (
    "on-prem", "private-cloud", "eu-saas", "hybrid", "dpa", "no-training", "open-source",
    "server-location", "data-retention",
)  # fmt: skip
KINDS = ("privacy-policy", "dpa", "terms", "docs", "help")
SUBSTANTIVE_EVERY = 18  # days between a source's reworded sentences
MINOR_EVERY = 45  # days between a source's punctuation fixes
FLUSH_EVERY = 500  # pages written per transaction (~25 MB of compressed bodies)

_SECTIONS = (
    "Who we are", "What data we collect", "How we use your data", "Training of models",
    "Data retention", "Sub-processors", "International transfers", "Your rights",
    "Security of processing", "Cookies and similar technologies", "Children", "Contact",
)  # fmt: skip
_SUBJECTS = (
    "We", "The Provider", "Our sub-processors", "The Customer", "Each party", "Our support team",
    "The controller", "Authorised personnel",
)  # fmt: skip
_VERBS = (
    "process", "store", "retain", "transfer", "delete", "anonymise", "disclose", "encrypt",
    "review", "use",
)  # fmt: skip
_OBJECTS = (
    "personal data", "inputs and outputs", "account information", "usage logs",
    "billing records", "support tickets", "customer content", "telemetry",
)  # fmt: skip
_PURPOSES = (
    "to provide the services", "to comply with legal obligations", "to prevent abuse",
    "to improve the security of the platform", "to answer your requests",
    "for as long as your account is active", "within the European Economic Area",
    "under the standard contractual clauses", "unless you opt out in the settings",
    "for thirty days after termination",
)  # fmt: skip


def sentence(rng: random.Random) -> str:
    """One legal-sounding sentence."""
    return (
        f"{rng.choice(_SUBJECTS)} may {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} "
        f"{rng.choice(_PURPOSES)}."
    )


def legal_page(seed: int, title: str) -> list[str]:
    """A page's blocks: title, date line, sections of paragraphs (20-50 KB), footer token."""
    rng = random.Random(seed)
    target = rng.randint(20_000, 50_000)
    blocks = [f"# {title}", "Last updated: January 1, 2025"]
    size = 0
    number = 0
    while size < target:
        number += 1
        blocks.append(f"## {number}. {_SECTIONS[number % len(_SECTIONS)]}")
        for _ in range(rng.randint(2, 5)):
            paragraph = " ".join(sentence(rng) for _ in range(rng.randint(3, 7)))
            blocks.append(paragraph)
            size += len(paragraph)
    blocks.append("Build 00000000")
    return blocks


def edit_for(day: int, slot: int) -> str:
    """What the source in this slot of its tool does on this day: substantive, minor or noise."""
    if day and (day + 7 * slot) % SUBSTANTIVE_EVERY == 0:
        return "substantive"
    if day and (day + 5 * slot) % MINOR_EVERY == MINOR_EVERY // 2:
        return "minor"
    return "noise"


def next_version(blocks: list[str], day: int, tier: str, seed: int) -> tuple[list[str], str, int]:
    """The page one day later, the reason of the change and the block edited (-1: the build)."""
    rng = random.Random(seed * 1000 + day)
    new = list(blocks)
    new[-1] = f"Build {rng.getrandbits(32):08x}"
    if tier == "noise":
        return new, "Only volatile parts changed (build id).", -1
    body = [i for i, b in enumerate(new) if not b.startswith(("#", "Build", "Last updated"))]
    at = rng.choice(body)
    parts = new[at].split(". ")
    k = rng.randrange(len(parts))
    if tier == "minor":
        parts[k] = parts[k].replace(" ", ", ", 1)
        new[at] = ". ".join(parts)
        return new, "only punctuation or letter case changed (a minor edit)", at
    parts[k] = sentence(rng).rstrip(".")
    new[at] = ". ".join(parts)
    new[1] = f"Last updated: {(START + timedelta(days=day)):%B %-d, %Y}"
    return new, "Substantive wording changed.", at


def raw_html(blocks: list[str], day: int) -> bytes:
    """The page as a server would send it."""
    body = "\n".join(
        f"<h1>{b[2:]}</h1>" if b.startswith("# ") else
        f"<h2>{b[3:]}</h2>" if b.startswith("## ") else f"<p>{b}</p>"
        for b in blocks
    )  # fmt: skip
    head = f'<script nonce="n{day:04d}">window.build="{blocks[-1]}"</script>'
    return (
        f"<!doctype html><html><head>{head}</head><body><main>{body}</main></body></html>".encode()
    )


@dataclass(frozen=True, slots=True)
class Page:
    """One synthetic source: its tool, id, slot in the tool and seed."""

    tool: str
    source: str
    slot: int
    seed: int

    @property
    def url(self) -> str:
        """Where it would live."""
        return f"https://{self.tool}.example/legal/{self.source}"


def pages(tools: int, per_tool: int) -> list[Page]:
    """The sources of a catalog of `tools` tools with `per_tool` sources each."""
    return [
        Page(f"tool-{t:04d}", f"{KINDS[s % len(KINDS)]}-{s:02d}", s, t * 1000 + s)
        for t in range(tools)
        for s in range(per_tool)
    ]


def write_catalog(folder: Path, tools: int, per_tool: int) -> Path:
    """A catalog of the pages: every tool rates each criterion on all its sources."""
    (folder / "tools").mkdir(parents=True, exist_ok=True)
    by_tool: dict[str, list[Page]] = {}
    for page in pages(tools, per_tool):
        by_tool.setdefault(page.tool, []).append(page)
    for tool, items in by_tool.items():
        lines = [f"id: {tool}", f"name: Tool {tool[5:]}", "sources:"]
        for p in items:
            kind = KINDS[p.slot % len(KINDS)]
            lines += [f"  - id: {p.source}", f"    url: {p.url}", f"    kind: {kind}"]
        lines.append("ratings:")
        ids = ", ".join(p.source for p in items)
        for criterion in CRITERIA:
            lines += [f"  {criterion}:", "    rating: partial", f"    sources: [{ids}]"]
        (folder / "tools" / f"{tool}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


class Writer:
    """Writes whole days of fetches in bulk into the store's tables, the rows record_fetch
    would write (record_fetch costs ~15 ms a version here: 9 minutes for a year; one
    transaction a day costs ~0.1 s); counts the flags it opened."""

    def __init__(self, store: Store, catalog: Path, items: list[Page], flag_budget: int) -> None:
        self.store, self.catalog, self.pages = store, catalog, items
        self.flag_budget = flag_budget
        self.flags = 0
        self.texts: dict[Page, list[str]] = {}
        self.latest: dict[Page, int] = {}  # the newest snapshot id of each page
        self.rows: dict[type[Base], list[dict[str, object]]] = {}
        self.blobs: dict[str, dict[str, object]] = {}
        with store.sessions() as s:
            self.ids = {
                m: s.scalar(sa.text(f"SELECT max(id) FROM {m.__tablename__}")) or 0 for m in _TABLES
            }

    def day(self, day: int, review: bool = True) -> None:
        """Fetch every page once on this day (day 0: first versions); with `review`, an editor
        confirms the day's flags six hours later."""
        states = self.store.source_states([(p.tool, p.source, p.url) for p in self.pages])
        taken = START + timedelta(days=day)
        run = self._add(CrawlRun, started_at=taken, finished_at=taken, catalog=str(self.catalog),
                        status="done", pid=None, host=None)  # fmt: skip
        for n, (page, state) in enumerate(zip(self.pages, states, strict=True), 1):
            self._fetch(run, state.pk, page, day)
            if n % FLUSH_EVERY == 0:
                self.flush()  # bounded memory for wide catalogs
        if review:
            for flag in self.rows.get(Flag, []):
                at = flag["opened_at"] + timedelta(hours=6)  # type: ignore[operator]
                flag.update(status="resolved", resolved_at=at)
                self._add(Review, flag_id=flag["id"], tool_id=flag["tool_id"],
                          criterion_id=flag["criterion_id"], action="confirm", rating=None,
                          note="Still holds.", by="editor", at=at, reported_at=None)  # fmt: skip
        self.flush()

    def flush(self) -> None:
        """Insert the rows gathered so far, in one transaction."""
        with self.store.sessions.begin() as s:
            if self.blobs:
                s.execute(sa.insert(Blob).prefix_with("OR IGNORE"), list(self.blobs.values()))
            for model in _TABLES:
                if self.rows.get(model):
                    s.execute(sa.insert(model), self.rows[model])
        self.rows.clear()
        self.blobs.clear()

    def _add(self, model: type[Base], **row: object) -> int:
        self.ids[model] += 1
        row["id"] = self.ids[model]
        self.rows.setdefault(model, []).append(row)
        return self.ids[model]

    def _blob(self, data: bytes) -> str:
        sha = blobs.sha256(data)
        codec, packed = blobs.compress(data)
        self.blobs[sha] = {"sha256": sha, "codec": codec, "size": len(data), "data": packed}
        return sha

    def _fetch(self, run: int, pk: int, page: Page, day: int) -> None:
        at = START + timedelta(days=day, minutes=page.slot)
        old = self.texts.get(page)
        tier, why, edited = "", "", -1
        if old is None:
            blocks = legal_page(page.seed, f"{page.source} of {page.tool}")
        else:
            tier = edit_for(day, page.slot)
            blocks, why, edited = next_version(old, day, tier, page.seed)
        self.texts[page] = blocks
        raw = raw_html(blocks, day)
        raw_sha = self._blob(raw)
        fetch = self._add(
            Fetch, run_id=run, source_pk=pk, requested_url=page.url, final_url=None,
            redirects=[], status=200, outcome="changed" if old else "new", error=None,
            error_kind=None, content_type="text/html; charset=utf-8", raw_sha=raw_sha,
            started_at=at, elapsed_ms=120, failure_class=None, retry_after=None,
        )  # fmt: skip
        snapshot = self._add(
            Snapshot, source_pk=pk, fetch_id=fetch, taken_at=at, raw_sha=raw_sha,
            text_sha=self._blob("\n".join(blocks).encode()), extract_key="html/1",
            content_type="text/html", final_url=None, technical=False,
        )  # fmt: skip
        previous, self.latest[page] = self.latest.get(page), snapshot
        if old is None or previous is None:
            return
        change = self._add(
            Change, source_pk=pk, old_snapshot_id=previous, new_snapshot_id=snapshot,
            detected_at=at, significant=tier == "substantive", tier=tier, technical=False,
            reason=why, noise=[], added=1, removed=1, reported_at=None,
        )  # fmt: skip
        if tier == "substantive" and self.flags < self.flag_budget:
            self.flags += 1
            criterion = CRITERIA[(page.slot + day) % len(CRITERIA)]
            self._flag(page, criterion, change, at, old[edited], blocks[edited])

    def _flag(
        self, page: Page, criterion: str, change: int, at: datetime, old: str, new: str
    ) -> None:
        flag = self._add(
            Flag, tool_id=page.tool, criterion_id=criterion, status="open", severity="topic",
            opened_at=at, resolved_at=None,
        )  # fmt: skip
        self._add(
            FlagReason, flag_id=flag, change_id=change, source_id=page.source, kind="topic",
            text=f"A changed passage of {page.source} speaks about {criterion}.",
            sentences=[{"old": old[:300], "new": new[:300]}], matched_terms=["data"],
            old_quote=None, new_quote=None, created_at=at, reported_at=None,
            failure_class=None, broken_since=None,
        )  # fmt: skip


# In foreign-key order.
_TABLES: tuple[type[Base], ...] = (CrawlRun, Fetch, Snapshot, Change, Flag, FlagReason, Review)


def build_history(
    url: str, catalog: Path, tools: int, per_tool: int, days: int, flags: int
) -> Writer:
    """A database of `days` daily versions of every page, flags included (the last day's
    flags stay open)."""
    store = Store.open(url)
    write_catalog(catalog, tools, per_tool)
    writer = Writer(store, catalog, pages(tools, per_tool), flags)
    for day in range(days):
        writer.day(day, review=day < days - 1)
    return writer


def build_wide(url: str, catalog: Path, tools: int, per_tool: int) -> Writer:
    """A database of many pages with one version each."""
    store = Store.open(url)
    write_catalog(catalog, tools, per_tool)
    writer = Writer(store, catalog, pages(tools, per_tool), 0)
    writer.day(0)
    return writer


def record_day(store: Store, catalog: Path, items: list[Page], day: int) -> int:
    """One more day of every page through the store's own write path (record_fetch, a
    transaction a page, flags opened as a crawl would); returns the changes recorded."""
    run = store.begin_run(str(catalog))
    states = store.source_states([(p.tool, p.source, p.url) for p in items])
    changes = 0
    for page, state in zip(items, states, strict=True):
        latest = store.latest_snapshot(state.pk)
        assert latest is not None, "record_day continues a history"
        old = latest.text.split("\n")
        tier = edit_for(day, page.slot)
        blocks, why, at = next_version(old, day, tier, page.seed)
        raw = raw_html(blocks, day)
        reasons = []
        if tier == "substantive":
            criterion = CRITERIA[(page.slot + day) % len(CRITERIA)]
            reasons.append(_reason(page, criterion, old[at], blocks[at]))
        entry = FetchEntry(
            run_id=run, source_pk=state.pk, requested_url=page.url, final_url=None,
            redirects=(), status=200, outcome="changed", error=None, error_kind=None,
            content_type="text/html; charset=utf-8", raw=raw,
            started_at=START + timedelta(days=day, minutes=page.slot), elapsed_ms=120,
        )  # fmt: skip
        snapshot = NewSnapshot(raw=raw, text="\n".join(blocks), extract_key="html/1",
                               content_type="text/html", final_url=None)  # fmt: skip
        change = NewChange(tier=tier, reason=why, noise=(), added=1, removed=1)
        store.record_fetch(entry, [(snapshot, change)], reasons)
        changes += 1
    store.end_run(run, "done")
    return changes


def _reason(page: Page, criterion: str, old: str, new: str) -> Reason:
    return Reason(
        tool=page.tool,
        criterion=criterion,
        source=page.source,
        severity="topic",
        kind="topic",
        text=f"A changed passage of {page.source} speaks about {criterion}.",
        sentences=(SentenceChange(old[:300], new[:300]),),
        matched_terms=("data",),
    )
