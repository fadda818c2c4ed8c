"""`citewatch demo`: the whole pipeline, offline, on bundled pages served on 127.0.0.1."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from crawler.catalog.model import load_catalog
from crawler.ingest.crawl import RunReport, run_crawl
from crawler.ingest.review import resolve
from crawler.notify.deliver import preview_email
from crawler.notify.settings import NotifySettings
from crawler.report.build import write_reports
from storage import Store
from storage.values import EditorAction

# Crawl settings for a local demo: no politeness delay is owed to our own loopback server,
# and crawls refuse loopback addresses unless allowed (crawler/fetch/destinations.py).
DEMO_SETTINGS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "CITEWATCH_ALLOW_PRIVATE": "True",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class EditorReview:
    """A review the demo's editor makes before a step, as `citewatch review` would."""

    tool: str
    criterion: str
    action: EditorAction
    note: str
    by: str = "demo-editor"


@dataclass(frozen=True, slots=True)
class Step:
    """One demo crawl: which version each changing page serves, and what it shows."""

    version: str
    title: str
    review_first: EditorReview | None = None


STEPS = (
    Step("v1", "first crawl: every cited page is new"),
    Step("v2", "noise only: build ids, a nonce, a relative date, the cookie banner"),
    Step("v3", "the privacy policy changes its training clause; a help page gains a comma"),
    Step(
        "v4",
        "the privacy policy now lets the paid API train models unless you opt out;"
        " the compute page, which no-training does not cite, speaks about training",
        EditorReview(
            tool="mistral-api",
            criterion="no-training",
            action="confirm",
            note="Le Chat Team is a consumer plan; the paid API path is still excluded.",
        ),
    ),
)


def site_root() -> Traversable:
    """The bundled demo pages: site/<source-id>/<version>.html."""
    return resources.files("crawler.demo") / "site"


class DemoSite:
    """Serves each source's page at the current version, with ETag and 304 like a real site."""

    def __init__(self, root: Traversable) -> None:
        self.root = root
        self.version = "v1"

    def page(self, source_id: str) -> bytes | None:
        """The body of a source at the current version (older versions stay in force)."""
        folder = self.root / source_id
        if not folder.is_dir():
            return None
        for version in sorted((p.name for p in folder.iterdir()), reverse=True):
            if version.endswith(".html") and version[:-5] <= self.version:
                return (folder / version).read_bytes()
        return None

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Run the server in a thread; yields its base URL."""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0].strip("/")
                if path == "robots.txt":
                    return self._send(b"User-agent: *\nAllow: /\n", "text/plain")
                body = site.page(path)
                if body is None:
                    return self._send(b"not found", "text/plain", 404)
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return None
                return self._send(body, "text/html; charset=utf-8", etag=etag)

            def _send(
                self, body: bytes, ctype: str, status: int = 200, etag: str | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Last-Modified", formatdate(usegmt=True))
                if etag:
                    self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # the demo prints its own summary

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


def write_catalog(base_url: str, out: Path) -> Path:
    """The demo catalog with its URLs pointing at the local server."""
    template = resources.files("crawler.demo") / "catalog" / "tools" / "mistral-api.yaml"
    target = out / "catalog" / "tools" / "mistral-api.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(template.read_text("utf-8").replace("{base}", base_url), "utf-8")
    return target.parent.parent


def _summary(step: Step, report: RunReport) -> str:
    counts: dict[str, int] = {}
    for s in report.sources:
        key: str = s.outcome
        if s.outcome == "changed":
            key = f"changed ({_TIERS.get(s.tier or '', 'noise only')})"
        counts[key] = counts.get(key, 0) + 1
    flags = sorted({f"{s.source} → {f}" for s in report.sources for f in s.flags})
    gaps = sorted({f"{s.source} → {g}" for s in report.sources for g in s.suggestions})
    line = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    return (
        f"{step.version}: {step.title}\n    {line}"
        + (f"\n    flags: {'; '.join(flags)}" if flags else "")
        + (f"\n    may concern (citation gaps, not flags): {'; '.join(gaps)}" if gaps else "")
    )


_TIERS = {"substantive": "significant", "minor": "minor edit", "noise": "noise only"}


def _review(store: Store, r: EditorReview) -> str:
    done = resolve(store, r.tool, r.criterion, r.action, None, r.note, r.by)
    return (
        f"review: {r.by} ran `citewatch review {r.tool} {r.criterion} --{r.action}"
        f" --note ...`: flag closed at {done.at:%H:%M:%S}, evidence re-anchored to today's text"
    )


def run_demo(store_url: str | None, out: Path, echo: Callable[[str], None]) -> Path:
    """Crawl the demo's versions (an editor reviews in between), write the report; its index."""
    out.mkdir(parents=True, exist_ok=True)
    db = out / "citewatch.db"
    for leftover in (db, db.with_name("citewatch.db-wal"), db.with_name("citewatch.db-shm")):
        leftover.unlink(missing_ok=True)  # the demo's own database starts fresh every time
    url = store_url or f"sqlite:///{db}"
    store = Store.open(url)
    site = DemoSite(site_root())
    try:
        with site.serve() as base:
            catalog_dir = write_catalog(base, out)
            catalog = load_catalog(catalog_dir)
            for step in STEPS:
                if step.review_first is not None:
                    echo(_review(store, step.review_first))
                site.version = step.version
                echo(_summary(step, run_crawl(store, catalog, settings=DEMO_SETTINGS)))
        paths = write_reports(store, str(catalog_dir), out / "report", ["html", "md", "json"], None)
        # The email links to the site just written; nothing is sent (no network in the demo).
        links = NotifySettings(paths[0].parent.resolve().as_uri() + "/")
        email, _ = preview_email(store, catalog, links, out / "email.eml")
        password = _demo_account(store)
    finally:
        store.close()
    echo("")
    echo(f"Report (open in a browser): {paths[0].resolve()}")
    echo(f"Markdown report:            {paths[1].resolve()}")
    echo(f"Email it would send:        {email.resolve()}")
    echo(f"  its plain-text part:      {email.with_suffix('.txt').resolve()}")
    echo(f"Explore further:  citewatch --db {url} flags")
    echo(
        f"Resolve the re-opened flag: citewatch --db {url} review mistral-api no-training "
        "--set no --note '…'"
    )
    echo(f"Review in the web app: citewatch --db {url} serve {catalog_dir}")
    echo(
        f"  then open http://127.0.0.1:8080/ and sign in as {DEMO_ACCOUNT} / {password}"
        f" (made for this run; change it with `citewatch users reset {DEMO_ACCOUNT}`)"
    )
    return paths[0]


# The demo's editor account in the web app; its password is new at every run, printed once.
DEMO_ACCOUNT = "demo"


def _demo_account(store: Store) -> str:
    """Make (or reset) the demo's editor account with a fresh random password; return it."""
    import secrets

    from crawler.web.secrets import hash_password
    from storage.accounts import add_account, credentials, set_password

    password = secrets.token_urlsafe(12)
    if credentials(store, DEMO_ACCOUNT) is None:
        add_account(store, DEMO_ACCOUNT, "editor", hash_password(password))
    else:
        set_password(store, DEMO_ACCOUNT, hash_password(password))
    return password
