"""Hostile catalogs: every case ends in `FILE: ENTRY: FIELD: message` lines and exit 1.

Each row puts one hostile file beside a good tool and a tool with an ordinary error, runs
`citewatch check`, and expects one line per error (no traceback), the hostile one named by
file, entry and field, and the ordinary error still reported. Rows that could hang or eat the
machine on a broken loader (a FIFO, a device, an alias bomb) run in a subprocess under a
timeout and an address-space limit. The scheduler's catalog reload is checked on the same
inputs, and a Hypothesis property checks that the loader raises nothing but CatalogErrors.
"""

from __future__ import annotations

import logging
import os
import re
import resource
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.catalog.model import CatalogErrors, load_catalog
from crawler.catalog.watch import CatalogWatch
from crawler.cli import cli

REPO = Path(__file__).resolve().parents[1]

GOOD = """\
id: good
name: Good
sources:
  - id: page
    url: https://good.example/privacy
ratings:
  dpa:
    rating: yes
    sources: [page]
"""
OTHER = "id: other\nsources: []\n"  # an ordinary error (no name) that must still be reported
OTHER_ERROR = ("other.yaml", "tool other", "name", "required")

TOOL = """\
id: t1
name: Tool One
sources:
  - id: s1
    url: https://example.com/privacy
    every: 1d
ratings:
  dpa:
    rating: yes
    sources: [s1]
"""


def tool(**changes: str) -> str:
    """TOOL with some `old=new` substitutions (keys name the line's field)."""
    text = TOOL
    for key, value in changes.items():
        old = {"url": "https://example.com/privacy", "every": "1d", "name": "Tool One"}[key]
        text = text.replace(old, value, 1)
    return text


