"""YAML text the way every generated document here is written.

Multi-line strings become `|` blocks, so rule expressions and Alertmanager
templates read like hand-written files; keys keep their insertion order; a
list or mapping used twice is written out twice (no `&id001` anchors).

Speed matters: rendering is most of the program's own share of a plan, and
rule files grow with the service catalog (3 MB of them at 500 services).
Most documents are nothing but block mappings, lists, one-line text that
needs no escape, multi-line text, ints, booleans and nulls. For those,
`_BlockWriter` writes the text directly: the `key:` / `- ` layout and
indentation of block style, and for each distinct scalar the style libyaml
would choose (plain, single-quoted, literal block), decided by the
conditions libyaml's emitter checks. Anything else (a float, a control
character, a line the width would fold, a block that needs an indentation
or keep hint) makes the writer give up, and libyaml's emitter (PyYAML's C
extension) writes the whole document from YAML nodes built here directly
(PyYAML's generic representer spent half its time on alias bookkeeping and
a type lookup per value), the resolver's answer for a scalar remembered
within one document. Either way the text is what `yaml.dump` with the
dumper below writes (tested on every generated document and on seeded
random ones).
"""

from __future__ import annotations

import re
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


class _UnsupportedValueError(Exception):
    """A value `_BlockWriter` does not write exactly as libyaml would; libyaml writes the document."""


# Characters libyaml writes as they are (its IS_PRINTABLE) and that are no line break (IS_BREAK: \x85,
# \u2028, \u2029 are printable breaks). Without allow_unicode only ASCII is written raw.
_ASCII_BUT_HASH_COLON = "\u0020-\u0022\u0024-\u0039\u003b-\u007e"
_NON_ASCII = "\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
_RAW = {True: "\u0020-\u007e" + _NON_ASCII, False: "\u0020-\u007e"}


def _plain_pattern(ordinary: str) -> re.Pattern[str]:
    """One-line text that libyaml may write plain in block context (yaml_emitter_analyze_scalar's conditions).

    Not: a document marker at the start; an indicator first character; `?`, `:` or `-` first and followed
    by a blank or the end; a space first or last; `: ` or a final `:`; ` #`. (Flow indicators such as `,`
    or `[` inside the text only matter in flow style, which these documents never use.)
    """
    return re.compile(
        r"(?!---|\.\.\.)(?![#,\[\]{}&*!|>'\"%@`])(?![?:\-](?: |\Z))(?! )"
        rf"(?:[{ordinary}]|:(?! |\Z)|(?<! )#)*(?<! )\Z"
    )


_PLAIN = {True: _plain_pattern(_ASCII_BUT_HASH_COLON + _NON_ASCII), False: _plain_pattern(_ASCII_BUT_HASH_COLON)}
_ONE_LINE = {unicode: re.compile(f"[{raw}]*\\Z") for unicode, raw in _RAW.items()}
_BLOCK_CHARACTERS = {unicode: re.compile(f"[{raw}\\n]*\\Z") for unicode, raw in _RAW.items()}
# libyaml writes a key as a simple key (`key: value`) only up to 128 bytes.
_SIMPLE_KEY_BYTES = 128
_RESOLVER = yaml.resolver.Resolver()


def _reads_back_as_str(plain: str) -> bool:
    """Whether a plain scalar resolves to a str (not 'true', '1.5', 'null', ...): else libyaml quotes it."""
    tag = _RESOLVER.resolve(ScalarNode, plain, (True, False))  # type: ignore[no-untyped-call]
    return bool(tag == _STR)


