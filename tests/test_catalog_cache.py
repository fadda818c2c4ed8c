"""The parsed-catalog cache (crawler/catalog/cache.py): a hit is the fresh load, any change of
a catalog file is a miss, a bad entry is ignored and a broken catalog is never cached."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.catalog import Catalog, CatalogCache, CatalogErrors, load_catalog
from crawler.catalog import cache as cache_module
from crawler.cli import cli
from crawler.environment import read_environment
from storage import Store

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from scale_corpus import write_catalog  # noqa: E402  (bench scripts are not a package)

TAXONOMY = "criteria:\n  - id: own\n    label: Own criterion\n"


def _example(tmp_path: Path) -> Path:
    return Path(shutil.copytree(ROOT / "examples" / "catalog", tmp_path / "catalog"))


def _entries(cache: CatalogCache) -> list[Path]:
    return sorted((cache.folder / "catalogs").glob("*.pickle"))


def _tool(folder: Path, tool: str, url: str = "https://a.example/p") -> Path:
    path = folder / "tools" / f"{tool}.yaml"
    path.write_text(f"id: {tool}\nname: T\nsources:\n  - id: p\n    url: {url}\n", "utf-8")
    return path


def test_a_hit_equals_a_fresh_load_for_the_example_and_a_generated_catalog(
    tmp_path: Path,
) -> None:
    cache = CatalogCache(tmp_path / "cache")
    generated = write_catalog(tmp_path / "generated", 30, 10)
    (generated / "taxonomy.yaml").write_text(TAXONOMY, encoding="utf-8")
    for folder in (_example(tmp_path), generated):
        fresh = load_catalog(folder)
        cold = load_catalog(folder, cache=cache)  # parses and writes the entry
        warm = load_catalog(folder, cache=cache)  # reads it
        assert fresh == cold == warm and warm is not cold
        assert warm.criterion("own") if folder == generated else warm.tools
    assert len(_entries(cache)) == 2


def test_an_unchanged_catalog_is_read_from_the_cache_not_parsed(tmp_path: Path) -> None:
    folder, cache = _example(tmp_path), CatalogCache(tmp_path / "cache")
    load_catalog(folder, cache=cache)
    key = cache_module.cache_key(folder)
    assert key is not None
    marker = Catalog(str(folder), (), ())  # what the entry holds is what a hit returns
    cache.write(folder, key, marker)
    assert load_catalog(folder, cache=cache) == marker
    assert load_catalog(folder) != marker  # without the cache: parsed


def test_an_edit_an_added_and_a_removed_file_are_each_a_miss(tmp_path: Path) -> None:
    folder, cache = tmp_path / "catalog", CatalogCache(tmp_path / "cache")
    (folder / "tools").mkdir(parents=True)
    first = _tool(folder, "one")
    assert [t.id for t in load_catalog(folder, cache=cache).tools] == ["one"]
    # Same size, mtime set back: only the ctime (and content) differ.
    stat = first.stat()
    first.write_text(first.read_text("utf-8").replace("a.example", "b.example"), "utf-8")
    os.utime(first, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert first.stat().st_size == stat.st_size
    assert load_catalog(folder, cache=cache).tools[0].sources[0].url == "https://b.example/p"
    _tool(folder, "two")
    assert [t.id for t in load_catalog(folder, cache=cache).tools] == ["one", "two"]
    first.unlink()
    assert [t.id for t in load_catalog(folder, cache=cache).tools] == ["two"]
    (folder / "taxonomy.yaml").write_text(TAXONOMY, encoding="utf-8")
    assert load_catalog(folder, cache=cache).criterion("own").label == "Own criterion"
    assert load_catalog(folder, cache=cache) == load_catalog(folder)


def test_a_broken_catalog_is_never_cached_and_a_good_entry_never_hides_it(
    tmp_path: Path,
) -> None:
    folder, cache = tmp_path / "catalog", CatalogCache(tmp_path / "cache")
    (folder / "tools").mkdir(parents=True)
    tool = _tool(folder, "one", "not a url")
    with pytest.raises(CatalogErrors, match=r"one\.yaml"):
        load_catalog(folder, cache=cache)
    assert _entries(cache) == []
    _tool(folder, "one")
    load_catalog(folder, cache=cache)
    tool.write_text("id: one\nname: [\n", encoding="utf-8")  # a syntax error
    with pytest.raises(CatalogErrors, match=r"one\.yaml"):
        load_catalog(folder, cache=cache)


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: b"garbage",  # not an entry
        lambda data: data.replace(b"citewatch catalog cache", b"citewatch catalog cachf"),
        lambda data: data[:-40] + bytes(40),  # a corrupt pickle
    ],
)
def test_a_damaged_entry_is_ignored_and_rewritten(tmp_path: Path, damage: object) -> None:
    folder, cache = _example(tmp_path), CatalogCache(tmp_path / "cache")
    fresh = load_catalog(folder, cache=cache)
    (entry,) = _entries(cache)
    good = entry.read_bytes()
    entry.write_bytes(damage(good))  # type: ignore[operator]
    assert load_catalog(folder, cache=cache) == fresh
    assert entry.read_bytes() == good  # rewritten


def test_an_entry_others_can_write_is_not_trusted(tmp_path: Path) -> None:
    folder, cache = _example(tmp_path), CatalogCache(tmp_path / "cache")
    load_catalog(folder, cache=cache)
    key = cache_module.cache_key(folder)
    assert key is not None
    (entry,) = _entries(cache)
    entry.chmod(0o666)  # a pickle runs code when loaded
    assert cache.read(folder, key) is None
    entry.chmod(0o600)
    assert isinstance(cache.read(folder, key), Catalog)


def test_an_unusable_cache_folder_or_a_huge_catalog_only_skips_caching(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _example(tmp_path)
    (tmp_path / "blocked").write_text("a file where the folder would be", encoding="utf-8")
    assert load_catalog(folder, cache=CatalogCache(tmp_path / "blocked")) == load_catalog(folder)
    cache = CatalogCache(tmp_path / "cache")
    monkeypatch.setattr(cache_module, "MAX_CACHE_BYTES", 1000)
    load_catalog(folder, cache=cache)
    assert _entries(cache) == []


def test_old_entries_are_pruned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_module, "MAX_CACHED_CATALOGS", 2)
    cache = CatalogCache(tmp_path / "cache")
    for name in ("a", "b", "c"):
        folder = tmp_path / name
        (folder / "tools").mkdir(parents=True)
        _tool(folder, name)
        load_catalog(folder, cache=cache)
    assert len(_entries(cache)) == 2
    key = cache_module.cache_key(tmp_path / "c")
    assert key is not None and cache.read(tmp_path / "c", key) is not None


def test_the_cache_folder_comes_from_the_environment() -> None:
    assert read_environment({"CITEWATCH_CACHE_DIR": "/c", "HOME": "/h"}).cache_dir == "/c"
    xdg = {"XDG_CACHE_HOME": "/x", "HOME": "/h"}
    assert read_environment(xdg).cache_dir == "/x/citewatch"
    relative = {"XDG_CACHE_HOME": "x", "HOME": "/h"}  # the XDG spec: ignored
    assert read_environment(relative).cache_dir == "/h/.cache/citewatch"
    assert read_environment({}).cache_dir is None
    off = {"CITEWATCH_CACHE_DIR": "/c", "CITEWATCH_NO_CACHE": "1"}
    assert read_environment(off).cache_dir is None
    assert read_environment({**off, "CITEWATCH_NO_CACHE": "0"}).cache_dir == "/c"


def test_status_uses_the_cache_and_no_cache_turns_it_off(tmp_path: Path) -> None:
    folder, db = _example(tmp_path), f"sqlite:///{tmp_path / 'cw.db'}"
    Store.open(db, create=True).close()
    args = ["--db", db, "status", "--json", "--catalog", str(folder)]
    off = {"CITEWATCH_CACHE_DIR": str(tmp_path / "off"), "CITEWATCH_NO_CACHE": "1"}
    plain = CliRunner().invoke(cli, args, obj={}, env=off)
    assert plain.exit_code == 0, plain.output
    assert not (tmp_path / "off").exists()
    on = {"CITEWATCH_CACHE_DIR": str(tmp_path / "on"), "CITEWATCH_NO_CACHE": ""}
    for _ in ("cold", "warm"):
        cached = CliRunner().invoke(cli, args, obj={}, env=on)
        assert cached.exit_code == 0, cached.output
        assert json.loads(cached.output)["sources"] == json.loads(plain.output)["sources"]
    assert len(_entries(CatalogCache(tmp_path / "on"))) == 1
