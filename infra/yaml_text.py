"""YAML text the way every generated document here is written.

Multi-line strings become `|` blocks, so rule expressions and Alertmanager
templates read like hand-written files; keys keep their insertion order; a
list or mapping used twice is written out twice (no `&id001` anchors).
PyYAML's safe representer and libyaml's emitter (its C extension, where
installed) write it. A hand-written writer used to stand in for them for
speed while rule files grew with the catalog; with rules written once per
alert family they no longer do, and `make bench` holds its targets without
it (the scrape config, the largest document left, takes ~0.8 s to write at
2,000 services).
"""

from __future__ import annotations

from typing import Any

import yaml

_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _BlockStyleDumper(_BaseDumper):  # type: ignore[misc, valid-type]
    """Safe dumper that writes multi-line strings as literal blocks and never an alias."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


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
