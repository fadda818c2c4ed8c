"""The web app's pages: the queue, a flag with its actions, resolved since, compare, status,
the account log, and every page of the reviewers' site, live. Handlers stay thin: the rules
are in crawler/web/review.py (decisions), queue.py (filters) and live.py (what is shown)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from crawler.catalog.model import RATINGS
from crawler.run.status import status_report
from crawler.web.app import web_settings
from crawler.web.auth import AuthError, Caller, check_csrf, require
from crawler.web.live import (
    Live,
    LiveError,
    catalog_path,
    page_diff,
    read_live,
    site_page,
    text_diff,
)
from crawler.web.queue import AGES, QueueFilter, queue
from crawler.web.render import local, page, signed_in, to_login, user_view
from crawler.web.review import ACTIONS, Decision, ReviewRuleError, decide
from crawler.web.views import (
    Choice,
    CompareView,
    ErrorView,
    FlagView,
    LogView,
    QueueView,
    ResolvedItem,
    ResolvedView,
    StatusView,
)
from diffs.reasons import SEVERITIES
from reports.render import diff_hunks, rating_label
from reports.views import card
from storage import NotFound
from storage.accounts import actions, note_action

# "Resolved since" looks this many days back unless asked otherwise (a week: the editors'
# weekly round); at most MAX_DAYS (a year: older decisions are in report.json and the log).
RESOLVED_DAYS: Final = 7
MAX_DAYS: Final = 366
# The account log shows the newest LOG_LIMIT actions (a page, not the whole history).
LOG_LIMIT: Final = 200
RATING_CHOICES: Final = tuple(Choice(r, rating_label(r)) for r in RATINGS)


def _reader(request: Request, role: str = "viewer") -> tuple[Caller, Live]:
    caller = require(signed_in(request), role)
    store = web_settings(request).store
    return caller, read_live(store, catalog_path(store, web_settings(request).catalog))


def _choices(pairs: Mapping[str, str]) -> tuple[Choice, ...]:
    return tuple(Choice(k, v) for k, v in sorted(pairs.items(), key=lambda kv: kv[1].lower()))


def queue_page(request: Request) -> Response:
    """The review queue: open flags, most severe first, filtered and searched."""
    if signed_in(request) is None:
        return to_login(request)
    caller, live = _reader(request)
    params = dict(request.query_params)
    wanted = QueueFilter.of(params)
    open_items = [i for i in live.items if i.flag.status == "open"]
    view = QueueView(
        wanted=wanted,
        items=tuple(queue(open_items, wanted, datetime.now(UTC))),
        open_total=len(open_items),
        tools=_choices({i.flag.tool_id: i.flag.tool_name for i in open_items}),
        criteria=_choices({i.flag.criterion_id: i.flag.criterion_label for i in open_items}),
        severities=tuple(Choice(s, s) for s in SEVERITIES),
        sources=_choices({r.source_id: r.source_id for i in open_items for r in i.flag.reasons}),
        ages=tuple(Choice(k, v) for k, v in AGES.items()),
        ratings=RATING_CHOICES,
        done=params.get("done", "")[:300],
        linked=live.paged(),
        here="/?" + urlencode({k: v for k, v in params.items() if k != "done"}),
    )
    return page("queue.html", view, caller)


def _flag_view(live: Live, flag_id: int, error: str = "", note: str = "") -> FlagView:
    item = live.item(flag_id)
    if item is None:
        raise NotFound(f"no flag {flag_id}")
    return FlagView(flag_id, card(item.flag), live.paged(), RATING_CHOICES, error, note)


def flag_page(request: Request) -> Response:
    """One flag: its reasons, changed sentences, history, and the review actions."""
    if signed_in(request) is None:
        return to_login(request)
    caller, live = _reader(request)
    view = _flag_view(live, int(request.path_params["flag_id"]))
    return page("flag.html", view, caller)


async def review_form(request: Request) -> Response:
    """Confirm, set, dismiss or re-open: an editor's form, with its CSRF token and a note."""
    form = await request.form()
    caller = await run_in_threadpool(signed_in, request)
    require(caller, "editor")
    assert caller is not None
    check_csrf(caller, str(form.get("csrf", "")))
    flag_id = int(request.path_params["flag_id"])
    fields = {k: str(form.get(k, "")) for k in ("action", "note", "rating", "next")}
    return await run_in_threadpool(_review, request, caller, flag_id, fields)


def _review(request: Request, caller: Caller, flag_id: int, fields: dict[str, str]) -> Response:
    settings = web_settings(request)
    live = read_live(settings.store, catalog_path(settings.store, settings.catalog))
    item = live.item(flag_id)
    if item is None:
        raise NotFound(f"no flag {flag_id}")
    action = next((a for a in ACTIONS if a == fields["action"]), None)
    try:
        if action is None:
            raise ReviewRuleError(f"unknown action {fields['action'][:40]!r}")
        decision = Decision(
            item.flag.tool_id,
            item.flag.criterion_id,
            action,
            fields["note"],
            caller.account.name,
            fields["rating"] or None if action == "set" else None,
        )
        outcome = decide(settings.store, decision, catalog_path(settings.store, settings.catalog))
    except (ReviewRuleError, NotFound) as exc:
        view = _flag_view(live, flag_id, str(exc), fields["note"])
        return page("flag.html", view, caller, 400)
    target = f"{item.flag.tool_id}/{item.flag.criterion_id}"
    note_action(settings.store, caller.account, action, target, fields["note"].strip())
    done = f"{target}: {outcome.review.action}" + (
        f" → {outcome.review.rating}" if outcome.review.rating else ""
    )
    if outcome.catalog_written is not None:
        done += f" (catalog written: {outcome.catalog_written.name})"
    elif outcome.write_error:
        done += f" (not written to the catalog: {outcome.write_error})"
    back = local(fields["next"] or "/")
    sep = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{sep}{urlencode({'done': done})}", status_code=303)


