"""The Grafana and Sentry half of `make preflight`, against small fake APIs on loopback.

The fakes answer as the APIs' documentation and sources say (paths, status codes, bodies; cited in
preflight/http_checks.py): Grafana's /api/health without authentication, /api/access-control/user/permissions
as {action: [scopes]} for a signed-in identity, /api/plugins/<id>/settings with info.version or 404 "Plugin
not found, no installed plugin with that id"; Sentry's /api/0/ with the token's scopes, organisations, teams
and project environments, 404 {"detail": ...} for what does not exist. Both refuse a request without the
token (401), so a check that forgets to send it fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from infra.components.grafana_datasource import AMP_PLUGIN
from preflight.http_checks import GRAFANA_ACTIONS, grafana_checks, sentry_checks
from preflight.target import Target, load_target
from tests.http_stub import answer, serving
from verify.report import Result, Status, text_lines

GRAFANA_TOKEN = "glsa_preflightTestToken_0123456789abcdef"
SENTRY_TOKEN = "sntryu_preflightTestToken_0123456789abcdef"
ADMIN_PERMISSIONS = {action: ["*"] for action in GRAFANA_ACTIONS} | {"dashboards:read": ["dashboards:*"]}
PLUGIN_SETTINGS = {
    "name": "Amazon Managed Service for Prometheus",
    "type": "datasource",
    "id": AMP_PLUGIN,
    "enabled": True,
    "info": {"version": "3.2.0", "author": {"name": "Grafana Labs"}},
}


@dataclass
class FakeApi:
    """Routes (path -> (status, body)); a route under `authenticated` answers 401 without the right token."""

    token: str
    routes: dict[str, tuple[int, Any]]
    public: frozenset[str] = frozenset()
    not_found: Any = field(default_factory=lambda: {"message": "Not found"})
    seen: list[tuple[str, str | None]] = field(default_factory=list)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                authorization = self.headers.get("Authorization")
                api.seen.append((self.path, authorization))
                if self.path not in api.public and authorization != f"Bearer {api.token}":
                    answer(self, {"message": "Unauthorized"}, 401)
                    return
                status, body = api.routes.get(self.path, (404, api.not_found))
                answer(self, body, status)

        return Handler


@pytest.fixture
def grafana() -> Iterator[tuple[FakeApi, str]]:
    api = FakeApi(
        GRAFANA_TOKEN,
        {
            "/api/health": (200, {"commit": "abc1234", "database": "ok", "version": "12.1.0"}),
            "/api/access-control/user/permissions": (200, ADMIN_PERMISSIONS),
            f"/api/plugins/{AMP_PLUGIN}/settings": (200, PLUGIN_SETTINGS),
        },
        public=frozenset({"/api/health"}),
    )
    with serving(api.handler()) as base:
        yield api, base


@pytest.fixture
def sentry() -> Iterator[tuple[FakeApi, str]]:
    api = FakeApi(
        SENTRY_TOKEN,
        {
            "/api/0/": (200, {"version": "0", "auth": {"scopes": ["org:read", "project:write", "team:write"]}}),
            "/api/0/organizations/acme/": (200, {"id": "7", "slug": "acme", "name": "Acme"}),
            "/api/0/teams/acme/screener/": (200, {"id": "3", "slug": "screener", "name": "Screener"}),
            "/api/0/projects/acme/screener-backend/environments/": (
                200,
                [{"id": "1", "name": "staging", "isHidden": False}, {"id": "2", "name": "prod", "isHidden": False}],
            ),
            "/api/0/projects/acme/screener-frontend/environments/": (200, []),
        },
        not_found={"detail": "The requested resource does not exist"},
    )
    with serving(api.handler()) as base:
        yield api, base


def at_grafana(stack: str, base: str) -> Target:
    target = load_target(stack)
    grafana = target.settings.grafana.model_copy(update={"url": base})
    return Target(
        target.stack, target.stack_file, target.region, target.settings.model_copy(update={"grafana": grafana})
    )


def at_sentry(stack: str, base: str) -> Target:
    target = load_target(stack)
    assert target.settings.sentry is not None
    sentry = target.settings.sentry.model_copy(update={"api_url": f"{base}/api/", "organization": "acme"})
    return Target(target.stack, target.stack_file, target.region, target.settings.model_copy(update={"sentry": sentry}))


def by_check(findings: list[Result]) -> dict[str, Result]:
    return {f.check: f for f in findings}


def test_a_reachable_grafana_with_an_admin_token_and_the_pinned_plugin_passes(grafana):
    api, base = grafana
    findings = by_check(grafana_checks(at_grafana("dev", base), GRAFANA_TOKEN))
    assert {name: f.status for name, f in findings.items()} == {
        "grafana-reachable": Status.PASS,
        "grafana-token": Status.PASS,
        "grafana-amp-plugin": Status.PASS,
    }
    assert findings["grafana-reachable"].evidence == f"{base}, Grafana 12.1.0"
    assert findings["grafana-amp-plugin"].evidence == f"{AMP_PLUGIN} 3.2.0"
    # Health is public; every other call carries the token, as a bearer token.
    assert api.seen[0] == ("/api/health", None)
    assert all(authorization == f"Bearer {GRAFANA_TOKEN}" for _, authorization in api.seen[1:])


def test_a_missing_amp_plugin_fails_before_the_first_dev_deploy(grafana):
    api, base = grafana
    api.routes[f"/api/plugins/{AMP_PLUGIN}/settings"] = (
        404,
        {"message": "Plugin not found, no installed plugin with that id"},
    )
    plugin = by_check(grafana_checks(at_grafana("dev", base), GRAFANA_TOKEN))["grafana-amp-plugin"]
    assert plugin.status is Status.FAIL
    assert plugin.evidence.startswith(f"{AMP_PLUGIN} is not installed")
    assert "'Amazon Managed Service for Prometheus' → Install (version 3.2.0)" in plugin.fix


def test_another_plugin_version_is_a_warning_naming_both(grafana):
    api, base = grafana
    api.routes[f"/api/plugins/{AMP_PLUGIN}/settings"] = (200, {**PLUGIN_SETTINGS, "info": {"version": "3.1.4"}})
    plugin = by_check(grafana_checks(at_grafana("dev", base), GRAFANA_TOKEN))["grafana-amp-plugin"]
    assert plugin.status is Status.WARN and "3.1.4 is installed; the stack files pin 3.2.0" in plugin.evidence


def test_a_token_without_admin_rights_is_named_by_the_missing_actions(grafana):
    api, base = grafana
    editor = {k: v for k, v in ADMIN_PERMISSIONS.items() if k not in ("serviceaccounts:create", "datasources:create")}
    api.routes["/api/access-control/user/permissions"] = (200, editor)
    token = by_check(grafana_checks(at_grafana("dev", base), GRAFANA_TOKEN))["grafana-token"]
    assert token.status is Status.FAIL
    assert token.evidence == (
        "the token lacks datasources:create (the AMP, Alertmanager and CloudWatch Logs data sources); "
        "serviceaccounts:create (the deploy-annotation and dashboard-preview service accounts)"
    )
    assert "Admin role" in token.fix


def test_a_wrong_token_is_refused(grafana):
    _, base = grafana
    findings = by_check(grafana_checks(at_grafana("dev", base), "glsa_another_stacks_token"))
    assert findings["grafana-token"].status is Status.FAIL and "(401)" in findings["grafana-token"].evidence


def test_without_grafana_auth_the_token_checks_say_how_to_set_it(grafana):
    _, base = grafana
    target = at_grafana("dev", base)
    findings = by_check(grafana_checks(Target("acme/dev", target.stack_file, target.region, target.settings), None))
    assert findings["grafana-token"].status is Status.FAIL
    assert findings["grafana-token"].evidence == "GRAFANA_AUTH is not set"
    assert (
        'export GRAFANA_AUTH="$(pulumi env get acme/default/screener-shared \'pulumiConfig["monitoring:grafanaAuth"]\' '
        '--value string --show-secrets)"'
    ) in findings["grafana-token"].fix
    assert findings["grafana-amp-plugin"].status is Status.SKIP


def test_an_unreachable_grafana_names_the_url_setting():
    with serving(BaseHTTPRequestHandler) as base:  # answers every GET with 501
        findings = grafana_checks(at_grafana("dev", base), GRAFANA_TOKEN)
    reachable = by_check(findings)["grafana-reachable"]
    assert reachable.status is Status.FAIL and reachable.evidence == f"{base}/api/health does not answer (HTTP 501)"
    assert "monitoring:grafana.url in stacks/Pulumi.dev.yaml" in reachable.fix


def test_a_grafana_that_does_not_answer_at_all_is_a_finding_not_a_traceback():
    with serving(BaseHTTPRequestHandler) as base:
        pass  # the server is gone: its port refuses connections now
    findings = grafana_checks(at_grafana("dev", base), GRAFANA_TOKEN)
    reachable = by_check(findings)["grafana-reachable"]
    assert reachable.status is Status.FAIL
    assert reachable.evidence.startswith(f"{base}/api/health does not answer (URLError: ")
    assert "monitoring:grafana.url in stacks/Pulumi.dev.yaml" in reachable.fix


def test_sentry_with_organisation_team_scopes_and_an_event_passes(sentry):
    api, base = sentry
    findings = by_check(sentry_checks(at_sentry("staging", base), SENTRY_TOKEN))
    assert {name: f.status for name, f in findings.items()} == dict.fromkeys(
        ("sentry-token", "sentry-organization", "sentry-team", "sentry-environment"), Status.PASS
    )
    assert findings["sentry-environment"].evidence == "'staging' has events (screener-backend)"
    assert all(authorization == f"Bearer {SENTRY_TOKEN}" for _, authorization in api.seen)


def test_a_missing_organisation_is_named_with_its_setting(sentry):
    api, base = sentry
    del api.routes["/api/0/organizations/acme/"]
    findings = by_check(sentry_checks(at_sentry("prod", base), SENTRY_TOKEN))
    organization = findings["sentry-organization"]
    assert organization.status is Status.FAIL
    assert organization.evidence == "acme: no such organisation, or the token's user is not a member (404)"
    assert "monitoring:sentry.organization in stacks/Pulumi.prod.yaml" in organization.fix
    assert findings["sentry-team"].status is Status.SKIP


def test_a_missing_team_fails_prod_but_is_expected_on_the_stack_that_creates_it(sentry):
    api, base = sentry
    del api.routes["/api/0/teams/acme/screener/"]
    prod = by_check(sentry_checks(at_sentry("prod", base), SENTRY_TOKEN))["sentry-team"]
    assert prod.status is Status.FAIL and prod.evidence.startswith("no team screener in acme")
    staging = by_check(sentry_checks(at_sentry("staging", base), SENTRY_TOKEN))["sentry-team"]
    assert staging.status is Status.INFO and staging.evidence == "screener does not exist yet; this stack creates it"


def test_an_environment_without_events_fails_with_how_to_send_one(sentry):
    api, base = sentry
    api.routes["/api/0/projects/acme/screener-backend/environments/"] = (200, [{"id": "1", "name": "staging"}])
    environment = by_check(sentry_checks(at_sentry("prod", base), SENTRY_TOKEN))["sentry-environment"]
    assert environment.status is Status.FAIL
    assert environment.evidence.startswith(
        "no event with environment 'prod' yet in screener-backend, screener-frontend"
    )
    assert (
        '`SENTRY_DSN="$(pulumi stack output sentry_backend_dsn --show-secrets --stack prod)" npx @sentry/cli '
        "send-event --env prod -m 'prod: environment created for alert rules'`"
    ) in environment.fix


def test_before_the_projects_exist_the_first_event_is_a_note(sentry):
    api, base = sentry
    for role in ("backend", "frontend"):
        del api.routes[f"/api/0/projects/acme/screener-{role}/environments/"]
    environment = by_check(sentry_checks(at_sentry("staging", base), SENTRY_TOKEN))["sentry-environment"]
    assert environment.status is Status.INFO and "do not exist yet" in environment.evidence


def test_a_token_without_project_or_team_scopes_is_named(sentry):
    api, base = sentry
    api.routes["/api/0/"] = (200, {"version": "0", "auth": {"scopes": ["org:read", "project:read"]}})
    token = by_check(sentry_checks(at_sentry("staging", base), SENTRY_TOKEN))["sentry-token"]
    assert token.status is Status.FAIL
    assert token.evidence == (
        "the token lacks project:admin or project:write (projects and client keys); "
        "org:admin or org:write or team:write (the team)"
    )
    # prod creates no team: project scopes suffice there.
    api.routes["/api/0/"] = (200, {"version": "0", "auth": {"scopes": ["project:admin"]}})
    assert by_check(sentry_checks(at_sentry("prod", base), SENTRY_TOKEN))["sentry-token"].status is Status.PASS


def test_without_sentry_auth_token_it_fails_and_a_stack_without_sentry_skips():
    findings = by_check(sentry_checks(load_target("prod"), None))
    assert findings["sentry-token"].status is Status.FAIL and findings["sentry-token"].evidence == (
        "SENTRY_AUTH_TOKEN is not set"
    )
    assert {f.status for f in sentry_checks(load_target("dev"), SENTRY_TOKEN)} == {Status.SKIP}


@pytest.mark.parametrize("status", [401, 403, 404, 500])
def test_no_line_ever_shows_a_token(grafana, sentry, status):
    grafana_api, grafana_base = grafana
    sentry_api, sentry_base = sentry
    echo = {"message": f"echo {GRAFANA_TOKEN} {SENTRY_TOKEN}", "detail": f"echo {SENTRY_TOKEN}"}
    for path in ("/api/access-control/user/permissions", f"/api/plugins/{AMP_PLUGIN}/settings"):
        grafana_api.routes[path] = (status, echo)
    for path in list(sentry_api.routes):
        sentry_api.routes[path] = (status, echo)
    results = grafana_checks(at_grafana("prod", grafana_base), GRAFANA_TOKEN)
    results += sentry_checks(at_sentry("prod", sentry_base), SENTRY_TOKEN)
    assert len(results) == 7
    lines = text_lines(results)  # each check's line and its fix line, exactly as printed
    assert not [line for line in lines if GRAFANA_TOKEN in line or SENTRY_TOKEN in line]
