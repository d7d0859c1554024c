"""How long the physical names built from `<platform>-<environment>` get, against each service's limit.

Every name below is the longest one the program derives from the prefix for
that kind of resource; a prefix that makes one of them too long is refused in
the stack file, before any cloud API refuses it halfway through a deployment.
`tests/test_name_limits.py` plans a stack at the longest accepted prefix and
checks every physical name in the plan, so a component that adds a longer
suffix fails there until this table has it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NameLimit:
    what: str
    longest_name: str  # with `{prefix}` for `<platform>-<environment>`
    max_length: int

    def length(self, prefix: str) -> int:
        return len(self.longest_name.format(prefix=prefix))


# Limits from the services' API references: IAM CreateRole (RoleName: 64);
# SNS CreateTopic (Name: 256; DisplayName: 100); KMS CreateAlias (AliasName: 256);
# CloudWatch PutMetricAlarm (AlarmName: 255); CloudWatch Logs CreateLogGroup (512);
# AWS Chatbot CreateSlackChannelConfiguration (ConfigurationName: 128);
# AMP CreateWorkspace / CreateScraper (alias: 100); Grafana UIDs: 40 (folders, dashboards, data sources).
NAME_LIMITS: tuple[NameLimit, ...] = (
    NameLimit("Grafana data source UID", "{prefix}-cloudwatch-logs", 40),
    NameLimit("Grafana data source UID", "{prefix}-alertmanager", 40),
    # Grafana's access-control roles: a uid like every Grafana UID (assumed 40: MaxUIDLength).
    NameLimit("Grafana role UID", "{prefix}-annotator", 40),
    NameLimit("Grafana dashboard UID", "{prefix}-database", 40),
    NameLimit("Grafana data source UID", "{prefix}-amp", 40),
    NameLimit("Grafana folder UID", "{prefix}", 40),
    NameLimit("IAM role name", "{prefix}-grafana-amp-alertmanager", 64),
    NameLimit("IAM role name", "{prefix}-grafana-amp-query", 64),
    NameLimit("IAM role name", "{prefix}-collector", 64),
    NameLimit("SNS topic display name", "{prefix} watchdog alerts", 100),
    NameLimit("SNS topic name", "{prefix}-alerts-watchdog", 256),
    NameLimit("KMS alias", "alias/{prefix}-alerts", 256),
    NameLimit("CloudWatch alarm name", "{prefix}-amp-rule-evaluation-failures", 255),
    NameLimit("CloudWatch log group name", "/aws/vendedlogs/prometheus/{prefix}", 512),
    NameLimit("AWS Chatbot configuration name", "{prefix}-alerts", 128),
    NameLimit("AMP workspace alias", "{prefix}", 100),
    NameLimit("AMP scraper alias", "{prefix}-scraper", 100),
)


def name_prefix_of(platform: str, environment: str) -> str:
    """Prefix of an environment's physical names (`<platform>-<environment>`): the one place that spells it."""
    return f"{platform}-{environment}"


def longest_prefix() -> int:
    """The longest `<platform>-<environment>` every limit accepts."""
    return min(limit.max_length - limit.length("") for limit in NAME_LIMITS)


def names_too_long(prefix: str) -> list[str]:
    return [
        f"{limit.what} '{limit.longest_name.format(prefix=prefix)}' would be {limit.length(prefix)} characters "
        f"(limit {limit.max_length})"
        for limit in NAME_LIMITS
        if limit.length(prefix) > limit.max_length
    ]