def with_source_line(line: str) -> str:
    """TOOL with one more line in source s1."""
    return TOOL.replace("    every: 1d\n", f"    every: 1d\n    {line}\n")


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The "billion laughs": each anchor a list of `width` aliases of the one before."""
    lines = ["id: t1", "x:", "  - &a [" + ",".join(["lol"] * width) + "]"]
    names = "abcdefghijklmnopqrstuvwxyz"
    for level in range(1, levels):
        aliases = ",".join([f"*{names[level - 1]}"] * width)
        lines.append(f"  - &{names[level]} [{aliases}]")
    lines.append(f"name: *{names[levels - 1]}")
    return "\n".join(lines) + "\n"


def nested(depth: int) -> str:
    """A tool whose name is a list nested `depth` levels deep."""
    return tool(name="[" * depth + "]" * depth)


def mkfifo(path: Path) -> None:
    """A named pipe: opening it for reading blocks until a writer comes."""
    os.mkfifo(path)


def device(path: Path) -> None:
    """A character device that never ends."""
    path.symlink_to("/dev/zero")


def folder(path: Path) -> None:
    """A folder named like a tool file."""
    path.mkdir()


Expected = tuple[str, str, str, str]  # file name, entry prefix, field, words of the message


@dataclass(frozen=True)
class Case:
    """One hostile input: files to add (text, or a function making the path) and the errors."""

    name: str
    files: dict[str, str | Callable[[Path], None]]
    errors: tuple[Expected, ...] = ()  # none: the input is valid and must be accepted
    isolated: bool = False  # run in a subprocess under a timeout and a memory limit
    words: tuple[str, ...] = field(default=())  # must not appear anywhere in the output


URL_ROW = ("t1.yaml", "source s1", "url")

CASES = [
    Case(
        "alias bomb",
        {"tools/t1.yaml": alias_bomb()},
        (("t1.yaml", "line", "yaml", "alias"),),
        isolated=True,
    ),
    Case(
        "alias of its own node",
        {"tools/t1.yaml": tool(name="&r [x, *r]")},
        (("t1.yaml", "line", "yaml", "contains it"),),
    ),
    Case("deep nesting", {"tools/t1.yaml": nested(5000)}, (("t1.yaml", "line", "yaml", "deep"),)),
    Case(
        "deep nesting of mappings",
        {"tools/t1.yaml": tool(name="{a: " * 3000 + "1" + "}" * 3000)},
        (("t1.yaml", "line", "yaml", "deep"),),
    ),
    Case(
        "list as a mapping key",
        {"tools/t1.yaml": TOOL + "[a, b]: c\n"},
        (("t1.yaml", "line 11", "yaml", "key"),),
    ),
    Case(
        "mapping as a key",
        {"tools/t1.yaml": TOOL + "? {a: b}\n: c\n"},
        (("t1.yaml", "line 11", "yaml", "key"),),
    ),
    Case(
        "merge key",
        {"tools/t1.yaml": "base: &b {name: X}\n<<: *b\nid: t1\n"},
        (("t1.yaml", "line 2", "yaml", "merge keys (<<) are not supported"),),
    ),
    Case(
        "every overflows timedelta",
        {"tools/t1.yaml": tool(every="1000000000d")},
        (("t1.yaml", "source s1", "every", "at most"),),
    ),
    Case(
        "every of 5,000 digits",
        {"tools/t1.yaml": tool(every="9" * 5000 + "s")},
        (("t1.yaml", "source s1", "every", "duration"),),
    ),
    Case(
        "every of ten years",
        {"tools/t1.yaml": tool(every="520w")},
        (("t1.yaml", "source s1", "every", "at most"),),
    ),
    Case(
        "20,000-part selector",
        {"tools/t1.yaml": with_source_line("select: '" + ", ".join(["div > p"] * 20000) + "'")},
        (("t1.yaml", "source s1", "select", "characters"),),
    ),
    Case(
        "500 descendant combinators",
        {"tools/t1.yaml": with_source_line("exclude: '" + " ".join(["a"] * 499) + "'")},
        (("t1.yaml", "source s1", "exclude", "nested"),),
    ),
    Case(
        ":is() nested 150 deep",
        {"tools/t1.yaml": with_source_line("select: '" + ":is(" * 150 + "a" + ")" * 150 + "'")},
        (("t1.yaml", "source s1", "select", "nested"),),
    ),
    Case("malformed IPv6 URL", {"tools/t1.yaml": tool(url="http://[::1/")}, ((*URL_ROW, "IPv6"),)),
    Case(
        "bracketed non-address", {"tools/t1.yaml": tool(url="http://[xyz]/")}, ((*URL_ROW, "IPv6"),)
    ),
    Case(
        "port too large",
        {"tools/t1.yaml": tool(url="http://example.com:99999/")},
        ((*URL_ROW, "port 99999 is out of range"),),
    ),
    Case(
        "negative port",
        {"tools/t1.yaml": tool(url="http://example.com:-1/")},
        ((*URL_ROW, "port"),),
    ),
    Case(
        "port not a number",
        {"tools/t1.yaml": tool(url="http://example.com:abc/x")},
        ((*URL_ROW, "port"),),
    ),
    Case(
        "port zero",
        {"tools/t1.yaml": tool(url="http://example.com:0/")},
        ((*URL_ROW, "port 0 is out of range"),),
    ),
    Case(
        "credentials in the URL",
        {"tools/t1.yaml": tool(url="https://user:secret@example.com/p")},
        ((*URL_ROW, "credentials"),),
        words=("secret",),
    ),
    Case(
        "user name in the URL",
        {"tools/t1.yaml": tool(url="https://user@example.com/p")},
        ((*URL_ROW, "credentials"),),
    ),
    Case("empty host", {"tools/t1.yaml": tool(url="http://:8080/x")}, ((*URL_ROW, "host"),)),
    Case(
        "host with a space",
        {"tools/t1.yaml": tool(url="'http://exa mple.com/x'")},
        ((*URL_ROW, "host"),),
    ),
    Case(
        "host with a forbidden character",
        {"tools/t1.yaml": tool(url="http://exa<mple.com/")},
        ((*URL_ROW, "host"),),
    ),
    Case(
        "empty host label",
        {"tools/t1.yaml": tool(url="http://a..example.com/")},
        ((*URL_ROW, "host"),),
    ),
    Case(
        "URL over Scrapy's length limit",
        {"tools/t1.yaml": tool(url="https://example.com/" + "a" * 2100)},
        ((*URL_ROW, "characters"),),
    ),
    Case(
        "control character in the URL",
        {"tools/t1.yaml": tool(url='"https://example.com/a\\x07b"')},
        ((*URL_ROW, "control character"),),
    ),
    Case("IPv6 literal", {"tools/t1.yaml": tool(url="http://[2001:db8::1]/x")}),
    Case("IPv6 loopback with port", {"tools/t1.yaml": tool(url="http://[::1]:8080/")}),
    Case("international host", {"tools/t1.yaml": tool(url="https://bücher.example/agb")}),
    Case(
        "FIFO as a tool file",
        {"tools/fifo.yaml": mkfifo},
        (("fifo.yaml", "file", "file", "not a regular file"),),
        isolated=True,
    ),
    Case(
        "device as a tool file",
        {"tools/zero.yaml": device},
        (("zero.yaml", "file", "file", "not a regular file"),),
        isolated=True,
    ),
    Case(
        "folder as a tool file",
        {"tools/dir.yaml": folder},
        (("dir.yaml", "file", "file", "not a regular file"),),
    ),
    Case(
        "FIFO as the taxonomy",
        {"taxonomy.yaml": mkfifo},
        (("taxonomy.yaml", "file", "file", "not a regular file"),),
        isolated=True,
    ),
    Case(
        "tool file over 1 MiB",
        {"tools/big.yaml": TOOL + ("# padding\n" * 110_000)},
        (("big.yaml", "file", "file", "over the limit"),),
    ),
    Case(
        "tool id of 65 characters",
        {"tools/t1.yaml": TOOL.replace("id: t1", "id: " + "t" * 65)},
        (("t1.yaml", "tool", "id", "64 characters"),),
    ),
    Case(
        "source id of 100 characters",
        {"tools/t1.yaml": TOOL.replace("s1", "s" * 100)},
        (("t1.yaml", "source", "id", "64 characters"),),
    ),
    Case(
        "criterion id of 65 characters",
        {"taxonomy.yaml": f"criteria:\n  - id: {'c' * 65}\n    label: C\n"},
        (("taxonomy.yaml", "criterion", "id", "64 characters"),),
    ),
    Case(
        "invalid date",
        {"tools/t1.yaml": tool(name="2024-13-45")},
        (("t1.yaml", "line 2", "yaml", "month"),),
    ),
    Case(
        "integer of 5,000 digits",
        {"tools/t1.yaml": tool(name="1" * 5000)},
        (("t1.yaml", "line 2", "yaml", "digits"),),
    ),
    Case(
        "!!int on a word",
        {"tools/t1.yaml": tool(name="!!int abc")},
        (("t1.yaml", "line 2", "yaml", "int"),),
    ),
    Case(
        "!!bool on a word",
        {"tools/t1.yaml": tool(name="!!bool maybe")},
        (("t1.yaml", "line 2", "yaml", "bool"),),
    ),
    Case(
        "!!timestamp on a word",
        {"tools/t1.yaml": tool(name="!!timestamp someday")},
        (("t1.yaml", "line 2", "yaml", "timestamp"),),
    ),
    Case(
        "NUL character",
        {"tools/t1.yaml": tool(name="a\x00b")},
        (("t1.yaml", "line 2", "yaml", "#x0000"),),
    ),
    Case(
        "key with a line break",
        {"tools/t1.yaml": TOOL + '"evil\\nkey": 1\n'},
        (("t1.yaml", "tool t1", "evil\\nkey", "unknown key"),),
    ),
    Case(
        "megabyte key",
        {"tools/t1.yaml": TOOL + "? " + "k" * 500_000 + "\n: 1\n"},
        (("t1.yaml", "tool t1", "kkk", "unknown key"),),
    ),
    Case("not UTF-8", {"tools/t1.yaml": "name: \udcff\n"}, (("t1.yaml", "file", "file", "UTF-8"),)),
]


def build(root: Path, case: Case) -> Path:
    """The catalog of a case: a good tool, a tool with one ordinary error, the hostile files."""
    (root / "tools").mkdir(parents=True)
    (root / "tools" / "good.yaml").write_text(GOOD, encoding="utf-8")
    (root / "tools" / "other.yaml").write_text(OTHER, encoding="utf-8")
    for name, content in case.files.items():
        path = root / name
        if isinstance(content, str):
            path.write_bytes(content.encode("utf-8", "surrogateescape"))
        else:
            content(path)
    return root


def _limit_memory() -> None:
    """A broken loader hits this instead of the machine's memory (1 GiB of address space)."""
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def check(root: Path, isolated: bool) -> tuple[int, str]:
    """`citewatch check ROOT`: exit code and everything printed."""
    if not isolated:
        result = CliRunner().invoke(cli, ["check", str(root)], obj={})
        return result.exit_code, result.output
    try:
        done = subprocess.run(
            [sys.executable, "-m", "crawler.cli", "check", str(root)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=_limit_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("check did not finish in 60 s")
    return done.returncode, done.stdout + done.stderr


def error_lines(output: str, root: Path) -> list[str]:
    """The error lines of `check`'s output (the header line names no file)."""
    return [line for line in output.splitlines() if not line.startswith("Error: ")]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_catalog_ends_in_one_line_per_error(tmp_path: Path, case: Case) -> None:
    root = build(tmp_path / "catalog", case)
    code, output = check(root, case.isolated)
    assert "Traceback" not in output, output[-2000:]
    assert code == 1, output[-2000:]
    lines = error_lines(output, root)
    shape = re.compile(rf"^{re.escape(str(root))}/\S[^:]*: [^:]+: .+: .+$")
    assert lines and all(shape.match(line) for line in lines), lines[:5]
    assert all(len(line) < 1000 for line in lines), [len(line) for line in lines]
    expected = (*case.errors, OTHER_ERROR)
    for file, entry, field_name, words in expected:
        prefix = f"{root}/tools/{file}: " if file != "taxonomy.yaml" else f"{root}/{file}: "
        parsed = [line[len(prefix) :].split(": ", 2) for line in lines if line.startswith(prefix)]
        hits = [
            (at, name, message)
            for at, name, message in parsed
            if at.startswith(entry) and name.startswith(field_name) and words in message
        ]
        assert hits, (file, entry, field_name, words, lines)
    if not case.errors:  # a valid input: only the ordinary error is reported
        assert lines == [f"{root}/tools/other.yaml: tool other: name: required"], lines
    for word in case.words:
        assert word not in output


def test_every_limit_of_check_keeps_other_files_errors_and_line_shape(tmp_path: Path) -> None:
    """Every hostile file at once: each still reported alone, in one check."""
    root = tmp_path / "catalog"
    (root / "tools").mkdir(parents=True)
    (root / "tools" / "good.yaml").write_text(GOOD, encoding="utf-8")
    rows = [c for c in CASES if c.errors and not c.isolated and "taxonomy.yaml" not in c.files]
    for n, case in enumerate(rows):
        ((name, content),) = case.files.items()
        target = root / "tools" / f"case{n}{Path(name).suffix}"
        if isinstance(content, str):
            target.write_bytes(content.encode("utf-8", "surrogateescape"))
        else:
            content(target)
    code, output = check(root, isolated=False)
    assert code == 1 and "Traceback" not in output
    named = {line.split(":", 1)[0] for line in error_lines(output, root)}
    assert named == {f"{root}/tools/case{n}.yaml" for n in range(len(rows))}


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c.errors and "tools/t1.yaml" in c.files and not c.isolated]
    + [next(c for c in CASES if c.name == "FIFO as a tool file")],
    ids=lambda c: c.name,
)
def test_scheduler_reload_keeps_the_last_good_catalog(
    tmp_path: Path, case: Case, caplog: pytest.LogCaptureFixture
) -> None:
    root = build(tmp_path / "catalog", Case("none", {}))
    (root / "tools" / "other.yaml").unlink()
    watch = CatalogWatch(str(root))
    try:
        good = watch.catalog
        build_files(root, case)
        with caplog.at_level(logging.INFO, logger="citewatch.run"):
            assert watch.refresh() is good
            assert watch.refresh() is good  # logged once, not at every cycle
        records = [r for r in caplog.records if r.name == "citewatch.run"]
        assert len(records) == 1 and records[0].levelno == logging.ERROR, records
        assert "keeping the last good one" in records[0].getMessage()
        copy = Path(watch.crawl_path)
        assert copy != root and [t.id for t in load_catalog(copy).tools] == ["good"]
    finally:
        watch.close()


