"""Every calibrated constant of the product, with a small grid of candidate values each.

A knob is a module-level constant the product was tuned with on the dev corpus. The
leave-one-service-out benches (``--loso``) replay the corpus once per candidate value to see
whether the shipped value would still be chosen without the service it is scored on.

Adding a knob is one line in ``KNOBS``: the dotted path of the constant and its candidates
(the shipped value is always a candidate too, read from the module at run time). A knob in
an extraction module (``EXTRACTION_MODULES``) invalidates the extraction cache; the others
reuse it.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

EXTRACTION_MODULES = (
    *(
        "crawler.extract.document",
        "crawler.extract.charset",
        "crawler.extract.html",
        "crawler.extract.text",
        "crawler.extract.chrome",
        "crawler.extract.blocks",
        "crawler.extract.pdf",
        "crawler.extract.normalize",
    ),
    "diffs.dates",  # dated lines are never navigation (crawler.extract.blocks)
)
# Packages whose modules may bind a knob's object under its name (``from x import NAME``).
PRODUCT_PACKAGES = ("crawler", "diffs", "storage", "reports", "spiders")


@dataclass(frozen=True, slots=True)
class Knob:
    """One calibrated constant and the values the LOSO run tries for it."""

    path: str  # "package.module.NAME"
    grid: tuple[float, ...]

    @property
    def module(self) -> str:
        """The module that defines the constant."""
        return self.path.rsplit(".", 1)[0]

    @property
    def name(self) -> str:
        """The constant's name."""
        return self.path.rsplit(".", 1)[1]

    @property
    def extraction(self) -> bool:
        """Whether the constant changes extracted text (so extraction must run again)."""
        return self.module in EXTRACTION_MODULES

    def shipped(self) -> float:
        """The product's value."""
        value: float = getattr(importlib.import_module(self.module), self.name)
        return value

    def candidates(self) -> tuple[float, ...]:
        """The shipped value first, then the grid."""
        shipped = self.shipped()
        return (shipped, *(v for v in self.grid if v != shipped))


KNOBS: tuple[Knob, ...] = (
    Knob("crawler.extract.chrome.BANNER_MAX_CHARS", (500, 1000, 4000)),
    Knob("crawler.extract.chrome.NAV_LINK_SHARE", (0.4, 0.5, 0.8)),
    Knob("crawler.extract.chrome.HIDDEN_MAX_SHARE", (0.2, 0.8)),
    Knob("crawler.extract.chrome._BANNER_MIN_WORDS", (4, 12)),
    Knob("crawler.extract.chrome._CONTROL_MIN_WORDS", (2, 5)),
    Knob("crawler.extract.blocks.NAV_BLOCK_SHARE", (0.3, 0.7)),
    Knob("crawler.extract.blocks.NAV_LABEL_WORDS", (2, 3, 6)),
    Knob("crawler.extract.blocks.NAV_MIN_LINKS", (2, 4, 6)),
    Knob("crawler.extract.blocks.NAV_MAX_SHARE", (0.3, 0.7)),
    Knob("crawler.extract.blocks.NAV_MAX_BLOCKS", (50, 1000)),
    Knob("diffs.dates.DATED_LINE_WORDS", (6, 20)),
    Knob("diffs.significance._TYPO_MIN_LETTERS", (3, 6)),
    Knob("diffs.significance._TYPO_LONG", (6, 10)),
    # Not a constant but the vocabulary choice of this revision (bench/vocabulary_choice.py).
    Knob("vocabulary_choice.VARIANT", (1,)),
    Knob("diffs.text.TITLE_WITHIN", (0.1, 0.3, 0.5)),
    Knob("diffs.text.PAIR_CUTOFF", (30.0, 40.0, 60.0, 70.0)),
    Knob("diffs.flags.MIN_STATEMENT_WORDS", (3, 4, 8, 10)),
    Knob("diffs.flags.KIND_SENTENCES", (3, 12)),
    Knob("diffs.sentences.REPLACED_BELOW", (0.1, 0.4, 0.5)),
    Knob("diffs.anchors.ALTERED_MIN_SCORE", (70.0, 75.0, 85.0, 90.0)),
    Knob("diffs.anchors.SAME_PLACE_MIN_SCORE", (40.0, 50.0, 70.0, 80.0)),
    Knob("crawler.extract.failures.COLLAPSE_RATIO", (0.1, 0.2, 0.5)),
    Knob("crawler.extract.failures.COLLAPSE_MAX_CHARS", (500, 1000, 4000)),
    Knob("crawler.extract.failures.WALL_MAX_CHARS", (500, 2000)),
    Knob("crawler.extract.failures.NEAR_EMPTY_CHARS", (100, 400)),
)


def knob(path: str) -> Knob:
    """The registered knob with this path or bare name."""
    found = [k for k in KNOBS if path in (k.path, k.name)]
    if len(found) != 1:
        raise SystemExit(f"unknown knob {path!r} (known: {', '.join(k.name for k in KNOBS)})")
    return found[0]


def _functions(module: types.ModuleType) -> Iterator[types.FunctionType]:
    """The functions defined in a module, methods of its classes included."""
    for value in vars(module).values():
        if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
            yield value
        elif isinstance(value, type) and value.__module__ == module.__name__:
            for member in vars(value).values():
                function = getattr(member, "__func__", member)
                if isinstance(function, types.FunctionType):
                    yield function


def _names(code: types.CodeType) -> set[str]:
    """The global names a code object (and the code nested in it) reads."""
    out = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            out |= _names(const)
    return out


def _product_modules() -> list[types.ModuleType]:
    return [
        m
        for name, m in list(sys.modules.items())
        if isinstance(m, types.ModuleType) and name.split(".", 1)[0] in PRODUCT_PACKAGES
    ]


def apply(settings: Mapping[str, float]) -> dict[str, list[str]]:
    """Set each knob on every loaded product module that binds the same object under its name.

    Returns, per knob, the modules patched. Checks that the patch can change behaviour: at
    least one product function reads the name, and every function that reads it now sees the
    new value (a constant copied under another name, or into a default argument, would not
    follow, and the LOSO figures would silently be the shipped ones).
    """
    patched: dict[str, list[str]] = {}
    for path, value in settings.items():
        k = knob(path)
        if k.module == "vocabulary_choice":
            import vocabulary_choice

            vocabulary_choice.install(value)
            patched[k.path] = ["crawler.catalog.taxonomy", "crawler.catalog.model"]
            continue
        original: Any = getattr(importlib.import_module(k.module), k.name)
        modules = [m for m in _product_modules() if getattr(m, k.name, None) is original]
        for module in modules:
            setattr(module, k.name, value)
        readers = [
            f for m in _product_modules() for f in _functions(m) if k.name in _names(f.__code__)
        ]
        assert readers, f"{k.path}: no product function reads it, patching changes nothing"
        stale = [f.__qualname__ for f in readers if f.__globals__.get(k.name) is not value]
        assert not stale, f"{k.path}: {stale} still read another value after patching"
        patched[k.path] = [m.__name__ for m in modules]
    return patched
