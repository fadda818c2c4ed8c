"""Notifications end to end: a real local SMTP server (aiosmtpd) and a local webhook receiver
(apprise json://) get the digest; a failed delivery is kept, retried, and never sent twice."""

from __future__ import annotations

import json
import socket
import threading
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from crawler.catalog.model import Catalog, load_catalog
from crawler.cli import cli
from crawler.notify.deliver import notify_pending, pending
from crawler.notify.settings import (
    EmailSettings,
    NotifySettings,
    NotifySettingsError,
    load_settings,
)
from diffs.reasons import Reason
from diffs.sentences import SentenceChange
from storage import Store
from storage.outbox import Channel, Message, Outbox
from storage.records import FetchEntry, NewChange, NewSnapshot
from tests.conftest import LocalServer
from tests.test_crawler_cli import FAST, V1, V3_TRAINING, html
from tests.test_crawler_cli import write_catalog as cli_catalog

OLD = "We never use your inputs to train our models.\nContact us."
HOSTILE_NEW = (
    "We may use your inputs to train our models <script>alert(1)</script> "
    "<img src=x onerror=alert(2)> \u202egnp.exe\x1b[31m.\nContact us."
)
OLD_SENTENCE = "We never use your inputs to train our models."
NEW_SENTENCE = HOSTILE_NEW.splitlines()[0]


def free_port() -> int:
    """A port nothing listens on (yet)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


class SmtpServer:
    """A real SMTP server on 127.0.0.1 that can be started late (to test retries)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """An SMTP server on a free port, not started."""
    server = SmtpServer()
    yield server
    server.stop()


