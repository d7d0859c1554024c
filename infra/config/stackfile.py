"""Read a stack file the way the Pulumi CLI hands it to a program.

The CLI passes every config value as a string (structured values as JSON)
and the names of the secret ones; a `secure:` value is decrypted with the
stack's key. Offline there is no key, so a secret becomes a visible
placeholder, never a value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from infra.config import SECRET_SETTINGS, ConfigError, StackInput, stack_file_for
from infra.config.loader import (
    DISABLE_DEFAULT_PROVIDERS,
    NAMESPACE,
    decode_config_value,
    disable_default_providers_problem,
    offline_placeholder,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class SecretValue:
    """A test override that the stack file would hold as `secure:`."""

    value: str


def placeholder(key: str) -> str:
    return offline_placeholder(key)


@dataclass
class StackFile:
    stack: str
    path: str
    config: dict[str, str]
    secret_keys: list[str]
    unset_secrets: list[str] = field(default_factory=list)
    # Keys an imported Pulumi ESC environment provides (key -> environment): present, value unknown offline.
    from_environment: dict[str, str] = field(default_factory=dict)

    @property
    def region(self) -> str | None:
        return self.config.get("aws:region")


def _yaml_kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "list"
    return "mapping" if isinstance(node, yaml.MappingNode) else "single value"


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


# --- The one reader of stack-file text -----------------------------------------------------------------

# Bounds of a stack file. The committed ones are ~5 KB, nest 6 levels deep and use no anchors; the bounds
# leave room for growth and stop what only an accident or an attack writes: YAML aliases that expand a few
# bytes into gigabytes when the value is serialised (a "billion laughs"), nesting that exhausts the
# recursion of any reader, and values no setting needs.
MAX_STACK_FILE_BYTES = 1_000_000
MAX_ALIASES = 8
MAX_DEPTH = 20
# Nodes plus characters of the document with every alias expanded (what the program receives as JSON).
MAX_EXPANDED_SIZE = 2_000_000
MAX_STRING_CHARACTERS = 65_536  # a `secure:` kubeconfig ciphertext is a few KB
MAX_COLLECTION_ITEMS = 5_000  # the service catalog's bound (infra/config/base.MAX_CATALOG_SERVICES)
# The tags a stack-file value may carry: what JSON can hold, since the CLI hands structured values over as JSON.
_JSON_SCALAR_TAGS = {f"tag:yaml.org,2002:{kind}": kind for kind in ("str", "int", "float", "bool", "null")}
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"
# Why a non-JSON tag is refused, and what to write instead.
_TAG_FIXES = {
    "tag:yaml.org,2002:timestamp": "a YAML date/timestamp, which JSON (how Pulumi hands config to the program) "
    'cannot hold; quote it ("{value}")',
    "tag:yaml.org,2002:binary": "!!binary data; config values are text: write the text, or store a secret with "
    "`pulumi config set --secret`",
    "tag:yaml.org,2002:set": "a YAML !!set, which JSON cannot hold; write a list",
    "tag:yaml.org,2002:omap": "a YAML !!omap, which JSON cannot hold; write a mapping",
    "tag:yaml.org,2002:pairs": "a YAML !!pairs, which JSON cannot hold; write a mapping",
}


class _RefusedError(Exception):
    def __init__(self, mark: yaml.Mark | None, where: str, problem: str) -> None:
        super().__init__(problem)
        self.mark, self.where, self.problem = mark, where, problem


class _StackFileLoader(yaml.SafeLoader):
    """PyYAML's safe loader with the composer bounded: alias count and nesting depth."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.alias_count = 0
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self.alias_count += 1
            if self.alias_count > MAX_ALIASES:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _RefusedError(
                    mark,
                    "",
                    f"more than {MAX_ALIASES} YAML aliases (*name); write the values out instead of "
                    "referring to anchors",
                )
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _RefusedError(
                    mark,
                    "",
                    f"nested more than {MAX_DEPTH} levels deep; no setting nests "
                    "like that, check the indentation and brackets",
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_SETTING_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_-]*:[A-Za-z0-9_.-]+)\s*:")


def _enclosing_setting(text: str, line: int) -> str:
    """The `namespace:key` setting whose value holds `line` (0-based), for errors the composer finds before any
    node exists to name (an alias too many, nesting too deep)."""
    for previous in reversed(text.splitlines()[: line + 1]):
        if match := _SETTING_LINE.match(previous):
            return match.group(1)
    return ""


