"""A crawl's selection: set-based, and handed to a crawl child in a file, never on its command
line (100,000 due sources made `citewatch run`'s child fail with "Argument list too long")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import LocalServer, Reply

from crawler.catalog.model import Catalog, Source, Tool
from crawler.catalog.selection import (
    MAX_SELECTION_BYTES,
    SelectionError,
    read_selection,
    select_sources,
    write_selection,
)
from crawler.cli import cli
from crawler.run.scheduler import crawl_argv

HTML = {"Content-Type": "text/html; charset=utf-8"}
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
BIG = 100_000
ARGV_BYTES = 4096  # a crawl child's command line stays this small whatever it crawls


def catalog(tools: int, per_tool: int) -> Catalog:
    """A synthetic catalog (no files): tool t<i> with sources s<j>."""
    return Catalog(
        "cat",
        (),
        tuple(
            Tool(
                id=f"t{i}",
                name=f"T{i}",
                sources=tuple(
                    Source(id=f"s{j}", url=f"https://h{i}.example/{j}") for j in range(per_tool)
                ),
            )
            for i in range(tools)
        ),
    )


def test_a_100k_source_selection_reaches_the_crawl_child_in_a_file(tmp_path: Path) -> None:
    names = [f"t{i}/s{j}" for i in range(BIG // 10) for j in range(10)]
    selection = write_selection(tmp_path / "selection.txt", names)
    argv = crawl_argv("sqlite:///x.db", "/cat", selection, ["DOWNLOAD_DELAY=0"], 900.0)
    assert sum(len(arg.encode()) + 1 for arg in argv) < ARGV_BYTES
    assert argv[argv.index("--source-file") + 1] == str(selection)
    assert "--source" not in argv
    assert read_selection(selection) == tuple(names)
    picked = select_sources(catalog(BIG // 10, 10), sources=read_selection(selection))
    assert len(picked) == BIG


def test_select_sources_by_sets_keeps_catalog_order() -> None:
    cat = catalog(3, 3)
    picked = select_sources(cat, sources=["t2/s0", "s1", "t0/s2", "nope/s9"])
    assert [f"{t.id}/{s.id}" for t, s in picked] == ["t0/s1", "t0/s2", "t1/s1", "t2/s0", "t2/s1"]
    picked = select_sources(cat, tools=["t1"], sources=["t2/s0", "s2"])
    assert [f"{t.id}/{s.id}" for t, s in picked] == ["t1/s2"]
    with pytest.raises(SelectionError, match="no tool zz"):
        select_sources(cat, tools=["zz", "t1"])


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", "names no source"),
        (b"\n  \n\r\n", "names no source"),
        (b"acme/a\n\xff\xfe\n", "is not UTF-8 text"),
        (b"acme/a\x00\n", "holds a NUL"),
    ],
)
def test_a_bad_selection_file_is_an_error_never_the_whole_catalog(
    tmp_path: Path, content: bytes, error: str
) -> None:
    path = tmp_path / "selection.txt"
    path.write_bytes(content)
    with pytest.raises(SelectionError, match=error):
        read_selection(path)


def test_a_selection_file_past_its_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "selection.txt"
    with path.open("wb") as out:
        out.truncate(MAX_SELECTION_BYTES + 1)  # sparse: no disk spent
    with pytest.raises(SelectionError, match="larger than"):
        read_selection(path)
    with pytest.raises(SelectionError, match="cannot read"):
        read_selection(tmp_path / "missing.txt")


def test_crawl_source_file_crawls_exactly_its_sources(
    http_server: LocalServer, tmp_path: Path
) -> None:
    for name in ("a", "b", "c"):
        http_server.route(f"/{name}", Reply(200, f"<p>{name}</p>".encode(), HTML))
    (tmp_path / "cat" / "tools").mkdir(parents=True)
    sources = "".join(f"  - id: {n}\n    url: {http_server.url('/' + n)}\n" for n in "abc")
    (tmp_path / "cat" / "tools" / "acme.yaml").write_text(
        f"id: acme\nname: Acme\nsources:\n{sources}", encoding="utf-8"
    )
    db = f"sqlite:///{tmp_path / 'cw.db'}"
    chosen = write_selection(tmp_path / "sel.txt", ["acme/c", "acme/a"])
    args = ["--db", db, "crawl", str(tmp_path / "cat"), "--json", *FAST]
    done = CliRunner().invoke(cli, [*args, "--source-file", str(chosen)], obj={})
    assert done.exit_code == 0, done.output
    assert [s["source"] for s in json.loads(done.stdout)["sources"]] == ["a", "c"]
    assert http_server.hits("/b") == []
    empty = tmp_path / "empty.txt"
    empty.write_text("\n", encoding="utf-8")
    refused = CliRunner().invoke(cli, [*args, "--source-file", str(empty)], obj={})
    assert refused.exit_code == 1
    assert "names no source" in refused.output
    assert len(http_server.hits("/b")) == 0  # an empty selection is not "everything"
