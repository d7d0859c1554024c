"""`dump_yaml` builds YAML nodes itself for speed; its text must be what PyYAML's own representer writes."""

from __future__ import annotations

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


def stock(document: Any, width: int) -> str:
    text: str = yaml.dump(
        document, Dumper=_StockDumper, sort_keys=False, default_flow_style=False, width=width, allow_unicode=True
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


def test_a_shared_list_is_written_out_twice_not_as_an_anchor() -> None:
    shared = ["a", "b"]
    text = dump_yaml({"one": shared, "two": shared})
    assert "&" not in text and "*" not in text
    assert yaml.safe_load(text) == {"one": ["a", "b"], "two": ["a", "b"]}
