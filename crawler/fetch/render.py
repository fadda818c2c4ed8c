"""Rendering in the fetch child: Debian's Chromium through scrapy-playwright, bounded.

A rendered fetch is a plain fetch first (robots.txt, the destination resolver, redirects,
size cap, conditional GET: all of crawler/fetch/ applies to it), then the final URL once more
in Chromium, through the same Scrapy downloader (same host slot, delay and robots.txt). The
browser loads no images, fonts or media, and no address the crawl may not reach; its text
must settle (RENDER_STABLE_S unchanged) within RENDER_SETTLE_S; then the DOM is the body, and
a JPEG screenshot and the boxes of the text blocks are kept for the change page.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from crawler.fetch.destinations import DestinationPolicy

CHROMIUM_SETTING: Final = "CITEWATCH_CHROMIUM"  # our setting: the browser executable
CHROMIUM_PATH: Final = "/usr/bin/chromium"  # Debian's package `chromium`; never downloaded
CHROMIUM_PACKAGE: Final = "chromium"  # the Debian package named in the error
# Root in a container cannot start Chromium's sandbox; the rest keep a closed network quiet
# (no update, sync, QUIC or first-run traffic of the browser's own).
CHROMIUM_ARGS: Final = (
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-gpu",
    "--disable-dev-shm-usage",  # containers give /dev/shm 64 MB; Chromium then crashes tabs
)
# Pages open at once in the one browser of a crawl child: each tab costs 30-60 MB of RSS
# (bench/render.py measures the browser's peak); 4 keeps a 100-page crawl near 600 MB.
RENDER_MAX_PAGES: Final = 4
# The text must stay the same this long to count as settled: a script that inserts text
# after 500 ms (tests/test_crawler_render.py) has done so well within it.
RENDER_STABLE_S: Final = 1.0
RENDER_POLL_S: Final = 0.25  # how often the text is compared while it settles
# A page whose text still changes after this is a failed fetch (`suspicious`), never stored.
# 10 s: a legal page's scripts fill it in well under a second or two once loaded.
RENDER_SETTLE_S: Final = 10.0
SETTLE_SETTING: Final = "CITEWATCH_RENDER_SETTLE_S"  # our setting: RENDER_SETTLE_S for a crawl
# Resource types the browser never loads: they cost bandwidth and memory and hold no text.
BLOCKED_RESOURCES: Final = frozenset({"image", "font", "media"})
VIEWPORT: Final = {"width": 1280, "height": 900}  # CSS pixels: a desktop window
# Screenshot: JPEG quality 60 and at most 6,000 px tall (about seven screens): a legal page's
# first screens are what an editor looks at; measured in README ("Rendering").
SCREENSHOT_QUALITY: Final = 60
SCREENSHOT_MAX_HEIGHT: Final = 6000
MAX_BOXES: Final = 3000  # text blocks located per page; a longer page keeps its first ones
BOX_TEXT_CHARS: Final = 400  # characters of a block kept to match it with changed passages

# Where each text block sits: the elements the HTML extractor makes blocks of.
_BOXES_JS = """(limits) => {
  const out = [];
  const sel = "h1,h2,h3,h4,h5,h6,p,li,td,th,dt,dd,blockquote,pre,figcaption";
  for (const el of document.querySelectorAll(sel)) {
    if (out.length >= limits[0]) break;
    const r = el.getBoundingClientRect();
    const text = (el.innerText || "").replace(/\\s+/g, " ").trim();
    if (!text || r.width < 1 || r.height < 1) continue;
    out.push([Math.round(r.left + scrollX), Math.round(r.top + scrollY),
              Math.round(r.width), Math.round(r.height), text.slice(0, limits[1])]);
  }
  return out;
}"""
_TEXT_JS = "() => document.body ? document.body.innerText : ''"

Box = tuple[int, int, int, int, str]


class RenderError(Exception):
    """A page could not be rendered (no browser, did not settle)."""


@dataclass(frozen=True, slots=True)
class Rendered:
    """What Chromium made of a page: its DOM, a screenshot and where its text blocks sit."""

    html: str
    screenshot: bytes
    height: int  # of the screenshot, CSS pixels (its width is VIEWPORT's)
    boxes: tuple[Box, ...]


def chromium_problem(path: str) -> str | None:
    """Why the browser at `path` cannot be used (naming the Debian package), else None."""
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return None
    return (
        f"rendering needs Chromium: {path} not found (install the Debian package "
        f"`{CHROMIUM_PACKAGE}`: apt-get install {CHROMIUM_PACKAGE})"
    )


def browser_settings(chromium: str, timeout_s: float) -> dict[str, Any]:
    """The Scrapy settings that route rendered requests through scrapy-playwright."""
    handler = "crawler.fetch.playwright_handler.LazyPlaywrightHandler"
    return {
        # Only requests with meta["playwright"] go to the browser; the rest are plain HTTP.
        "DOWNLOAD_HANDLERS": {"http": handler, "https": handler},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": chromium,
            "headless": True,
            "args": list(CHROMIUM_ARGS),
            "timeout": timeout_s * 1000,
        },
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": RENDER_MAX_PAGES,
        "PLAYWRIGHT_MAX_CONTEXTS": 1,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": timeout_s * 1000,
        "PLAYWRIGHT_CONTEXTS": {},
    }


class BrowserGate:
    """PLAYWRIGHT_ABORT_REQUEST: no images/fonts/media, nothing the crawl may not reach."""

    def __init__(self, policy: DestinationPolicy) -> None:
        self._policy = policy
        self.refused: dict[str, str] = {}  # host -> why (for the log; the page renders on)

    async def __call__(self, request: Any) -> bool:
        """True to abort this browser request."""
        if request.resource_type in BLOCKED_RESOURCES:
            return True
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return False
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return True
        return await self._refused(parts.hostname)

    async def _refused(self, host: str) -> bool:
        # Chromium resolves again when it connects: a DNS answer changing in between
        # (rebinding) is not caught here, unlike the plain fetch's resolver (README).
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host.strip("[]"), None)
        except OSError:
            return False  # Chromium fails the same lookup itself
        for info in infos:
            why = self._policy.refusal(str(info[4][0]))
            if why is not None:
                self.refused[host] = why
                return True
        return False


async def settle(
    page: Any, *, stable_s: float = RENDER_STABLE_S, limit_s: float = RENDER_SETTLE_S
) -> None:
    """Wait until the page's text stops changing; RenderError when it does not in `limit_s`."""
    deadline = time.monotonic() + limit_s
    last, since = None, time.monotonic()
    while True:
        text = await page.evaluate(_TEXT_JS)
        now = time.monotonic()
        if text != last:
            last, since = text, now
        elif now - since >= stable_s:
            return
        if now >= deadline:
            raise RenderError(f"the rendered text did not settle within {limit_s:g} s")
        await asyncio.sleep(RENDER_POLL_S)


async def capture(page: Any, settle_s: float = RENDER_SETTLE_S) -> Rendered:
    """The settled page's DOM, a JPEG screenshot (bounded height) and its text boxes."""
    await settle(page, limit_s=settle_s)
    html = await page.content()
    height = await page.evaluate("() => document.documentElement.scrollHeight")
    clip = {"x": 0, "y": 0, "width": VIEWPORT["width"]}
    clip["height"] = max(1, min(int(height or 1), SCREENSHOT_MAX_HEIGHT))
    shot = await page.screenshot(
        type="jpeg", quality=SCREENSHOT_QUALITY, full_page=True, clip=clip, animations="disabled"
    )
    raw = await page.evaluate(_BOXES_JS, [MAX_BOXES, BOX_TEXT_CHARS])
    boxes = tuple(_box(item) for item in raw if _box_fits(item, clip["height"]))
    return Rendered(html=html, screenshot=bytes(shot), height=clip["height"], boxes=boxes)


def _box_fits(item: Any, height: int) -> bool:
    return isinstance(item, list) and len(item) == 5 and 0 <= int(item[1]) < height


def _box(item: list[Any]) -> Box:
    return (int(item[0]), int(item[1]), int(item[2]), int(item[3]), str(item[4]))
