"""Read-only Grafana and Sentry checks over their HTTP APIs, with the operator's tokens.

The tokens are the ones the program's providers use (monitoring:grafanaAuth and monitoring:sentryAuthToken,
from the ESC environment screener-shared), handed over in the providers' own environment variables,
GRAFANA_AUTH and SENTRY_AUTH_TOKEN. They go into an Authorization header and nowhere else: no message
below contains one.

Grafana (https://grafana.com/docs/grafana/latest/developers/http_api/):
- GET /api/health, without authentication: {"database": "ok", "version": ...} (Other HTTP API, "Health API");
- GET /api/access-control/user/permissions: the signed-in identity's permissions as {action: [scopes]}
  (grafana/grafana pkg/services/accesscontrol/api/api.go, getUserPermissions; any signed-in identity);
- GET /api/plugins/<id>/settings: the installed plugin, its version in info.version; 404 "Plugin not found,
  no installed plugin with that id" (grafana/grafana pkg/api/plugins.go, GetPluginSettingByID).
Sentry (https://docs.sentry.io/api/):
- GET /api/0/organizations/<org>/ ("Retrieve an Organization"), GET /api/0/teams/<org>/<team>/ ("Retrieve a
  Team"), GET /api/0/projects/<org>/<project>/environments/ ("List a Project's Environments");
- GET /api/0/: {"version": "0", "auth": {"scopes": [...]}, "user": ...} for the token
  (getsentry/sentry src/sentry/api/endpoints/index.py, IndexEndpoint).
"""

from __future__ import annotations

from infra.components.grafana_datasource import AMP_PLUGIN
from preflight.target import Target
from verify.http_api import JsonApi
from verify.report import Result, failed, noted, passed, skipped, warned

GRAFANA_TOKEN_VARIABLE = "GRAFANA_AUTH"
SENTRY_TOKEN_VARIABLE = "SENTRY_AUTH_TOKEN"
TIMEOUT_SECONDS = 15

# What the program creates in Grafana, by the RBAC action each needs (Grafana's Admin role has them all;
# the provider manages alerting through the provisioning API, /api/v1/provisioning/...).
GRAFANA_ACTIONS = {
    "datasources:create": "the AMP, Alertmanager and CloudWatch Logs data sources",
    "folders:create": "the environment's folder",
    "dashboards:create": "the dashboards",
    "alert.provisioning:write": "alert rules, contact points, the policy tree and mute timings",
    "serviceaccounts:create": "the deploy-annotation and dashboard-preview service accounts",
}
# Sentry scopes that allow what the program does (any one of each set), from the endpoints' permission
# classes: creating projects and their keys (TeamProjectPermission POST: project:write or project:admin) and,
# on the stack that owns the shared objects, the team (OrganizationTeamsPermission POST: org:write, org:admin,
# team:write).
SENTRY_PROJECT_SCOPES = frozenset({"project:write", "project:admin"})
SENTRY_TEAM_SCOPES = frozenset({"team:write", "org:write", "org:admin"})


def token_fix(variable: str, key: str, target: Target) -> str:
    """How to hand over the value the stack deploys with: from the ESC environment (esc/README.md) or the stack."""
    org = target.stack.split("/", 1)[0] if "/" in target.stack else "<org>"
    return (
        f'export {variable}="$(pulumi env get {org}/default/screener-shared \'pulumiConfig["{key}"]\' '
        f'--value string --show-secrets)" (or, set on the stack itself, `pulumi config get {key} --stack '
        f"{target.stack}`)"
    )


