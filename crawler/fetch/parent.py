"""Fetch pages in a Scrapy child process and hand back one plain result per request.

The parent side (`fetch_all`) never imports Scrapy or Twisted: the scheduler that calls it stays
small and reactor-free, and each crawl gets a fresh process (a reactor cannot restart).
`python -m crawler.fetch.parent JOBFILE OUTDIR [-s NAME=VALUE]...` is the child.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

FETCHABLE_SCHEMES = ("http", "https")  # Scrapy could do ftp/file/data; cited pages are web pages
FIRST_TERM_GRACE = 3.0  # seconds after the first SIGTERM (Scrapy's graceful stop) — research §1.2
SECOND_TERM_GRACE = 5.0  # seconds after the second SIGTERM (Scrapy's forced stop) before SIGKILL
STDERR_TAIL = 2000  # characters of the child's stderr quoted in a FetchError
PARENT_POLL = 0.5  # seconds between the child's checks that its parent is still there
_NO_SETTINGS: Mapping[str, str] = MappingProxyType({})  # an immutable `{}` default
_PROJECT_ROOT = Path(__file__).resolve().parents[2]  # so the child can import us from anywhere
_TMP_PREFIX = "citewatch-fetch-"  # fetch_all's work folder; the child may remove only such


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """One page to fetch, with the validators of its last good fetch."""

    key: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    render: bool = False


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one fetch produced: a body, a 304, or an error — always a value, never an exception."""

    key: str
    url: str
    final_url: str | None
    redirects: tuple[str, ...]
    status: int | None
    content_type: str | None
    etag: str | None
    last_modified: str | None
    body: bytes | None
    error: str | None
    error_kind: str | None
    retry_after: float | None
    started_at: datetime
    elapsed_ms: int


class FetchError(Exception):
    """The crawl child itself failed (not a page)."""


def is_fetchable(url: str) -> bool:
    """Whether the URL's scheme is one we fetch."""
    return urlsplit(url).scheme.lower() in FETCHABLE_SCHEMES


def failed_result(
    request: FetchRequest, kind: str, error: str, started_at: datetime | None = None
) -> FetchResult:
    """A result for a request that produced no response."""
    return FetchResult(
        key=request.key,
        url=request.url,
        final_url=None,
        redirects=(),
        status=None,
        content_type=None,
        etag=None,
        last_modified=None,
        body=None,
        error=error,
        error_kind=kind,
        retry_after=None,
        started_at=started_at or datetime.now(UTC),
        elapsed_ms=0,
    )


# --- job and result files (the only channel between parent and child) ---------------------------


def write_job(path: Path, requests: Sequence[tuple[int, FetchRequest]]) -> None:
    """Write the job file the child reads: the requests with their positions."""
    rows = [{"index": index, **asdict(request)} for index, request in requests]
    path.write_text(json.dumps({"requests": rows}, indent=1), encoding="utf-8")


def read_job(path: Path) -> Iterator[tuple[int, FetchRequest]]:
    """Read a job file; `index` may be left out by hand-written jobs (position is used)."""
    rows = json.loads(path.read_text(encoding="utf-8"))["requests"]
    for position, row in enumerate(rows):
        index = int(row.pop("index", position))
        yield index, FetchRequest(**row)


def write_result(out_dir: Path, index: int, result: FetchResult) -> None:
    """Write one result: the body file first, then the JSON, each by atomic rename."""
    data: dict[str, Any] = asdict(result)
    body = data.pop("body")
    data["started_at"] = result.started_at.isoformat()
    data["has_body"] = body is not None
    if body is not None:
        _write_atomic(out_dir / f"{index}.body", body)
    # The JSON lands last: a JSON file present means its body file is complete.
    _write_atomic(out_dir / f"{index}.json", json.dumps(data).encode("utf-8"))


def read_results(out_dir: Path) -> dict[int, FetchResult]:
    """Read every complete result the child wrote, by request position."""
    results: dict[int, FetchResult] = {}
    for path in out_dir.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        has_body = data.pop("has_body")
        body = (out_dir / f"{path.stem}.body").read_bytes() if has_body else None
        data["redirects"] = tuple(data["redirects"])
        data["started_at"] = datetime.fromisoformat(data["started_at"])
        results[int(path.stem)] = FetchResult(body=body, **data)
    return results


def _write_atomic(path: Path, content: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)


# --- parent side ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ChildExit:
    returncode: int
    killed: bool  # we stopped it at the hard timeout
    stderr: str


def fetch_all(
    requests: Sequence[FetchRequest],
    *,
    settings: Mapping[str, str] = _NO_SETTINGS,
    timeout: float = 3600.0,
) -> list[FetchResult]:
    """Fetch every request in a child process; one FetchResult per request, in request order."""
    results: dict[int, FetchResult] = {}
    pending: list[tuple[int, FetchRequest]] = []
    for index, request in enumerate(requests):
        if is_fetchable(request.url):
            pending.append((index, request))
        else:
            results[index] = failed_result(request, "scheme", _scheme_error(request.url))
    if pending:
        results.update(_crawl(pending, settings, timeout))
    return [results[index] for index in range(len(requests))]