class Webhook:
    """An HTTP server on 127.0.0.1 keeping every POSTed JSON body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                hook.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """A local webhook receiver."""
    hook = Webhook()
    yield hook
    hook.close()


def write_catalog(folder: Path) -> Path:
    """One tool whose no-training rating cites the policy."""
    (folder / "tools").mkdir(parents=True)
    (folder / "tools" / "acme.yaml").write_text(
        "id: acme\nname: Acme AI\nsources:\n  - id: policy\n    url: https://acme.example/p\n"
        "ratings:\n  no-training:\n    rating: yes\n    sources: [policy]\n",
        encoding="utf-8",
    )
    return folder


def fetch(store: Store, run: int, pk: int, outcome: str, raw: bytes | None) -> FetchEntry:
    """A fetch log entry."""
    return FetchEntry(
        run_id=run,
        source_pk=pk,
        requested_url="https://acme.example/p",
        final_url=None,
        redirects=(),
        status=200 if raw else None,
        outcome=outcome,
        error=None if raw else "connection refused",
        error_kind=None if raw else "connection",
        content_type="text/html",
        raw=raw,
        started_at=datetime.now(UTC),
        elapsed_ms=3,
    )


def record_change(store: Store, catalog_dir: Path, old: str, new: str, first: bool) -> None:
    """Store a significant change of the policy that flags no-training (after a first version)."""
    pk = store.source_state("acme", "policy", "https://acme.example/p").pk
    run = store.begin_run(str(catalog_dir))

    def snap(text: str) -> NewSnapshot:
        return NewSnapshot(
            raw=text.encode(),
            text=text,
            extract_key="html/1",
            content_type="text/html",
            final_url=None,
        )

    if first:
        store.record_fetch(fetch(store, run, pk, "new", old.encode()), [(snap(old), None)])
    reason = Reason(
        tool="acme",
        criterion="no-training",
        source="policy",
        severity="topic",
        kind="topic",
        text="Changed text speaks about No training on customer data: train.",
        sentences=(SentenceChange(OLD_SENTENCE, new.splitlines()[0]),),
        matched_terms=("train",),
    )
    change = NewChange(
        tier="substantive", reason="Substantive wording changed.", noise=(), added=1, removed=1
    )
    store.record_fetch(
        fetch(store, run, pk, "changed", new.encode()), [(snap(new), change)], [reason]
    )


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Store, Catalog]:
    """A store with one hostile significant change that flags no-training."""
    store = Store.open(f"sqlite:///{tmp_path / 'cw.db'}")
    catalog_dir = write_catalog(tmp_path / "catalog")
    record_change(store, catalog_dir, OLD, HOSTILE_NEW, first=True)
    return store, load_catalog(catalog_dir)


def email_settings(port: int, site: str = "https://reviews.example.org/cw/") -> NotifySettings:
    """Plain SMTP on localhost (no TLS, no login: aiosmtpd's defaults)."""
    email = EmailSettings(
        "127.0.0.1", port, False, False, None, None, "citewatch <cw@example.org>",
        ("editors@example.org",), 5.0,
    )  # fmt: skip
    return NotifySettings(site, email, ())


def test_email_reaches_a_real_smtp_server(smtp: SmtpServer, setup: tuple[Store, Catalog]) -> None:
    store, catalog = setup
    smtp.start()
    report = notify_pending(store, catalog, email_settings(smtp.port))
    assert report.queued is not None and not report.failed
    (mail,) = smtp.inbox.messages
    assert smtp.inbox.envelopes == [("cw@example.org", ["editors@example.org"])]
    assert str(mail["Subject"]).strip() == (
        "[citewatch] Re-review Acme AI: No training on customer data"
    )
    assert mail.get_content_type() == "multipart/alternative"
    text_part = mail.get_body(("plain",))
    html_part = mail.get_body(("html",))
    assert text_part is not None and html_part is not None
    text, html = text_part.get_content(), html_part.get_content()
    # the flagged sentence, with the changed words marked, in both parts
    assert "We [-never-]{+may+} use your inputs to train our models" in text
    assert "Full diff: https://reviews.example.org/cw/changes/1.html" in text
    assert "<del" in html and ">never</del>" in html and ">may</ins>" in html
    # hostile page text is inert: escaped in HTML, no control or bidi characters in text
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    lines = text.replace("\r\n", "\n")  # SMTP's own line ends
    controls = [c for c in lines if c != "\n" and unicodedata.category(c) in {"Cc", "Cf"}]
    assert controls == []
    assert "\u202e" not in html and "\x1b" not in html


def test_webhook_gets_the_apprise_message(webhook: Webhook, setup: tuple[Store, Catalog]) -> None:
    store, catalog = setup
    settings = NotifySettings("", None, (f"json://127.0.0.1:{webhook.port}/hook",))
    report = notify_pending(store, catalog, settings)
    assert [o.sent for o in report.outcomes] == [True]
    assert report.outcomes[0].channel == f"apprise json://127.0.0.1:{webhook.port}/…"
    (body,) = webhook.bodies
    assert body["title"] == "[citewatch] Re-review Acme AI: No training on customer data"
    assert "We [-never-]{+may+} use your inputs to train our models" in body["message"]
    assert "\u202e" not in body["message"]


def test_failed_email_is_kept_and_retried_once(
    smtp: SmtpServer, setup: tuple[Store, Catalog]
) -> None:
    store, catalog = setup
    settings = email_settings(smtp.port)
    first = notify_pending(store, catalog, settings)  # the server is down
    assert first.queued is not None
    assert [(o.sent, o.attempts) for o in first.outcomes] == [(False, 1)]
    assert "ConnectionRefusedError" in (first.outcomes[0].error or "")
    (kept,) = Outbox(store.sessions).deliveries(pending=True)
    assert kept.attempts == 1 and kept.last_error and kept.sent_at is None

    smtp.start()
    second = notify_pending(store, catalog, settings)
    assert second.queued is None  # nothing new: the same message is retried, not recomposed
    assert [(o.notification_id, o.sent, o.attempts) for o in second.outcomes] == [
        (first.queued, True, 2)
    ]
    third = notify_pending(store, catalog, settings)
    assert third.queued is None and third.outcomes == ()
    assert len(smtp.inbox.messages) == 1
    assert Outbox(store.sessions).deliveries(pending=True) == []


def test_a_flag_that_grew_is_sent_again_with_only_its_new_reason_new(
    smtp: SmtpServer, setup: tuple[Store, Catalog], tmp_path: Path
) -> None:
    store, catalog = setup
    smtp.start()
    notify_pending(store, catalog, email_settings(smtp.port))
    grown = HOSTILE_NEW.replace("Contact us.", "Contact us.").replace("may use", "will use")
    record_change(store, tmp_path / "catalog", HOSTILE_NEW, grown, first=False)
    todo = pending(store, catalog, email_settings(smtp.port))
    (flag,) = todo.digest.tools[0].flags
    assert flag.grown
    assert [(r.reason.change_id, r.new) for r in flag.reasons] == [(2, True), (1, False)]
    notify_pending(store, catalog, email_settings(smtp.port))
    second = smtp.inbox.messages[1].get_body(("plain",))
    assert second is not None
    text = second.get_content()
    assert "new reasons since the last message" in text
    assert text.count("* NEW:") == 1 and text.count("* reported before:") == 1
    # only the new change was diffed for the digest, yet the older one keeps its site link
    assert "changes/1.html" in text and "changes/2.html" in text


def test_nothing_raised_sends_nothing(smtp: SmtpServer, setup: tuple[Store, Catalog]) -> None:
    store, catalog = setup
    smtp.start()
    notify_pending(store, catalog, email_settings(smtp.port))
    again = notify_pending(store, catalog, email_settings(smtp.port))
    assert again.queued is None and again.outcomes == ()
    assert len(smtp.inbox.messages) == 1


def test_a_resolution_rides_along_with_the_next_digest_once(
    smtp: SmtpServer, setup: tuple[Store, Catalog], tmp_path: Path
) -> None:
    store, catalog = setup
    smtp.start()
    settings = email_settings(smtp.port)
    notify_pending(store, catalog, settings)
    store.resolve("acme", "no-training", "confirm", None, "Still opt-out only.", "ed@example.org")
    alone = notify_pending(store, catalog, settings)
    assert alone.queued is None  # an editor's own decision sends nothing by itself
    assert pending(store, catalog, settings).digest.resolved_count == 1
    record_change(store, tmp_path / "catalog", HOSTILE_NEW, V3_TRAINING, first=False)
    notify_pending(store, catalog, settings)
    second = smtp.inbox.messages[1].get_body(("plain",))
    assert second is not None
    text = second.get_content()
    assert "Resolved since the last message:" in text
    assert "confirm by ed@example.org" in text and "Still opt-out only." in text
    assert pending(store, catalog, settings).digest.resolved_count == 0  # told once


SETTINGS_OK = """
site_url = "https://reviews.example.org/cw"

[email]
host = "smtp.example.org"
port = 2525
user = "cw"
password_env = "CW_TEST_SMTP_PASSWORD"
from = "citewatch <cw@example.org>"
to = ["a@example.org", "b@example.org"]

[apprise]
urls = ["json://hooks.example.org/cw"]
urls_env = "CW_TEST_APPRISE"
"""


def test_settings_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "notify.toml"
    path.write_text(SETTINGS_OK, encoding="utf-8")
    monkeypatch.setenv("CW_TEST_SMTP_PASSWORD", "s3cret")
    monkeypatch.setenv("CW_TEST_APPRISE", "slack://a/b/c  form://h/x")
    settings = load_settings(path)
    assert settings.site_url == "https://reviews.example.org/cw/"
    assert settings.email is not None
    assert (settings.email.port, settings.email.starttls, settings.email.ssl) == (2525, True, False)
    assert settings.email.password() == "s3cret"
    assert settings.email.recipients == ("a@example.org", "b@example.org")
    assert settings.apprise_urls == ("json://hooks.example.org/cw", "slack://a/b/c", "form://h/x")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[email]\nhost = 'h'\nfrom = 'f'\n", "[email]: to is required"),
        ("[email]\nhost = 'h'\nfrom = 'f'\nto = 'x'\nport = true\n", "port: wrong type bool"),
        (
            "[email]\nhost = 'h'\nfrom = 'f'\nto = 'x'\npasword_env = 'P'\n",
            "unknown key(s) pasword_env",
        ),
        (
            "site_url = 'javascript:alert(1)'\n[apprise]\nurls = ['json://h']\n",
            "not an http(s) or file URL",
        ),
        ("site_url = 'https://x/'\n", "no channel"),
        ("[email\n", "not valid TOML"),
    ],
)
def test_bad_settings_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "notify.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(
        NotifySettingsError,
        match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)"),
    ):
        load_settings(path)


