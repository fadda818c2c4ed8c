"""The YAML loader of catalog files: strict (YAML 1.2 booleans, no duplicate keys) and bounded.

Every problem is a `yaml.MarkedYAMLError` with the line it is on, never another exception:
nesting deeper than MAX_NESTING, aliases that expand past MAX_ALIAS_NODES or contain
themselves, keys that are lists or mappings, merge keys, and scalars a tag cannot hold
(`2024-13-45`, `!!int abc`, an integer of 5,000 digits).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent
from yaml.nodes import CollectionNode, MappingNode, Node, ScalarNode, SequenceNode

from crawler.catalog.limits import MAX_ALIAS_NODES, MAX_NESTING, PREVIEW_CHARS

__all__ = ["AliasLoader", "StrictLoader", "check_mapping_keys", "loader_for"]

_MERGE = "tag:yaml.org,2002:merge"
_INT = "tag:yaml.org,2002:int"


class StrictLoader(yaml.SafeLoader):
    """YAML 1.2-style booleans (`rating: yes` stays a string), no duplicate keys, bounded work.

    Aliases are counted by AliasLoader, which `loader_for` picks for text holding a `*`.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._nesting = 0

    # The stubs type `anchor` as a dict; PyYAML passes the anchor's name (or None).
    def compose_sequence_node(self, anchor: Any) -> SequenceNode:
        """A sequence, within the nesting limit."""
        self._enter(anchor)
        try:
            return super().compose_sequence_node(anchor)
        finally:
            self._leave(anchor)

    def compose_mapping_node(self, anchor: Any) -> MappingNode:
        """A mapping, within the nesting limit."""
        self._enter(anchor)
        try:
            return super().compose_mapping_node(anchor)
        finally:
            self._leave(anchor)

    def _enter(self, anchor: str | None) -> None:
        self._nesting += 1
        if self._nesting > MAX_NESTING:
            event: Any = self.peek_event()  # type: ignore[no-untyped-call]
            problem = f"nested more than {MAX_NESTING} levels deep"
            raise ComposerError(None, None, problem, event.start_mark)

    def _leave(self, anchor: str | None) -> None:
        self._nesting -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        """A mapping with hashable, unique keys and no merge keys."""
        if isinstance(node, MappingNode):  # `!!set` on a scalar: PyYAML's error says so
            check_mapping_keys(self, node, deep)
        return super().construct_mapping(node, deep=deep)


def check_mapping_keys(loader: Any, node: MappingNode, deep: bool) -> None:
    """Refuse merge keys, keys that are lists or mappings, and duplicate keys, at their line."""
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == _MERGE:
            problem = "merge keys (<<) are not supported: write the keys out"
            raise ConstructorError(None, None, problem, key_node.start_mark)
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)  # not `key in seen`: that accepts a set, as a frozenset
        except TypeError:  # a list, a mapping or a set as a key
            problem = "a key must be text, not a list or a mapping"
            raise ConstructorError(None, None, problem, key_node.start_mark) from None
        if isinstance(key, str) and key in seen:
            raise ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)


class AliasLoader(StrictLoader):
    """StrictLoader that counts what aliases expand to (MAX_ALIAS_NODES) and refuses cycles."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._open: set[str] = set()  # anchors of the collections being composed
        self._sizes: dict[int, int] = {}  # id(collection node) -> nodes once aliases expand
        self._alias_nodes = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        """A node; an alias is counted with everything it expands to."""
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, AliasEvent) and event.anchor in self.anchors:
            self._count_alias(event)
        return super().compose_node(parent, index)

    def _enter(self, anchor: str | None) -> None:
        super()._enter(anchor)
        if anchor is not None:
            self._open.add(anchor)

    def _leave(self, anchor: str | None) -> None:
        super()._leave(anchor)
        self._open.discard(anchor or "")

    def _count_alias(self, event: Any) -> None:
        if event.anchor in self._open:  # `&a [*a]`: a structure that contains itself
            problem = f"alias *{event.anchor} is inside the node it names, which then contains it"
            raise ComposerError(None, None, problem, event.start_mark)
        self._alias_nodes += _expanded_size(self.anchors[event.anchor], self._sizes) - 1
        if self._alias_nodes > MAX_ALIAS_NODES:
            problem = (
                f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes"
                " (the limit; a document that repeats itself through aliases)"
            )
            raise ComposerError(None, None, problem, event.start_mark)


def loader_for(text: str) -> type[StrictLoader]:
    """The loader for this text: AliasLoader when it may hold an alias (`*name`).

    Counting aliases costs a call per node (5 % of `check` on a 100,000-source catalog), and
    an alias cannot be written without a `*`.
    """
    return AliasLoader if "*" in text else StrictLoader


def _expanded_size(root: Node, sizes: dict[int, int]) -> int:
    """Nodes under `root` with every alias expanded (memoized; iterative, any nesting)."""
    if not isinstance(root, CollectionNode):
        return 1
    stack: list[CollectionNode] = [root]
    while stack:
        node = stack[-1]
        if id(node) in sizes:
            stack.pop()
            continue
        children = _children(node)
        pending = [c for c in children if isinstance(c, CollectionNode) and id(c) not in sizes]
        if pending:
            stack.extend(pending)
            continue
        sizes[id(node)] = 1 + sum(sizes.get(id(c), 1) for c in children)
        stack.pop()
    return sizes[id(root)]


def _children(node: CollectionNode) -> list[Node]:
    """A collection's direct children (a mapping's keys and values)."""
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return list(node.value)


def _bad_scalar(node: Node, exc: Exception) -> str:
    """Why a scalar is not a value of its tag, in one line."""
    tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
    if not isinstance(node, ScalarNode):
        return f"cannot read this {tag} value"
    text = str(node.value)
    shown = repr(text[:PREVIEW_CHARS]) + ("…" if len(text) > PREVIEW_CHARS else "")
    digits = len(re.sub(r"[^0-9]", "", text))
    if node.tag == _INT and digits > sys.get_int_max_str_digits() > 0:
        return f"an integer of {digits:,} digits is too long to read (quote it to write text)"
    reason = f" ({str(exc).splitlines()[0][:200]})" if isinstance(exc, ValueError) else ""
    return f"{shown} is not a valid {tag} value{reason}; quote it to write text"


def _guarded(construct: Callable[[Any, Node], Any]) -> Callable[[Any, Node], Any]:
    """A scalar constructor whose failures (ValueError, IndexError…) are errors at the line."""

    def guarded(loader: Any, node: Node) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, TypeError, LookupError, AttributeError, ArithmeticError) as exc:
            raise ConstructorError(None, None, _bad_scalar(node, exc), node.start_mark) from None

    return guarded


# Every constructor but text and collections can fail on a scalar (`!!int abc`, `2024-13-45`);
# wrapping only these keeps the cost off the strings and collections that catalogs are made of.
for _tag in ("null", "bool", "int", "float", "binary", "timestamp"):
    _name = f"tag:yaml.org,2002:{_tag}"
    StrictLoader.add_constructor(_name, _guarded(yaml.SafeLoader.yaml_constructors[_name]))

# PyYAML follows YAML 1.1, where yes/no/on/off are booleans: a "rating: yes" would become True.
StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in rules if tag != "tag:yaml.org,2002:bool"]
    for first, rules in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