def resolved_page(request: Request) -> Response:
    """Flags resolved in the last N days (default a week), newest decision first."""
    if signed_in(request) is None:
        return to_login(request)
    caller, live = _reader(request)
    raw = request.query_params.get("days", "")
    days = int(raw) if raw.isdigit() and 1 <= int(raw) <= MAX_DAYS else RESOLVED_DAYS
    since = datetime.now(UTC) - timedelta(days=days)
    found = []
    for item in live.items:
        last = item.flag.resolutions[-1] if item.flag.resolutions else None
        if item.flag.status == "resolved" and last is not None and _aware(last.at) >= since:
            found.append(ResolvedItem(item, last))
    found.sort(key=lambda r: _aware(r.last.at) if r.last else since, reverse=True)
    view = ResolvedView(since, days, tuple(found))
    return page("resolved.html", view, caller)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def compare_page(request: Request) -> Response:
    """Any two versions of one source, side by side and word by word."""
    if signed_in(request) is None:
        return to_login(request)
    caller, live = _reader(request)
    q = request.query_params
    timeline = live.timeline(q.get("tool", ""), q.get("source", ""))
    if timeline is None:
        raise NotFound("no stored version of that source")
    by_id = {str(v.snapshot_id): v for v in timeline.versions}
    old = by_id.get(q.get("a", "")) or timeline.versions[0]
    new = by_id.get(q.get("b", "")) or timeline.versions[-1]
    if old.taken_at > new.taken_at:
        old, new = new, old
    diff = text_diff(web_settings(request).store, old.text_sha, new.text_sha)
    view = CompareView(
        timeline.tool_id,
        timeline.tool_name,
        timeline.source_id,
        tuple(reversed(timeline.versions)),
        old,
        new,
        diff_hunks(diff),
    )
    return page("compare.html", view, caller)


def status_page(request: Request) -> Response:
    """The scheduler's heartbeat, each source's state, failing and broken sources."""
    if signed_in(request) is None:
        return to_login(request)
    caller, live = _reader(request)
    report = status_report(web_settings(request).store, live.catalog.path)
    view = StatusView(report, live.context.failures)
    return page("status.html", view, caller)


def log_page(request: Request) -> Response:
    """What accounts did (admins only)."""
    if signed_in(request) is None:
        return to_login(request)
    caller = require(signed_in(request), "admin")
    view = LogView(tuple(actions(web_settings(request).store, LOG_LIMIT)))
    return page("log.html", view, caller)


# Snapshot files are served as what they are: untrusted text (or bytes, or a screenshot of
# a rendered version), never rendered as a page.
_FILE_TYPES: Final = {"bin": "application/octet-stream", "jpg": "image/jpeg"}
_INERT = {"Content-Disposition": "inline", "X-Content-Type-Options": "nosniff"}


def site_file(request: Request) -> Response:
    """A page of the reviewers' site (index.html, tools/…, changes/…, sources/…), live, or a
    snapshot's saved text or raw body (as plain text or bytes, never as a page)."""
    if signed_in(request) is None:
        return to_login(request)
    caller, live = _reader(request)
    path = request.path_params["path"]
    store = web_settings(request).store
    sha = live.files().get(path)
    if sha is not None:
        data = store.blob(sha)
        kind = _FILE_TYPES.get(path.rpartition(".")[2], "text/plain; charset=utf-8")
        return Response(data, media_type=kind, headers=_INERT)
    found = site_page(live, path, {"user": user_view(caller)})
    if found is None:
        raise NotFound(f"no page {path[:200]}")
    body = found.render(page_diff(store, found))
    kind = "application/atom+xml" if path.endswith(".xml") else "text/html; charset=utf-8"
    return Response(body, media_type=kind)


def no_icon(request: Request) -> Response:
    """The site has no icon: a plain 404, not a sign-in redirect, for the browser's asks."""
    return PlainTextResponse("no icon", status_code=404)


def _error(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        from starlette.responses import JSONResponse

        return JSONResponse({"error": message}, status_code=status)
    caller = signed_in(request) if status != 401 else None
    return page("error.html", ErrorView(status, message), caller, status)


async def _auth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AuthError)
    if exc.status == 401 and not request.url.path.startswith("/api/"):
        return to_login(request)
    return await run_in_threadpool(_error, request, exc.status, str(exc))


async def _not_found(request: Request, exc: Exception) -> Response:
    return await run_in_threadpool(_error, request, 404, str(exc))


async def _no_catalog(request: Request, exc: Exception) -> Response:
    return await run_in_threadpool(_error, request, 503, str(exc))


ERROR_HANDLERS: Final[dict[Any, Any]] = {
    AuthError: _auth_error,
    NotFound: _not_found,
    LiveError: _no_catalog,
}