# Plain scalars resolve as the Pulumi CLI's YAML library does (gopkg.in/yaml.v3, YAML 1.2 core schema:
# resolve.go), not as PyYAML's YAML 1.1: `yes`, `no`, `on`, `off` are text, not booleans, and `18:00` is text,
# not the base-60 number 1080. Otherwise the plan would accept a file the real program reads differently.
_RESOLVED_LIKE_YAML_1_1 = {
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:value",
}
_StackFileLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag not in _RESOLVED_LIKE_YAML_1_1]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StackFileLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_StackFileLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9][0-9_]*|0o[0-7_]+|0x[0-9a-fA-F_]+)$"), list("-+0123456789")
)
_StackFileLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _child_path(path: str, key: str | int) -> str:
    if path == "config" and isinstance(key, str):
        return key  # a setting's full name, e.g. monitoring:cost, as every other error names it
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _check_nodes(root: yaml.Node) -> None:
    """Refuse what JSON (and the Pulumi CLI) cannot hold: other tags, duplicate or non-string keys, cycles,
    and sizes beyond the bounds; each refusal names the key path."""
    expanded: dict[int, int] = {}
    ancestors: set[int] = set()

    def visit(node: yaml.Node, path: str) -> int:
        if id(node) in ancestors:
            raise _RefusedError(node.start_mark, path, "an alias refers to the value that contains it; remove it")
        if id(node) in expanded:
            return expanded[id(node)]
        where = path or "the document"
        size = 1
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in _JSON_SCALAR_TAGS:
                reason = _TAG_FIXES.get(
                    node.tag, f"tagged {node.tag}, which a config value cannot carry; remove the tag"
                ).replace("{value}", node.value[:40])
                raise _RefusedError(node.start_mark, path, f"{where} is {reason}")
            if len(node.value) > MAX_STRING_CHARACTERS:
                raise _RefusedError(
                    node.start_mark,
                    path,
                    f"{where} is {len(node.value):,} characters long; no setting takes more "
                    f"than {MAX_STRING_CHARACTERS:,}",
                )
            size += len(node.value)
        elif isinstance(node, yaml.SequenceNode | yaml.MappingNode):
            expected = _SEQ_TAG if isinstance(node, yaml.SequenceNode) else _MAP_TAG
            if node.tag != expected:
                reason = _TAG_FIXES.get(
                    node.tag, f"tagged {node.tag}, which a config value cannot carry; remove the tag"
                )
                raise _RefusedError(node.start_mark, path, f"{where} is {reason}")
            if len(node.value) > MAX_COLLECTION_ITEMS:
                raise _RefusedError(
                    node.start_mark,
                    path,
                    f"{where} holds {len(node.value):,} entries; no setting takes more than {MAX_COLLECTION_ITEMS:,}",
                )
            ancestors.add(id(node))
            if isinstance(node, yaml.SequenceNode):
                for index, item in enumerate(node.value):
                    size += visit(item, _child_path(path, index))
            else:
                seen: dict[str, int] = {}
                for key, value in node.value:
                    if isinstance(key, yaml.ScalarNode) and key.tag == _MERGE_TAG:
                        size += visit(value, path)
                        continue
                    if not (isinstance(key, yaml.ScalarNode) and key.tag == "tag:yaml.org,2002:str"):
                        shown = key.value if isinstance(key, yaml.ScalarNode) else "a " + _yaml_kind(key)
                        raise _RefusedError(
                            key.start_mark,
                            path,
                            f"{where}: key {shown!r} is not a name (YAML reads it as "
                            f"{key.tag.rsplit(':', 1)[-1]}); write a name, quoted if it looks like a number or a word "
                            "such as true/null",
                        )
                    if key.value in seen:
                        raise _RefusedError(
                            key.start_mark,
                            _child_path(path, key.value),
                            f"{_child_path(path, key.value)} is "
                            f"set twice (first on line {seen[key.value]}); the Pulumi CLI refuses duplicate keys: "
                            "keep one",
                        )
                    seen[key.value] = _line(key)
                    size += len(key.value) + visit(value, _child_path(path, key.value))
            ancestors.discard(id(node))
        expanded[id(node)] = size
        if size > MAX_EXPANDED_SIZE:
            raise _RefusedError(
                node.start_mark,
                path,
                f"{where} expands to more than {MAX_EXPANDED_SIZE:,} nodes and characters "
                "(aliases of aliases?); write the values out",
            )
        return size

    visit(root, "")


