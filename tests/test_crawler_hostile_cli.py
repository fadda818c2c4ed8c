"""Hostile input at the command line: every case ends in one line on stderr and a documented
exit code (README, "Exit codes"), never a traceback; and the operations `run` owes an
unattended installation (notify, site, log lines, quiet Scrapy, progress)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import termios
import textwrap
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from crawler.cli import cli
from storage import Store
from storage.models import Fetch, SourceRow
from tests.conftest import LocalServer, Reply
from tests.test_crawler_cli import QUOTE, V1, V3_TRAINING, html, write_catalog
from tests.test_crawler_notify import SmtpServer

ROOT = Path(__file__).resolve().parents[1]
FAST = ("-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False")
GUARD_S = 120.0  # an upper bound on one subprocess: a hang fails the test, never slows it
# The documented exit codes (README, "Exit codes").
USER_ERROR, USAGE, SOME_FAILED, ALL_FAILED, INTERNAL = 1, 2, 3, 4, 5


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """The CLI in this process, exceptions not caught: a traceback fails the test."""
    return CliRunner(env=env).invoke(cli, list(args), obj={}, catch_exceptions=False)


def citewatch(
    *args: str, env: dict[str, str] | None = None, prefix: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    """The CLI as an operator runs it: a process, its exit code and its stderr."""
    cmd = [*prefix, sys.executable, "-m", "crawler.cli", *args]
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=GUARD_S, check=False, env=full_env, cwd=ROOT
    )


def one_line(stderr: str) -> str:
    """The single error line a failed command printed (no traceback, nothing else)."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.fixture
def nowhere(tmp_path: Path) -> str:
    """A catalog whose one source nothing answers (port 9, discard): no test reaches out."""
    return str(write_catalog(tmp_path / "nowhere", "http://127.0.0.1:9/privacy"))


@pytest.fixture
def existing_db(tmp_path: Path) -> str:
    """A database that exists (migrated, empty)."""
    url = f"sqlite:///{tmp_path / 'cw.db'}"
    Store.open(url).close()
    return url


# --- 1. the --db URL and the database behind it --------------------------------------------

# Commands that only read: they must not create a database (nor its folders).
READ_ONLY: dict[str, tuple[str, ...]] = {
    "changes": ("changes",),
    "flags": ("flags",),
    "diff": ("diff", "1"),
    "report": ("report", "--catalog", "examples/catalog", "--out", "{tmp}/site"),
    "status": ("status",),
    "notify --status": ("notify", "--status"),
    "notify --dry-run": ("notify", "--dry-run", "{tmp}/mail.eml"),
    "prune": ("prune", "--apply"),
}


@pytest.mark.parametrize("command", sorted(READ_ONLY))
def test_read_only_commands_refuse_a_missing_database_and_create_nothing(
    command: str, tmp_path: Path
) -> None:
    missing = tmp_path / "typo" / "deeper" / "cw.db"
    args = [a.replace("{tmp}", str(tmp_path)) for a in READ_ONLY[command]]
    result = invoke("--db", f"sqlite:///{missing}", *args)
    assert result.exit_code == USER_ERROR
    line = one_line(result.stderr)
    assert f"no database at {missing}" in line and "run `citewatch crawl` first" in line
    assert not (tmp_path / "typo").exists()  # neither the file nor its folders


DB_CASES = {
    # an unset variable in a script: `--db sqlite:///$DB` would be a silent in-memory database
    "empty sqlite path": ("sqlite:///", "has no file path"),
    "sqlite without a path": ("sqlite://", "has no file path"),
    "in-memory": ("sqlite:///:memory:", "keeps nothing"),
    "mysql": ("mysql://user@localhost/cw", "unsupported database URL scheme 'mysql'"),
    "postgresql, another driver": ("postgresql+asyncpg://u@h/cw", "postgresql+psycopg://"),
    "not a URL": ("citewatch.db", "not a database URL"),
}