class _BlockWriter:
    """Writes plain data as libyaml's emitter writes it in block style (indent 2), or raises _UnsupportedValueError."""

    def __init__(self, width: int, allow_unicode: bool) -> None:
        self._width = width
        self._plain = _PLAIN[allow_unicode]
        self._one_line = _ONE_LINE[allow_unicode]
        self._block_characters = _BLOCK_CHARACTERS[allow_unicode]
        self._scalars: dict[str, str] = {}
        self._keys: dict[str, str] = {}
        self._out: list[str] = []

    def text(self, document: Any) -> str:
        if type(document) is dict and document:
            self._mapping(document, 0, False)
        elif type(document) is list and document:
            self._sequence(document, 0, False)
        else:
            raise _UnsupportedValueError
        return "".join(self._out)

    def _scalar(self, value: str) -> str:
        """A one-line str as libyaml writes it: plain when it may and it reads back as a str, else single-quoted."""
        text = self._scalars.get(value)
        if text is None:
            if not self._one_line.match(value):
                raise _UnsupportedValueError  # control characters: libyaml writes double-quoted escapes
            if value and self._plain.match(value) and _reads_back_as_str(value):
                text = value
            else:
                text = "'" + value.replace("'", "''") + "'"
            self._scalars[value] = text
        return text

    def _inline(self, value: str, column: int) -> str:
        """A one-line str written after the cursor at `column` and a space."""
        text = self._scalars.get(value) or self._scalar(value)
        # libyaml folds a line at a space once it passes the width.
        if column + 1 + len(text) > self._width and " " in text:
            raise _UnsupportedValueError
        return text

    def _key(self, key: Any) -> str:
        kind = type(key)
        if kind is str:
            text = self._keys.get(key)
            if text is None:
                if "\n" in key or len(key.encode()) > _SIMPLE_KEY_BYTES:
                    raise _UnsupportedValueError
                text = self._keys[key] = self._scalar(key)
            return text
        return self._atom(key, kind)

    @staticmethod
    def _atom(value: Any, kind: type) -> str:
        if kind is bool:
            return "true" if value else "false"
        if kind is int:
            return str(value)
        if value is None:
            return "null"
        raise _UnsupportedValueError  # floats and anything else: PyYAML's representer

    def _literal_block(self, value: str, indent: int) -> str:
        """`|` or `|-` and the lines at `indent`; empty lines stay empty."""
        # libyaml writes it with no indentation or keep hint only without a space or break first, a space
        # before a break or at the end, or more than one final break.
        if (
            value[0] in " \n"
            or " \n" in value
            or value.endswith((" ", "\n\n"))
            or not self._block_characters.match(value)
        ):
            raise _UnsupportedValueError
        clip = value.endswith("\n")
        lines = (value[:-1] if clip else value).split("\n")
        pad = " " * indent
        body = "\n".join([pad + line if line else "" for line in lines])
        return (" |\n" if clip else " |-\n") + body + "\n"

    def _mapping(self, mapping: dict[Any, Any], indent: int, inline: bool) -> None:
        out = self._out
        pad = " " * indent
        for key, value in mapping.items():
            line = "" if inline else pad
            inline = False
            key_text = self._keys.get(key) if type(key) is str else None
            if key_text is None:
                key_text = self._key(key)
            column = indent + len(key_text) + 1
            if type(value) is str and "\n" not in value:
                # Most values: `key: text` on one line, in one piece.
                out.append(line + key_text + ": " + self._inline(value, column) + "\n")
            else:
                out.append(line + key_text)
                self._value(value, column, indent, True)

    def _sequence(self, items: list[Any], indent: int, inline: bool) -> None:
        out = self._out
        pad = " " * indent
        for item in items:
            if inline:
                inline = False
                out.append("-")
            else:
                out.append(pad + "-")
            self._value(item, indent + 1, indent, False)

    def _value(self, value: Any, column: int, indent: int, in_mapping: bool) -> None:
        """After `key:` (in_mapping) or `-` at `indent`, the cursor at `column`: the value and its line end."""
        out = self._out
        kind = type(value)
        if kind is str:
            if "\n" in value:
                out.append((":" if in_mapping else "") + self._literal_block(value, indent + 2))
                return
            out.append((": " if in_mapping else " ") + self._inline(value, column) + "\n")
        elif kind is dict:
            if not value:
                out.append(": {}\n" if in_mapping else " {}\n")
            elif in_mapping:
                out.append(":\n")
                self._mapping(value, indent + 2, False)
            else:
                out.append(" ")
                self._mapping(value, indent + 2, True)
        elif kind is list:
            if not value:
                out.append(": []\n" if in_mapping else " []\n")
            elif in_mapping:
                # A list in a mapping is not indented: its `-` sit under the key.
                out.append(":\n")
                self._sequence(value, indent, False)
            else:
                out.append(" ")
                self._sequence(value, indent + 2, True)
        else:
            out.append((": " if in_mapping else " ") + self._atom(value, kind) + "\n")


def dump_yaml(document: Any, *, width: int = 10_000, allow_unicode: bool = True) -> str:
    """`document` as block-style YAML, in insertion order."""
    try:
        return _BlockWriter(width, allow_unicode).text(document)
    except _UnsupportedValueError:
        pass
    text: str = yaml.dump(
        document,
        Dumper=_BlockStyleDumper,
        sort_keys=False,
        default_flow_style=False,
        width=width,
        allow_unicode=allow_unicode,
    )
    return text
