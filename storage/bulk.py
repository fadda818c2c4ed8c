"""Reading history in bulk: versions as metadata (no text decompressed), blobs a batch at a
time, and id lists of any length in chunks a database binds."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from storage import blobs as codec
from storage.models import Blob, Snapshot
from storage.records import VersionRecord

T = TypeVar("T")

# Values bound into one IN (...) list. SQLite binds at most 32,766 per statement in its
# default build (250,000 in Debian's) and PostgreSQL's protocol 65,535: a first report of a
# long history marks more changes than that. 10,000 stays under all of them.
IN_BATCH = 10_000
# Blobs read per statement: ~200 compressed bodies (a few MB) in memory at a time, in one
# short read transaction each.
BLOB_BATCH = 200


def chunks(values: Iterable[T], size: int = IN_BATCH) -> Iterator[list[T]]:
    """The values in lists of at most `size`, in order."""
    batch: list[T] = []
    for value in values:
        batch.append(value)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


_VERSION_COLUMNS = (
    Snapshot.id,
    Snapshot.source_pk,
    Snapshot.taken_at,
    Snapshot.raw_sha,
    Snapshot.text_sha,
    Snapshot.content_type,
    Snapshot.final_url,
    Snapshot.technical,
    Snapshot.screenshot_sha,
    Snapshot.screenshot_boxes,
)


class BulkReads:
    """Bulk read access (mixed into Store through Queries)."""

    sessions: sessionmaker[Session]

    def versions(self, ids: Iterable[int] | None = None) -> list[VersionRecord]:
        """Every stored version (or these), by source then oldest first, without its text."""
        query = sa.select(*_VERSION_COLUMNS).order_by(Snapshot.source_pk, Snapshot.id)
        batches = [query] if ids is None else [
            query.where(Snapshot.id.in_(batch)) for batch in chunks(sorted(set(ids)))
        ]  # fmt: skip
        found: list[VersionRecord] = []
        with self.sessions() as s:
            for batch_query in batches:
                found.extend(
                    VersionRecord(
                        id=row.id,
                        source_pk=row.source_pk,
                        taken_at=_utc(row.taken_at),
                        raw_sha=row.raw_sha,
                        text_sha=row.text_sha,
                        content_type=row.content_type,
                        final_url=row.final_url,
                        technical=row.technical,
                        **_screenshot(row.screenshot_sha, row.screenshot_boxes),
                    )
                    for row in s.execute(batch_query)
                )
        if ids is not None:
            found.sort(key=lambda v: (v.source_pk, v.id))
        return found

    def blobs(self, shas: Iterable[str], batch: int = BLOB_BATCH) -> Iterator[tuple[str, bytes]]:
        """(sha, original bytes) of each stored blob of these hashes, once each, `batch` per
        statement; hashes not stored are left out."""
        columns = (Blob.sha256, Blob.codec, Blob.data)
        for group in chunks(dict.fromkeys(shas), batch):
            with self.sessions() as s:
                rows = s.execute(sa.select(*columns).where(Blob.sha256.in_(group))).all()
            for sha, blob_codec, data in rows:
                yield sha, codec.decompress(blob_codec, data)


def _screenshot(sha: str | None, layout: Any) -> dict[str, Any]:
    """A version's screenshot fields from its stored layout (none before rendering)."""
    if sha is None or not isinstance(layout, dict):
        return {}
    boxes = tuple(
        (int(b[0]), int(b[1]), int(b[2]), int(b[3]), str(b[4]))
        for b in layout.get("boxes", ())
        if isinstance(b, list) and len(b) == 5
    )
    size = (int(layout.get("width", 0)), int(layout.get("height", 0)))
    return {"screenshot_sha": sha, "screenshot_size": size, "boxes": boxes}
