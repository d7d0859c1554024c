"""YAML text the way every generated document here is written.

Multi-line strings become `|` blocks, so rule expressions and Alertmanager
templates read like hand-written files; keys keep their insertion order.
libyaml's emitter (PyYAML's C extension) writes the same text as the pure
Python one about ten times faster, which matters: rendering is most of the
program's own share of a plan.
"""

from __future__ import annotations

from typing import Any

import yaml

_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _BlockStyleDumper(_BaseDumper):  # type: ignore[misc, valid-type]
    """Safe dumper that writes multi-line strings as literal blocks."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockStyleDumper.add_representer(str, _represent_str)


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
