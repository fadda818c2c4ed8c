"""The README is part of the public interface: its examples must work, its CLI be complete."""

from __future__ import annotations

import re
from pathlib import Path

from crawler.catalog.model import load_catalog
from crawler.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands() -> None:
    head = README.split("---", 1)[0]
    assert "make demo" in head and "make test" in head


def test_readme_catalog_example_loads(tmp_path: Path) -> None:
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", README, re.S) if "ratings:" in b]
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "acme.yaml").write_text(block, encoding="utf-8")
    catalog = load_catalog(tmp_path)
    (tool,) = catalog.tools
    assert tool.id == "acme-ai" and tool.ratings[0].evidence[0].source == "privacy-policy"


def test_every_command_is_documented() -> None:
    for name in cli.list_commands(None):  # type: ignore[arg-type]
        assert f"`{name}" in README, f"README does not document `{name}`"


def test_readme_tree_lists_every_stage_package() -> None:
    root = Path(__file__).resolve().parent.parent
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", README, re.S | re.M)
    (tree,) = [b for b in blocks if b.startswith("crawler/catalog/")]
    listed = set(re.findall(r"^(crawler/\w+)/", tree, re.M))
    packages = {f"crawler/{p.parent.name}" for p in root.glob("crawler/*/__init__.py")}
    assert listed == packages
