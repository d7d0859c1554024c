"""Sentry: each project, its client key and its issue alerts exist.

Contract (Sentry API docs, docs.sentry.io/api/): `GET /api/0/projects/{org}/{project}/` (200 or 404),
`GET /api/0/projects/{org}/{project}/keys/` (list of keys with `name`, `isActive`), and
`GET /api/0/projects/{org}/{project}/rules/` (the project's issue alert rules, each with `name`).
"""

from __future__ import annotations

from infra.alerting.sentry_alerts import issue_alert_definitions
from verify.http_api import JsonApi
from verify.report import Result, failed, passed, skipped
from verify.target import Target

ROLES = ("backend", "frontend")


def check_sentry(sentry: JsonApi | None, target: Target) -> list[Result]:
    spec = target.settings.sentry
    if spec is None:
        return [skipped("sentry", f"no monitoring:sentry block in {target.stack_file}: error tracking is off")]
    assert sentry is not None  # the caller warns instead when there is no token
    slugs = target.output("sentry_projects") or {}
    results = []
    for role in ROLES:
        slug = slugs.get(role) or spec.project_slug(target.settings.platform, target.environment, role)
        base = f"0/projects/{spec.organization}/{slug}"
        check = f"sentry.{role}"
        project = sentry.get(f"{base}/")
        if not project.ok:
            results.append(
                failed(check, f"project {spec.organization}/{slug}: {project.message()}", "`make up` creates it")
            )
            continue
        problems = []
        keys = sentry.get(f"{base}/keys/")
        names = {key["name"]: key for key in keys.document} if keys.ok else {}
        key = names.get(target.name_prefix)
        if key is None:
            problems.append(f"no client key named {target.name_prefix} ({keys.message() if not keys.ok else 'absent'})")
        elif not key.get("isActive", True):
            problems.append(f"client key {target.name_prefix} is disabled")
        rules = sentry.get(f"{base}/rules/")
        present = {rule["name"] for rule in rules.document} if rules.ok else set()
        expected = [d.name(role, target.environment) for d in issue_alert_definitions(spec.alerts)]
        problems += [f"no alert '{name}'" for name in expected if name not in present]
        if problems:
            results.append(
                failed(check, f"{spec.organization}/{slug}: {'; '.join(problems)}", "`make up` declares them")
            )
        else:
            results.append(
                passed(check, f"{spec.organization}/{slug}: key {target.name_prefix}, {len(expected)} alerts")
            )
    return results
