"""`dump_yaml` writes what PyYAML's own representer writes, multi-line text as `|` blocks and no alias."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.yaml_text import dump_yaml

GOLDEN = Path(__file__).parent / "golden" / "files"


class _StockDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """PyYAML's generic representer, with the same block style for multi-line strings."""


_StockDumper.add_representer(
    str,
    lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None),
)


def stock(document: Any, width: int, allow_unicode: bool = True) -> str:
    text: str = yaml.dump(
        document,
        Dumper=_StockDumper,
        sort_keys=False,
        default_flow_style=False,
        width=width,
        allow_unicode=allow_unicode,
    )
    return text


AWKWARD: dict[Any, Any] = {
    "scalars that must be quoted": ["true", "null", "1.0", "0x1F", "", "  leading", "a: b", "- dash", "#hash", "~"],
    "typed": [1, -7, 2.5, 1e17, float("inf"), None, True, False],
    "multi-line": "first\nsecond\n",
    "unicode": "Screener · API — é",
    "empty": {"list": [], "map": {}},
    "nested": [[1, [2]], {"k": {"k": "v"}}],
    7: "an int key",
}


@pytest.mark.parametrize("width", [10_000, 120, 20])
def test_awkward_values_are_written_as_pyyaml_writes_them(width: int) -> None:
    assert dump_yaml(AWKWARD, width=width) == stock(AWKWARD, width)


@pytest.mark.parametrize("path", sorted(GOLDEN.rglob("*.yaml")), ids=lambda p: str(p.relative_to(GOLDEN)))
def test_every_generated_document_is_written_as_pyyaml_writes_it(path: Path) -> None:
    document = yaml.safe_load(path.read_text())
    assert dump_yaml(document) == stock(document, 10_000)
    assert dump_yaml(document, width=120) == stock(document, 120)


# Multi-line text at each edge where libyaml changes the block's header or gives up the block.
BLOCKS = [
    "clip\n",
    "strip",
    "kept\n\n",
    "kept\n\n\n",
    "\nfirst a break",
    " first a space\nx",
    "  indented\nlines",
    "a space before a break \nx",
    "a space at the end\nx ",
    "empty\n\nlines\n",
    "a line of spaces\n   \nx",
    "a tab\n\tx",
    "unicode · é\n—",
]


@pytest.mark.parametrize("text", BLOCKS)
@pytest.mark.parametrize("allow_unicode", [True, False])
def test_multi_line_text_is_written_as_pyyaml_writes_it(text: str, allow_unicode: bool) -> None:
    document = {"key": text + "\n" if "\n" not in text else text, "list": [text, {"nested": text}]}
    expected = stock(document, 10_000, allow_unicode)
    assert dump_yaml(document, allow_unicode=allow_unicode) == expected


def test_a_shared_list_is_written_out_twice_not_as_an_anchor() -> None:
    shared = ["a", "b"]
    text = dump_yaml({"one": shared, "two": shared})
    assert "&" not in text and "*" not in text
    assert yaml.safe_load(text) == {"one": ["a", "b"], "two": ["a", "b"]}


# Pieces of text that decide libyaml's style: indicators first, in the middle and last, words the
# resolver reads as another type, spaces and breaks at the edges; rarer, characters it escapes or
# cannot write raw (those documents go to libyaml whole, and must come out the same).
_PIECES = [
    *"aZ0 :#-?',\"[]{}|>*&!%@`~._\n\\=<é·—",
    *("true", "no", "on", "null", "0x1F", "1_000", "1.5e3", ".inf", "2001-01-01", "---", "...", "<<", " #", ": "),
]
_RARE = ["\t", "\x85", "\u2028", "\ufeff", "\U0001f600", "\x07", "\r"]


def _text(rng: random.Random) -> str:
    pieces = [rng.choice(_RARE if rng.random() < 0.02 else _PIECES) for _ in range(rng.randrange(0, 7))]
    return "".join(pieces) * rng.choice([1, 1, 1, 12])


def _value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth < 2 and roll < 0.2:
        return {_text(rng) if rng.random() < 0.9 else rng.randrange(-3, 4): _value(rng, depth + 1) for _ in range(2)}
    if depth < 2 and roll < 0.4:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(0, 3))]
    if roll < 0.45:
        return rng.choice([0, -12, True, False, None, 2.5])
    return _text(rng)


@pytest.mark.parametrize(("width", "allow_unicode"), [(10_000, True), (40, True), (1000, False)])
def test_random_documents_are_written_as_pyyaml_writes_them(width: int, allow_unicode: bool) -> None:
    """Seeded random small documents over the pieces above."""
    rng = random.Random(width)
    for _ in range(1500):
        document = {_text(rng): _value(rng, 0)} if rng.random() < 0.8 else [_value(rng, 1)]
        expected = stock(document, width, allow_unicode)
        assert dump_yaml(document, width=width, allow_unicode=allow_unicode) == expected, repr(document)