def test_notify_command_dry_run_and_send(
    smtp: SmtpServer, setup: tuple[Store, Catalog], tmp_path: Path
) -> None:
    store, _ = setup
    db = str(store.engine.url)
    runner = CliRunner()
    eml = tmp_path / "out" / "email.eml"
    result = runner.invoke(cli, ["--db", db, "notify", "--dry-run", str(eml)], obj={})
    assert result.exit_code == 0, result.output
    parsed = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert "No training on customer data" in str(parsed["Subject"])
    assert (tmp_path / "out" / "email.txt").read_text(encoding="utf-8").startswith("citewatch")
    assert smtp.inbox.messages == []  # a dry run sends nothing ...

    settings = tmp_path / "notify.toml"
    settings.write_text(
        f"[email]\nhost = '127.0.0.1'\nport = {smtp.port}\nstarttls = false\n"
        "from = 'cw@example.org'\nto = ['editors@example.org']\n",
        encoding="utf-8",
    )
    down = runner.invoke(cli, ["--db", db, "notify", "--settings", str(settings)], obj={})
    assert down.exit_code == 1 and "kept for retry" in down.output
    smtp.start()
    up = runner.invoke(cli, ["--db", db, "notify"], obj={}, env={"CITEWATCH_NOTIFY": str(settings)})
    assert up.exit_code == 0, up.output
    assert "sent" in up.output
    assert len(smtp.inbox.messages) == 1  # ... and marks nothing: the real send had it all
    status = runner.invoke(cli, ["--db", db, "notify", "--status"], obj={})
    assert status.exit_code == 0
    assert "via 127.0.0.1" in status.output and "sent" in status.output
    assert "(2 attempt(s))" in status.output