def grafana_checks(target: Target, token: str | None) -> list[Result]:
    spec = target.settings.grafana
    base = spec.url.rstrip("/")
    health = JsonApi(base, None, TIMEOUT_SECONDS).reach("/api/health")
    if health.status != 200 or not isinstance(health.document, dict):
        reached = health.error or f"HTTP {health.status}"
        return [
            failed(
                "grafana-reachable",
                f"{base}/api/health does not answer ({reached})",
                f"check monitoring:grafana.url in {target.stack_file} (your stack's https://<slug>.grafana.net)",
            ),
            skipped("grafana-token", "Grafana unreachable"),
            skipped("grafana-amp-plugin", "Grafana unreachable"),
        ]
    findings = [passed("grafana-reachable", f"{base}, Grafana {health.document.get('version', '?')}")]
    if not token:
        fix = token_fix(GRAFANA_TOKEN_VARIABLE, "monitoring:grafanaAuth", target)
        return [
            *findings,
            failed("grafana-token", f"{GRAFANA_TOKEN_VARIABLE} is not set", fix),
            skipped("grafana-amp-plugin", f"needs {GRAFANA_TOKEN_VARIABLE}"),
        ]
    grafana = JsonApi(base, token, TIMEOUT_SECONDS)
    permissions = grafana.reach("/api/access-control/user/permissions")
    token_fix_text = (
        "create a service-account token with the Admin role (Administration → Users and access → Service accounts) "
        "and store it: esc/README.md, monitoring:grafanaAuth"
    )
    if permissions.status == 401:
        findings.append(
            failed("grafana-token", f"{base} refuses the token (401): wrong stack, expired or revoked", token_fix_text)
        )
    elif permissions.status != 200 or not isinstance(permissions.document, dict):
        findings.append(
            warned("grafana-token", f"cannot list the token's permissions ({permissions.error or permissions.status})")
        )
    else:
        missing = [
            f"{action} ({what})" for action, what in GRAFANA_ACTIONS.items() if action not in permissions.document
        ]
        findings.append(
            failed("grafana-token", f"the token lacks {'; '.join(missing)}", token_fix_text)
            if missing
            else passed("grafana-token", f"the token may do all the stack does ({', '.join(GRAFANA_ACTIONS)})")
        )
    findings.append(amp_plugin(target, grafana))
    return findings


def amp_plugin(target: Target, grafana: JsonApi) -> Result:
    spec = target.settings.grafana
    pinned = spec.amp_plugin_version
    plugin = grafana.reach(f"/api/plugins/{AMP_PLUGIN}/settings")
    if plugin.status == 404:
        return failed(
            "grafana-amp-plugin",
            f"{AMP_PLUGIN} is not installed; every stack's AMP data source needs it, from the first dev deploy on",
            f"Grafana → Administration → Plugins and data → Plugins → 'Amazon Managed Service for Prometheus' → "
            f"Install (version {pinned}); the stack that sets monitoring:grafana.stackSlug then manages it",
        )
    if plugin.status != 200 or not isinstance(plugin.document, dict):
        return warned("grafana-amp-plugin", f"cannot read the plugin's settings ({plugin.error or plugin.status})")
    version = str((plugin.document.get("info") or {}).get("version", "?"))
    if version != pinned:
        return warned(
            "grafana-amp-plugin",
            f"{AMP_PLUGIN} {version} is installed; the stack files pin {pinned} (monitoring:grafana.ampPluginVersion), "
            "which the stack that sets stackSlug installs on its next `pulumi up`",
        )
    return passed("grafana-amp-plugin", f"{AMP_PLUGIN} {version}")


def sentry_checks(target: Target, token: str | None) -> list[Result]:
    spec = target.settings.sentry
    names = ("sentry-token", "sentry-organization", "sentry-team", "sentry-environment")
    if spec is None:
        return [skipped(name, f"monitoring:sentry is not set in {target.stack_file}") for name in names]
    if not token:
        fix = token_fix(SENTRY_TOKEN_VARIABLE, "monitoring:sentryAuthToken", target)
        return [failed(names[0], f"{SENTRY_TOKEN_VARIABLE} is not set", fix)] + [
            skipped(name, f"needs {SENTRY_TOKEN_VARIABLE}") for name in names[1:]
        ]
    api = JsonApi(spec.api_url.rstrip("/") + "/0", token, TIMEOUT_SECONDS)
    findings = [sentry_scopes(api, spec.owns_shared_objects)]
    org = spec.organization
    organization = api.reach(f"/organizations/{org}/")
    if organization.status != 200:
        why = {
            0: organization.error,
            401: "the token is refused (401)",
            403: "the token may not read it (403)",
            404: "no such organisation, or the token's user is not a member (404)",
        }.get(organization.status, f"HTTP {organization.status}")
        findings.append(
            failed(
                "sentry-organization",
                f"{org}: {why}",
                f"set monitoring:sentry.organization in {target.stack_file} to your organisation's slug, and use a "
                "token of that organisation",
            )
        )
        return findings + [skipped(name, "no organisation (see sentry-organization)") for name in names[2:]]
    findings.append(passed("sentry-organization", f"{org} ({organization.document.get('name', '?')})"))
    findings.append(sentry_team(target, api))
    findings.append(sentry_environment(target, api))
    return findings


