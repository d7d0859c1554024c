"""The longest `<platform>-<environment>` the model accepts yields names every service accepts.

Limits, from each service's API reference (independent of infra/config/names.py):
IAM CreateRole RoleName / CreateUser UserName 64; SNS CreateTopic Name 256 and
DisplayName 100; KMS CreateAlias AliasName 256; CloudWatch PutMetricAlarm AlarmName 255;
CloudWatch Logs CreateLogGroup logGroupName 512; AWS Chatbot ConfigurationName 128;
AMP CreateWorkspace / CreateScraper alias 100; Grafana UIDs 40 (grafana/grafana
pkg/util: MaxUIDLength = 40, for folders, dashboards and data sources).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.config import ConfigError
from infra.config.names import longest_prefix
from planner.engine import run_stack

# (resource type, input holding a physical name, limit)
LIMITS: tuple[tuple[str, str, int], ...] = (
    ("aws:iam/role:Role", "name", 64),
    ("aws:iam/user:User", "name", 64),
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
    # dev, the cheapest plan: the collector role, scraper and Chatbot are staging's and prod's (same table).
    environment = "dev"
    plan = run_stack(
        "dev",
        overrides={"monitoring:platform": _platform_for(longest_prefix(), environment)},
    )
    too_long: list[str] = []
    checked = 0
    for type_token, key, limit in LIMITS:
        for resource in plan.of_type(type_token):
            value: Any = resource.inputs.get(key)
            if isinstance(value, str):
                checked += 1
                if len(value) > limit:
                    too_long.append(f"{type_token} {key}={value} ({len(value)} > {limit})")
    for dashboard in plan.of_type("grafana:oss/dashboard:Dashboard"):
        uid = json.loads(dashboard.inputs["configJson"])["uid"]
        checked += 1
        if len(uid) > GRAFANA_UID_LIMIT:
            too_long.append(f"dashboard uid {uid} ({len(uid)} > {GRAFANA_UID_LIMIT})")
    assert checked > 20
    assert too_long == []


def test_one_character_more_is_refused_naming_the_service_limit() -> None:
    with pytest.raises(ConfigError) as info:
        run_stack("dev", overrides={"monitoring:platform": _platform_for(longest_prefix() + 1, "dev")})
    (problem,) = info.value.problems
    assert problem.startswith("stacks/Pulumi.dev.yaml: monitoring:platform: platform 'sxx")
    assert "Grafana data source UID" in problem and "-alertmanager' would be" in problem and "(limit 40)" in problem
