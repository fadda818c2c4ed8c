"""The layout's rules, read off the source: stage packages without import cycles, the allowed
direction between top-level packages, and Scrapy kept to the fetch child."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("crawler", "spiders", "storage", "diffs", "reports")
# What each top-level package may import (../shared/DESIGN.md's layout table).
MAY_IMPORT = {
    "diffs": set(),
    "storage": {"diffs"},
    "reports": {"storage", "diffs"},
    "crawler": {"storage", "diffs", "reports", "spiders"},
    "spiders": {"crawler"},
}


def _modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield name, path


def _imports(path: Path) -> Iterator[str]:
    """Every module a file imports, at any depth (imports inside functions count too)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _stage(module: str) -> str:
    """crawler.fetch.parent -> crawler.fetch; storage.store -> storage."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "crawler" else parts[0]


def _graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for name, path in _modules():
        for target in _imports(path):
            if target.split(".")[0] in PACKAGES and _stage(target) != _stage(name):
                edges.setdefault(_stage(name), set()).add(_stage(target))
    return edges


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_stage_packages_have_no_import_cycle() -> None:
    edges = _graph()
    # spiders <-> crawler.fetch is the one known pair: the child imports spiders, and spiders
    # import the shared types. It is not a cycle of modules (see the next test).
    cycle = _cycle({k: v - {"spiders"} if k == "crawler.fetch" else v for k, v in edges.items()})
    assert cycle is None, " -> ".join(cycle or [])


def test_only_the_fetch_child_imports_spiders_and_scrapy() -> None:
    importers = {
        name
        for name, path in _modules()
        for target in _imports(path)
        if target.split(".")[0] in {"spiders", "scrapy", "twisted"}
        and not name.startswith("spiders")
    }
    glue = {
        f"crawler.fetch.{m}" for m in ("child", "middlewares", "pipelines", "resolver", "settings")
    }
    assert importers <= glue, sorted(importers - glue)
    spider_importers = {
        name for name, path in _modules() for t in _imports(path) if t.startswith("spiders")
    }
    assert spider_importers - {"spiders", "spiders.sources"} == {"crawler.fetch.child"}


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_top_level_packages_import_one_way(package: str) -> None:
    wrong = {
        f"{name} imports {target}"
        for name, path in _modules()
        if name.split(".")[0] == package
        for target in _imports(path)
        if target.split(".")[0] in PACKAGES
        and target.split(".")[0] != package
        and target.split(".")[0] not in MAY_IMPORT[package]
    }
    assert not wrong, sorted(wrong)


def test_the_parent_side_loads_no_scrapy() -> None:
    code = (
        "import sys, crawler.fetch, crawler.ingest, crawler.run, crawler.cli\n"
        "print(sorted(m for m in ('scrapy', 'twisted', 'spiders') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "package",
    sorted(
        {_stage(n) for n, _ in _modules() if n.startswith("crawler")}
        - {"crawler.environment"}  # a module, not a stage: the environment, read once
    ),
)
def test_each_stage_names_its_public_api(package: str) -> None:
    init = ROOT / package.replace(".", "/") / "__init__.py"
    tree = ast.parse(init.read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{init} says in one line what it owns"
    if package in {"crawler", "crawler.demo"}:
        return  # one command's module, not a stage with an API of its own
    names = [
        n.targets[0].id
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name)
    ]
    assert "__all__" in names, f"{init} has no __all__"
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{init} exports names it does not define: {missing}"


def test_no_exported_name_hides_a_submodule() -> None:
    # `from crawler.ingest.analysis import analyze` in crawler/ingest/__init__.py is fine; a
    # module named `analyze` beside it would be hidden by the function (patching and
    # `import crawler.ingest.analysis` would silently reach the function).
    hidden = []
    for init in ROOT.glob("crawler/*/__init__.py"):
        submodules = {p.stem for p in init.parent.glob("*.py")} | {
            p.name for p in init.parent.iterdir() if (p / "__init__.py").exists()
        }
        tree = ast.parse(init.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ImportFrom):
                hidden += [
                    f"{init.parent.name}.{a.asname or a.name}"
                    for a in node.names
                    if (a.asname or a.name) in submodules
                    and node.module != f"crawler.{init.parent.name}"
                ]
    assert not hidden, hidden
