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
- `CITEWATCH_CACHE_DIR`: the folder of citewatch's caches (the parsed-catalog cache,
  crawler/catalog/cache.py). Default: `$XDG_CACHE_HOME/citewatch` (when absolute), else
  `$HOME/.cache/citewatch`; neither set: no cache.
- `CITEWATCH_NO_CACHE`: set (to anything but `0`, `false`, `no`, `off`), no cache is read or
  written: every command parses the catalog. Default: unset (cache on).
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
CACHE_DIR = "CITEWATCH_CACHE_DIR"
NO_CACHE = "CITEWATCH_NO_CACHE"
_OFF = frozenset({"0", "false", "no", "off"})  # values of CITEWATCH_DEBUG/_NO_CACHE meaning unset


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
    cache_dir: str | None = None  # $CITEWATCH_CACHE_DIR or its default; None: no cache

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
        debug=_set(snapshot.get(DEBUG)),
        variables=snapshot,
        cache_dir=None if _set(snapshot.get(NO_CACHE)) else _cache_dir(snapshot),
    )


def _set(value: str | None) -> bool:
    """Whether a yes/no variable is set: any value but empty, 0, false, no, off."""
    return (value or "0").strip().lower() not in _OFF


def _cache_dir(snapshot: Mapping[str, str]) -> str | None:
    """$CITEWATCH_CACHE_DIR, else the XDG cache folder's citewatch/ (relative XDG is ignored)."""
    if snapshot.get(CACHE_DIR):
        return snapshot[CACHE_DIR]
    xdg = snapshot.get("XDG_CACHE_HOME") or ""
    if os.path.isabs(xdg):  # the XDG spec: a relative path is invalid and must be ignored
        return os.path.join(xdg, "citewatch")
    home = snapshot.get("HOME")
    return os.path.join(home, ".cache", "citewatch") if home else None
