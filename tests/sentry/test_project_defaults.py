"""Sentry projects are declared without a platform, and lose Sentry's default issue alert and "Default" key.

Contracts built against:
- terraform-provider-sentry v0.11.2 (what pulumiverse-sentry 0.0.9, the newest on PyPI, bridges),
  sentry/resource_sentry_project.go: `platform` is Optional+Computed with `ValidateDiagFunc:
  validatePlatform`, which GETs https://docs.sentry.io/_platforms/<platform>.json (and the `-`→`/`
  variant) and refuses the value unless one answers 200; terraform-plugin-sdk v2 (v2.24.1 in its go.mod)
  validates only the attributes a configuration sets (helper/schema/schema.go, `schemaMap.validate`: an unset
  optional key returns before any ValidateDiagFunc). v0.11.2 has no `default_rules`/`default_key` (both
  arrive in v0.12.0); pulumiverse-sentry 0.0.9 is the newest release on PyPI (`pip index versions`).
- getsentry/sentry src/sentry/receivers/rules.py: `create_default_rules` adds "Send a notification for
  new issues" or "Send a notification for high priority issues" (mail to issue owners, falling through
  to active members) unless the project is created with `default_rules: false`.
- terraform-provider-sentry v0.12.0 `removeDefaultKey`: the key Sentry creates is named "Default"; it is
  found by listing the keys (cursor pagination) and deleted by ID.
- Sentry API reference (docs.sentry.io/api/projects/): List a Project's Client Keys
  `GET /api/0/projects/{org}/{project}/keys/`, Delete a Client Key `DELETE .../keys/{key_id}/` (204);
  List a Project's Issue Alert Rules `GET .../rules/`, Delete an Issue Alert Rule
  `DELETE .../rules/{rule_id}/` (202); pagination through `Link: <url>; rel="next"; results="true";
  cursor="..."` ("Paginating Results"); bearer-token authentication (401 otherwise).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from infra.components.sentry_defaults import (
    DEFAULT_KEY_NAME,
    DEFAULT_RULE_LABELS,
    ProjectDefaultsRemover,
    SentryApiError,
)
from planner.engine import SECRET
from tests.conftest import plan_of
from tests.http_stub import answer, serving
from tests.sentry.support import PROJECT, PROJECT_DEFAULTS

TOKEN = "sntrys_test-token"
ORG, SLUG = "screener", "screener-backend"
OUR_KEY = {"id": "a1b2c3", "name": "screener-prod", "rateLimit": {"window": 60, "count": 1000}}
OUR_RULE = {"id": "12", "name": "[warning] SentryNewIssue backend prod"}


@dataclass
class FakeSentry:
    """One organisation's projects as Sentry's API shows them; every request is recorded."""

    rules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    keys: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    page_size: int = 1  # one item a page, so that every list is followed through its cursor
    refuse_deletes_with: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_project(self, slug: str, default_rule: str = DEFAULT_RULE_LABELS[0]) -> None:
        """What project creation leaves (receivers/rules.py; the default key), plus our own key and rule."""
        self.rules[slug] = [{"id": "7", "name": default_rule, "environment": None}, dict(OUR_RULE)]
        self.keys[slug] = [{"id": "d3f4u1", "name": DEFAULT_KEY_NAME, "rateLimit": None}, dict(OUR_KEY)]


def handler_for(sentry: FakeSentry) -> type[BaseHTTPRequestHandler]:
    item_path = re.compile(r"^/api/0/projects/([^/]+)/([^/]+)/(rules|keys)/(?:([^/]+)/)?$")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def _route(self) -> tuple[str, str, str | None] | None:
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                answer(self, {"detail": "Invalid token"}, 401)
                return None
            parts = urlsplit(self.path)
            found = item_path.match(parts.path)
            if found is None or found.group(1) != ORG:
                answer(self, {"detail": "The requested resource does not exist"}, 404)
                return None
            return found.group(2), found.group(3), found.group(4)

        def do_GET(self) -> None:
            with sentry.lock:
                sentry.calls.append(("GET", self.path))
                route = self._route()
                if route is None:
                    return
                project, kind, item = route
                items = (sentry.rules if kind == "rules" else sentry.keys).get(project)
                if items is None or item is not None:
                    answer(self, {"detail": "The requested resource does not exist"}, 404)
                    return
                cursor = int(parse_qs(urlsplit(self.path).query).get("cursor", ["0:0:0"])[0].split(":")[1])
                page = items[cursor : cursor + sentry.page_size]
                more = cursor + sentry.page_size < len(items)
                base = f"http://{self.headers['Host']}{urlsplit(self.path).path}"
                previous_cursor = f"0:{max(cursor - sentry.page_size, 0)}:1"
                next_cursor = f"0:{cursor + sentry.page_size}:0"
                link = (
                    f'<{base}?&cursor={previous_cursor}>; rel="previous"; results="{str(cursor > 0).lower()}"; '
                    f'cursor="{previous_cursor}", '
                    f'<{base}?&cursor={next_cursor}>; rel="next"; results="{str(more).lower()}"; cursor="{next_cursor}"'
                )
                payload = json.dumps(page).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Link", link)
                self.end_headers()
                self.wfile.write(payload)

        def do_DELETE(self) -> None:
            with sentry.lock:
                sentry.calls.append(("DELETE", self.path))
                route = self._route()
                if route is None:
                    return
                project, kind, item = route
                items = (sentry.rules if kind == "rules" else sentry.keys).get(project, [])
                if item is None or not any(i["id"] == item for i in items):
                    answer(self, {"detail": "The requested resource does not exist"}, 404)
                    return
                if sentry.refuse_deletes_with is not None:
                    answer(self, {"detail": "You do not have permission to perform this action."}, 403)
                    return
                items[:] = [i for i in items if i["id"] != item]
                self.send_response(202 if kind == "rules" else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

    return Handler


@pytest.fixture
def sentry() -> FakeSentry:
    return FakeSentry()


@pytest.fixture
def api_url(sentry: FakeSentry) -> Iterator[str]:
    with serving(handler_for(sentry)) as base:
        yield f"{base}/api/"


def create(api_url: str, project: str = SLUG, token: str = TOKEN) -> dict[str, Any]:
    props = {"apiUrl": api_url, "token": token, "organization": ORG, "project": project}
    result = ProjectDefaultsRemover().create(props)
    assert result.id == f"{ORG}/{project}"
    return dict(result.outs or {})


def names(items: list[dict[str, Any]]) -> list[str]:
    return [i["name"] for i in items]


@pytest.mark.parametrize("default_rule", DEFAULT_RULE_LABELS)
def test_create_leaves_no_default_alert_and_no_default_key_but_keeps_ours(
    sentry: FakeSentry, api_url: str, default_rule: str
) -> None:
    sentry.new_project(SLUG, default_rule)
    outs = create(api_url)
    assert names(sentry.rules[SLUG]) == [OUR_RULE["name"]]
    assert names(sentry.keys[SLUG]) == [OUR_KEY["name"]]
    assert outs == {"organization": ORG, "project": SLUG, "removedRuleIds": ["7"], "removedKeyIds": ["d3f4u1"]}
    # Both lists were followed past their first page (one item a page here).
    assert ("GET", "/api/0/projects/screener/screener-backend/keys/?&cursor=0:1:0") in sentry.calls
    assert ("GET", "/api/0/projects/screener/screener-backend/rules/?&cursor=0:1:0") in sentry.calls


def test_create_touches_only_its_own_project(sentry: FakeSentry, api_url: str) -> None:
    sentry.new_project(SLUG)
    sentry.new_project("screener-frontend")
    create(api_url)
    assert DEFAULT_KEY_NAME in names(sentry.keys["screener-frontend"])
    assert DEFAULT_RULE_LABELS[0] in names(sentry.rules["screener-frontend"])


def test_create_on_a_project_without_defaults_deletes_nothing(sentry: FakeSentry, api_url: str) -> None:
    sentry.new_project(SLUG)
    create(api_url)
    sentry.calls.clear()
    assert create(api_url)["removedRuleIds"] == [] and create(api_url)["removedKeyIds"] == []
    assert [method for method, _ in sentry.calls] == ["GET"] * len(sentry.calls)


def test_a_refused_delete_fails_the_create_naming_the_call_and_not_the_token(sentry: FakeSentry, api_url: str) -> None:
    sentry.new_project(SLUG)
    sentry.refuse_deletes_with = 403
    with pytest.raises(
        SentryApiError, match=r"DELETE .*/api/0/projects/screener/screener-backend/rules/7/ answered 403"
    ):
        create(api_url)
    with pytest.raises(SentryApiError) as refused:
        create(api_url)
    assert TOKEN not in str(refused.value)


def test_a_wrong_token_fails_the_create(sentry: FakeSentry, api_url: str) -> None:
    sentry.new_project(SLUG)
    with pytest.raises(SentryApiError, match="answered 401"):
        create(api_url, token="wrong")


def test_delete_calls_nothing_and_a_new_token_changes_nothing(sentry: FakeSentry, api_url: str) -> None:
    provider = ProjectDefaultsRemover()
    olds = {"apiUrl": api_url, "token": TOKEN, "organization": ORG, "project": SLUG}
    provider.delete(f"{ORG}/{SLUG}", olds)
    assert sentry.calls == []
    assert not provider.diff(f"{ORG}/{SLUG}", olds, {**olds, "token": "rotated"}).changes
    moved = provider.diff(f"{ORG}/{SLUG}", olds, {**olds, "project": "screener-prod-backend"})
    assert moved.changes and moved.replaces == ["project"]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_no_project_sets_a_platform(stack: str) -> None:
    """Any `platform` (but "other") makes v0.11.2 call docs.sentry.io at every preview."""
    assert [p.name for p in plan_of(stack).of_type(PROJECT) if "platform" in p.inputs] == []


def test_every_created_project_has_its_defaults_removed_once_it_exists() -> None:
    plan = plan_of("staging")
    projects = plan.of_type(PROJECT)
    assert {p.inputs["slug"] for p in projects} == {"screener-backend", "screener-frontend"}
    removals = plan.of_type(PROJECT_DEFAULTS)
    by_project = {r.inputs["project"]: r for r in removals}
    assert len(by_project) == len(removals) == len(projects)
    for project in projects:
        removal = by_project[project.inputs["slug"]]
        assert project.urn in removal.depends_on
        assert removal.inputs["organization"] == project.inputs["organization"]
        assert removal.inputs["apiUrl"] == "https://sentry.io/api/"
        assert removal.inputs["token"] == SECRET  # the provider token stays encrypted in state
        # Exactly what ProjectDefaultsRemover.create reads (no SDK checks a dynamic resource's inputs).
        assert set(removal.inputs) == {"__provider", "apiUrl", "token", "organization", "project"}


def test_a_stack_that_creates_no_project_removes_nothing() -> None:
    plan = plan_of("prod")
    assert plan.of_type(PROJECT) == [] and plan.of_type(PROJECT_DEFAULTS) == []


def test_the_provider_loads_in_a_fresh_process_started_from_the_project_directory() -> None:
    """What the engine does at `pulumi up`: the dynamic provider host (`python -u -m pulumi.dynamic`, run in the
    program's directory, so that directory is on sys.path) unpickles what `serialize_provider` stored in the
    state. The provider class is pickled by reference, so its module must import there with the standard
    library and the Pulumi SDK alone."""
    import subprocess
    import sys

    from pulumi.dynamic.dynamic import serialize_provider

    from infra.config.stackfile import REPO_ROOT

    loader = (
        "import base64, sys, dill; provider = dill.loads(base64.b64decode(sys.stdin.read())); "
        "print(type(provider).__module__, type(provider).__name__)"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", loader],
        input=serialize_provider(ProjectDefaultsRemover()),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=True,
    )
    assert loaded.stdout.split() == ["infra.components.sentry_defaults", "ProjectDefaultsRemover"]
