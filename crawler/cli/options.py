"""Checked option values: time spans, ids, non-blank text and numeric `-s` settings.

A value out of range is refused when the command line is read, in one line naming the option:
`run --tick -5` or `-s DOWNLOAD_DELAY=abc` used to be accepted and wreck every crawl after.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import click

from crawler.catalog.model import parse_duration
from crawler.run.limits import DEFAULT_BUDGET_S

if TYPE_CHECKING:  # click's ParamType is generic in its type stubs only since 8.2-ish
    _ParamType = click.ParamType[Any, Any]
else:
    _ParamType = click.ParamType

DAY_S = 86_400.0
# The longest time budget of one crawl: a week. Longer, a crawl overlaps the next weekly look
# at its sources, and timers of 1e300 s overflow the OS's waits.
MAX_BUDGET_S = 7 * DAY_S
# The longest tick of `run`: a day. A due source waits up to one tick; a day is the coarsest
# schedule worth running unattended (sources default to daily).
MAX_TICK_S = DAY_S
# The longest `run --every` / `--backoff`: a year. A source looked at less often is not
# watched, and due-time arithmetic must stay far inside datetime's range (year 9999).
MAX_DURATION = timedelta(days=366)
# The largest row id a database holds (a signed 64-bit integer): larger ids are no change.
MAX_ID = 2**63 - 1


class Seconds(_ParamType):
    """A finite number of seconds above 0 and at most `most`."""

    name = "seconds"

    def __init__(self, most: float) -> None:
        self.most = most

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The value as float seconds, or a usage error naming the option."""
        if isinstance(value, float):
            seconds = value
        else:
            try:
                seconds = float(str(value))
            except ValueError:
                self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not (math.isfinite(seconds) and 0 < seconds <= self.most):
            self.fail(
                f"{value} is not a finite number of seconds above 0 and at most {self.most:g}",
                param,
                ctx,
            )
        return seconds


class Duration(_ParamType):
    """A duration such as 30m, 12h, 1d, 2w, at most MAX_DURATION."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The value as a timedelta, or a usage error naming the option."""
        if isinstance(value, timedelta):
            return value
        try:
            span = parse_duration(str(value))
        except (ValueError, OverflowError) as exc:
            why = str(exc) if isinstance(exc, ValueError) else f"{value!r} is too long"
            self.fail(why, param, ctx)
        if span > MAX_DURATION:
            self.fail(f"{value!r} is longer than {MAX_DURATION.days} days", param, ctx)
        return span


class NonBlank(_ParamType):
    """Text with something in it besides spaces (a note, a name): kept as given, stripped."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The stripped text, or a usage error naming the option."""
        text = str(value).strip()
        if not text:
            self.fail("must not be empty", param, ctx)
        return text


# Numeric and yes/no Scrapy settings `-s` may set, with the least value each accepts. Scrapy
# reads them in the fetch child, where a bad value ends the whole crawl with a traceback
# (every source "crawl-failed" under `run`); they are checked here, before anything starts.
WHOLE_SETTINGS = {
    "CONCURRENT_REQUESTS": 1,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
    "DOWNLOAD_MAXSIZE": 0,
    "DOWNLOAD_WARNSIZE": 0,
    "RETRY_TIMES": 0,
    "REDIRECT_MAX_TIMES": 0,
    "CLOSESPIDER_ITEMCOUNT": 0,
    "CLOSESPIDER_PAGECOUNT": 0,
    "BROKEN_AFTER": 1,  # citewatch's own: failed fetches in a row that make a source broken
}
# Seconds: at least 0 (a delay) or above 0 (a timeout), at most a crawl's longest budget.
SECONDS_SETTINGS = {
    "DOWNLOAD_DELAY": False,
    "AUTOTHROTTLE_START_DELAY": False,
    "AUTOTHROTTLE_MAX_DELAY": False,
    "DOWNLOAD_TIMEOUT": True,
    "DNS_TIMEOUT": True,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": True,  # not seconds, but a positive float all the same
}
YES_NO_SETTINGS = {
    "AUTOTHROTTLE_ENABLED",
    "AUTOTHROTTLE_DEBUG",
    "COOKIES_ENABLED",
    "RANDOMIZE_DOWNLOAD_DELAY",
    "REDIRECT_ENABLED",
    "RETRY_ENABLED",
    "ROBOTSTXT_OBEY",
}
_YES_NO = {"true", "false", "1", "0"}  # what Scrapy's getbool accepts (any letter case)


def check_settings(settings: Mapping[str, str]) -> None:
    """Refuse a known numeric or yes/no setting whose value Scrapy would choke on (ValueError)."""
    for name, value in settings.items():
        why = _setting_problem(name, value.strip())
        if why is not None:
            raise ValueError(f"-s {name}={value}: {why}")


def _setting_problem(name: str, value: str) -> str | None:
    if name in WHOLE_SETTINGS:
        least = WHOLE_SETTINGS[name]
        try:
            number = int(value)
        except ValueError:
            return f"must be a whole number >= {least}"
        return None if number >= least else f"must be a whole number >= {least}"
    if name in SECONDS_SETTINGS:
        above_zero = SECONDS_SETTINGS[name]
        try:
            number_f = float(value)
        except ValueError:
            number_f = math.nan
        low_ok = number_f > 0 if above_zero else number_f >= 0
        if math.isfinite(number_f) and low_ok and number_f <= MAX_BUDGET_S:
            return None
        low = "above 0" if above_zero else "at least 0"
        return f"must be a finite number {low} and at most {MAX_BUDGET_S:g}"
    if name in YES_NO_SETTINGS and value.lower() not in _YES_NO:
        return "must be True or False"
    return None


_Command = TypeVar("_Command", bound=Callable[..., Any])


def settings_option(help: str) -> Callable[[_Command], _Command]:
    """`-s KEY=VALUE`, repeatable: a Scrapy setting for the fetch child (checked by
    `check_settings`); one declaration for every command that fetches."""
    return click.option("-s", "settings", multiple=True, metavar="KEY=VALUE", help=help)


def budget_option(name: str, help: str) -> Callable[[_Command], _Command]:
    """A crawl's time budget in seconds (default DEFAULT_BUDGET_S, at most MAX_BUDGET_S)."""
    dest = ("budget",) if name == "--timeout" else ()
    return click.option(
        name, *dest, default=DEFAULT_BUDGET_S, show_default=True, type=Seconds(MAX_BUDGET_S),
        help=help,
    )  # fmt: skip


def verbose_option() -> Callable[[_Command], _Command]:
    """`--verbose`: the fetch child's own log lines on stderr."""
    return click.option(
        "--verbose", is_flag=True, help="Show the fetch child's own (Scrapy) log lines on stderr."
    )