def build_files(root: Path, case: Case) -> None:
    """Add a case's hostile files to an existing catalog."""
    for name, content in case.files.items():
        path = root / name
        if isinstance(content, str):
            path.write_bytes(content.encode("utf-8", "surrogateescape"))
        else:
            content(path)


def test_whole_catalog_size_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the catalog's byte limit the rest is not read: one error names the limit."""
    import crawler.catalog.files as files

    monkeypatch.setattr(files, "MAX_CATALOG_BYTES", 3 * len(GOOD))
    root = tmp_path / "catalog"
    (root / "tools").mkdir(parents=True)
    for n in range(5):
        (root / "tools" / f"t{n}.yaml").write_text(GOOD.replace("good", f"t{n}"), "utf-8")
    with pytest.raises(CatalogErrors) as info:
        load_catalog(root)
    (error,) = info.value.errors
    assert (error.entry, error.field) == ("catalog", "size")
    assert "t3.yaml" in error.message and "limit" in error.message


def test_errors_stay_one_line_whatever_the_file_name(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    (root / "tools").mkdir(parents=True)
    (root / "tools" / "a\nb.yaml").write_text("id: x\n", encoding="utf-8")
    bad = os.fsencode(root / "tools") + b"/\xff.yaml"
    with open(bad, "wb") as handle:
        handle.write(b"id: y\n")
    code, output = check(root, isolated=False)
    assert code == 1 and "Traceback" not in output
    lines = error_lines(output, root)
    assert len(lines) == 2 and all("name: required" in line for line in lines), lines


def test_valid_catalog_text_is_unchanged(tmp_path: Path) -> None:
    """The limits accept every input of the documented format (README's example)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    example = readme.split("# tools/acme.yaml\n", 1)[1].split("```", 1)[0]
    root = tmp_path / "catalog"
    (root / "tools").mkdir(parents=True)
    (root / "tools" / "acme.yaml").write_text(textwrap.dedent(example), encoding="utf-8")
    catalog = load_catalog(root)
    assert catalog.tool("acme-ai").source("privacy-policy").url == "https://acme.example/privacy"
