"""Headless Chromium driven over the DevTools protocol on a pipe (tests only).

Why the protocol and not `chromium --screenshot`/`--dump-dom`: our pages forbid scripts
(Content-Security-Policy), so a page cannot measure itself, and the command-line modes
cannot tell where an element ended up after layout or whether a script tried to run.
`--remote-debugging-pipe` needs no port and no websocket library: Chromium reads
NUL-terminated JSON commands on fd 3 and writes replies and events on fd 4. DevTools'
Runtime.evaluate is not subject to the page's CSP, so the test can measure layout on a
page where the page itself can run nothing.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "/usr/bin/chromium")


def find_chromium() -> str | None:
    """Debian's chromium, or None when it is not installed."""
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass(frozen=True, slots=True)
class Viewport:
    """A window size; mobile=True also honours <meta name=viewport> like a phone."""

    name: str
    width: int
    height: int
    mobile: bool


DESKTOP = Viewport("desktop", 1280, 800, False)
PHONE = Viewport("phone", 390, 844, True)  # an iPhone 12-15 sized screen in CSS pixels


class Chromium:
    """One headless Chromium process and one page (tab) in it."""

    def __init__(self, binary: str, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="citewatch-chromium-")
        cmd_read, self._cmd = os.pipe()
        self._events, evt_write = os.pipe()

        def wire() -> None:  # in the child: put the pipe ends on fds 3 and 4
            high_read = fcntl.fcntl(cmd_read, fcntl.F_DUPFD, 10)
            high_write = fcntl.fcntl(evt_write, fcntl.F_DUPFD, 10)
            os.dup2(high_read, 3)
            os.dup2(high_write, 4)

        args = [
            binary,
            "--headless=new",
            "--no-sandbox",  # CI runs as root in a container, where the sandbox cannot start
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--remote-debugging-pipe",
            f"--user-data-dir={self._profile}",
            "about:blank",
        ]
        # close_fds=False keeps the dup2'ed fds 3 and 4; Python's own fds are close-on-exec.
        self._proc = subprocess.Popen(
            args,
            preexec_fn=wire,
            close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(cmd_read)
        os.close(evt_write)
        self._buffer = b""
        self._last_id = 0
        self.events: list[dict[str, Any]] = []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log"):
            self.page(f"{domain}.enable")

    def close(self) -> None:
        """Stop the browser and remove its profile."""
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        os.close(self._cmd)
        os.close(self._events)
        shutil.rmtree(self._profile, ignore_errors=True)

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("chromium did not answer in time")
            ready, _, _ = select.select([self._events], [], [], left)
            if ready:
                chunk = os.read(self._events, 1 << 20)
                if not chunk:
                    raise EOFError("chromium closed the DevTools pipe")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def send(self, method: str, params: dict[str, Any] | None = None, **extra: Any) -> Any:
        """Send a browser-level command; returns its result (events seen meanwhile are kept)."""
        self._last_id += 1
        message = {"id": self._last_id, "method": method, "params": params or {}, **extra}
        os.write(self._cmd, json.dumps(message).encode("utf-8") + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._message(deadline)
            if reply.get("id") == self._last_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def page(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """Send a command to the page."""
        return self.send(method, params, sessionId=self._session)

    def wait_for(self, method: str) -> dict[str, Any]:
        """The next event of a kind (one already received counts)."""
        for i, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(i)
        deadline = time.monotonic() + self.timeout
        while True:
            event = self._message(deadline)
            if event.get("method") == method:
                return event
            self.events.append(event)

    def open(self, url: str, viewport: Viewport = DESKTOP) -> None:
        """Load a URL at a window size and wait for its load event; earlier events are dropped."""
        self.page(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": viewport.width,
                "height": viewport.height,
                "deviceScaleFactor": 1,
                "mobile": viewport.mobile,
            },
        )
        self.events.clear()
        self.page("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript in the page through DevTools (not subject to the page's CSP)."""
        result = self.page("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluation failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, target: Path) -> Path:
        """Save what the window shows now as PNG."""
        data = self.page("Page.captureScreenshot", {"format": "png"})["data"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(data))
        return target

    def console(self) -> list[str]:
        """Console and log messages and uncaught exceptions since the last open()."""
        lines = []
        for event in self.events:
            params = event.get("params", {})
            if event.get("method") == "Log.entryAdded":
                lines.append(f"{params['entry'].get('source')}: {params['entry'].get('text')}")
            elif event.get("method") == "Runtime.exceptionThrown":
                lines.append(f"exception: {params['exceptionDetails'].get('text')}")
            elif event.get("method") == "Runtime.consoleAPICalled":
                lines.append(f"console.{params.get('type')}: {params.get('args')}")
        return lines
