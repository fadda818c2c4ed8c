"""Unattended operation: the scheduler, due times, its lock, status, and the process supervisor.

The names below load on first use (PEP 562): importing one module of this package (the
limits, the due times) must not pull in APScheduler, psutil and the report writers, which
cost `citewatch status` a third of a second of start-up.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.run.scheduler import RunOptions, Scheduler
    from crawler.run.status import StatusReport, build_status
    from crawler.run.supervisor import ChildExit, run_child

__all__ = ["ChildExit", "RunOptions", "Scheduler", "StatusReport", "build_status", "run_child"]

_HOMES = {
    "RunOptions": "scheduler",
    "Scheduler": "scheduler",
    "StatusReport": "status",
    "build_status": "status",
    "ChildExit": "supervisor",
    "run_child": "supervisor",
}


def __getattr__(name: str) -> Any:
    """One of the package's names, imported from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)
