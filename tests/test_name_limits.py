"""The longest `<platform>-<environment>` the model accepts yields names every service accepts.

Limits, from each service's API reference (independent of infra/config/names.py):
IAM CreateRole RoleName 64; SNS CreateTopic Name 256 and
DisplayName 100; KMS CreateAlias AliasName 256; CloudWatch PutMetricAlarm AlarmName 255;
CloudWatch Logs CreateLogGroup logGroupName 512; AWS Chatbot ConfigurationName 128;
AMP CreateWorkspace / CreateScraper alias 100; Grafana UIDs 40 (grafana/grafana
pkg/util: MaxUIDLength = 40, for folders, dashboards and data sources).
"""

from __future__ import annotations

import json

import pytest

from infra.config import ConfigError
from infra.config.names import longest_prefix
from planner.engine import run_stack

# (resource type, input holding a physical name, limit)
LIMITS: tuple[tuple[str, str, int], ...] = (
    ("aws:iam/role:Role", "name", 64),
    ("aws:sns/topic:Topic", "name", 256),
    ("aws:sns/topic:Topic", "displayName", 100),
    ("aws:kms/alias:Alias", "name", 256),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "name", 255),
    ("aws:cloudwatch/logGroup:LogGroup", "name", 512),
    ("aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration", "configurationName", 128),
    ("aws:amp/workspace:Workspace", "alias", 100),
    ("aws:amp/scraper:Scraper", "alias", 100),
    ("grafana:oss/folder:Folder", "uid", 40),
    ("grafana:oss/dataSource:DataSource", "uid", 40),
)
GRAFANA_UID_LIMIT = 40


def _platform_for(prefix_length: int, environment: str) -> str:
    return "s" + "x" * (prefix_length - len(environment) - 2)


def test_longest_accepted_prefix_gives_names_within_every_limit() -> None:
    # prod: the one stack that declares a resource of every limited kind (managed scraper, Chatbot, collector role).
    environment = "prod"
    plan = run_stack(
        environment,
        overrides={"monitoring:platform": _platform_for(longest_prefix(), environment)},
    )
    too_long: list[str] = []
    unchecked: list[str] = []
    for type_token, key, limit in LIMITS:
        names = [value for resource in plan.of_type(type_token) if isinstance(value := resource.inputs.get(key), str)]
        if not names:
            unchecked.append(f"{type_token} {key}")
        too_long += [f"{type_token} {key}={name} ({len(name)} > {limit})" for name in names if len(name) > limit]
    for dashboard in plan.of_type("grafana:oss/dashboard:Dashboard"):
        uid = json.loads(dashboard.inputs["configJson"])["uid"]
        if len(uid) > GRAFANA_UID_LIMIT:
            too_long.append(f"dashboard uid {uid} ({len(uid)} > {GRAFANA_UID_LIMIT})")
    assert unchecked == []
    assert plan.of_type("grafana:oss/dashboard:Dashboard")
    assert too_long == []


def test_one_character_more_is_refused_naming_the_service_limit() -> None:
    with pytest.raises(ConfigError) as info:
        run_stack("dev", overrides={"monitoring:platform": _platform_for(longest_prefix() + 1, "dev")})
    (problem,) = info.value.problems
    assert problem.startswith("stacks/Pulumi.dev.yaml: monitoring:platform: platform 'sxx")
    assert "Grafana data source UID" in problem and "-cloudwatch-logs' would be" in problem and "(limit 40)" in problem
