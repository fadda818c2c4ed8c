"""Where each file of the reviewers' site lives, relative to the site's root."""

from __future__ import annotations

from reports.history import Version
from reports.render import slug

# Text-like bodies (HTML, XML, plain text, JSON) are kept readable as .txt; anything else
# (PDF, images) as .bin, which servers send as application/octet-stream: downloaded, never
# rendered. A ".html" suffix would let the browser run the page's own scripts from our folder.
_TEXT_TYPES = ("text/", "application/xhtml", "application/xml", "application/json")


def raw_path(version: Version) -> str:
    """Where a snapshot's raw body is saved: content-addressed, with an inert suffix."""
    ctype = (version.content_type or "").split(";")[0].strip().lower()
    if "html" in ctype:
        return f"raw/{version.raw_sha}.html.txt"
    if ctype.startswith(_TEXT_TYPES) or not ctype:
        return f"raw/{version.raw_sha}.txt"
    return f"raw/{version.raw_sha}.bin"


def text_path(version: Version) -> str:
    """Where a snapshot's normalized text (what citewatch compares) is saved."""
    return f"text/{version.text_sha}.txt"


def timeline_path(tool_id: str, source_id: str) -> str:
    """The timeline page of one source (a folder per tool, so no two ids can collide)."""
    return f"sources/{slug(tool_id)}/{slug(source_id)}.html"


def timeline_part_path(tool_id: str, source_id: str, number: int) -> str:
    """An older page of a source's timeline (a folder beside its current page)."""
    return f"sources/{slug(tool_id)}/{slug(source_id)}/{number}.html"
