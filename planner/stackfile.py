"""Read a stack file the way the Pulumi CLI hands it to a program.

The CLI passes every config value as a string (structured values as JSON)
and the names of the secret ones; a `secure:` value is decrypted with the
stack's key. Offline there is no key, so a secret becomes a visible
placeholder, never a value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from infra.config import SECRET_SETTINGS, StackInput, stack_file_for
from infra.config.loader import NAMESPACE

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class SecretValue:
    """A test override that the stack file would hold as `secure:`."""

    value: str


def placeholder(key: str) -> str:
    return f"<secret {key}>"


@dataclass
class StackFile:
    stack: str
    path: str
    config: dict[str, str]
    secret_keys: list[str]
    unset_secrets: list[str] = field(default_factory=list)

    @property
    def region(self) -> str | None:
        return self.config.get("aws:region")


def _as_config_string(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def load_stack_file(
    stack: str,
    *,
    fill_unset_secrets: bool = True,
    overrides: dict[str, Any] | None = None,
    root: Path = REPO_ROOT,
) -> StackFile:
    relative = stack_file_for(stack)
    path = root / relative
    if not path.is_file():
        available = sorted(
            p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (root / "stacks").glob("Pulumi.*.yaml")
        )
        raise FileNotFoundError(f"no stack file {relative}; stacks here: {', '.join(available)}")
    document = yaml.safe_load(path.read_text()) or {}
    entries: dict[str, Any] = dict(document.get("config") or {})
    for key, value in (overrides or {}).items():
        if value is None:
            entries.pop(key, None)
        else:
            entries[key] = value

    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in entries.items():
        full_key = key if ":" in key else f"{NAMESPACE}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[full_key] = placeholder(full_key)
            secret_keys.append(full_key)
        elif isinstance(value, SecretValue):
            config[full_key] = value.value
            secret_keys.append(full_key)
        else:
            config[full_key] = _as_config_string(value)

    unset: list[str] = []
    if fill_unset_secrets:
        # Secrets are never committed; offline, a required secret that the
        # file lacks gets a placeholder so the plan can show where it flows.
        # Optional ones stay unset: the plan shows the stack as configured.
        for setting in SECRET_SETTINGS:
            full_key = f"{NAMESPACE}:{setting.key}"
            needed = setting.required or f"{NAMESPACE}:{setting.required_with}" in config
            if needed and full_key not in config:
                config[full_key] = placeholder(full_key)
                secret_keys.append(full_key)
                unset.append(full_key)
    return StackFile(stack=stack, path=relative, config=config, secret_keys=secret_keys, unset_secrets=unset)


@cache
def stack_settings(stack: str) -> StackInput:
    """The validated non-secret settings of a committed stack, without running the program.

    For the pure renderers (rules, dashboards, scrape configs) and the lab: the
    values are decoded as `load_stack_config` decodes them (JSON for
    structured values), and secrets are left out.
    """
    stack_file = load_stack_file(stack, fill_unset_secrets=False)
    raw = {
        key.removeprefix(f"{NAMESPACE}:"): json.loads(value) if value[:1] in "[{" else value
        for key, value in stack_file.config.items()
        if key.startswith(f"{NAMESPACE}:") and key not in stack_file.secret_keys
    }
    return StackInput.model_validate(raw)
