"""The JSON API: the same reads and actions as the pages, for scripts, with a bearer token
(`citewatch users token NAME`). Shapes are those of `citewatch flags --json` and
`changes --json`; a diff is its hunks' rows with their word edits."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crawler.report.shapes import change_json, flag_json
from crawler.web.app import web_settings
from crawler.web.auth import Caller, require, token_caller
from crawler.web.live import catalog_path, text_diff
from crawler.web.review import ACTIONS, Decision, ReviewRuleError, decide
from reports.render import diff_hunks
from storage import NotFound
from storage.accounts import note_action

# A review request's body is a few fields; a bigger one is refused before it is parsed.
MAX_BODY: Final = 64 * 1024


def _caller(request: Request, role: str = "viewer") -> Caller:
    return require(token_caller(web_settings(request).store, request), role)


def flags(request: Request) -> Response:
    """GET /api/flags?status=open|resolved|all: as `citewatch flags --json`."""
    _caller(request)
    status = request.query_params.get("status", "open")
    if status not in ("open", "resolved", "all"):
        return JSONResponse({"error": "status: one of open, resolved, all"}, status_code=400)
    rows = web_settings(request).store.flags(None if status == "all" else status)
    return JSONResponse([flag_json(f) for f in rows])


def changes(request: Request) -> Response:
    """GET /api/changes?since=ISO&all=1: as `citewatch changes --json`."""
    _caller(request)
    try:
        since = _since(request.query_params.get("since"))
    except ValueError:
        return JSONResponse({"error": "since: an ISO date or time"}, status_code=400)
    show_all = request.query_params.get("all", "") in ("1", "true", "yes")
    rows = [
        c
        for c in web_settings(request).store.changes(since)
        if show_all or (c.significant and not c.technical)
    ]
    return JSONResponse([change_json(c) for c in rows])


def _since(value: str | None) -> datetime | None:
    """An ISO date or time, as aware UTC (naive: UTC), as `changes --since` reads it."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def change_diff(request: Request) -> Response:
    """GET /api/changes/ID/diff: the change and its hunks (rows with word edits)."""
    _caller(request)
    store = web_settings(request).store
    c = store.change(int(request.path_params["change_id"]))
    old, new = store.snapshot(c.old_snapshot_id), store.snapshot(c.new_snapshot_id)
    hunks = diff_hunks(text_diff(store, old.text_sha, new.text_sha))
    return JSONResponse(
        {
            "change": change_json(c),
            "hunks": [
                {
                    "old_start": h.old_start,
                    "new_start": h.new_start,
                    "rows": [
                        {
                            "kind": r.kind,
                            "old": r.old,
                            "new": r.new,
                            "words": [{"tag": w.tag, "text": w.text} for w in r.words],
                        }
                        for r in h.rows
                    ],
                }
                for h in hunks
            ],
        }
    )


async def review(request: Request) -> Response:
    """POST /api/review {tool, criterion, action, note, rating?}: an editor's decision."""
    body = await request.body()
    if len(body) > MAX_BODY:
        return JSONResponse({"error": f"body over {MAX_BODY} bytes"}, status_code=413)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return JSONResponse({"error": "the body is not JSON"}, status_code=400)
    return await run_in_threadpool(_review, request, data)


def _review(request: Request, data: Any) -> Response:
    caller = _caller(request, "editor")
    if not isinstance(data, dict):
        return JSONResponse({"error": "the body is not a JSON object"}, status_code=400)
    fields = {k: data.get(k) for k in ("tool", "criterion", "action", "note", "rating")}
    if not all(isinstance(fields[k], str) for k in ("tool", "criterion", "action", "note")):
        return JSONResponse(
            {"error": "tool, criterion, action and note are required strings"}, status_code=400
        )
    action = next((a for a in ACTIONS if a == fields["action"]), None)
    rating = fields["rating"] if isinstance(fields["rating"], str) else None
    settings = web_settings(request)
    try:
        if action is None:
            raise ReviewRuleError(f"action: one of {', '.join(ACTIONS)}")
        decision = Decision(
            str(fields["tool"]), str(fields["criterion"]), action, str(fields["note"]),
            caller.account.name, rating,
        )  # fmt: skip
        outcome = decide(settings.store, decision, catalog_path(settings.store, settings.catalog))
    except ReviewRuleError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    except NotFound as exc:
        return JSONResponse({"error": str(exc)}, status_code=404)
    note_action(
        settings.store, caller.account, action, f"{decision.tool_id}/{decision.criterion_id}",
        decision.note.strip(),
    )  # fmt: skip
    r = outcome.review
    return JSONResponse(
        {
            "review": {
                "id": r.id,
                "tool": r.tool_id,
                "criterion": r.criterion_id,
                "action": r.action,
                "rating": r.rating,
                "note": r.note,
                "by": r.by,
                "at": r.at.isoformat(),
            },
            "catalog_written": str(outcome.catalog_written) if outcome.catalog_written else None,
            "patch": outcome.patch,
            "write_error": outcome.write_error,
        }
    )
