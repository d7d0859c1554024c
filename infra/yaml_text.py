"""YAML text the way every generated document here is written.

Multi-line strings become `|` blocks, so rule expressions and Alertmanager
templates read like hand-written files; keys keep their insertion order; a
list or mapping used twice is written out twice (no `&id001` anchors).

Speed matters: rendering is most of the program's own share of a plan, and
rule files grow with the service catalog. libyaml's emitter (PyYAML's C
extension) writes the text. PyYAML's generic representer, which turns data
into YAML nodes, was half of the rest (alias bookkeeping and a type lookup
per value), so plain data (dict, list, str, int, float, bool, None) becomes
nodes here directly, and the resolver's answer for a scalar is remembered
within one document (label values and summaries repeat). The text is the
same as `yaml.dump` with the dumper below would write (tested).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"


class _BlockStyleDumper(_BaseDumper):  # type: ignore[misc, valid-type]
    """Safe dumper that writes multi-line strings as literal blocks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._resolved: dict[tuple[str, tuple[bool, bool]], str] = {}

    def represent(self, data: Any) -> None:
        self.serialize(self._node(data))

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        if kind is not ScalarNode:
            return str(super().resolve(kind, value, implicit))
        key = (value, implicit)
        tag = self._resolved.get(key)
        if tag is None:
            tag = self._resolved[key] = str(super().resolve(kind, value, implicit))
        return tag

    def _node(self, data: Any) -> Node:
        kind = type(data)
        if kind is str:
            return ScalarNode(_STR, data, style="|" if "\n" in data else None)
        if kind is dict:
            to_node = self._node
            return MappingNode(_MAP, [(to_node(key), to_node(value)) for key, value in data.items()], flow_style=False)
        if kind is list:
            return SequenceNode(_SEQ, [self._node(item) for item in data], flow_style=False)
        if kind is bool:
            return ScalarNode(_BOOL, "true" if data else "false")
        if kind is int:
            return ScalarNode(_INT, str(data))
        if data is None:
            return ScalarNode(_NULL, "null")
        # Floats and anything else: PyYAML's own representer (its float spelling, its errors).
        represented: Node = self.represent_data(data)
        return represented


def dump_yaml(document: Any, *, width: int = 10_000, allow_unicode: bool = True) -> str:
    """`document` as block-style YAML, in insertion order."""
    text: str = yaml.dump(
        document,
        Dumper=_BlockStyleDumper,
        sort_keys=False,
        default_flow_style=False,
        width=width,
        allow_unicode=allow_unicode,
    )
    return text
