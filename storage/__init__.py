"""Storage: SQLAlchemy models, the store API and migrations."""

from storage.engine import StoreError, database_unusable, database_url, make_engine
from storage.queries import NotFound
from storage.reopen import AlreadyOpen
from storage.store import Store

__all__ = [
    "AlreadyOpen",
    "NotFound",
    "Store",
    "StoreError",
    "database_unusable",
    "database_url",
    "make_engine",
]
