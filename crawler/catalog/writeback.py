"""Writing a rating set in review back to its tool file, changing that value's bytes only.

The file is parsed (the catalog's own strict loader) only to find where the rating's value
lies; the new value is spliced into the original text, so comments, order, quoting, line
endings and every other byte stay as they were. A round-trip dumper (ruamel.yaml) re-indents
and re-flows what it re-emits; splicing cannot. The result is parsed again and must hold the
new rating, or nothing is written. The write is atomic (a temp file, then os.replace) and is
refused when the file changed on disk since it was read; the unified diff is always given so
that an editor can apply it by hand.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import CollectionNode, MappingNode, Node, ScalarNode

from crawler.catalog.files import FileProblem, read_bounded
from crawler.catalog.model import RATING_SYMBOLS, normalize_rating
from crawler.catalog.yaml_loader import loader_for

__all__ = ["RatingEdit", "WriteBackError", "apply_edit", "plan_rating_edit"]

# The symbol written for a rating whose old value was a symbol: the directory's own.
_SYMBOL_OF = {"yes": "✅", "partial": "⚠️", "no": "❌", "unknown": "?"}


class WriteBackError(Exception):
    """The rating cannot be written back; one line, with the patch when there is one."""

    def __init__(self, message: str, patch: str | None = None) -> None:
        super().__init__(message)
        self.patch = patch


@dataclass(frozen=True, slots=True)
class RatingEdit:
    """A planned edit of one rating's value in one tool file."""

    file: Path
    criterion: str
    old: str  # the rating the file holds (normalized)
    new: str
    before: bytes  # the file as read: the write is refused if it is no longer this
    after: bytes
    patch: str  # unified diff; empty when the file already holds the new rating


def plan_rating_edit(file: Path, criterion: str, rating: str) -> RatingEdit:
    """The edit setting `ratings.<criterion>.rating` of this tool file to `rating`."""
    try:
        before = read_bounded(file)
        text = before.decode("utf-8")
    except (FileProblem, UnicodeDecodeError) as exc:
        raise WriteBackError(f"{file}: cannot read: {exc}") from None
    new = normalize_rating(rating)
    node = _rating_node(text, file, criterion)
    old = normalize_rating(node.value)
    if old == new:
        return RatingEdit(file, criterion, old, new, before, before, "")
    start, end = node.start_mark.index, node.end_mark.index
    after_text = text[:start] + _token(node, new) + text[end:]
    if normalize_rating(_rating_node(after_text, file, criterion).value) != new:
        raise WriteBackError(f"{file}: rating {criterion}: the edit would not hold {new}")
    return RatingEdit(
        file, criterion, old, new, before, after_text.encode("utf-8"), _diff(file, text, after_text)
    )


def apply_edit(edit: RatingEdit) -> None:
    """Write the edit atomically; WriteBackError (with the patch) if the file changed since."""
    if edit.before == edit.after:
        return
    target = Path(os.path.realpath(edit.file))  # a linked tool file: edit what it points at
    try:
        current = read_bounded(target)
    except FileProblem as exc:
        raise WriteBackError(f"{edit.file}: cannot read: {exc}", edit.patch) from None
    if current != edit.before:
        raise WriteBackError(
            f"{edit.file} changed on disk since it was read: not written (apply the patch)",
            edit.patch,
        )
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(edit.after)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, os.stat(target).st_mode & 0o7777)
        os.replace(temp, target)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise WriteBackError(f"{edit.file}: cannot write: {exc.strerror}", edit.patch) from None


def _rating_node(text: str, file: Path, criterion: str) -> ScalarNode:
    """The scalar node of `ratings.<criterion>.rating`, located exactly, or WriteBackError."""
    loader = loader_for(text)(text)
    try:
        root: Node | None = loader.get_single_node()
    except yaml.YAMLError as exc:
        raise WriteBackError(f"{file}: not valid YAML: {str(exc).splitlines()[0]}") from None
    finally:
        loader.dispose()
    ratings = _value(root, "ratings")
    entry = _value(ratings, criterion)
    node = _value(entry, "rating")
    if not isinstance(node, ScalarNode):
        raise WriteBackError(f"{file}: rating {criterion}: no `rating:` value to write to")
    shared = _shared(root) if root is not None else set()
    if any(id(n) in shared for n in (ratings, entry, node)):
        raise WriteBackError(
            f"{file}: rating {criterion} uses a YAML anchor or alias: edit it by hand"
        )
    raw = text[node.start_mark.index : node.end_mark.index]
    quoted = node.style in ("'", '"') and raw[:1] == node.style and raw[-1:] == node.style
    if not (quoted or (node.style is None and raw == node.value)):
        raise WriteBackError(
            f"{file}: rating {criterion}: its value is written in a form that cannot be "
            f"edited in place (a tag, anchor or block scalar): edit it by hand"
        )
    return node


def _value(node: Node | None, key: str) -> Node | None:
    """The value of `key` in a mapping node (None when absent or not a mapping)."""
    if not isinstance(node, MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, ScalarNode) and k.value == key:
            found: Node = v
            return found
    return None


def _shared(root: Node) -> set[int]:
    """Ids of the nodes reached more than once: an alias points at them."""
    seen: set[int] = set()
    shared: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            shared.add(id(node))
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            stack.extend(n for pair in node.value for n in pair)
        elif isinstance(node, CollectionNode):
            stack.extend(node.value)
    return shared


def _token(node: ScalarNode, new: str) -> str:
    """The new value as written in the file: a symbol for a symbol, the old quoting kept."""
    value = _SYMBOL_OF[new] if node.value.strip() in RATING_SYMBOLS else new
    quote = node.style if node.style in ("'", '"') else None
    if quote is None and value == "?":
        quote = '"'  # a bare `?` is YAML's mapping-key indicator
    return f"{quote}{value}{quote}" if quote else value


def _diff(file: Path, before: str, after: str) -> str:
    """A unified diff of the file, for `patch -p0` or an editor's eyes."""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=str(file),
            tofile=str(file),
        )
    )
