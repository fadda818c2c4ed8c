"""`citewatch serve`: the web app — the reviewers' site live, the review queue with its
actions, accounts and a JSON API — one Starlette application over the store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from storage import Store

# Every response forbids scripts, framing and foreign form targets: crawled text is shown
# here, and a script injected into it must have nowhere to run (the pages need none).
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True, slots=True)
class WebSettings:
    """What `citewatch serve` was told: the store, the catalog, whether cookies need https."""

    store: Store
    catalog: Path | None  # None: the last crawl's
    secure_cookies: bool = False  # behind an https proxy: the Secure flag on every cookie


class _Headers(BaseHTTPMiddleware):
    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def create_app(settings: WebSettings) -> Starlette:
    """The web app over the settings' store."""
    from crawler.web import api, pages, signin

    routes = [
        Route("/", pages.queue_page),
        Route("/login", signin.login_form, methods=["GET"]),
        Route("/login", signin.login, methods=["POST"]),
        Route("/logout", signin.logout, methods=["POST"]),
        Route("/flags/{flag_id:int}", pages.flag_page),
        Route("/flags/{flag_id:int}/review", pages.review_form, methods=["POST"]),
        Route("/resolved", pages.resolved_page),
        Route("/compare", pages.compare_page),
        Route("/status", pages.status_page),
        Route("/log", pages.log_page),
        Route("/api/flags", api.flags),
        Route("/api/changes", api.changes),
        Route("/api/changes/{change_id:int}/diff", api.change_diff),
        Route("/api/review", api.review, methods=["POST"]),
        Route("/favicon.ico", pages.no_icon),
        Route("/{path:path}", pages.site_file),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(_Headers)],
        exception_handlers=pages.ERROR_HANDLERS,
    )
    app.state.web = settings
    return app


def web_settings(request: Request) -> WebSettings:
    """The app's settings, from a request."""
    settings: WebSettings = request.app.state.web
    return settings
