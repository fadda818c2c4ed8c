"""Writing a rating set in review back to its tool file: only the value's bytes change, the
write is atomic, and a file changed on disk or a rating behind an alias is refused."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from crawler.catalog import load_catalog
from crawler.catalog.writeback import WriteBackError, apply_edit, plan_rating_edit

GOLDEN = Path(__file__).parent / "fixtures" / "writeback" / "acme.yaml"


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    """A catalog folder holding the golden tool file."""
    (tmp_path / "tools").mkdir()
    shutil.copy(GOLDEN, tmp_path / "tools" / "acme.yaml")
    return tmp_path


@pytest.mark.parametrize(
    ("criterion", "rating", "old", "new"),
    [
        ("no-training", "no", b"rating:   partial    #", b"rating:   no    #"),
        ("no-training", "\u2705", b"rating:   partial    #", b"rating:   yes    #"),
        ("dpa", "partial", "rating: '✅'".encode(), "rating: '⚠️'".encode()),
        ("eu-saas", "no", b'rating: "?"', 'rating: "❌"'.encode()),
    ],
)
def test_only_the_rating_value_changes_byte_for_byte(
    catalog: Path, criterion: str, rating: str, old: bytes, new: bytes
) -> None:
    file = catalog / "tools" / "acme.yaml"
    edit = plan_rating_edit(file, criterion, rating)
    apply_edit(edit)
    golden = GOLDEN.read_bytes()
    assert golden.count(old) == 1
    assert file.read_bytes() == golden.replace(old, new)  # every other byte as it was
    tool = load_catalog(catalog).tool("acme")
    assert {r.criterion: r.rating for r in tool.ratings}[criterion] == edit.new
    lines = edit.patch.splitlines()[2:]  # after the ---/+++ header
    assert sum(x[:1] in "-+" for x in lines if x) == 2  # one line out, one line in


def test_crlf_line_endings_are_kept(tmp_path: Path) -> None:
    file = tmp_path / "acme.yaml"
    file.write_bytes(GOLDEN.read_bytes().replace(b"\n", b"\r\n"))
    apply_edit(plan_rating_edit(file, "no-training", "yes"))
    after = file.read_bytes()
    assert b"rating:   yes    # " in after and after.count(b"\r\n") == after.count(b"\n")


def test_the_same_rating_is_no_edit(catalog: Path) -> None:
    file = catalog / "tools" / "acme.yaml"
    edit = plan_rating_edit(file, "no-training", "⚠️")
    assert edit.patch == "" and edit.before == edit.after
    before = os.stat(file).st_mtime_ns
    apply_edit(edit)
    assert os.stat(file).st_mtime_ns == before


def test_a_file_changed_on_disk_is_refused_with_the_patch(catalog: Path) -> None:
    file = catalog / "tools" / "acme.yaml"
    edit = plan_rating_edit(file, "no-training", "no")
    mine = GOLDEN.read_text(encoding="utf-8").replace("Acme AI", "Acme")
    file.write_text(mine, encoding="utf-8")  # an editor saved meanwhile
    with pytest.raises(WriteBackError, match="changed on disk since it was read") as caught:
        apply_edit(edit)
    assert file.read_text(encoding="utf-8") == mine  # their edit is kept
    assert caught.value.patch and "+    rating:   no    #" in caught.value.patch
    assert list((catalog / "tools").iterdir()) == [file]  # no temp file left behind


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "id: a\nname: A\nx: &r partial\nratings:\n  dpa:\n    rating: *r\n    sources: [s]\n",
            "anchor or alias",
        ),
        (
            "id: a\nname: A\nratings:\n  dpa: &d {rating: no, sources: [s]}\n  eu-saas: *d\n",
            "anchor or alias",
        ),
        ("id: a\nname: A\nratings:\n  dpa:\n    rating: !!str no\n", "cannot be edited in place"),
        ("id: a\nname: A\nratings:\n  dpa:\n    rating: |\n      no\n", "in place"),
        ("id: a\nname: A\nratings:\n  eu-saas:\n    rating: no\n", "no `rating:` value"),
        ("id: a\nname: [A\n", "not valid YAML"),
    ],
)
def test_a_rating_that_cannot_be_located_exactly_is_refused(
    tmp_path: Path, text: str, message: str
) -> None:
    file = tmp_path / "a.yaml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(WriteBackError, match=message):
        plan_rating_edit(file, "dpa", "yes")
    assert file.read_text(encoding="utf-8") == text
