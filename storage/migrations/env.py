"""Alembic environment: runs on the connection citewatch hands over (never its own logging)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from storage.models import Base


def run_migrations_online() -> None:
    """Migrate using the shared connection from config attributes (or the configured URL)."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        engine = sa.create_engine(context.config.get_main_option("sqlalchemy.url") or "")
        with engine.begin() as conn:
            _run(conn)
        return
    _run(connection)


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite has almost no ALTER
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
