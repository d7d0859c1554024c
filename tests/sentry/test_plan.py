"""What each stack declares for error tracking: projects, rate-limited keys, alerts, the backend's Secret."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml

from infra.config.stackfile import REPO_ROOT, stack_settings
from planner.engine import SECRET, Plan, PlannedResource
from planner.fakes import FakeContext
from planner.fakes.sentry import organization_integration, public_key
from tests.conftest import STACKS, plan_of
from tests.sentry.support import ALERT, K8S_SECRET, KEY, PROJECT, SENTRY_TYPES, TEAM, sentry_block
from tests.test_runbooks import github_anchors


def sentry_resources(plan: Plan) -> list[PlannedResource]:
    return [r for r in plan.resources if r.type in SENTRY_TYPES or r.type == "pulumi:providers:sentry"]


def test_dev_has_no_sentry_block_and_the_plan_says_error_tracking_is_off() -> None:
    plan = plan_of("dev")
    assert sentry_resources(plan) == []
    assert plan.outputs["error_tracking"] == (
        "off: no monitoring:sentry block in stacks/Pulumi.dev.yaml; no Sentry project, key or alert is declared"
    )
    assert not any(key.startswith("sentry_") for key in plan.outputs)


# Worked out from the stack files by hand: (stack, role) -> (rateLimitCount, rateLimitWindow seconds).
RATE_LIMITS = {
    ("staging", "backend"): (300, 60),
    ("staging", "frontend"): (300, 60),
    ("prod", "backend"): (1000, 60),
    ("prod", "frontend"): (600, 60),
}


@pytest.mark.parametrize(("stack", "role"), list(RATE_LIMITS), ids=[f"{s}-{r}" for s, r in RATE_LIMITS])
def test_each_key_has_its_stack_files_rate_limit_in_the_shared_project(stack: str, role: str) -> None:
    key = plan_of(stack).one(KEY, f"error-tracking-{role}-key")
    count, window = RATE_LIMITS[(stack, role)]
    assert key.inputs["rateLimitCount"] == count
    assert key.inputs["rateLimitWindow"] == window
    assert key.inputs["project"] == f"screener-{role}"
    assert key.inputs["organization"] == "screener"
    assert key.inputs["name"] == f"screener-{stack}"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_every_alert_watches_its_own_environment_only(stack: str) -> None:
    alerts = plan_of(stack).of_type(ALERT)
    assert alerts
    assert {a.inputs["environment"] for a in alerts} == {stack}
    assert all(a.inputs["name"].endswith(f" {stack}") for a in alerts)


def test_prod_alerts_on_new_issues_regressions_and_spikes_staging_not_on_new_issues() -> None:
    def names(stack: str) -> list[str]:
        return sorted(a.inputs["name"] for a in plan_of(stack).of_type(ALERT))

    assert names("prod") == [
        "[critical] SentryErrorSpike backend prod",
        "[critical] SentryErrorSpike frontend prod",
        "[warning] SentryNewIssue backend prod",
        "[warning] SentryNewIssue frontend prod",
        "[warning] SentryRegression backend prod",
        "[warning] SentryRegression frontend prod",
    ]
    assert names("staging") == [
        "[critical] SentryErrorSpike backend staging",
        "[critical] SentryErrorSpike frontend staging",
        "[warning] SentryRegression backend staging",
        "[warning] SentryRegression frontend staging",
    ]


def test_spike_threshold_and_window_come_from_the_stack_file() -> None:
    spike = plan_of("prod").one(ALERT, "error-tracking-backend-error-spike")
    assert spike.inputs["conditions"] == [
        {
            "id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition",
            "value": "100",
            "interval": "1h",
            "comparisonType": "count",
        }
    ]
    assert spike.inputs["frequency"] == 30


def test_alerts_reach_the_teams_email_and_the_stacks_slack_channel() -> None:
    context = FakeContext(region="ap-northeast-2", stack="prod", project="monitoring")
    lookup = {"organization": "screener", "providerKey": "slack", "name": "Screener"}
    integration_id = organization_integration(context, lookup)["internalId"]
    for stack, channel in (("staging", "#screener-alerts-staging"), ("prod", "#screener-alerts-prod")):
        for alert in plan_of(stack).of_type(ALERT):
            email, slack = alert.inputs["actions"]
            assert email["id"] == "sentry.mail.actions.NotifyEmailAction"
            assert email["targetType"] == "Team"
            assert slack["id"] == "sentry.integrations.slack.notify_action.SlackNotifyServiceAction"
            assert slack["channel"] == channel
            # The integration's ID as the provider's data source answers for the workspace's name, not the name.
            assert slack["workspace"] == integration_id and slack["workspace"] != "Screener"


def test_the_team_email_targets_the_same_team_in_the_stack_that_creates_it_and_the_one_that_looks_it_up() -> None:
    created = plan_of("staging").one(TEAM, "error-tracking-team")
    assert created.inputs["slug"] == "screener"
    for stack in ("staging", "prod"):
        for alert in plan_of(stack).of_type(ALERT):
            assert alert.inputs["actions"][0]["targetIdentifier"] == created.outputs["internalId"]


def test_exactly_one_stack_owns_the_organisation_wide_objects_and_it_deploys_first() -> None:
    """The owner creates the team and shared projects the others use, so it must be deployed before them:
    the promotion order is deploy.yml's `needs` chain (dev -> staging -> prod)."""
    jobs = yaml.safe_load((REPO_ROOT / ".github/workflows/deploy.yml").read_text())["jobs"]

    def stack_needs(job: str) -> set[str]:
        """The stack jobs `job` waits for (other jobs, such as publishing the policy pack, aside)."""
        needs = jobs[job].get("needs") or []
        return set([needs] if isinstance(needs, str) else needs) & set(STACKS)

    order: list[str] = []
    while len(order) < len(STACKS):
        order.append(next(j for j in STACKS if j not in order and stack_needs(j) == set(order[-1:])))
    enabled = [stack for stack in order if stack_settings(stack).sentry is not None]
    owners = [stack for stack in enabled if stack_settings(stack).sentry.owns_shared_objects]  # type: ignore[union-attr]
    assert owners == enabled[:1] == ["staging"]
    assert len(plan_of("staging").of_type(TEAM)) == 1
    assert plan_of("prod").of_type(TEAM) == [] and plan_of("prod").of_type(PROJECT) == []


