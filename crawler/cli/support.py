"""What every `citewatch` command shares: error mapping, the store, option parsing."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click
import sqlalchemy as sa

from crawler.catalog.model import CatalogError
from crawler.environment import Environment, read_environment
from storage import NotFound, Store, StoreError
from storage.engine import error_text

# Stage errors of modules a command may never import (extraction pulls lxml and pdfminer, the
# fetch parent the scheduler): looked up only once loaded, since an exception of a module
# not loaded cannot be raised. Importing them here cost `status` ~0.5 s of start-up.
_LAZY_ERRORS = (
    ("crawler.catalog.selection", "SelectionError"),
    ("crawler.extract.extractor", "ExtractError"),
    ("crawler.fetch.request", "FetchError"),
)


def _loaded_errors() -> tuple[type[Exception], ...]:
    """The lazily imported stage errors whose modules this process has loaded."""
    found = (getattr(sys.modules.get(module), name, None) for module, name in _LAZY_ERRORS)
    return tuple(error for error in found if isinstance(error, type))


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn each stage's own exception into a clear message and a non-zero exit."""
    try:
        yield
    except CatalogError as exc:
        raise click.ClickException(f"invalid catalog:\n{exc}") from exc
    except (StoreError, NotFound, ValueError) as exc:
        raise click.ClickException(one_line(str(exc))) from exc
    except sa.exc.SQLAlchemyError as exc:  # a write the database refused: a full disk, a lock
        raise click.ClickException(f"database error: {error_text(exc)}") from exc
    except OSError as exc:  # a file or folder citewatch was asked to read or write
        raise click.ClickException(os_error_text(exc)) from exc
    except Exception as exc:  # last: none of these stage errors is one of the above
        if not isinstance(exc, _loaded_errors()):
            raise
        raise click.ClickException(one_line(str(exc))) from exc


# The line of a child's log that names its error: a Python exception's last line.
_EXCEPTION_LINE = re.compile(r"^[\w.]*(Error|Exception|Exit)\b")


def one_line(message: str) -> str:
    """A message as one line: its first line, and the error line of a quoted log if any."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else message
    named = [line for line in lines[1:] if _EXCEPTION_LINE.match(line)]
    return f"{lines[0]} … {named[-1] if named else lines[-1]}"


def os_error_text(exc: OSError) -> str:
    """A file-system error as one line naming the path (and the file in a folder's place)."""
    path = exc.filename if exc.filename is not None else None
    if isinstance(exc, NotADirectoryError | FileExistsError) and path is not None:
        for parent in (Path(path), *Path(path).parents):
            if parent.exists() and not parent.is_dir():
                return f"{parent} is not a folder (needed for {path})"
    what = exc.strerror or type(exc).__name__
    return f"{path}: {what}" if path is not None else what


def environment(ctx: click.Context) -> Environment:
    """The environment read once per invocation (by the `citewatch` group, else now)."""
    obj = ctx.ensure_object(dict)
    env: Environment | None = obj.get("env")
    if env is None:
        env = read_environment()
        obj["env"] = env
    return env


def open_store(ctx: click.Context, *, create: bool = False) -> Store:
    """The command's store, opened once per invocation and closed with it.

    Commands that only read keep `create=False`: a mistyped `--db` path is refused instead
    of creating an empty database there; commands that record (crawl, review) create it.
    """
    store: Store | None = ctx.obj.get("store")
    if store is None:
        store = Store.open(ctx.obj["db"], create=create)
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