@pytest.mark.parametrize("case", sorted(DB_CASES))
def test_bad_database_urls_are_one_line(case: str) -> None:
    url, message = DB_CASES[case]
    for args in (("changes",), ("review", "a", "b", "--confirm", "--note", "n")):
        result = invoke("--db", url, *args)
        assert result.exit_code == USER_ERROR, result.output
        assert message in one_line(result.stderr)
    if case == "mysql":  # the supported schemes are named
        assert "sqlite:///PATH" in result.stderr and "postgresql+psycopg://" in result.stderr


def test_a_password_in_the_url_is_never_printed() -> None:
    result = invoke("--db", "postgresql+psycopg://cw:s3cret@127.0.0.1:1/cw", "changes")
    assert result.exit_code == USER_ERROR
    line = one_line(result.stderr)
    assert "s3cret" not in line and "cw:***@127.0.0.1" in line


def test_a_database_from_a_newer_citewatch_is_refused(existing_db: str, nowhere: str) -> None:
    engine = sa.create_engine(existing_db)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0099_future'"))
    engine.dispose()
    for args in (("changes",), ("crawl", nowhere)):
        result = invoke("--db", existing_db, *args)
        assert result.exit_code == USER_ERROR
        line = one_line(result.stderr)
        assert "newer citewatch" in line and "0099_future" in line


@pytest.mark.parametrize("what", ["a text file", "a folder"])
def test_a_path_that_is_no_database_is_one_line(what: str, tmp_path: Path) -> None:
    path = tmp_path / "cw.db"
    if what == "a folder":
        path.mkdir()
    else:
        path.write_text("not a database\n")
    result = invoke("--db", f"sqlite:///{path}", "changes")
    assert result.exit_code == USER_ERROR
    line = one_line(result.stderr)
    assert str(path) in line and "Background on this error" not in line