def test_shared_projects_are_protected() -> None:
    projects = {p.inputs["slug"]: p for p in plan_of("staging").of_type(PROJECT)}
    assert set(projects) == {"screener-backend", "screener-frontend"}
    assert all(p.protect for p in projects.values())
    assert all(p.inputs["teams"] == ["screener"] for p in projects.values())
    team = plan_of("staging").one(TEAM, "error-tracking-team")
    assert team.protect
    # Sentry refuses a project for a team that does not exist yet: the team comes first.
    assert all(team.urn in p.depends_on for p in projects.values())


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_backend_secret_holds_the_dsn_environment_and_sample_rate_in_the_apps_namespace(stack: str) -> None:
    plan = plan_of(stack)
    secret = plan.one(K8S_SECRET, "error-tracking-backend-secret")
    assert secret.inputs["metadata"]["namespace"] == "screener"
    assert secret.inputs["metadata"]["name"] == "sentry-backend"
    assert secret.inputs["stringData"] == SECRET
    string_data = secret.raw_inputs["stringData"]["value"]
    assert sorted(string_data) == ["SENTRY_DSN", "SENTRY_ENVIRONMENT", "SENTRY_TRACES_SAMPLE_RATE"]
    assert string_data["SENTRY_ENVIRONMENT"] == stack
    assert string_data["SENTRY_TRACES_SAMPLE_RATE"] == {"staging": "1", "prod": "0.1"}[stack]
    # The backend key's DSN, not the frontend's: its public half is in it.
    context = FakeContext(region="ap-northeast-2", stack=stack, project="monitoring")
    assert public_key(context, "error-tracking-backend-key") in string_data["SENTRY_DSN"]
    assert public_key(context, "error-tracking-frontend-key") not in string_data["SENTRY_DSN"]
    assert plan.outputs["sentry_backend_secret"] == "screener/sentry-backend"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_backend_secret_goes_through_an_explicit_provider_for_the_stacks_cluster(stack: str) -> None:
    plan = plan_of(stack)
    secret = plan.one(K8S_SECRET, "error-tracking-backend-secret")
    provider = plan.one("pulumi:providers:kubernetes", "error-tracking-k8s")
    assert secret.provider.startswith(provider.urn + "::")
    assert f'"name": "screener-{stack}"' in provider.inputs["kubeconfig"]  # the cluster named in the stack file


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_every_dsn_is_secret_in_outputs_and_key_state(stack: str) -> None:
    plan = plan_of(stack)
    assert plan.outputs["sentry_backend_dsn"] == SECRET
    assert plan.outputs["sentry_frontend_dsn"] == SECRET
    for key in plan.of_type(KEY):
        for field in ("dsnPublic", "dsnSecret", "dsnCsp", "public", "secret"):
            assert key.outputs[field] == SECRET, f"{key.name}.{field} is in clear"


