"""The web app (citewatch serve) through Starlette's TestClient over a real SQLite store:
sign-in and its throttle, sessions, CSRF, roles, the queue's filters, the review actions,
the site's pages live, and the JSON API with tokens. The browser tests
(tests/test_web_browser.py) build their database with `build` here."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from crawler.cli.commands import cli
from crawler.report.shapes import flag_json
from crawler.web import WebSettings, create_app
from crawler.web.auth import MAX_LOGIN_FAILURES
from crawler.web.queue import QueueFilter, QueueItem, queue
from crawler.web.secrets import hash_password
from diffs.reasons import Reason, Severity
from diffs.sentences import SentenceChange
from reports.context import ReportFlag
from storage import Store
from storage.accounts import accounts, actions, add_account
from storage.records import FetchEntry, NewChange, NewSnapshot

PASSWORD = "correct horse battery"
# Text a hostile page could put in a changed sentence: it must stay text everywhere.
HOSTILE = '<script>document.title="pwned"</script><img src=x onerror="document.title=1">'

CATALOG = """\
id: acme
name: Acme AI
sources:
  - id: policy
    url: http://127.0.0.1/policy
    kind: privacy-policy
  - id: dpa
    url: http://127.0.0.1/dpa
    kind: dpa
ratings:
  no-training:
    rating: partial
    summary: API data is not used for training.
    sources: [policy]
  dpa:
    rating: yes
    summary: A DPA is offered.
    sources: [dpa]
"""


@cache
def _hashed() -> str:
    """PASSWORD's hash, made once (Argon2id takes ~0.5 s here, on purpose)."""
    return hash_password(PASSWORD)


@dataclass(frozen=True, slots=True)
class Built:
    """A database with two open flags and three accounts, and its catalog folder."""

    url: str
    catalog: Path


def _entry(store: Store, pk: int, outcome: str) -> FetchEntry:
    return FetchEntry(
        run_id=store.begin_run("catalog"),
        source_pk=pk,
        requested_url="http://127.0.0.1/p",
        final_url="http://127.0.0.1/p",
        redirects=(),
        status=200,
        outcome=outcome,
        error=None,
        error_kind=None,
        content_type="text/html",
        raw=b"<p>x</p>",
        started_at=datetime.now(UTC),
        elapsed_ms=3,
        etag=None,
        last_modified=None,
    )


def _snap(text: str) -> NewSnapshot:
    raw = f"<p>{text}</p>".encode()
    return NewSnapshot(
        raw=raw,
        text=text,
        extract_key="html/1#x",
        content_type="text/html",
        final_url=None,
        technical=False,
    )


def _source(store: Store, source: str, texts: list[str], reason: Reason) -> None:
    pk = store.source_state("acme", source, f"http://127.0.0.1/{source}").pk
    store.record_fetch(_entry(store, pk, "new"), [(_snap(texts[0]), None)])
    change = NewChange(tier="substantive", reason="words changed", noise=(), added=1, removed=1)
    for text in texts[1:]:
        store.record_fetch(_entry(store, pk, "changed"), [(_snap(text), change)], [reason])


def _reason(criterion: str, source: str, severity: Severity, old: str, new: str) -> Reason:
    return Reason(
        tool="acme",
        criterion=criterion,
        source=source,
        severity=severity,
        kind="topic" if severity == "topic" else "evidence-altered",
        text=f"the {source} changed a sentence about {criterion}",
        sentences=(SentenceChange(old, new),),
        matched_terms=("train",),
    )


def build(root: Path) -> Built:
    """Two open flags (no-training: evidence, on the policy; dpa: topic, with hostile text on
    the DPA) and the accounts ed (editor), vi (viewer), ad (admin)."""
    catalog = root / "catalog"
    (catalog / "tools").mkdir(parents=True)
    (catalog / "tools" / "acme.yaml").write_text(CATALOG)
    url = f"sqlite:///{root / 'web.db'}"
    store = Store.open(url)
    old, new = "We never train on your data.", "We train on your data unless you opt out."
    _source(store, "policy", [old, new], _reason("no-training", "policy", "evidence", old, new))
    hostile = f"The DPA covers processors. {HOSTILE}"
    _source(
        store,
        "dpa",
        ["The DPA covers processors.", hostile, hostile + " Sub-processors are listed."],
        _reason("dpa", "dpa", "topic", "The DPA covers processors.", hostile),
    )
    for name, role in (("ed", "editor"), ("vi", "viewer"), ("ad", "admin")):
        add_account(store, name, role, _hashed())
    store.close()
    return Built(url, catalog)


@pytest.fixture
def built(tmp_path: Path) -> Built:
    """A fresh database for the test."""
    return build(tmp_path)


