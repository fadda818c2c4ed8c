"""`citewatch users add | list | disable | enable | reset | token`: the web app's accounts."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from crawler.cli.support import cli_errors, open_store
from storage.accounts import ROLE_NAMES, AccountError


@contextmanager
def _errors() -> Iterator[None]:
    """Account and password errors are one line, exit 1, like every stage's."""
    from crawler.web.secrets import PasswordError

    try:
        with cli_errors():
            yield
    except (AccountError, PasswordError) as exc:
        raise click.ClickException(str(exc)) from exc


def _password(from_stdin: bool) -> str:
    """The new password: the first line of stdin, or asked twice on the terminal."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    text: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return text


@click.group()
def users() -> None:
    """Accounts of the web app (`citewatch serve`): viewer, editor or admin."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLE_NAMES), default="viewer", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin's first line.")
@click.pass_context
def add(ctx: click.Context, name: str, role: str, password_stdin: bool) -> None:
    """Make an account (the password is asked for, or read with --password-stdin)."""
    from crawler.web.secrets import hash_password
    from storage.accounts import add_account, check_name

    with _errors():
        check_name(name)
        hashed = hash_password(_password(password_stdin))
        made = add_account(open_store(ctx, create=True), name, role, hashed)
    click.echo(f"account {made.name} ({made.role}) added")


@users.command("list")
@click.pass_context
def list_accounts(ctx: click.Context) -> None:
    """Every account: name, role, disabled or not, when made."""
    from storage.accounts import accounts

    with _errors():
        found = accounts(open_store(ctx))
    for a in found:
        state = " (disabled)" if a.disabled else ""
        click.echo(f"{a.name}\t{a.role}{state}\tsince {a.created_at:%Y-%m-%d}")
    if not found:
        click.echo("no accounts: add one with `citewatch users add NAME --role editor`")


@users.command("disable")
@click.argument("name")
@click.pass_context
def disable(ctx: click.Context, name: str) -> None:
    """Disable an account: its sessions end, its API tokens stop working."""
    from storage.accounts import set_disabled

    with _errors():
        set_disabled(open_store(ctx), name, True)
    click.echo(f"account {name} disabled")


@users.command("enable")
@click.argument("name")
@click.pass_context
def enable(ctx: click.Context, name: str) -> None:
    """Enable a disabled account again."""
    from storage.accounts import set_disabled

    with _errors():
        set_disabled(open_store(ctx), name, False)
    click.echo(f"account {name} enabled")


@users.command("reset")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin's first line.")
@click.pass_context
def reset(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Set a new password; the account's sessions end."""
    from crawler.web.secrets import hash_password
    from storage.accounts import credentials, set_password

    with _errors():
        store = open_store(ctx)
        if credentials(store, name) is None:
            raise AccountError(f"no account {name!r}")
        set_password(store, name, hash_password(_password(password_stdin)))
    click.echo(f"account {name}: password reset, its sessions ended")


@users.command("token")
@click.argument("name")
@click.option("--label", default="script", show_default=True, help="What the token is for.")
@click.pass_context
def token(ctx: click.Context, name: str, label: str) -> None:
    """Make an API token for the account and print it (once: only its hash is kept)."""
    from crawler.web.secrets import digest, new_token
    from storage.accounts import add_token

    secret = new_token()
    with _errors():
        add_token(open_store(ctx), name, label.strip()[:100] or "script", digest(secret))
    click.echo(secret)
