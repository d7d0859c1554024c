"""What verify and test-alert look at: the stack's settings (read once), its outputs, and where its APIs are.

Settings come from the stack file through `infra.config.stackfile.stack_settings` (validated, secrets left
out); ids and URLs from the stack's outputs, `pulumi stack output --json --show-secrets=false` or a file
(OUTPUTS=path, the same JSON). Every URL must be https: a plain-http URL on loopback (the local lab) is
accepted only when the caller says so (`local=True`, `--local`), never silently.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.config import StackInput
from infra.config.stackfile import load_stack_file, stack_settings


class VerifyError(ValueError):
    """Bad input or a missing prerequisite; the message says what to do."""


def short_stack_name(stack: str) -> str:
    """`<org>/<stack>` (or `<org>/<project>/<stack>`, Pulumi's fully qualified names) -> the stack file's name."""
    name = stack.rsplit("/", 1)[-1]
    if not name:
        raise VerifyError(f"STACK='{stack}' names no stack: write e.g. STACK=staging or STACK=acme/staging")
    return name


def read_outputs(stack: str, path: str = "") -> dict[str, Any]:
    """The stack's outputs: from `path` when given, else from the Pulumi CLI (secrets stay masked)."""
    if path:
        try:
            document = json.loads(Path(path).read_text())
        except (OSError, ValueError) as error:
            raise VerifyError(f"OUTPUTS={path}: cannot read it as JSON ({error})") from None
    else:
        command = ["pulumi", "stack", "output", "--json", "--show-secrets=false", "--stack", stack]
        try:
            result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
        except FileNotFoundError:
            raise VerifyError(
                "the pulumi CLI is not installed: install it, or pass OUTPUTS=<file> holding "
                "`pulumi stack output --json` of the stack"
            ) from None
        if result.returncode != 0:
            raise VerifyError(
                f"`{' '.join(command)}` failed (deployed yet? `pulumi login` done?): {result.stderr.strip()}"
            )
        document = json.loads(result.stdout or "{}")
    if not isinstance(document, dict):
        raise VerifyError(f"the outputs of {stack} are not a JSON object: expected `pulumi stack output --json`")
    return document


def checked_url(url: str, setting: str, *, local: bool) -> str:
    """`url` if it is https; a plain-http loopback URL only with `local` (the lab); anything else refused."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "https" and parsed.hostname:
        return url
    if parsed.scheme == "http" and parsed.hostname:
        try:
            loopback = ipaddress.ip_address(parsed.hostname).is_loopback
        except ValueError:
            loopback = parsed.hostname == "localhost"
        if loopback and local:
            return url
        if loopback:
            raise VerifyError(
                f"{setting}={url} is plain http: pass --local (LOCAL=1) to talk to a local lab on loopback"
            )
    raise VerifyError(f"{setting}={url} is not an https URL (plain http is accepted only on loopback with --local)")


@dataclass(frozen=True)
class Target:
    """One deployed stack as the checks see it."""

    stack: str
    settings: StackInput
    region: str
    stack_file: str
    outputs: dict[str, Any]

    @property
    def environment(self) -> str:
        return self.settings.environment

    @property
    def name_prefix(self) -> str:
        return self.settings.name_prefix

    def output(self, name: str) -> Any:
        return self.outputs.get(name)


def load_target(stack: str, outputs_path: str = "") -> Target:
    name = short_stack_name(stack)
    try:
        stack_file = load_stack_file(name, fill_unset_secrets=False)
    except FileNotFoundError as error:
        raise VerifyError(str(error)) from None
    return Target(
        stack=stack,
        settings=stack_settings(name),
        region=stack_file.region or "us-east-1",
        stack_file=stack_file.path,
        outputs=read_outputs(stack, outputs_path),
    )


@dataclass(frozen=True)
class Endpoints:
    """Where the HTTP APIs are: the stack's outputs unless overridden; `local` admits http on loopback."""

    amp_query_url: str | None
    alertmanager_url: str | None
    grafana_url: str | None
    sentry_api_url: str | None
    local: bool = False

    @classmethod
    def of(
        cls,
        target: Target,
        *,
        amp_query_url: str = "",
        alertmanager_url: str = "",
        grafana_url: str = "",
        sentry_api_url: str = "",
        local: bool = False,
    ) -> Endpoints:
        sentry = target.settings.sentry
        chosen = {
            "amp_query_url": amp_query_url or target.output("amp_query_url"),
            "alertmanager_url": alertmanager_url or target.output("amp_alertmanager_url"),
            "grafana_url": grafana_url or target.output("grafana_url") or target.settings.grafana.url,
            "sentry_api_url": sentry_api_url or (str(sentry.api_url) if sentry is not None else None),
        }
        return cls(
            **{key: checked_url(url, key, local=local) if url else None for key, url in chosen.items()},
            local=local,
        )
