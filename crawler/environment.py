"""The environment variables citewatch reads: each named, explained and read here only.

- `CITEWATCH_DB`: the database URL when `--db` is not given.
  Default: `sqlite:///citewatch.db` (storage.engine.DEFAULT_URL).
- `CITEWATCH_NOTIFY`: the notification settings file (TOML) when `crawl --notify` or
  `notify --settings` is not given. Default: none (`crawl` sends nothing; `notify` asks for one).
- `CITEWATCH_ALLOW_PRIVATE`: for test rigs and intranet catalogs — lets crawls connect to
  non-public addresses (loopback, private, link-local…), which they refuse by default
  (crawler/fetch/destinations.py). `1` allows all of them, a comma-separated list of networks
  (`10.1.0.0/16,127.0.0.1`) only those. It sets the Scrapy setting of the same name, which
  `-s CITEWATCH_ALLOW_PRIVATE=…` overrides. Read by the crawl settings module
  (crawler/fetch/settings.py), so it holds for every crawl: `citewatch crawl`, the scheduler's
  children, `scrapy crawl sources`. Default: unset (public addresses only).
- `CITEWATCH_DEBUG`: set (to anything but `0`, `false`, `no`), an unexpected error prints its
  traceback before its one line, as `citewatch --debug` does. Default: unset (one line only).
- The variables a notification settings file names: `password_env` (the SMTP password) and
  `urls_env` (more apprise URLs, space-separated), so secrets stay out of the file. No default:
  an unset password variable fails the email delivery; an unset URL variable adds no URL.

An empty value counts as unset for the `CITEWATCH_` variables (as click's `envvar` did).
Entry points (the CLI, and the crawl's Scrapy settings module, which is the fetch child's
configuration) read them once with `read_environment` and pass the values on; storage and the
stages below never look at `os.environ`. Children inherit the environment as a whole
(`crawler.run.supervisor.child_env`): that is process plumbing, not a read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

DB = "CITEWATCH_DB"
NOTIFY = "CITEWATCH_NOTIFY"
ALLOW_PRIVATE = "CITEWATCH_ALLOW_PRIVATE"
DEBUG = "CITEWATCH_DEBUG"
_OFF = frozenset({"0", "false", "no", "off"})  # values of CITEWATCH_DEBUG that mean unset


@dataclass(frozen=True, slots=True)
class Environment:
    """citewatch's settings from the process environment, as read at start."""

    db_url: str | None  # $CITEWATCH_DB
    notify_file: str | None  # $CITEWATCH_NOTIFY
    debug: bool  # $CITEWATCH_DEBUG: tracebacks of unexpected errors
    # Every variable, for the ones a settings file names: their names are only known then.
    # Kept out of repr and comparisons: it holds secrets.
    variables: Mapping[str, str] = field(repr=False, compare=False)
    allow_private: str | None = None  # $CITEWATCH_ALLOW_PRIVATE as given; the crawl parses it

    def named(self, name: str) -> str | None:
        """The variable a settings file names (`password_env`, `urls_env`), if set."""
        return self.variables.get(name)


def read_environment(environ: Mapping[str, str] | None = None) -> Environment:
    """Read citewatch's variables from ``environ`` (default: this process's environment)."""
    source = os.environ if environ is None else environ
    snapshot = MappingProxyType(dict(source))
    return Environment(
        db_url=snapshot.get(DB) or None,
        notify_file=snapshot.get(NOTIFY) or None,
        allow_private=snapshot.get(ALLOW_PRIVATE) or None,
        debug=(snapshot.get(DEBUG) or "0").strip().lower() not in _OFF,
        variables=snapshot,
    )
