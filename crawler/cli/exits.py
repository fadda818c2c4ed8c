"""The exit codes of `citewatch` (README, "Exit codes"): what a script or cron may rely on."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterable
from typing import Any

import click

from crawler.cli.support import environment

OK = 0
USER_ERROR = 1  # bad input, a missing or unusable database or file, a delivery that failed
USAGE = 2  # click's own: an unknown option, a missing argument, an option value out of range
SOME_FAILED = 3  # `crawl`: the run was recorded, and some of its sources failed
ALL_FAILED = 4  # `crawl`: the run was recorded, and every source failed
INTERNAL = 5  # a bug: an error no stage expected ("internal error: …; please report")


class InternalError(click.ClickException):
    """An exception no stage raised on purpose, as one line; exits INTERNAL."""

    exit_code = INTERNAL

    def __init__(self, exc: BaseException) -> None:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        what = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
        super().__init__(
            f"internal error: {what[:300]}; please report "
            "(the traceback: citewatch --debug, or CITEWATCH_DEBUG=1)"
        )


def crawl_exit(outcomes: Iterable[str]) -> int:
    """A crawl's exit code from its sources' outcomes: OK, SOME_FAILED or ALL_FAILED."""
    seen = list(outcomes)
    failed = sum(1 for outcome in seen if outcome == "failed")
    if not failed:
        return OK
    return ALL_FAILED if failed == len(seen) else SOME_FAILED


class UsageLine(click.ClickException):
    """click's usage error as one line (click prints a usage block first); exits USAGE."""

    exit_code = USAGE

    def __init__(self, exc: click.UsageError) -> None:
        where = exc.ctx.command_path if exc.ctx is not None else "citewatch"
        super().__init__(f"{exc.format_message()} (see `{where} --help`)")


class Citewatch(click.Group):
    """The `citewatch` group: every error leaves as one line and a documented exit code."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """The group's context; a usage error in its own options is one line."""
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise UsageLine(exc) from exc

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; an exception no stage expected becomes InternalError."""
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise UsageLine(exc) from exc
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            raise  # `citewatch changes | head`: click's own handling, exit 1, no message
        except Exception as exc:
            if ctx.params.get("debug") or environment(ctx).debug:
                traceback.print_exc(file=sys.stderr)
            raise InternalError(exc) from exc
