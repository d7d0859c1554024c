"""Sentry check against a fake Sentry API (docs.sentry.io/api/: project, its keys, its issue alert rules)."""

from __future__ import annotations

from typing import Any

from infra.alerting.sentry_alerts import issue_alert_definitions
from tests.verify.support import api, fake_api, target_of
from verify.report import Status
from verify.sentry_checks import check_sentry


def sentry_routes(target: Any, drop_alert: str = "", key_active: bool = True) -> dict[tuple[str, str], tuple[int, Any]]:
    spec = target.settings.sentry
    routes: dict[tuple[str, str], tuple[int, Any]] = {}
    for role, slug in target.output("sentry_projects").items():
        base = f"/0/projects/{spec.organization}/{slug}"
        routes[("GET", f"{base}/")] = (200, {"slug": slug, "organization": {"slug": spec.organization}})
        routes[("GET", f"{base}/keys/")] = (200, [{"name": target.name_prefix, "isActive": key_active}])
        names = [d.name(role, target.environment) for d in issue_alert_definitions(spec.alerts)]
        routes[("GET", f"{base}/rules/")] = (
            200,
            [{"id": str(i), "name": n} for i, n in enumerate(names) if n != drop_alert],
        )
    return routes


def test_every_project_key_and_alert_present_passes() -> None:
    target = target_of("staging")
    with fake_api(sentry_routes(target)) as (url, seen):
        results = check_sentry(api(url), target)
    assert [(r.check, r.status) for r in results] == [("sentry.backend", Status.PASS), ("sentry.frontend", Status.PASS)]
    assert {path for _, path, _ in seen} >= {"/0/projects/screener/screener-backend/rules/"}


def test_a_missing_alert_and_a_disabled_key_fail_by_name() -> None:
    target = target_of("staging")
    assert target.settings.sentry is not None
    name = issue_alert_definitions(target.settings.sentry.alerts)[0].name("frontend", "staging")
    with fake_api(sentry_routes(target, drop_alert=name, key_active=False)) as (url, _):
        backend, frontend = check_sentry(api(url), target)
    assert backend.status is Status.FAIL and frontend.status is Status.FAIL
    assert f"no alert '{name}'" in frontend.evidence
    assert f"no alert '{name}'" not in backend.evidence
    assert "client key screener-staging is disabled" in backend.evidence


def test_a_missing_project_fails_naming_it() -> None:
    target = target_of("staging")
    routes = {k: v for k, v in sentry_routes(target).items() if k[1] != "/0/projects/screener/screener-backend/"}
    with fake_api(routes) as (url, _):
        backend, _frontend = check_sentry(api(url), target)
    assert (backend.status, backend.evidence) == (Status.FAIL, "project screener/screener-backend: HTTP 404: Not found")


def test_sentry_is_skipped_without_its_block() -> None:
    (result,) = check_sentry(None, target_of("dev"))
    assert result.status is Status.SKIP
    assert result.evidence == "no monitoring:sentry block in stacks/Pulumi.dev.yaml: error tracking is off"
