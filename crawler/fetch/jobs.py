"""Job and result files: the only channel between the crawl parent and its fetch child.

The parent writes one job file (the whole selection: never on a command line); the child writes
one result per page as it lands (the body first, then its JSON, each by atomic rename), so
whatever a killed child finished is kept. The parent takes each result as it lands
(`landed`, `take_result`), which removes its files: a crawl holds one body at a time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.fetch.request import FetchRequest, FetchResult


def write_job(path: Path, requests: Sequence[tuple[int, FetchRequest]]) -> None:
    """Write the job file the child reads: the requests with their positions."""
    rows = [{"index": index, **asdict(request)} for index, request in requests]
    path.write_text(json.dumps({"requests": rows}, indent=1), encoding="utf-8")


def read_job(path: Path) -> Iterator[tuple[int, FetchRequest]]:
    """Read a job file; `index` may be left out by hand-written jobs (position is used)."""
    rows = json.loads(path.read_text(encoding="utf-8"))["requests"]
    for position, row in enumerate(rows):
        index = int(row.pop("index", position))
        yield index, FetchRequest(**row)


def write_result(out_dir: Path, index: int, result: FetchResult) -> None:
    """Write one result: the body file first, then the JSON, each by atomic rename."""
    data: dict[str, Any] = asdict(result)
    body, shot = data.pop("body"), data.pop("screenshot")
    data["started_at"] = result.started_at.isoformat()
    data["has_body"] = body is not None
    data["has_screenshot"] = shot is not None
    if body is not None:
        _write_atomic(out_dir / f"{index}.body", body)
    if shot is not None:
        _write_atomic(out_dir / f"{index}.jpg", shot)
    # The JSON lands last: a JSON file present means its body file is complete.
    _write_atomic(out_dir / f"{index}.json", json.dumps(data).encode("utf-8"))


def read_results(out_dir: Path) -> dict[int, FetchResult]:
    """Read every complete result the child wrote, by request position (files kept)."""
    return {index: _read_result(out_dir, index) for index in landed(out_dir)}


def landed(out_dir: Path) -> list[int]:
    """The positions of the complete results in the folder so far, in order."""
    with os.scandir(out_dir) as entries:
        # "<n>.json" only: "<n>.json.tmp" is a result still being written.
        return sorted(int(e.name[:-5]) for e in entries if e.name.endswith(".json"))


def take_result(out_dir: Path, index: int) -> FetchResult:
    """Read one complete result and remove its files (the child never writes them again)."""
    result = _read_result(out_dir, index)
    (out_dir / f"{index}.body").unlink(missing_ok=True)
    (out_dir / f"{index}.jpg").unlink(missing_ok=True)
    (out_dir / f"{index}.json").unlink()
    return result


def _read_result(out_dir: Path, index: int) -> FetchResult:
    data = json.loads((out_dir / f"{index}.json").read_text(encoding="utf-8"))
    has_body = data.pop("has_body")
    body = (out_dir / f"{index}.body").read_bytes() if has_body else None
    # Results of a child from before rendering carry neither key.
    shot = (out_dir / f"{index}.jpg").read_bytes() if data.pop("has_screenshot", False) else None
    data["redirects"] = tuple(data["redirects"])
    data["boxes"] = tuple(tuple(box) for box in data.get("boxes", ()))
    data["screenshot_size"] = tuple(data.get("screenshot_size", (0, 0)))
    data["started_at"] = datetime.fromisoformat(data["started_at"])
    return FetchResult(body=body, screenshot=shot, **data)


def _write_atomic(path: Path, content: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)
