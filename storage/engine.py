"""Database engines: SQLite tuned for one writer and many readers, or PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///citewatch.db"
# 30 s: a crawl child writes one short transaction per source; a reader or a second writer
# waits for it rather than failing with "database is locked" (research/tech_scrapy §7).
BUSY_TIMEOUT_MS = 30_000
# The URL forms citewatch is built and tested for (backend, driver); anything else fails at
# the first query with a driver's traceback, so it is refused when the URL is read.
SUPPORTED = {("sqlite", "pysqlite"), ("postgresql", "psycopg")}
SUPPORTED_TEXT = "sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
# The execution option that marks a connection as a writer (see make_engine's BEGIN).
WRITER = "citewatch_writer"


class StoreError(Exception):
    """The database cannot be opened, migrated or written as asked."""


def database_url(explicit: str | None = None, configured: str | None = None) -> str:
    """The database URL: the explicit one, else the configured one, else ./citewatch.db.

    `configured` is $CITEWATCH_DB, read by the caller (crawler/environment.py): storage does
    not read the environment.
    """
    return explicit or configured or DEFAULT_URL


def shown(url: str | sa.URL) -> str:
    """The URL as it may be printed: any password masked."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return str(url)


def checked_url(url: str) -> sa.URL:
    """The parsed URL of a database citewatch can use; StoreError says why not."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StoreError(f"{url!r} is not a database URL: use {SUPPORTED_TEXT}") from exc
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if (backend, driver) not in SUPPORTED:
        hint = (
            f"write postgresql+psycopg:// (the {driver} driver is not installed)"
            if backend == "postgresql"
            else f"use {SUPPORTED_TEXT}"
        )
        raise StoreError(f"unsupported database URL scheme {parsed.drivername!r}: {hint}")
    if backend == "sqlite" and not parsed.database:
        # `--db sqlite:///$DB` with DB unset: SQLite would silently open a private, in-memory
        # database and every record would vanish with the process.
        raise StoreError(f"{shown(parsed)} has no file path: give sqlite:///PATH")
    if backend == "sqlite" and parsed.database == ":memory:":
        raise StoreError(
            f"{shown(parsed)} keeps nothing once the command ends: give sqlite:///PATH"
        )
    return parsed


def sqlite_path(url: sa.URL) -> Path | None:
    """The file of a SQLite URL (None for other databases)."""
    return Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None


def check_file(url: sa.URL, *, create: bool) -> None:
    """Check a SQLite database's file before SQLite touches it (nothing for PostgreSQL).

    Readers (`create=False`) need the file to exist: opening a mistyped path would create an
    empty database and its folders. Writers need to write the file and its folder (the WAL
    and shared-memory files live beside it); its folders are created.
    """
    path = sqlite_path(url)
    if path is None:
        return
    if path.is_dir():
        raise StoreError(f"database {path} is a folder, not a database file")
    if not create:
        if not path.exists():
            raise StoreError(f"no database at {path}: run `citewatch crawl` first")
        return
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create database folder {folder}: {exc.strerror}") from exc
    if path.exists() and not os.access(path, os.W_OK):
        raise StoreError(f"database {path} is read-only: citewatch cannot record into it")
    if not os.access(folder, os.W_OK | os.X_OK):
        what = "the database" if not path.exists() else "its journal files"
        raise StoreError(f"cannot create {what} in {folder}: Permission denied")


def error_text(exc: BaseException) -> str:
    """A database error as one line: the driver's message, without SQL or parameters."""
    cause = exc.orig if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None else exc
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    return lines[0] if lines else type(cause).__name__


def database_unusable(exc: BaseException) -> bool:
    """Whether an error is the database's own (full disk, lock, read-only file, lost
    connection), not one page's data: then no source can be recorded and the run must stop."""
    return isinstance(exc, sa.exc.OperationalError)


def make_engine(url: str) -> sa.Engine:
    """An engine for the URL; SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE writers."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, pool_recycle=1800)
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite's legacy transaction control would
        # otherwise defer it and break BEGIN IMMEDIATE and transactional DDL).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # A deferred transaction that reads then writes fails at once under WAL when another
        # writer committed in between; IMMEDIATE takes the write lock up front (measured:
        # 254/800 failures deferred vs 0 immediate, research/tech_scrapy §7). Only writers
        # need it: a reader's deferred BEGIN reads a snapshot of the WAL and never blocks a
        # crawl's writes, nor waits for them (a long report no longer serializes with crawls).
        writer = conn.get_execution_options().get(WRITER, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


class Sessions(sessionmaker[Session]):
    """Sessions of a store: `sessions()` reads (on SQLite a deferred BEGIN, no write lock),
    `sessions.begin()` writes (BEGIN IMMEDIATE). Every write goes through `begin()`."""

    @contextmanager
    def begin(self) -> Iterator[Session]:
        """A session in a transaction that writes and commits at the end of the block."""
        with self(execution_options={WRITER: True}) as session, session.begin():
            yield session


def writer(engine: sa.Engine) -> sa.Engine:
    """The engine as a writer (Core connections outside a session, e.g. migrations)."""
    return engine.execution_options(**{WRITER: True})