def test_frontend_gets_slugs_environment_and_sample_rates_as_outputs() -> None:
    outputs = plan_of("prod").outputs
    assert outputs["sentry_organization"] == "screener"
    assert outputs["sentry_environment"] == "prod"
    assert outputs["sentry_projects"] == {"backend": "screener-backend", "frontend": "screener-frontend"}
    assert outputs["sentry_frontend_settings"] == {
        "tracesSampleRate": 0.05,
        "replaysSessionSampleRate": 0.01,
        "replaysOnErrorSampleRate": 1,
    }


def test_a_stack_with_its_own_projects_and_no_cluster_creates_them_and_says_where_the_dsn_is(
    plan_with: Callable[..., Plan],
) -> None:
    # The team stays staging's (ownsSharedObjects there): a second owner of it is refused.
    plan = plan_with("dev", {"monitoring:sentry": sentry_block(projectPerEnvironment=True)})
    projects = {p.inputs["slug"]: p for p in plan.of_type(PROJECT)}
    assert sorted(projects) == ["screener-dev-backend", "screener-dev-frontend"]
    assert not any(p.protect for p in projects.values())  # dev protects nothing; its projects are its own
    assert [k.inputs["project"] for k in plan.of_type(KEY)] == ["screener-dev-backend", "screener-dev-frontend"]
    assert plan.of_type(K8S_SECRET) == []
    assert plan.outputs["error_tracking"] == (
        "on: Sentry organisation screener, environment dev; no Kubernetes Secret: monitoring:collection.clusterName "
        "is not set in stacks/Pulumi.dev.yaml"
    )
    assert plan.outputs["sentry_backend_dsn"] == SECRET
    # No Slack block: email to the team only; defaults: new issue and regression, no spike.
    assert sorted(a.name for a in plan.of_type(ALERT)) == [
        "error-tracking-backend-new-issue",
        "error-tracking-backend-regression",
        "error-tracking-frontend-new-issue",
        "error-tracking-frontend-regression",
    ]
    assert all(len(a.inputs["actions"]) == 1 for a in plan.of_type(ALERT))


def test_every_sentry_alert_has_its_runbook_section() -> None:
    anchors = github_anchors((REPO_ROOT / "docs" / "runbooks.md").read_text())
    alerts = {a.inputs["name"].split()[1] for stack in ("staging", "prod") for a in plan_of(stack).of_type(ALERT)}
    assert alerts == {"SentryNewIssue", "SentryRegression", "SentryErrorSpike"}
    assert {alert.lower() for alert in alerts} <= anchors