def decode_stack_file(data: bytes, relative: str) -> str:
    """A stack file's bytes as text: UTF-8 (YAML's and the Pulumi CLI's encoding), within the size bound."""
    if len(data) > MAX_STACK_FILE_BYTES:
        raise ConfigError(
            [
                f"{relative}: the file is {len(data):,} bytes; a stack file holds settings, at most "
                f"{MAX_STACK_FILE_BYTES:,} bytes: remove what is not a setting"
            ]
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConfigError(
            [
                f"{relative}:{line}: not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}); save the "
                "file as UTF-8"
            ]
        ) from None


def read_stack_document(
    text: str, relative: str, repo_root: Path = REPO_ROOT, *, monitoring_project: bool = True
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A stack file's text as (the whole document, its `config:` mapping), or a ConfigError naming the file,
    the line and the fix. `monitoring_project=False` (bootstrap/, which declares AWS resources only) skips
    the check that the Kubernetes, Grafana and Sentry default providers stay disabled.

    The Pulumi CLI refuses such files with its own message; offline they would
    otherwise end in a Python traceback.
    """
    try:
        loader = _StackFileLoader(text)
        try:
            root = loader.get_single_node()
            if root is not None:
                _check_nodes(root)
            document = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except _RefusedError as refused:
        line = f":{refused.mark.line + 1}" if refused.mark is not None else ""
        setting = refused.where or (_enclosing_setting(text, refused.mark.line) if refused.mark is not None else "")
        named = f" {setting}:" if setting and not refused.problem.startswith(setting) else ""
        raise ConfigError([f"{relative}{line}:{named} {refused.problem}"]) from None
    except yaml.reader.ReaderError as error:
        # A character YAML does not allow in a document (control characters, U+FFFE, ...): no mark, a position.
        line_index = text[: error.position].count("\n")
        setting = _enclosing_setting(text, line_index)
        character = error.character if isinstance(error.character, int) else ord(str(error.character)[:1] or "?")
        raise ConfigError(
            [
                f"{relative}:{line_index + 1}:{' ' + setting + ':' if setting else ''} character U+{character:04X} "
                "is not allowed in YAML (control characters are refused); remove it"
            ]
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        where = f"{relative}:{mark.line + 1}" if mark is not None else relative
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        context, context_mark = getattr(error, "context", None), getattr(error, "context_mark", None)
        if context and context_mark is not None:
            problem += f", {context} on line {context_mark.line + 1}"
        raise ConfigError([f"{where}: not valid YAML ({problem}); fix the syntax there"]) from None
    if root is None:
        return {}, {}
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError(
            [
                f"{relative}:{_line(root)}: a stack file is a mapping with one key, `config:`, holding the settings; "
                f"this file is a {_yaml_kind(root)}"
            ]
        )
    assert isinstance(document, dict)
    environment_node = next((value for key, value in root.value if key.value == "environment"), None)
    if environment_node is not None:
        _check_environment_imports(environment_node, relative, repo_root)
    config_node = next((value for key, value in root.value if key.value == "config"), None)
    if config_node is None or (isinstance(config_node, yaml.ScalarNode) and config_node.tag.endswith(":null")):
        return document, {}
    if not isinstance(config_node, yaml.MappingNode):
        raise ConfigError(
            [
                f"{relative}:{_line(config_node)}: `config:` must be a mapping of `namespace:key: value` settings "
                f"(e.g. `monitoring:environment: dev`); here it is a {_yaml_kind(config_node)}"
            ]
        )
    problems = []
    for key, value in config_node.value:
        if not (isinstance(key, yaml.ScalarNode) and key.tag.endswith(":str")):
            problems.append(
                f"{relative}:{_line(key)}: config key {key.value!r} is not a setting name; write "
                "`namespace:key` (e.g. `monitoring:environment`)"
            )
        elif isinstance(value, yaml.ScalarNode) and value.tag.endswith(":null"):
            problems.append(
                f"{relative}:{_line(value)}: {key.value}: the value is empty (null); set a value or remove the key"
            )
    config = dict(document["config"])
    if monitoring_project and (problem := disable_default_providers_problem(config.get(DISABLE_DEFAULT_PROVIDERS))):
        node = next((value for key, value in config_node.value if key.value == DISABLE_DEFAULT_PROVIDERS), config_node)
        problems.append(f"{relative}:{_line(node)}: {DISABLE_DEFAULT_PROVIDERS}: {problem}")
    if problems:
        raise ConfigError(problems)
    return document, config


# An ESC environment reference, `[<org>/][<project>/]<environment>[@<version or tag>]`: each name letters, digits,
# '-', '_' and '.' (Pulumi ESC docs, "Environments": names "may only contain alphanumeric characters, hyphens,
# underscores, and periods"), starting with a letter or digit.
_ESC_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}"
ESC_REFERENCE = re.compile(rf"^(?:{_ESC_NAME}/){{0,2}}{_ESC_NAME}(?:@[A-Za-z0-9][A-Za-z0-9_.-]{{0,99}})?$")
_ENVIRONMENT_FORM = (
    "`environment:` imports ESC environments: a list of their names (`environment: [screener-shared]`) or "
    "`environment: {imports: [screener-shared]}`"
)


def _check_environment_imports(node: yaml.Node, relative: str, root: Path) -> None:
    """`environment:` is null, a list of ESC references or `{imports: [...]}`; each reference well formed,
    listed once and defined under esc/ (the Pulumi CLI refuses an environment that does not exist)."""
    where = f"{relative}:{_line(node)}"
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
        return
    imports: yaml.Node = node
    path = "environment"
    if isinstance(node, yaml.MappingNode):
        keys = [key.value for key, _ in node.value]
        if keys != ["imports"]:
            raise ConfigError([f"{where}: environment: unknown keys {keys}; {_ENVIRONMENT_FORM}"])
        imports, path = node.value[0][1], "environment.imports"
        where = f"{relative}:{_line(imports)}"
    if not isinstance(imports, yaml.SequenceNode):
        raise ConfigError([f"{where}: {path}: a {_yaml_kind(imports)}, not a list; {_ENVIRONMENT_FORM}"])
    seen: set[str] = set()
    for index, item in enumerate(imports.value):
        at = f"{relative}:{_line(item)}: {path}[{index}]"
        if not (isinstance(item, yaml.ScalarNode) and item.tag.endswith(":str")):
            raise ConfigError([f"{at}: an import is an environment's name (a string); {_ENVIRONMENT_FORM}"])
        reference = item.value
        if not ESC_REFERENCE.match(reference):
            raise ConfigError(
                [
                    f"{at}: {reference!r} is not an ESC environment reference: [<org>/][<project>/]<environment>, each "
                    "name letters, digits, '-', '_' and '.'"
                ]
            )
        if reference in seen:
            raise ConfigError([f"{at}: {reference!r} is imported twice; import it once"])
        seen.add(reference)
        if environment_config_keys(reference, root) is None:
            raise ConfigError(
                [
                    f"{at}: imports the ESC environment {reference!r}, which has no definition {ESC_DIR}/"
                    f"{environment_name(reference)}.yaml; the Pulumi CLI refuses an environment that does not exist: "
                    f"use one of {', '.join(known_environments(root))} or commit its definition "
                    "(without values)"
                ]
            )


def environment_name(reference: str) -> str:
    """The environment's own name in `[<org>/][<project>/]<env>[@<version>]`."""
    return reference.split("@", 1)[0].rsplit("/", 1)[-1]


def known_environments(root: Path = REPO_ROOT) -> list[str]:
    return sorted(path.stem for path in (root / ESC_DIR).glob("*.yaml"))


def _as_config_string(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


ESC_DIR = "esc"


def imported_environments(document: dict[str, Any]) -> list[str]:
    """The ESC environments a stack file imports (`environment: [a, b]` or `environment: {imports: [...]}`)."""
    section = document.get("environment") or []
    names = section.get("imports", []) if isinstance(section, dict) else section
    return [str(name) for name in names]


def environment_config_keys(name: str, root: Path = REPO_ROOT) -> dict[str, bool] | None:
    """Keys (-> secret?) the committed definition esc/<name>.yaml exposes as `pulumiConfig`; None without one.

    A reference is by `[<org>/][<project>/]<env>`; the definition is named after the environment.
    """
    path = root / ESC_DIR / f"{environment_name(name)}.yaml"
    if not path.is_file():
        return None
    values = (yaml.safe_load(path.read_text()) or {}).get("values") or {}
    exposed = values.get("pulumiConfig") or {}
    return {key: isinstance(value, dict) and "fn::secret" in value for key, value in exposed.items()}


@cache
def project_config_defaults(root: Path = REPO_ROOT) -> dict[str, Any]:
    """The `default` of every key Pulumi.yaml declares: the CLI merges them into a stack's config when the
    stack file lacks the key (pulumi/pulumi pkg/workspace/config.go, mergeConfig), so the plan does too."""
    declared = (yaml.safe_load((root / "Pulumi.yaml").read_text()) or {}).get("config") or {}
    return {key: spec["default"] for key, spec in declared.items() if isinstance(spec, dict) and "default" in spec}


def as_cli_config(entries: dict[str, Any], namespace: str) -> tuple[dict[str, str], list[str]]:
    """A stack file's `config:` entries as the CLI hands them to its program: keys namespaced (a bare key is
    the project's), values as strings, a `secure:` value as a placeholder (offline) and listed as secret."""
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in entries.items():
        full_key = key if ":" in key else f"{namespace}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[full_key] = placeholder(full_key)
            secret_keys.append(full_key)
        elif isinstance(value, SecretValue):
            config[full_key] = value.value
            secret_keys.append(full_key)
        else:
            config[full_key] = _as_config_string(value)
    return config, secret_keys


def load_stack_file(
    stack: str,
    *,
    fill_unset_secrets: bool = True,
    overrides: dict[str, Any] | None = None,
    root: Path = REPO_ROOT,
    path: Path | None = None,
) -> StackFile:
    """The stack's configuration as the CLI hands it to the program, read from stacks/Pulumi.<stack>.yaml under
    `root` or from the draft at `path` (`--stack-file`); with `fill_unset_secrets` (the plan), placeholders
    stand in for the secrets an imported ESC environment provides and for required ones nobody set; without,
    the plan sees only what the stack file itself holds."""
    relative = stack_file_for(stack) if path is None else str(path)
    path = root / relative if path is None else path
    if not path.is_file():
        available = sorted(
            p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (root / "stacks").glob("Pulumi.*.yaml")
        )
        raise FileNotFoundError(f"no stack file {relative}; stacks here: {', '.join(available)}")
    document, entries = read_stack_document(decode_stack_file(path.read_bytes(), relative), relative, root)
    for key, value in (overrides or {}).items():
        if value is None:
            entries.pop(key, None)
        else:
            entries[key] = value

    config, secret_keys = as_cli_config(entries, NAMESPACE)

    # ESC first, then the project's defaults: the CLI merges the imported environments' pulumiConfig under
    # the stack file's own keys, then applies Pulumi.yaml's defaults (pkg/workspace/config.go, mergeConfig).
    from_environment: dict[str, str] = {}
    # `fill_unset_secrets=False` is the stack file alone: nothing invented, not even what an environment provides.
    for environment in imported_environments(document) if fill_unset_secrets else []:
        # The reader refused an import without a definition.
        exposed = environment_config_keys(environment, root) or {}
        for key, secret in exposed.items():
            full_key = key if ":" in key else f"{NAMESPACE}:{key}"
            if full_key in config:
                continue
            config[full_key] = placeholder(full_key)
            from_environment[full_key] = environment
            if secret:
                secret_keys.append(full_key)

    for key, default in project_config_defaults(root).items():
        config.setdefault(key, _as_config_string(default))

    unset: list[str] = []
    if fill_unset_secrets:
        # Secrets are never committed; offline, a required secret that the
        # file lacks gets a placeholder so the plan can show where it flows.
        # Optional ones stay unset: the plan shows the stack as configured.
        sections = {key.removeprefix(f"{NAMESPACE}:") for key in config}
        for setting in SECRET_SETTINGS:
            full_key = f"{NAMESPACE}:{setting.key}"
            if setting.required_by(sections) and full_key not in config:
                config[full_key] = placeholder(full_key)
                secret_keys.append(full_key)
                unset.append(full_key)
    return StackFile(
        stack=stack,
        path=relative,
        config=config,
        secret_keys=secret_keys,
        unset_secrets=unset,
        from_environment=from_environment,
    )


@cache
def stack_settings(stack: str) -> StackInput:
    """The validated non-secret settings of a committed stack, without running the program.

    For the pure renderers (rules, dashboards, scrape configs) and local tools: the
    values are decoded as `load_stack_config` decodes them (JSON for
    structured values), and secrets are left out.
    """
    stack_file = load_stack_file(stack, fill_unset_secrets=False)
    raw = {
        key.removeprefix(f"{NAMESPACE}:"): decode_config_value(value)
        for key, value in stack_file.config.items()
        if key.startswith(f"{NAMESPACE}:") and key not in stack_file.secret_keys
    }
    return StackInput.model_validate(raw)
