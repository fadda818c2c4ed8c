"""`citewatch extract`: the text of a local file or a URL, as a crawl would compare it."""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from pathlib import Path

from crawler.extract.document import ExtractError, Extraction, extract
from crawler.fetch.parent import fetch_all
from crawler.fetch.request import FetchRequest


def extract_target(target: str, select: Sequence[str], exclude: Sequence[str]) -> Extraction:
    """Extract a file path or an http(s) URL (fetched politely, robots.txt obeyed)."""
    if target.startswith(("http://", "https://")):
        (result,) = fetch_all([FetchRequest(key="probe", url=target)])
        if result.body is None:
            raise ExtractError(f"fetch failed: {result.error or f'HTTP {result.status}'}")
        url, body, content_type = result.final_url or target, result.body, result.content_type
    else:
        path = Path(target)
        if not path.is_file():
            raise ExtractError(f"no such file: {target}")
        url, body = path.resolve().as_uri(), path.read_bytes()
        content_type = mimetypes.guess_type(path.name)[0]
    return extract(body, content_type=content_type, url=url, select=select, exclude=exclude)
