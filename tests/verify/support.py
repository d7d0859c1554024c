"""Shared stand-ins for tests/verify: targets built from the committed plans' outputs, Stubber-wrapped
botocore clients (parameters and responses validated against the service models), and small fake
Grafana and Sentry servers that answer as their API docs say."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

import botocore.session
from botocore.stub import Stubber

from infra.config.stackfile import load_stack_file, stack_settings
from planner.__main__ import to_json
from tests.conftest import plan_of
from tests.http_stub import answer, serving
from verify.checks import AwsClients
from verify.http_api import JsonApi
from verify.target import Target

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
CREATED = datetime(2026, 12, 1, tzinfo=UTC)


def target_of(stack: str, **outputs: Any) -> Target:
    """The committed stack as deployed: its settings, and its plan's outputs (with `outputs` changed)."""
    # As `pulumi stack output --json --show-secrets=false` prints them: secrets as "[secret]".
    planned = {**to_json(dict(plan_of(stack).outputs)), **outputs}
    return Target(
        stack=f"acme/{stack}",
        settings=stack_settings(stack),
        region=load_stack_file(stack, fill_unset_secrets=False).region or "us-east-1",
        stack_file=f"stacks/Pulumi.{stack}.yaml",
        outputs={k: v for k, v in planned.items() if v is not None},
    )


def client(service: str) -> Any:
    return botocore.session.get_session().create_client(
        service, region_name="ap-northeast-2", aws_access_key_id="AKIDTESTONLY", aws_secret_access_key="test-only"
    )


@contextmanager
def stubbed(service: str) -> Iterator[tuple[Any, Stubber]]:
    """A client whose calls must be exactly the ones queued, in order; every queued call must happen."""
    aws = client(service)
    with Stubber(aws) as stubber:
        yield aws, stubber
        stubber.assert_no_pending_responses()


def stubbed_clients() -> tuple[AwsClients, dict[str, Stubber]]:
    """Clients whose every call must be queued on its active Stubber first (an unqueued call raises)."""
    clients = AwsClients(*(client(name) for name in ("amp", "sns", "cloudwatch", "logs")))
    stubbers = {name: Stubber(getattr(clients, name)) for name in ("amp", "sns", "cloudwatch", "logs")}
    for stubber in stubbers.values():
        stubber.activate()
    return clients, stubbers


def status(code: str, reason: str | None = None) -> dict[str, str]:
    return {"statusCode": code, **({"statusReason": reason} if reason else {})}


def namespace(workspace_id: str, name: str, code: str = "ACTIVE", reason: str | None = None) -> dict[str, Any]:
    return {
        "arn": f"arn:aws:aps:ap-northeast-2:123456789012:rulegroupsnamespace/{workspace_id}/{name}",
        "name": name,
        "status": status(code, reason),
        "createdAt": CREATED,
        "modifiedAt": CREATED,
    }


Route = Callable[[BaseHTTPRequestHandler, str, dict[str, list[str]], Any], tuple[int, Any]]


@contextmanager
def fake_api(routes: dict[tuple[str, str], tuple[int, Any]]) -> Iterator[tuple[str, list[tuple[str, str, Any]]]]:
    """A JSON API on loopback answering (method, path) from `routes` (404 `{"message": "Not found"}` otherwise);
    the query string is part of the path. Records (method, path, body) and the Authorization header's presence."""
    seen: list[tuple[str, str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            path = urllib.parse.unquote(self.path)
            seen.append((method, path, body))
            if not self.headers.get("Authorization", "").startswith("Bearer "):
                answer(self, {"message": "Unauthorized"}, 401)
                return
            code, document = routes.get((method, path), (404, {"message": "Not found"}))
            answer(self, document, code)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

    with serving(Handler) as url:
        yield url, seen


def api(url: str) -> JsonApi:
    return JsonApi(url, "test-only-token", timeout=5)
