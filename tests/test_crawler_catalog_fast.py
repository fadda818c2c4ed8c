"""The catalog loader's fast path (libyaml) gives what the Python loader gives, or steps aside.

Properties over the fuzz generators of tests/test_crawler_catalog_fuzz.py: whenever the fast
path reads a text, the document equals the Python StrictLoader's (same types: `yes` stays
text, dates are dates); whenever the Python loader refuses a text, the fast path does not
read it. Table cases: what must always go to the Python loader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from test_crawler_catalog_fuzz import FUZZ, TOKENS, TREES

from crawler.catalog.fast_yaml import fast_load
from crawler.catalog.yaml_loader import loader_for

ROOT = Path(__file__).resolve().parent.parent


def python_load(text: str) -> tuple[bool, Any]:
    """(True, document) as the Python loader reads it; (False, None) when it refuses it."""
    try:
        return True, yaml.load(text, Loader=loader_for(text))
    except yaml.YAMLError:
        return False, None


def agree(text: str) -> None:
    done, document = fast_load(text)
    accepted, expected = python_load(text)
    if done:
        assert accepted, f"the fast path read what the Python loader refuses: {text!r}"
        # repr, not ==: a NaN never equals itself, and repr also tells 1 from 1.0 and True.
        assert repr(document) == repr(expected)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS) | st.text(max_size=4), max_size=40))
def test_token_soup_reads_the_same_or_steps_aside(tokens: list[str]) -> None:
    agree("".join(tokens))


@FUZZ
@given(TREES)
def test_random_structures_read_the_same(tree: Any) -> None:
    agree(yaml.safe_dump(tree, allow_unicode=True))


@pytest.mark.parametrize(
    "path",
    sorted([*ROOT.glob("examples/catalog/tools/*.yaml"), *ROOT.glob("crawler/**/tools/*.yaml")]),
    ids=lambda p: p.name,
)
def test_shipped_tool_files_take_the_fast_path_and_read_the_same(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    done, document = fast_load(text)
    assert done, f"{path} should not need the Python loader"
    assert document == python_load(text)[1]


@pytest.mark.parametrize(
    "text",
    [
        "a: &x [1]\nb: *x\n",  # anchors and aliases: counted by the Python loader
        "a: 1\na: 2\n",  # a duplicate key: the Python loader's error
        "<<: {a: 1}\n",  # a merge key
        "? [a]\n: 1\n",  # a list as a key
        "a: !!int abc\n",  # a scalar its tag cannot hold
        "a: " + "[" * 40 + "]" * 40 + "\n",  # nested past MAX_NESTING
        "a: " + "[" * 600 + "]" * 600 + "\n",  # past the fast path's bound: never composed in C
        "a: [\n",  # not YAML
    ],
    ids=["alias", "duplicate", "merge", "list-key", "bad-int", "deep", "bound", "broken"],
)
def test_what_the_fast_path_leaves_to_the_python_loader(text: str) -> None:
    assert fast_load(text) == (False, None)


def test_yaml_1_2_booleans_and_dates_on_the_fast_path() -> None:
    done, document = fast_load("rating: yes\nok: true\nsince: 2024-01-02\n")
    assert done and document["rating"] == "yes" and document["ok"] is True
    assert str(document["since"]) == "2024-01-02"
