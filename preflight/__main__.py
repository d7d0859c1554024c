"""`make preflight STACK=...`: is everything a first `pulumi up` of STACK needs already in place?

Read-only: every call reads (AWS through botocore with your credentials, the usual chain; Grafana and
Sentry through their HTTP APIs with GRAFANA_AUTH and SENTRY_AUTH_TOKEN, never printed). One line per
check, as `make verify` prints them (verify/report.py): `PASS`, `FAIL` (fix it before deploying: the `fix:`
line says how), `WARN` (cannot be confirmed from here), `INFO` (to do after the deploy), `SKIP` (does not
apply, and why). Exits 1 when a check fails, 2 when the stack file cannot be read. docs/deploying.md
explains each prerequisite.
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
from preflight.http_checks import GRAFANA_TOKEN_VARIABLE, SENTRY_TOKEN_VARIABLE, grafana_checks, sentry_checks
from preflight.target import Target, load_target
from verify.report import Result, exit_code, failed, passed, skipped, text_report


def placeholder_checks(target: Target) -> list[Result]:
    """The list `pulumi up` would refuse (infra/config/placeholders.py), one line each."""
    found = find_placeholders(target.settings)
    if not found:
        return [passed("placeholders", f"no example value left in {target.stack_file}")]
    return [
        failed(
            "placeholders",
            f"{p.describe(target.stack_file).split('; set it to ')[0]}",
            f"set it to {p.placeholder.where}",
        )
        for p in found
    ]


def run_checks(target: Target, clients: Clients, environ: dict[str, str]) -> list[Result]:
    findings = placeholder_checks(target)
    identity_finding, identity = caller_identity(clients("sts"))
    findings.append(identity_finding)
    findings.extend(cluster_checks(target, clients, identity))
    findings.append(
        chatbot_workspace(target, clients) if identity is not None else skipped("chatbot-slack", "no AWS identity")
    )
    if identity is not None:
        findings.extend(email_subscriptions(target, clients, identity))
    else:
        findings.append(skipped("sns-subscriptions", "no AWS identity"))
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


def report(stack: str, results: Iterable[Result], out: Callable[[str], None] = print) -> int:
    results = list(results)
    for line in text_report(stack, results):
        out(line)
    code = exit_code(results)
    if code:
        out("fix each FAIL above, then run `make preflight` again, before `pulumi up`")
    return code


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