def _scheme_error(url: str) -> str:
    scheme = urlsplit(url).scheme or "(none)"
    return f"not fetched: URL scheme {scheme!r} is not http or https"


def _crawl(
    pending: list[tuple[int, FetchRequest]], settings: Mapping[str, str], timeout: float
) -> dict[int, FetchResult]:
    started_at = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix=_TMP_PREFIX) as tmp:
        job, out = Path(tmp) / "job.json", Path(tmp) / "out"
        out.mkdir()
        write_job(job, pending)
        argv = [sys.executable, "-m", "crawler.fetch.parent", str(job), str(out)]
        for name, value in settings.items():
            argv += ["-s", f"{name}={value}"]
        child = _run_child(argv, timeout, Path(tmp) / "stderr.log")
        found = read_results(out)
    if child.stderr:
        sys.stderr.write(child.stderr)  # Scrapy's warnings stay visible; stdout stays clean
    # A positive code with nothing written: the child reported that it couldn't crawl at all
    # (bad setting, import error). Killed by a signal (OOM, us) means pages are "crawl-killed".
    if not found and child.returncode > 0 and not child.killed:
        raise FetchError(
            f"crawl child exited with code {child.returncode}: {child.stderr[-STDERR_TAIL:]}"
        )
    if child.killed:
        why = f"crawl killed at the {timeout:g} s hard timeout before this page finished"
    else:
        why = f"crawl child exited (code {child.returncode}) before this page finished"
    return {
        index: found.get(index) or failed_result(request, "crawl-killed", why, started_at)
        for index, request in pending
    }


def _run_child(argv: list[str], timeout: float, stderr_path: Path) -> _ChildExit:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_PROJECT_ROOT), env.get("PYTHONPATH")]))
    killed = False
    with stderr_path.open("wb") as err:
        # Own session: the signals below reach the child's whole process group and nothing else.
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            raise FetchError(f"cannot start the crawl child: {exc}") from exc
        try:
            returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            killed = True
            returncode = _stop(proc)
        finally:
            if proc.poll() is None:  # interrupted (e.g. KeyboardInterrupt): never leave it behind
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
    stderr = stderr_path.read_text(encoding="utf-8", errors="replace")
    return _ChildExit(returncode, killed, stderr)


def _stop(proc: subprocess.Popen[bytes]) -> int:
    """SIGTERM (graceful), SIGTERM again (Scrapy's forced shutdown), then SIGKILL."""
    for sig, grace in ((signal.SIGTERM, FIRST_TERM_GRACE), (signal.SIGTERM, SECOND_TERM_GRACE)):
        _signal_group(proc, sig)
        try:
            return proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
    _signal_group(proc, signal.SIGKILL)
    return proc.wait()


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(proc.pid, sig)


# --- child side ----------------------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m crawler.fetch.parent", description="Fetch a job file's pages into OUTDIR."
    )
    parser.add_argument("job", type=Path, help="job file written by fetch_all")
    parser.add_argument("out", type=Path, help="directory for <n>.json and <n>.body results")
    parser.add_argument(
        "-s", "--set", action="append", default=[], metavar="NAME=VALUE", help="Scrapy setting"
    )
    args = parser.parse_args(argv)
    for item in args.set:
        if "=" not in item:
            parser.error(f"-s expects NAME=VALUE, got {item!r}")
    return args


def exit_with_parent(workdir: Path, poll: float = PARENT_POLL) -> threading.Thread:
    """Stop the child when its parent dies (SIGKILL): nobody would read its results.

    The child runs in its own session so that the parent can signal its whole group; the flip
    side is that a killed parent would leave it crawling for up to CLOSESPIDER_TIMEOUT, and
    its temporary folder (the parent's) behind. Orphaned, it removes that folder and exits.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll)
        shutil.rmtree(workdir, ignore_errors=True)
        os._exit(3)

    thread = threading.Thread(target=watch, name="exit-with-parent", daemon=True)
    thread.start()
    return thread


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `sources` spider over a job file (the child process); exit code 1 if it can't."""
    args = _parse_args(argv)
    if args.job.parent.name.startswith(_TMP_PREFIX):
        exit_with_parent(args.job.parent)
    # Scrapy is imported here only: the parent side of this module must stay Twisted-free.
    from scrapy.crawler import AsyncCrawlerProcess
    from scrapy.settings import Settings

    from spiders.sources import SourcesSpider

    settings = Settings()
    settings.setmodule("crawler.fetch.settings", priority="project")
    # Same as `scrapy crawl -s`: strings at "cmdline" priority, converted by the getters.
    settings.setdict(dict(item.split("=", 1) for item in args.set), priority="cmdline")
    process = AsyncCrawlerProcess(settings)
    process.crawl(SourcesSpider, job=str(args.job), out=str(args.out))
    process.start()
    if process.bootstrap_failed:
        print("crawl failed to start; see the log above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