def test_crawl_with_notify_sends_what_the_crawl_raised(
    smtp: SmtpServer, webhook: Webhook, http_server: LocalServer, tmp_path: Path
) -> None:
    http_server.route("/privacy", html(V1, '"v1"'), html(V3_TRAINING, '"v3"'))
    catalog = cli_catalog(tmp_path / "catalog", http_server.url("/privacy"))
    settings = tmp_path / "notify.toml"
    settings.write_text(
        f"site_url = 'https://reviews.example.org/cw'\n"
        f"[email]\nhost = '127.0.0.1'\nport = {smtp.port}\nstarttls = false\n"
        "from = 'cw@example.org'\nto = ['editors@example.org']\n"
        f"[apprise]\nurls = ['json://127.0.0.1:{webhook.port}/hook']\n",
        encoding="utf-8",
    )
    smtp.start()
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(
            cli,
            ["--db", db, "crawl", str(catalog), "--json", *FAST],
            obj={},
            env={"CITEWATCH_NOTIFY": str(settings)},
        )
        assert result.exit_code == 0, result.output
        json.loads(result.stdout)  # stdout stays exactly one JSON object
    # v1 is new pages only: nothing raised. v3 flags no-training: one email, one webhook call.
    (mail,) = smtp.inbox.messages
    assert "Re-review Acme AI: No training on customer data" in str(mail["Subject"])
    body = mail.get_body(("plain",))
    assert body is not None
    assert "[-do not-]{+may+} use your Input and Output to train" in body.get_content()
    assert "sent" in result.stderr
    (hook,) = webhook.bodies
    assert hook["title"] == str(mail["Subject"]).strip()


def test_an_item_is_covered_by_one_notification_only(setup: tuple[Store, Catalog]) -> None:
    store, _ = setup
    outbox = Outbox(store.sessions)
    message = Message("s", "t", "<p>h</p>")
    channel = [Channel("email", "email")]
    at = datetime.now(UTC)
    first = outbox.enqueue(message, [("change", 1), ("reason", 1)], channel, at)
    # a second process that composed the same items meanwhile stores nothing
    assert first is not None
    assert outbox.enqueue(message, [("change", 1)], channel, at) is None
    assert [d.notification_id for d in outbox.deliveries()] == [first]
    assert outbox.covered("change") == {1} and outbox.covered("reason") == {1}


def test_a_delivery_is_claimed_by_one_run_only(setup: tuple[Store, Catalog]) -> None:
    store, _ = setup
    at = datetime.now(UTC)
    outbox = Outbox(store.sessions)
    outbox.enqueue(Message("s", "t", "h"), [("change", 1)], [Channel("email", "email")], at)
    (seen_by_a,) = outbox.deliveries(pending=True)
    (seen_by_b,) = Outbox(store.sessions).deliveries(pending=True)  # an overlapping run
    assert outbox.claim(seen_by_a, at) is True
    assert Outbox(store.sessions).claim(seen_by_b, at) is False
    outbox.record_result(seen_by_a.id, at, None)
    (done,) = outbox.deliveries()
    assert (done.attempts, done.sent_at is not None) == (1, True)
    assert outbox.claim(done, at) is False  # a sent delivery is never claimed again