def without_file_permissions() -> tuple[str, ...]:
    """A command prefix under which file permissions apply (root bypasses them otherwise)."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: file permissions cannot be enforced")
    return ("setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--")


def test_a_read_only_database_file_reads_and_refuses_writes(tmp_path: Path, nowhere: str) -> None:
    prefix = without_file_permissions()
    db = tmp_path / "cw.db"
    Store.open(f"sqlite:///{db}").close()
    for path in tmp_path.glob("cw.db*"):
        path.chmod(0o444)
    url = f"sqlite:///{db}"
    assert citewatch("--db", url, "changes", prefix=prefix).returncode == 0  # reading works
    done = citewatch("--db", url, "crawl", nowhere, prefix=prefix)
    assert done.returncode == USER_ERROR
    assert f"database {db} is read-only" in one_line(done.stderr)


def test_a_database_in_an_unwritable_folder_is_one_line(tmp_path: Path, nowhere: str) -> None:
    prefix = without_file_permissions()
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    for where in (locked / "cw.db", locked / "sub" / "cw.db"):
        done = citewatch("--db", f"sqlite:///{where}", "crawl", nowhere, prefix=prefix)
        assert done.returncode == USER_ERROR
        line = one_line(done.stderr)
        assert "cannot create" in line and str(locked) in line and "ermission denied" in line
    assert list(locked.iterdir()) == []


# --- 2. numeric options ----------------------------------------------------------------------

NUMBERS = ("-5", "0", "inf", "nan", "-inf", "1e300")


@pytest.mark.parametrize("value", NUMBERS)
@pytest.mark.parametrize(
    "option",
    [("run", "{cat}", "--once", "--tick"), ("run", "{cat}", "--once", "--crawl-timeout"),
     ("crawl", "{cat}", "--timeout")],
)  # fmt: skip
def test_time_options_refuse_non_positive_or_non_finite_values(
    option: tuple[str, ...], value: str, nowhere: str, existing_db: str
) -> None:
    args = [a.replace("{cat}", nowhere) for a in option]
    result = invoke("--db", existing_db, *args, value)
    assert result.exit_code == USAGE, result.output
    line = one_line(result.stderr)
    assert args[-1] in line and value in line


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (("run", "{cat}", "--once", "--max-cycles", "0"), "--max-cycles"),
        (("run", "{cat}", "--once", "--max-cycles", "-3"), "--max-cycles"),
        (("run", "{cat}", "--once", "--every", "0m"), "--every"),
        (("run", "{cat}", "--once", "--every", "1000000000d"), "--every"),
        (("run", "{cat}", "--once", "--backoff", "99999999999w"), "--backoff"),
        (("diff", "0"), "CHANGE"),
        (("diff", "100000000000000000000000"), "CHANGE"),
    ],
)
def test_other_numeric_options_are_checked(
    args: tuple[str, ...], word: str, nowhere: str, existing_db: str
) -> None:
    result = invoke("--db", existing_db, *[a.replace("{cat}", nowhere) for a in args])
    assert result.exit_code == USAGE, result.output
    assert word in one_line(result.stderr)


@pytest.mark.parametrize(
    "setting",
    ["DOWNLOAD_DELAY=abc", "DOWNLOAD_DELAY=-1", "DOWNLOAD_TIMEOUT=0", "DOWNLOAD_TIMEOUT=nan",
     "CONCURRENT_REQUESTS=0", "CONCURRENT_REQUESTS_PER_DOMAIN=1.5", "RETRY_TIMES=-1",
     "DOWNLOAD_MAXSIZE=inf", "AUTOTHROTTLE_MAX_DELAY=1e400", "AUTOTHROTTLE_ENABLED=maybe"],
)  # fmt: skip
def test_numeric_scrapy_settings_are_checked_before_anything_is_fetched(
    setting: str, http_server: LocalServer, tmp_path: Path, existing_db: str
) -> None:
    catalog = write_catalog(tmp_path / "cat", http_server.url("/privacy"))
    for command in (("crawl", str(catalog)), ("run", str(catalog), "--once")):
        done = citewatch("--db", existing_db, *command, "-s", setting)
        assert done.returncode == USER_ERROR
        assert setting.split("=")[0] in one_line(done.stderr)
    assert http_server.hits() == []


# --- 3. a full disk ---------------------------------------------------------------------------

FULL_DISK_DRIVER = """
import json, os, sqlite3, subprocess, sys
folder, catalog = sys.argv[1], sys.argv[2]
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", folder], check=True)
db = os.path.join(folder, "cw.db")
def crawl():
    cmd = [sys.executable, "-m", "crawler.cli", "--db", "sqlite:///" + db, "crawl", catalog,
           "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    return {"code": done.returncode, "stderr": done.stderr}
first = crawl()
stat = os.statvfs(folder)
with open(os.path.join(folder, "filler"), "wb") as f:  # leave 160 KB: a run starts, no more
    f.write(b"\\0" * (stat.f_bavail * stat.f_frsize - 160 * 1024))
full = crawl()
os.remove(os.path.join(folder, "filler"))
after = crawl()
runs = [r[0] for r in sqlite3.connect(db).execute("SELECT status FROM crawl_runs ORDER BY id")]
print(json.dumps({"first": first, "full": full, "after": after, "runs": runs}))
"""


def test_a_full_disk_is_one_line_and_the_run_does_not_stay_running(
    http_server: LocalServer, tmp_path: Path
) -> None:
    if (
        shutil.which("unshare") is None
        or subprocess.run(
            ["unshare", "--map-root-user", "--mount", "true"], capture_output=True, check=False
        ).returncode
    ):
        pytest.skip("no mount namespace here (unshare -rm): a small file system cannot be made")
    # Incompressible text: the second version needs far more room than the disk has left.
    big = "".join(f"<p>{os.urandom(600).hex()}</p>\n" for _ in range(1500))
    http_server.route(
        "/privacy", html(V1, '"1"'), html(f"<html><body><main>{big}</main></body></html>", '"2"')
    )
    catalog = write_catalog(tmp_path / "cat", http_server.url("/privacy"))
    (tmp_path / "disk").mkdir()
    driver = tmp_path / "driver.py"
    driver.write_text(FULL_DISK_DRIVER, encoding="utf-8")
    done = subprocess.run(
        ["unshare", "--map-root-user", "--mount", sys.executable, str(driver),
         str(tmp_path / "disk"), str(catalog)],
        capture_output=True, text=True, timeout=4 * GUARD_S, check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["first"]["code"] == 0, out["first"]["stderr"]
    assert out["full"]["code"] == USER_ERROR
    assert "disk is full" in one_line(out["full"]["stderr"])
    assert out["after"]["code"] == 0, out["after"]["stderr"]
    # The run the disk stopped ended failed (or the next run marked it): none stays "running".
    assert out["runs"][0] == "done" and out["runs"][-1] == "done"
    assert set(out["runs"][1:-1]) <= {"failed", "killed"} and len(out["runs"]) >= 3


# --- 4. report and notify targets -------------------------------------------------------------


def test_report_to_an_unwritable_folder_is_one_line(tmp_path: Path, existing_db: str) -> None:
    prefix = without_file_permissions()
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    done = citewatch(
        "--db", existing_db, "report", "--catalog", "examples/catalog",
        "--out", str(locked / "site"), prefix=prefix,
    )  # fmt: skip
    assert done.returncode == USER_ERROR
    line = one_line(done.stderr)
    assert str(locked / "site") in line and "ermission denied" in line


def test_a_file_where_a_folder_is_expected_is_one_line(tmp_path: Path, existing_db: str) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    report = invoke(
        "--db", existing_db, "report", "--catalog", "examples/catalog",
        "--out", str(a_file / "site"),
    )  # fmt: skip
    dry_run = invoke(
        "--db", existing_db, "notify", "--catalog", "examples/catalog",
        "--dry-run", str(a_file / "mail.eml"),
    )  # fmt: skip
    for result in (report, dry_run):
        assert result.exit_code == USER_ERROR
        line = one_line(result.stderr)
        assert str(a_file) in line and "not a folder" in line


# --- 5. review's options ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--confirm", "--dismiss"), "exactly one of --confirm, --set RATING, --dismiss"),
        (("--dismiss", "--confirm"), "exactly one of --confirm, --set RATING, --dismiss"),
        (("--dismiss", "--set", "yes"), "exactly one of --confirm, --set RATING, --dismiss"),
        (("--confirm", "--note", ""), "--note"),
        (("--confirm", "--note", "   "), "--note"),
        (("--confirm", "--by", " "), "--by"),
    ],
)
def test_review_refuses_contradictory_or_empty_options(
    options: tuple[str, ...], message: str, existing_db: str
) -> None:
    note = () if "--note" in options else ("--note", "checked")
    result = invoke("--db", existing_db, "review", "acme", "no-training", *options, *note)
    assert result.exit_code == USAGE
    assert message in one_line(result.stderr)


# --- 6. the last resort: no traceback, ever ---------------------------------------------------


def test_an_unexpected_error_is_one_line_with_its_type(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(path: str) -> None:
        raise KeyError("surprise")

    monkeypatch.setattr("crawler.cli.commands.load_catalog", broken)
    result = invoke("check", "examples/catalog")
    assert result.exit_code == INTERNAL
    line = one_line(result.stderr)
    assert "internal error: KeyError: 'surprise'" in line and "please report" in line
    assert "--debug" in line
    for debug in (invoke("--debug", "check", "examples/catalog"),
                  invoke("check", "examples/catalog", env={"CITEWATCH_DEBUG": "1"})):  # fmt: skip
        assert debug.exit_code == INTERNAL
        assert "Traceback" in debug.stderr and "internal error: KeyError" in debug.stderr


def test_the_console_entry_point_has_the_same_last_resort(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        import crawler.cli.commands as commands
        def broken(path):
            raise ZeroDivisionError("deep inside")
        commands.load_catalog = broken
        sys.argv = ["citewatch", "check", "examples/catalog"]
        commands.main()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=GUARD_S,
        check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == INTERNAL
    assert "internal error: ZeroDivisionError: deep inside" in one_line(done.stderr)


# --- 7. crawl's exit code says whether sources failed ----------------------------------------


def two_source_catalog(folder: Path, good: str, bad: str) -> Path:
    """A catalog of two sources of one tool."""
    (folder / "tools").mkdir(parents=True)
    (folder / "tools" / "acme.yaml").write_text(
        f"id: acme\nname: Acme\nsources:\n  - id: good\n    url: {good}\n"
        f"  - id: bad\n    url: {bad}\nratings: {{}}\n",
        encoding="utf-8",
    )
    return folder


@pytest.mark.parametrize(
    ("good", "bad", "code"),
    [(200, 200, 0), (200, 500, SOME_FAILED), (404, 500, ALL_FAILED)],
)
def test_crawl_exit_code_tells_cron_when_sources_failed(
    good: int, bad: int, code: int, http_server: LocalServer, tmp_path: Path
) -> None:
    http_server.route("/good", html(V1, '"g"') if good == 200 else Reply(good, b"no"))
    http_server.route("/bad", html(V1, '"b"') if bad == 200 else Reply(bad, b"no"))
    catalog = two_source_catalog(
        tmp_path / "cat", http_server.url("/good"), http_server.url("/bad")
    )
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    for as_json in (True, False):
        result = invoke("--db", db, "crawl", str(catalog), *FAST, *(["--json"] if as_json else []))
        assert result.exit_code == code, result.output
    as_json_run = invoke("--db", db, "crawl", str(catalog), "--json", *FAST)
    report = json.loads(as_json_run.stdout)  # still exactly one JSON object on stdout
    assert [s["source"] for s in report["sources"]] == ["good", "bad"]


def test_the_scheduler_reads_a_crawl_with_failures_as_a_finished_crawl(
    http_server: LocalServer, tmp_path: Path
) -> None:
    http_server.route("/good", html(V1, '"g"'))
    http_server.route("/bad", Reply(500, b"no"))
    catalog = two_source_catalog(
        tmp_path / "cat", http_server.url("/good"), http_server.url("/bad")
    )
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    done = citewatch("--db", db, "run", str(catalog), "--once", *FAST)
    assert done.returncode == 0, done.stderr
    assert "crawl child failed" not in done.stderr
    kinds = fetch_kinds(db)
    assert kinds == {"good": None, "bad": "http"}  # the real failure, not "crawl-failed"


def fetch_kinds(db: str) -> dict[str, str | None]:
    """Each source's last error kind."""
    store = Store.open(db)
    try:
        with store.sessions() as s:
            query = sa.select(SourceRow.source_id, Fetch.error_kind).join(
                Fetch, Fetch.source_pk == SourceRow.id
            )
            return {source: kind for source, kind in s.execute(query).all()}
    finally:
        store.close()


# --- 8. operations ----------------------------------------------------------------------------


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd), started."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def settings_file(tmp_path: Path, smtp: SmtpServer) -> Path:
    """A notification settings file sending to the local SMTP server."""
    path = tmp_path / "notify.toml"
    path.write_text(
        f'site_url = "https://reviews.example.org/cw/"\n[email]\nhost = "127.0.0.1"\n'
        f'port = {smtp.port}\nstarttls = false\nfrom = "cw@example.org"\n'
        f'to = ["editors@example.org"]\n',
        encoding="utf-8",
    )
    return path


