"""Signing in and out of the web app (sessions, the throttle, the sign-in form's CSRF)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from crawler.web.app import web_settings
from crawler.web.auth import (
    LOGIN_COOKIE,
    LOGIN_WINDOW,
    SESSION_COOKIE,
    AuthError,
    address,
    check_csrf,
    open_session,
    sign_in,
    signed_out,
    throttled,
)
from crawler.web.render import local, page, signed_in
from crawler.web.secrets import MAX_PASSWORD, new_secret, same
from crawler.web.views import LoginView


def _form(request: Request, error: str, name: str, status: int) -> Response:
    # The browser's own requests (a favicon) land here too: keep a token it already has, or
    # the form on screen would carry a token its cookie no longer matches.
    kept = request.cookies.get(LOGIN_COOKIE, "")
    token = kept if len(kept) == len(new_secret()) else new_secret()
    view = LoginView(error, name, local(request.query_params.get("next", "/")), token)
    response = page("login.html", view, None, status)
    secure = web_settings(request).secure_cookies
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=secure)
    return response


def login_form(request: Request) -> Response:
    """The sign-in form."""
    return _form(request, "", "", 200)


async def login(request: Request) -> Response:
    """Check name and password (throttled); start a session and go where the user was."""
    form = await request.form()
    name, password = (
        str(form.get("name", ""))[:64],
        str(form.get("password", ""))[: MAX_PASSWORD + 1],
    )
    sent, cookie = str(form.get("csrf", "")), request.cookies.get(LOGIN_COOKIE, "")
    if not sent or not cookie or not same(sent, cookie):
        return _form(request, "The form expired: sign in again.", name, 403)
    store, where = web_settings(request).store, address(request)
    if await run_in_threadpool(throttled, store, name, where):
        minutes = int(LOGIN_WINDOW.total_seconds() // 60)
        message = f"Too many failed sign-ins: try again in {minutes} minutes."
        return _form(request, message, name, 429)
    account = await run_in_threadpool(sign_in, store, name, password, where)
    if account is None:
        return _form(request, "Wrong name or password (or the account is disabled).", name, 401)
    target = local(str(form.get("next", "/")))
    response = RedirectResponse(target, status_code=303)
    await run_in_threadpool(
        open_session, store, account, response, web_settings(request).secure_cookies
    )
    response.delete_cookie(LOGIN_COOKIE)
    return response


async def logout(request: Request) -> Response:
    """End the session (a form with the session's CSRF token)."""
    form = await request.form()
    caller = await run_in_threadpool(signed_in, request)
    if caller is None:
        return RedirectResponse("/login", status_code=303)
    check_csrf(caller, str(form.get("csrf", "")))
    await run_in_threadpool(signed_out, web_settings(request).store, request)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


__all__ = ["AuthError", "login", "login_form", "logout"]
