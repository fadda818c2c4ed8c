"""An editor's review: resolve the rating's flag and re-anchor its evidence in today's text."""

from __future__ import annotations

from crawler.ingest.analysis import tracked
from diffs.anchors import accept
from storage import Store
from storage.records import AnchorState, ReviewRecord
from storage.values import EditorAction


def refreshed_anchors(store: Store, tool_id: str, criterion_id: str) -> tuple[AnchorState, ...]:
    """The rating's anchors re-taken in each source's current text, as the editor saw it."""
    out = []
    texts: dict[str, str | None] = {}  # a source's text is decompressed once, not per quote
    for state in store.anchors(tool_id, criterion_id=criterion_id):
        if state.source_id not in texts:
            texts[state.source_id] = store.current_text(tool_id, state.source_id)
        text = texts[state.source_id]
        if text is None:
            continue
        fresh = accept(tracked(state), text)
        out.append(
            AnchorState(
                tool_id=tool_id,
                criterion_id=criterion_id,
                source_id=state.source_id,
                quote=state.quote,
                wording=fresh.anchor.wording,
                prefix=fresh.anchor.prefix,
                suffix=fresh.anchor.suffix,
                status=fresh.status,
                score=fresh.score,
                passage=fresh.passage,
            )
        )
    return tuple(out)


def resolve(
    store: Store,
    tool_id: str,
    criterion_id: str,
    action: EditorAction,
    rating: str | None,
    note: str,
    by: str,
) -> ReviewRecord:
    """Close the open flag; the next change is compared with the wording the editor accepted."""
    refresh = refreshed_anchors(store, tool_id, criterion_id)
    return store.resolve(tool_id, criterion_id, action, rating, note, by, refresh)