def make_due(db: str) -> None:
    """Move every source's last fetch two days back, as if time had passed."""
    store = Store.open(db)
    try:
        with store.sessions.begin() as s:
            for row in s.scalars(sa.select(SourceRow)):
                assert row.last_fetch_at is not None
                row.last_fetch_at -= timedelta(days=2)
    finally:
        store.close()


def test_run_notifies_once_per_cycle_rebuilds_the_site_and_logs_what_changed(
    http_server: LocalServer, tmp_path: Path, smtp: SmtpServer
) -> None:
    http_server.route("/privacy", html(V1, '"1"'), html(V3_TRAINING, '"3"'))
    catalog = write_catalog(tmp_path / "cat", http_server.url("/privacy"))
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    notify, site = settings_file(tmp_path, smtp), tmp_path / "site"
    # The children inherit $CITEWATCH_NOTIFY: they must not send too (one message, not two).
    env = {"CITEWATCH_NOTIFY": str(notify)}
    args = ("--db", db, "run", str(catalog), "--once", "--notify", str(notify), "--site", str(site))

    first = citewatch(*args, *FAST, env=env)
    assert first.returncode == 0, first.stderr
    index = site / "index.html"
    assert index.exists()  # the first cycle recorded new pages: the site is built
    built = index.stat().st_mtime_ns
    assert smtp.inbox.messages == []  # new pages raise nothing

    make_due(db)
    second = citewatch(*args, *FAST, env=env)
    assert second.returncode == 0, second.stderr
    change = json.loads(invoke("--db", db, "changes", "--json").stdout)[0]["id"]
    assert f"changed acme/privacy tier=substantive flags=no-training change={change}" in (
        second.stderr
    )
    assert f"flagged acme/no-training source=privacy change={change}" in second.stderr
    assert len(smtp.inbox.messages) == 1
    assert "notification 1 queued" in second.stderr
    assert index.stat().st_mtime_ns != built and "No training" in index.read_text()

    rebuilt = index.stat().st_mtime_ns
    third = citewatch(*args, *FAST, env=env)  # nothing due: nothing new, nothing sent
    assert third.returncode == 0, third.stderr
    assert index.stat().st_mtime_ns == rebuilt and len(smtp.inbox.messages) == 1
    assert QUOTE  # the catalog's evidence quote is what flagged the rating


