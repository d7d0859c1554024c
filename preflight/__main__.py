"""`make preflight STACK=...`: is everything a first `pulumi up` of STACK needs already in place?

Read-only: every call reads (AWS through botocore with your credentials, the usual chain; Grafana and
Sentry through their HTTP APIs with GRAFANA_AUTH and SENTRY_AUTH_TOKEN, never printed). One line per
check: `ok`, `FAIL` (fix it before deploying: the line says how), `warn` (cannot be confirmed from here),
`info` (to do after the deploy), `skip` (does not apply, and why). Exits 1 when a check fails, 2 when the
stack file cannot be read. docs/deploying.md explains each prerequisite.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

import botocore.session
from pydantic import ValidationError

from infra.config import ConfigError
from infra.config.placeholders import find_placeholders
from preflight.aws_checks import Clients, caller_identity, chatbot_workspace, cluster_checks, email_subscriptions
from preflight.findings import Finding, Status, fail, ok, skip
from preflight.http_checks import GRAFANA_TOKEN_VARIABLE, SENTRY_TOKEN_VARIABLE, grafana_checks, sentry_checks
from preflight.target import Target, load_target


def placeholder_checks(target: Target) -> list[Finding]:
    """The list `pulumi up` would refuse (infra/config/placeholders.py), one line each."""
    found = find_placeholders(target.settings)
    if not found:
        return [ok("placeholders", f"no example value left in {target.stack_file}")]
    return [
        fail(
            "placeholders",
            f"{p.describe(target.stack_file).split('; set it to ')[0]}",
            f"set it to {p.placeholder.where}",
        )
        for p in found
    ]


def run_checks(target: Target, clients: Clients, environ: dict[str, str]) -> list[Finding]:
    findings = placeholder_checks(target)
    identity_finding, identity = caller_identity(clients("sts"))
    findings.append(identity_finding)
    findings.extend(cluster_checks(target, clients, identity))
    findings.append(
        chatbot_workspace(target, clients) if identity is not None else skip("chatbot-slack", "no AWS identity")
    )
    if identity is not None:
        findings.extend(email_subscriptions(target, clients, identity))
    else:
        findings.append(skip("sns-subscriptions", "no AWS identity"))
    findings.extend(grafana_checks(target, environ.get(GRAFANA_TOKEN_VARIABLE)))
    findings.extend(sentry_checks(target, environ.get(SENTRY_TOKEN_VARIABLE)))
    return findings


def botocore_clients(region: str) -> Clients:
    session = botocore.session.Session()
    made: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in made:
            made[service] = session.create_client(service, region_name=region)
        return made[service]

    return client


def report(stack: str, findings: Iterable[Finding], out: Callable[[str], None] = print) -> int:
    findings = list(findings)
    for finding in findings:
        out(finding.line())
    failed = [f for f in findings if f.status is Status.FAIL]
    out(
        f"\n{stack}: {len(failed)} check(s) failed"
        + (" (fix each FAIL above before `pulumi up`)" if failed else "")
        + f", {sum(f.status is Status.WARN for f in findings)} to confirm by hand (warn)"
    )
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m preflight", description=__doc__.splitlines()[0])
    parser.add_argument("stack", nargs="?", default=os.environ.get("STACK") or "dev", help="e.g. prod or acme/prod")
    args = parser.parse_args(argv)
    try:
        target = load_target(args.stack)
    except (ConfigError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ValidationError as error:
        print(
            f"error: the stack file does not validate (`make plan STACK={args.stack}` says why):\n{error}",
            file=sys.stderr,
        )
        return 2
    return report(args.stack, run_checks(target, botocore_clients(target.region), dict(os.environ)))


if __name__ == "__main__":
    sys.exit(main())