@pytest.fixture
def store(built: Built) -> Store:
    """The test database's store."""
    opened = Store.open(built.url)
    yield opened  # type: ignore[misc]
    opened.close()


@pytest.fixture
def client(built: Built, store: Store) -> TestClient:
    """The app over the test database, signed out."""
    return TestClient(create_app(WebSettings(store, built.catalog)))


def _token(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def login(client: TestClient, name: str, password: str = PASSWORD) -> int:
    """Sign in through the form; the response status (303 when signed in)."""
    token = _token(client.get("/login").text)
    form = {"name": name, "password": password, "csrf": token, "next": "/"}
    return client.post("/login", data=form, follow_redirects=False).status_code


def _flag_id(store: Store, criterion: str) -> int:
    return next(f.id for f in store.flags() if f.criterion_id == criterion)


def test_signed_out_is_sent_to_sign_in_and_api_needs_a_token(client: TestClient) -> None:
    for path in ("/", "/tools/acme.html", "/resolved", "/flags/1"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert client.get("/api/flags").status_code == 401
    assert client.post("/api/review", content=b"{}").status_code == 401
    # The page names itself, then the app (it read "Sign in · Sign in").
    assert "<title>Sign in · citewatch</title>" in client.get("/login").text


def test_sign_in_sets_a_hardened_session_cookie(client: TestClient) -> None:
    token = _token(client.get("/login").text)
    form = {"name": "ed", "password": PASSWORD, "csrf": token, "next": "/"}
    r = client.post("/login", data=form, follow_redirects=False)
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and "session" in v)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    page = client.get("/")
    assert page.status_code == 200 and "Review queue" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_wrong_password_and_missing_login_csrf_are_refused(client: TestClient) -> None:
    assert login(client, "ed", "not the password") == 401
    assert login(client, "nobody") == 401
    form = {"name": "ed", "password": PASSWORD, "csrf": "forged", "next": "/"}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 303  # still signed out


def test_sign_in_is_throttled_after_repeated_failures(client: TestClient) -> None:
    for _ in range(MAX_LOGIN_FAILURES):
        assert login(client, "ed", "wrong password!") == 401
    # Now even the right password is refused for the window, without being checked.
    token = _token(client.get("/login").text)
    form = {"name": "ed", "password": PASSWORD, "csrf": token, "next": "/"}
    refused = client.post("/login", data=form, follow_redirects=False)
    assert refused.status_code == 429 and "Too many failed sign-ins" in refused.text
    # The throttle counts per address too: another account name from here is refused as well.
    assert login(client, "vi") == 429


def test_editor_confirms_a_flag_with_a_note(client: TestClient, store: Store) -> None:
    assert login(client, "ed") == 303
    flag = _flag_id(store, "no-training")
    page = client.get("/")
    assert f'action="/flags/{flag}/review"' in page.text
    form = {"csrf": _token(page.text), "action": "confirm", "note": "still true", "next": "/"}
    r = client.post(f"/flags/{flag}/review", data=form, follow_redirects=False)
    assert r.status_code == 303 and "done=" in r.headers["location"]
    assert [f.criterion_id for f in store.flags("open")] == ["dpa"]
    (review,) = store.reviews()
    assert (review.action, review.by, review.note) == ("confirm", "ed", "still true")
    assert f'href="/flags/{flag}"' not in client.get("/").text  # left the queue
    resolved = client.get("/resolved").text
    assert f'href="/flags/{flag}"' in resolved and "<strong>ed</strong>" in resolved
    assert next((a.account, a.action) for a in actions(store, 5)) == ("ed", "confirm")


def test_a_form_without_the_csrf_token_is_refused(client: TestClient, store: Store) -> None:
    assert login(client, "ed") == 303
    flag = _flag_id(store, "no-training")
    for token in ({}, {"csrf": "forged"}):
        form = {"action": "confirm", "note": "n", **token}
        assert client.post(f"/flags/{flag}/review", data=form).status_code == 403
    assert len(store.flags("open")) == 2


def test_a_viewer_may_read_but_not_review(client: TestClient, store: Store) -> None:
    assert login(client, "vi") == 303
    page = client.get("/")
    assert page.status_code == 200 and "/review" not in page.text
    assert "may read, not review" in page.text
    flag = _flag_id(store, "no-training")
    form = {"csrf": _token(page.text), "action": "confirm", "note": "n"}
    r = client.post(f"/flags/{flag}/review", data=form)
    assert r.status_code == 403 and "needs the editor role" in r.text
    assert len(store.flags("open")) == 2 and store.reviews() == []


def test_a_blank_note_or_a_set_without_rating_is_refused(client: TestClient, store: Store) -> None:
    assert login(client, "ed") == 303
    flag = _flag_id(store, "no-training")
    csrf = _token(client.get("/").text)
    for fields, said in (
        ({"action": "confirm", "note": "   "}, "a note is required"),
        ({"action": "set", "note": "n", "rating": ""}, "set needs the new rating"),
        ({"action": "set", "note": "n", "rating": "maybe"}, "is not a rating"),
    ):
        r = client.post(f"/flags/{flag}/review", data={"csrf": csrf, **fields})
        assert r.status_code == 400 and said in r.text
    assert len(store.flags("open")) == 2


def test_setting_a_rating_shows_on_the_tool_page(
    client: TestClient, store: Store, built: Built
) -> None:
    assert login(client, "ed") == 303
    flag = _flag_id(store, "no-training")
    csrf = _token(client.get("/").text)
    form = {"csrf": csrf, "action": "set", "rating": "no", "note": "may train now"}
    assert client.post(f"/flags/{flag}/review", data=form).status_code == 200
    assert store.current_ratings()[("acme", "no-training")] == "no"
    tool = client.get("/tools/acme.html").text
    assert '<td data-label="Rating">❌ no</td>' in tool
    # Written back to the catalog (the source of truth), as `citewatch review --set` does.
    assert "rating: no" in (built.catalog / "tools" / "acme.yaml").read_text()


def test_queue_filters_and_search(client: TestClient) -> None:
    assert login(client, "ed") == 303

    def shown(query: str) -> list[str]:
        return re.findall(
            r'<h2 id="q-\d+"><a href="/flags/\d+">Acme AI: ([^<]+)</a>',
            client.get(f"/?{query}").text,
        )

    assert (
        shown("") == ["No training on customer data", "DPA / AVV available"] or len(shown("")) == 2
    )
    assert len(shown("severity=topic")) == 1 and len(shown("criterion=no-training")) == 1
    assert shown("source=dpa") == shown("severity=topic")
    assert len(shown("q=UNLESS+you+opt")) == 1 and shown("q=nothing+like+this") == []
    assert len(shown("tool=acme&age=1")) == 2 and shown("age=old") == []


def test_hostile_text_stays_text(client: TestClient, store: Store) -> None:
    assert login(client, "ed") == 303
    pages = [client.get(p).text for p in ("/", f"/flags/{_flag_id(store, 'dpa')}")]
    pages.append(client.get("/index.html").text)
    for html in pages:
        assert "<script>" not in html and "<img src=x" not in html
        assert "&lt;script&gt;" in html


def test_a_catalog_edit_against_a_review_is_a_conflict_in_the_app(
    client: TestClient, store: Store, built: Built
) -> None:
    assert login(client, "ed") == 303
    flag = _flag_id(store, "no-training")
    form = {"csrf": _token(client.get("/").text), "action": "set", "rating": "no", "note": "n"}
    assert client.post(f"/flags/{flag}/review", data=form).status_code == 200
    assert "rating conflict" not in client.get("/index.html").text
    tool = built.catalog / "tools" / "acme.yaml"  # an editor puts the old rating back by hand
    tool.write_text(tool.read_text().replace("rating: no", "rating: partial"))
    overview = client.get("/index.html").text
    assert "1 rating conflict(s)" in overview and 'id="conflicts"' in overview


def test_the_site_pages_are_served_live(client: TestClient, store: Store) -> None:
    assert login(client, "vi") == 303
    change = store.changes(None)[0]
    for path in (
        "/index.html",
        "/suppressed.html",
        "/tools/acme.html",
        f"/changes/{change.id}.html",
    ):
        r = client.get(path)
        assert r.status_code == 200 and "Sign out" in r.text, path
    timeline = client.get("/sources/acme/dpa.html").text
    raw = re.search(r'href="\.\./\.\./(raw/[^"]+)"', timeline)
    assert raw is not None
    body = client.get("/" + raw.group(1))
    assert body.headers["content-type"].startswith("text/plain") and b"<p>" in body.content
    assert client.get("/tools/nothing.html").status_code == 404


def test_compare_any_two_versions(client: TestClient) -> None:
    assert login(client, "vi") == 303
    page = client.get("/compare?tool=acme&source=dpa").text
    ids = re.findall(r'<option value="(\d+)"', page)
    first, last = min(ids, key=int), max(ids, key=int)
    both = client.get(f"/compare?tool=acme&source=dpa&a={first}&b={last}").text
    assert "<ins>" in both and "Sub-processors are listed." in both


def test_admin_sees_the_account_log_others_do_not(client: TestClient) -> None:
    assert login(client, "ed") == 303
    assert client.get("/log").status_code == 403
    client.cookies.clear()
    assert login(client, "ad") == 303
    log = client.get("/log")
    assert log.status_code == 200 and "sign-in" in log.text


@dataclass(frozen=True, slots=True)
class Ran:
    """A command's exit code and output."""

    returncode: int
    stdout: str
    stderr: str


def _cli(url: str, *args: str, stdin: str = "") -> Ran:
    """`citewatch --db URL ARGS…` in this process (click's runner: no interpreter start-up)."""
    result = CliRunner().invoke(cli, ["--db", url, *args], input=stdin, obj={})
    return Ran(result.exit_code, result.stdout, result.stderr)


def test_users_command_and_api_tokens(built: Built, store: Store, client: TestClient) -> None:
    added = _cli(built.url, "users", "add", "eve", "--role", "editor", "--password-stdin",
                 stdin=PASSWORD + "\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    short = _cli(built.url, "users", "add", "bob", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "too short" in short.stderr
    assert "eve\teditor" in _cli(built.url, "users", "list").stdout
    token = _cli(built.url, "users", "token", "eve", "--label", "ci").stdout.strip()
    assert token.startswith("cwt_")
    auth = {"Authorization": f"Bearer {token}"}
    flags = client.get("/api/flags", headers=auth).json()
    assert flags == [flag_json(f) for f in store.flags("open")]
    change = store.changes(None)[0].id
    diff = client.get(f"/api/changes/{change}/diff", headers=auth).json()
    assert diff["change"]["id"] == change and diff["hunks"][0]["rows"]
    body = {"tool": "acme", "criterion": "dpa", "action": "dismiss", "note": "boilerplate"}
    done = client.post("/api/review", headers=auth, content=json.dumps(body)).json()
    assert done["review"]["by"] == "eve" and done["review"]["action"] == "dismiss"
    assert client.post("/api/review", headers=auth, content=json.dumps(body)).status_code == 404
    assert _cli(built.url, "users", "disable", "eve").returncode == 0
    assert client.get("/api/flags", headers=auth).status_code == 401
    assert [a.disabled for a in accounts(store) if a.name == "eve"] == [True]


def test_a_viewer_token_may_read_not_review(built: Built, client: TestClient) -> None:
    token = _cli(built.url, "users", "token", "vi").stdout.strip()
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/changes?all=1", headers=auth).status_code == 200
    body = {"tool": "acme", "criterion": "dpa", "action": "confirm", "note": "n"}
    assert client.post("/api/review", headers=auth, content=json.dumps(body)).status_code == 403
    assert (
        client.get("/api/flags", headers={"Authorization": "Bearer cwt_wrong"}).status_code == 401
    )


def _flag(severity: Severity, opened: datetime) -> ReportFlag:
    return ReportFlag(
        tool_id="t", tool_name="T", criterion_id=severity, criterion_label=severity,
        rating="yes", status="open", severity=severity, opened_at=opened, reasons=(),
        resolutions=(),
    )  # fmt: skip


def test_queue_puts_the_most_severe_first_then_the_oldest() -> None:
    now = datetime.now(UTC)
    later = now.replace(microsecond=0)
    items = [
        QueueItem(1, _flag("topic", later)),
        QueueItem(2, _flag("evidence", now)),
        QueueItem(3, _flag("broken", later)),
    ]
    assert [i.flag_id for i in queue(items, QueueFilter(), now)] == [2, 3, 1]


def test_a_rendered_versions_screenshot_is_served_as_an_image(
    client: TestClient, store: Store
) -> None:
    jpeg = b"\xff\xd8\xff\xe0 not really a jpeg \xff\xd9"
    pk = store.source_state("acme", "policy", "http://127.0.0.1/policy").pk
    change = NewChange(tier="substantive", reason="words changed", noise=(), added=1, removed=1)
    for n in (1, 2):  # two rendered versions: the change page shows both screenshots
        shot = NewSnapshot(
            raw=f"<p>rendered {n}</p>".encode(),
            text=f"We train on your data unless you opt out. Rendered {n}.",
            extract_key="html/1#x",
            content_type="text/html",
            final_url=None,
            screenshot=jpeg + bytes([n]),
            screenshot_size=(390, 844),
        )
        store.record_fetch(_entry(store, pk, "changed"), [(shot, change)])
    assert login(client, "vi") == 303
    timeline = client.get("/sources/acme/policy.html").text
    newest = max(int(n) for n in re.findall(r'href="\.\./\.\./changes/(\d+)\.html"', timeline))
    page = client.get(f"/changes/{newest}.html").text
    found = re.search(r'src="\.\./(shots/[0-9a-f]+\.jpg)"', page)
    assert found is not None, "the change page shows no screenshot"
    image = client.get("/" + found.group(1))
    assert image.headers["content-type"] == "image/jpeg" and image.content.startswith(jpeg)