def test_run_refuses_a_bad_notify_file_or_site_folder(
    tmp_path: Path, existing_db: str, nowhere: str
) -> None:
    bad = tmp_path / "notify.toml"
    bad.write_text("nonsense = [\n")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for option in (("--notify", str(bad)), ("--site", str(a_file / "site"))):
        done = citewatch("--db", existing_db, "run", nowhere, "--once", *option)
        assert done.returncode == USER_ERROR
        one_line(done.stderr)


def test_crawl_keeps_scrapy_log_lines_out_of_the_terminal_unless_verbose(
    tmp_path: Path,
) -> None:
    refused = "http://127.0.0.1:9/privacy"  # the discard port: nothing listens
    catalog = write_catalog(tmp_path / "cat", refused)
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    quiet = invoke("--db", db, "crawl", str(catalog), "--json", *FAST)
    assert "[scrapy" not in quiet.stderr and "Traceback" not in quiet.stderr
    (source,) = json.loads(quiet.stdout)["sources"]
    assert source["outcome"] == "failed" and "refused" in source["error"]  # recorded instead
    verbose = invoke("--db", db, "crawl", str(catalog), "--json", "--verbose", *FAST)
    assert "[scrapy" in verbose.stderr


def read_pty(fd: int, proc: subprocess.Popen[bytes]) -> str:
    """Everything written to a pseudo-terminal until the process ends."""
    chunks: list[bytes] = []
    deadline = time.monotonic() + GUARD_S
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the other side is closed
                break
            chunks.append(chunk)
        elif proc.poll() is not None:
            break
    return b"".join(chunks).decode("utf-8", "replace")


def test_crawl_shows_progress_on_a_terminal_only(http_server: LocalServer, tmp_path: Path) -> None:
    http_server.route("/privacy", Reply(200, V1.encode(), {"Content-Type": "text/html"}, delay=1))
    catalog = write_catalog(tmp_path / "cat", http_server.url("/privacy"))
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    main, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    cmd = [sys.executable, "-m", "crawler.cli", "--db", db, "crawl", str(catalog), *FAST]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=secondary, stdin=subprocess.DEVNULL, cwd=ROOT
    )
    os.close(secondary)
    shown = read_pty(main, proc)
    os.close(main)
    assert proc.wait(timeout=GUARD_S) == 0
    assert "fetched" in shown and "0/1" in shown and "1/1" in shown
    piped = invoke("--db", db, "crawl", str(catalog), *FAST)  # stderr is not a terminal
    assert "fetched" not in piped.stderr


def test_every_exit_code_is_documented() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Exit codes", 1)[1].split("\n#", 1)[0]
    for code in (0, USER_ERROR, USAGE, SOME_FAILED, ALL_FAILED, INTERNAL):
        assert f"| {code} |" in section
