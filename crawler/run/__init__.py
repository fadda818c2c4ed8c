"""Unattended operation: the scheduler, due times, its lock, status, and the process supervisor."""

from crawler.run.scheduler import RunOptions, Scheduler
from crawler.run.status import StatusReport, build_status
from crawler.run.supervisor import ChildExit, run_child

__all__ = ["ChildExit", "RunOptions", "Scheduler", "StatusReport", "build_status", "run_child"]
