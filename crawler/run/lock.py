"""One scheduler per database: a file lock beside a SQLite file, an advisory lock on PostgreSQL.

Both locks belong to the process: the OS drops a flock and PostgreSQL drops a session's
advisory lock when the process (or its connection) dies, so a crash never leaves a stale lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import sqlalchemy as sa

# Distinct from the migration lock key in storage/store.py (7236410771).
PG_LOCK_KEY = 7236410772


class LockHeld(Exception):
    """Another scheduler already runs on this database."""


def holder_text() -> str:
    """Who we are, as written into the lock and shown to a second scheduler."""
    started = datetime.now(UTC).isoformat(timespec="seconds")
    return f"pid {os.getpid()} on {socket.gethostname()} since {started}"


def lock_path(url: str) -> Path | None:
    """The lock file of a SQLite database file (None for other databases or :memory:)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(f"{parsed.database}.scheduler.lock")


class SchedulerLock:
    """Held while `citewatch run` runs; `acquire` raises LockHeld naming the holder."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._file: IO[str] | None = None
        self._engine: sa.Engine | None = None
        self._conn: sa.Connection | None = None

    def acquire(self, heartbeat_holder: str | None = None) -> None:
        """Take the lock or raise LockHeld (`heartbeat_holder` describes the PostgreSQL holder)."""
        path = lock_path(self.url)
        if path is not None:
            self._acquire_file(path)
        elif sa.make_url(self.url).get_backend_name() == "postgresql":
            self._acquire_advisory(heartbeat_holder)

    def _acquire_file(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise LockHeld(
                f"another scheduler runs on this database ({holder}); lock file {path}"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(holder_text() + "\n")
        handle.flush()
        self._file = handle

    def _acquire_advisory(self, heartbeat_holder: str | None) -> None:
        # A dedicated connection outside the pool's reach: the lock lives as long as it does.
        self._engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": PG_LOCK_KEY}).scalar()
        if not got:
            conn.close()
            self._engine.dispose()
            self._engine = None
            raise LockHeld(
                "another scheduler runs on this database "
                f"({heartbeat_holder or 'holder unknown'}); PostgreSQL advisory lock {PG_LOCK_KEY}"
            )
        self._conn = conn

    def release(self) -> None:
        """Let go of the lock (idempotent)."""
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._conn is not None:
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                self._conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_KEY})
            self._conn.close()
            self._conn = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> SchedulerLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
