"""scrapy-playwright's download handler, started only when a page is rendered.

The stock handler starts Playwright's driver when the engine starts: 1-3 s and a Node
process on every crawl with a `render: auto` source (the default), though most crawls
render nothing. This one starts it with the first rendered request.
"""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler


class LazyPlaywrightHandler(ScrapyPlaywrightDownloadHandler):  # type: ignore[misc]
    """ScrapyPlaywrightDownloadHandler whose driver starts with the first rendered request."""

    async def _maybe_launch_in_thread(self) -> None:
        """Nothing at engine start (see the module doc)."""

    async def _download_request(self, request: Any, spider: Any = None) -> Any:
        """Start the driver once, then render as the stock handler does."""
        lock = self.__dict__.setdefault("_citewatch_start", asyncio.Lock())
        async with lock:
            if getattr(self, "browser_provider", None) is None:
                await self._launch()
        return await super()._download_request(request, spider)
