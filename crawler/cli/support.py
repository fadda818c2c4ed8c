"""What every `citewatch` command shares: error mapping, the store, option parsing."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import click

from crawler.catalog.model import CatalogError
from crawler.environment import Environment, read_environment
from crawler.extract.document import ExtractError
from crawler.fetch.request import FetchError
from crawler.fetch.selection import SelectionError
from storage import NotFound, Store, StoreError


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn each stage's own exception into a clear message and a non-zero exit."""
    try:
        yield
    except CatalogError as exc:
        raise click.ClickException(f"invalid catalog:\n{exc}") from exc
    except (
        StoreError,
        NotFound,
        SelectionError,
        ExtractError,
        FetchError,
        ValueError,
    ) as exc:
        raise click.ClickException(str(exc)) from exc


def environment(ctx: click.Context) -> Environment:
    """The environment read once per invocation (by the `citewatch` group, else now)."""
    env: Environment | None = ctx.obj.get("env")
    if env is None:
        env = read_environment()
        ctx.obj["env"] = env
    return env


def open_store(ctx: click.Context) -> Store:
    """The command's store, opened once per invocation and closed with it."""
    store: Store | None = ctx.obj.get("store")
    if store is None:
        store = Store.open(ctx.obj["db"])
        ctx.obj["store"] = store
        ctx.call_on_close(store.close)
    return store


def settings_pairs(pairs: Sequence[str]) -> Mapping[str, str]:
    """Parse `-s KEY=VALUE` options (ValueError names the bad one)."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"-s expects KEY=VALUE, got {pair!r}")
        out[key.strip()] = value
    return out


def parse_since(value: str | None) -> datetime | None:
    """An ISO date or time option, as aware UTC."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
