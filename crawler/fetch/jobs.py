"""Job and result files: the only channel between the crawl parent and its fetch child.

The parent writes one job file; the child writes one result per page as it lands (the body
first, then its JSON, each by atomic rename), so whatever a killed child finished is kept.
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
    body = data.pop("body")
    data["started_at"] = result.started_at.isoformat()
    data["has_body"] = body is not None
    if body is not None:
        _write_atomic(out_dir / f"{index}.body", body)
    # The JSON lands last: a JSON file present means its body file is complete.
    _write_atomic(out_dir / f"{index}.json", json.dumps(data).encode("utf-8"))


def read_results(out_dir: Path) -> dict[int, FetchResult]:
    """Read every complete result the child wrote, by request position."""
    results: dict[int, FetchResult] = {}
    for path in out_dir.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        has_body = data.pop("has_body")
        body = (out_dir / f"{path.stem}.body").read_bytes() if has_body else None
        data["redirects"] = tuple(data["redirects"])
        data["started_at"] = datetime.fromisoformat(data["started_at"])
        results[int(path.stem)] = FetchResult(body=body, **data)
    return results


def _write_atomic(path: Path, content: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)
