"""`make alerts STACK=...` and `make silence STACK=... MATCH='service="api"' FOR=2h`.

The stack's AMP Alertmanager URL is its `amp_alertmanager_url` output
(`pulumi stack output`), unless `--url` names another AMP one, or a loopback
Alertmanager with `--local` (a test one on this machine; signed with a key that is not yours). STACK may be
`<org>/<stack>`: the stack file is stacks/Pulumi.<stack>.yaml, Pulumi gets the
name as written. The Makefile passes every value as one argument, never
through the shell.
Requests are signed with your AWS credentials (the usual chain: environment,
profile, SSO) for the stack file's region; the identity needs the
aps:*AlertManager* actions of the workspace (the Grafana role's list).
"""

from __future__ import annotations

import argparse
import getpass
import socket
import subprocess
import sys
from datetime import UTC, datetime

import botocore.session
from botocore.credentials import Credentials

from infra.config.stackfile import load_stack_file
from infra.stack_name import stack_argument
from oncall.alertmanager_api import (
    LOCAL_CREDENTIALS,
    AlertmanagerApi,
    OnCallError,
    alerts_table,
    checked_url,
    parse_duration,
    silence_matchers,
)


def stack_url(stack: str) -> str:
    try:
        result = subprocess.run(
            ["pulumi", "stack", "output", "amp_alertmanager_url", "--stack", stack],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise OnCallError("the pulumi CLI is not installed: install it, or pass URL=<alertmanager url>") from None
    if result.returncode != 0 or not result.stdout.strip():
        raise OnCallError(
            f"no amp_alertmanager_url output for stack {stack} (deployed yet? `pulumi login` done?): "
            f"{result.stderr.strip()}"
        )
    return result.stdout.strip()


def credentials() -> Credentials:
    found = botocore.session.Session().get_credentials()
    if found is None:
        raise OnCallError("no AWS credentials: `aws sso login`, set AWS_PROFILE, or export AWS_ACCESS_KEY_ID/...")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oncall", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("alerts", "silence"):
        command = commands.add_parser(name)
        command.add_argument("--stack", required=True, type=stack_argument, help="<stack> or <org>/<stack>")
        command.add_argument("--url", default="", help="another AMP Alertmanager URL than the stack's output")
        command.add_argument(
            "--local", action="store_true", help="--url is a loopback Alertmanager (a test one): http allowed, unsigned"
        )
        if name == "silence":
            command.add_argument("--match", required=True, help='e.g. service="api",severity="critical"')
            command.add_argument("--for", dest="duration", required=True, help="e.g. 30m, 2h, 1d (at most 7d)")
            command.add_argument("--comment", default="silenced from the command line")
            command.add_argument("--by", default=f"{getpass.getuser()}@{socket.gethostname()}")
    args = parser.parse_args(argv)
    try:
        if args.command == "silence":
            # Checked before any URL is looked up, any credential read or anything sent.
            matchers, duration = silence_matchers(args.match), parse_duration(args.duration)
        region = load_stack_file(args.stack.stack, fill_unset_secrets=False).region or "us-east-1"
        if args.local and not args.url:
            raise OnCallError("LOCAL=1 needs URL=http://127.0.0.1:<port> (the local Alertmanager)")
        url = checked_url(args.url or stack_url(args.stack.qualified), region, local=args.local)
        api = AlertmanagerApi(url, region, LOCAL_CREDENTIALS if args.local else credentials())
        if args.command == "alerts":
            print("\n".join(alerts_table(api.alerts())))
        else:
            now = datetime.now(UTC)
            silence_id = api.silence(matchers, duration, args.by, args.comment, now)
            print(f"silence {silence_id}: {args.match} until {(now + duration).isoformat(timespec='minutes')}")
    except (OnCallError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
