"""`make verify STACK=... [FORMAT=json] [OUTPUTS=file]` and `make test-alert STACK=... [SEVERITY=] [FOR=]`.

Both read the stack file (settings, region) and the stack's outputs, and use your AWS credentials (the
usual chain) plus GRAFANA_AUTH and SENTRY_AUTH_TOKEN when set. `--local` admits plain-http URLs on
loopback given with the `--*-url` options (the local lab); nothing else ever talks plain http.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

import botocore.session

from oncall.alertmanager_api import AlertmanagerApi, OnCallError, parse_duration
from verify.checks import (
    GRAFANA_TOKEN_VARIABLE,
    AwsClients,
    clients_for,
    run_checks,
)
from verify.drill import SEVERITIES, AlertDrill, CloudWatchDeliveries, DrillStoppedError, Timing
from verify.report import exit_code, text_report, to_json
from verify.target import Endpoints, Target, VerifyError, load_target, short_stack_name

PROD = "prod"


def _endpoint_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", required=True, help="stack name or <org>/<stack>")
    parser.add_argument("--outputs", default="", help="a file of `pulumi stack output --json` instead of the CLI")
    parser.add_argument("--local", action="store_true", help="allow plain-http URLs on loopback (the local lab)")
    for name in ("amp-query-url", "alertmanager-url", "grafana-url", "sentry-url"):
        parser.add_argument(f"--{name}", default="", help="instead of the stack's output")


def _endpoints(args: argparse.Namespace, target: Target) -> Endpoints:
    return Endpoints.of(
        target,
        amp_query_url=args.amp_query_url,
        alertmanager_url=args.alertmanager_url,
        grafana_url=args.grafana_url,
        sentry_api_url=args.sentry_url,
        local=args.local,
    )


def refuse_prod(stack: str, environment: str, confirm: str) -> None:
    if PROD in (short_stack_name(stack), environment) and confirm != PROD:
        raise DrillStoppedError(
            f"{stack} is production: a test alert reaches the people on call. Run again with CONFIRM=prod"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verify", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="read-only checks of a deployed stack")
    _endpoint_options(check)
    check.add_argument("--format", choices=("text", "json"), default="text")
    alert = commands.add_parser("test-alert", help="fire, deliver and resolve one test alert")
    _endpoint_options(alert)
    alert.add_argument("--severity", choices=SEVERITIES, default="warning")
    alert.add_argument("--for", dest="duration", default="5m", help="the alert's end time from now, e.g. 5m")
    alert.add_argument("--service", default="", help="a service of the catalog (default: its first)")
    alert.add_argument("--confirm", default="", help="'prod' to run against production")
    args = parser.parse_args(argv)
    session = botocore.session.Session()
    try:
        target = load_target(args.stack, args.outputs)
        endpoints = _endpoints(args, target)
        clients = clients_for(target, endpoints, session)
        if args.command == "check":
            results = run_checks(target, clients, datetime.now(UTC))
            if args.format == "json":
                print(to_json(args.stack, results))
            else:
                print("\n".join(text_report(args.stack, results)))
            return exit_code(results)
        refuse_prod(args.stack, target.environment, args.confirm)
        duration = parse_duration(args.duration)
        credentials = session.get_credentials()
        if endpoints.alertmanager_url is None or credentials is None:
            raise VerifyError("no amp_alertmanager_url output or no AWS credentials (`aws sso login`, AWS_PROFILE)")
        topic_arns = target.output("alert_topic_arns") or {}
        if not topic_arns:
            raise VerifyError(f"no alert_topic_arns output for {args.stack}: deployed yet? (`make up STACK=...`)")
        run = AlertDrill(
            settings=target.settings,
            topic_arns=topic_arns,
            outputs=target.outputs,
            alertmanager=AlertmanagerApi(endpoints.alertmanager_url, target.region, credentials),
            deliveries=CloudWatchDeliveries(AwsClients.for_region(session, target.region).cloudwatch, topic_arns),
            grafana=clients.grafana,
            timing=Timing.of(target.settings),
        )
        if clients.grafana is None:
            print(f"note: {GRAFANA_TOKEN_VARIABLE} is not set; Grafana's contact point is not tested")
        run.run(args.severity, duration, args.service)
    except DrillStoppedError as stop:
        print(f"stopped: {stop}", file=sys.stderr)
        return 3
    except (VerifyError, OnCallError, TimeoutError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