def sentry_scopes(api: JsonApi, owns_shared_objects: bool) -> Result:
    answer = api.reach("/")
    auth = answer.document.get("auth") if isinstance(answer.document, dict) else None
    if answer.status == 401:
        return failed("sentry-token", "Sentry refuses the token (401)", "create a new one: esc/README.md")
    if answer.status != 200 or not isinstance(auth, dict):
        return warned("sentry-token", f"cannot read the token's scopes ({answer.error or answer.status})")
    scopes = set(auth.get("scopes") or ())
    needs = [("projects and client keys", SENTRY_PROJECT_SCOPES)]
    if owns_shared_objects:
        needs.append(("the team", SENTRY_TEAM_SCOPES))
    missing = [f"{' or '.join(sorted(allowed))} ({what})" for what, allowed in needs if not scopes & allowed]
    if missing:
        return failed(
            "sentry-token",
            f"the token lacks {'; '.join(missing)}",
            "create a token (an internal integration's, or a user auth token) with org:read, team:admin, "
            "project:admin, project:write and alerts:write and store it: esc/README.md",
        )
    return passed("sentry-token", f"scopes {', '.join(sorted(scopes))}")


def sentry_team(target: Target, api: JsonApi) -> Result:
    spec = target.settings.sentry
    assert spec is not None
    team = api.reach(f"/teams/{spec.organization}/{spec.team}/")
    if team.status == 200:
        return passed("sentry-team", f"{spec.organization}/{spec.team}")
    if team.status == 404 and spec.owns_shared_objects:
        return noted("sentry-team", f"{spec.team} does not exist yet; this stack creates it")
    if team.status == 404:
        return failed(
            "sentry-team",
            f"no team {spec.team} in {spec.organization}; the stack that sets monitoring:sentry.ownsSharedObjects "
            "creates it",
            "deploy that stack (staging) first",
        )
    return warned("sentry-team", f"cannot read team {spec.team} ({team.error or team.status})")


def sentry_environment(target: Target, api: JsonApi) -> Result:
    """Sentry refuses an issue alert filtered on an environment no event has carried yet ("This environment has not
    been created.", sentry/api/serializers/rest_framework/rule.py: the name is looked up in the organisation)."""
    spec = target.settings.sentry
    assert spec is not None
    environment = target.settings.environment
    platform = target.settings.platform
    slugs = [spec.project_slug(platform, environment, role) for role in ("backend", "frontend")]
    seen_in: list[str] = []
    existing: list[str] = []
    for slug in slugs:
        answer = api.reach(f"/projects/{spec.organization}/{slug}/environments/")
        if answer.status != 200 or not isinstance(answer.document, list):
            continue
        existing.append(slug)
        if any(entry.get("name") == environment for entry in answer.document):
            seen_in.append(slug)
    send_one = (
        f'`SENTRY_DSN="$(pulumi stack output sentry_backend_dsn --show-secrets --stack {target.stack})" npx '
        f"@sentry/cli send-event --env {environment} -m '{environment}: environment created for alert rules'` "
        "(the stack's first `pulumi up` creates the key and stops at the alerts), then `pulumi up` again"
    )
    if seen_in:
        return passed("sentry-environment", f"'{environment}' has events ({', '.join(seen_in)})")
    if not existing:
        return noted(
            "sentry-environment",
            f"projects {', '.join(slugs)} do not exist yet; once they do, its issue alerts need one event with "
            f"environment '{environment}': {send_one}",
        )
    return failed(
        "sentry-environment",
        f"no event with environment '{environment}' yet in {', '.join(existing)}; Sentry refuses this stack's "
        "environment-filtered issue alerts until one arrives",
        send_one,
    )
