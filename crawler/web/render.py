"""Rendering the app's pages with the reviewers' site's Jinja2 environment and base page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from crawler.web.app import web_settings
from crawler.web.auth import Caller, session_caller
from crawler.web.views import User
from reports.history import SUPPRESSED_LIMIT
from reports.paths import timeline_path
from reports.render import environment
from reports.views import card

APP_TITLE: Final = "citewatch"


def user_view(caller: Caller | None) -> User | None:
    """The signed-in account as templates show it."""
    if caller is None:
        return None
    a = caller.account
    return User(a.name, a.role, caller.csrf, a.may("editor"), a.may("admin"))


def page(name: str, view: object, caller: Caller | None, status: int = 200) -> HTMLResponse:
    """An app page: the template with its view, the account, and the site's base page (each
    template names itself in its title block; `title` is the site's, after it)."""
    html = (
        environment()
        .get_template(name)
        .render(
            title=APP_TITLE,
            generated_at=datetime.now(UTC),
            feeds=(),
            view=view,
            user=user_view(caller),
            suppressed_limit=SUPPRESSED_LIMIT,
            timeline_path=timeline_path,
            card=card,
        )
    )
    return HTMLResponse(html, status_code=status)


def signed_in(request: Request) -> Caller | None:
    """The request's session, if any."""
    return session_caller(web_settings(request).store, request)


def to_login(request: Request) -> RedirectResponse:
    """Send a signed-out browser to the sign-in form, coming back here after."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def local(target: str) -> str:
    """A redirect target when it stays on this site (a path), else the queue."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"
