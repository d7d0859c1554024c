"""Rule namespaces and the Alertmanager definition: each policy against a violating and a compliant resource."""

from __future__ import annotations

import textwrap
from typing import Any

import yaml
from screener_policies.alerting import (
    ALERT_MANAGER_DEFINITION,
    DEFAULT_SEVERITIES,
    RULE_GROUP_NAMESPACE,
    alertmanager_repeat_interval_capped,
    alertmanager_routes_resolve,
    alertmanager_sns_receivers_signed,
    alerts_are_labelled_and_annotated,
    rule_data_parses,
)

from infra.alerting.rule_model import SEVERITIES
from tests.policies.support import args, messages

GOOD_ALERT: dict[str, Any] = {
    "alert": "ApiHighErrorRate",
    "expr": "api:error_ratio:rate5m > 0.01",
    "for": "5m",
    "labels": {"severity": "critical"},
    "annotations": {
        "summary": "API 5xx above 1%",
        "description": "{{ $value | humanizePercentage }} of requests fail",
        "runbook_url": "https://runbooks.example/api-high-error-rate",
    },
}
GOOD_RECORD = {"record": "api:error_ratio:rate5m", "expr": "sum(rate(http_requests_total[5m]))"}


def rules(*rule: dict[str, Any], **group: Any) -> Any:
    data = yaml.safe_dump({"groups": [{"name": "api", "rules": list(rule), **group}]})
    return args(RULE_GROUP_NAMESPACE, {"name": "api", "data": data, "workspaceId": "ws-1"})


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


def test_rule_file_with_named_groups_and_valid_rules_parses() -> None:
    assert messages(rule_data_parses, rules(GOOD_RECORD, GOOD_ALERT, interval="1m")) == []


def test_rule_data_that_is_not_yaml_is_refused() -> None:
    bad = args(RULE_GROUP_NAMESPACE, {"name": "api", "data": "groups: [unclosed"})
    (message,) = messages(rule_data_parses, bad)
    assert message.startswith("rule namespace 'api': `data` is not valid YAML")
    assert "promtool check rules" in message


def test_rule_data_without_groups_is_refused() -> None:
    (message,) = messages(rule_data_parses, args(RULE_GROUP_NAMESPACE, {"name": "api", "data": "rules: []"}))
    assert "has no `groups:` list" in message


def test_rule_with_both_alert_and_record_is_refused() -> None:
    (message,) = messages(rule_data_parses, rules(with_(GOOD_ALERT, record="x:y")))
    assert "needs exactly one of `alert` or `record`" in message


def test_rule_with_an_invalid_for_duration_is_refused() -> None:
    (message,) = messages(rule_data_parses, rules(with_(GOOD_ALERT, **{"for": "5 minutes"})))
    assert "rule 'ApiHighErrorRate' `for`: '5 minutes' is not a Prometheus duration" in message


def test_rule_with_an_empty_expression_is_refused() -> None:
    (message,) = messages(rule_data_parses, rules(with_(GOOD_RECORD, expr=" ")))
    assert "`expr` is missing or empty" in message


def test_alert_with_severity_annotations_and_https_runbook_passes() -> None:
    assert messages(alerts_are_labelled_and_annotated, rules(GOOD_ALERT, GOOD_RECORD)) == []


def test_alert_with_a_severity_outside_the_allowed_set_is_refused() -> None:
    (message,) = messages(alerts_are_labelled_and_annotated, rules(with_(GOOD_ALERT, labels={"severity": "page"})))
    assert message.startswith("alert 'ApiHighErrorRate' (namespace 'api', group 'api'): severity 'page' is not one of")
    assert "critical, warning, info, none" in message


def test_default_severities_are_the_ones_the_rules_module_routes_on() -> None:
    assert DEFAULT_SEVERITIES == SEVERITIES


def test_allowed_severities_come_from_the_policy_config() -> None:
    paging = rules(with_(GOOD_ALERT, labels={"severity": "page"}))
    configured = args(RULE_GROUP_NAMESPACE, paging.props, config={"allowedSeverities": ["page"]})
    assert messages(alerts_are_labelled_and_annotated, configured) == []


def test_alert_without_runbook_url_is_refused() -> None:
    annotations = {"summary": "s", "description": "d"}
    (message,) = messages(alerts_are_labelled_and_annotated, rules(with_(GOOD_ALERT, annotations=annotations)))
    assert "missing annotation(s) runbook_url" in message


def test_alert_with_blank_summary_and_description_names_both() -> None:
    annotations = {"summary": " ", "runbook_url": "https://runbooks.example/x"}
    (message,) = messages(alerts_are_labelled_and_annotated, rules(with_(GOOD_ALERT, annotations=annotations)))
    assert "missing annotation(s) summary, description" in message


def test_alert_with_a_plain_http_runbook_is_refused() -> None:
    annotations = {**GOOD_ALERT["annotations"], "runbook_url": "http://wiki/runbook"}
    (message,) = messages(alerts_are_labelled_and_annotated, rules(with_(GOOD_ALERT, annotations=annotations)))
    assert "runbook_url 'http://wiki/runbook' is not an https:// link" in message


def definition(config: str, *, inner_as_string: bool = True) -> Any:
    inner: Any = textwrap.dedent(config) if inner_as_string else yaml.safe_load(textwrap.dedent(config))
    document = yaml.safe_dump({"template_files": {}, "alertmanager_config": inner})
    return args(ALERT_MANAGER_DEFINITION, {"workspaceId": "ws-1", "definition": document})


GOOD_CONFIG = """
route:
  receiver: critical
  repeat_interval: 4h
  routes:
    - matchers: ['severity="warning"']
      receiver: warning
      repeat_interval: 120h
receivers:
  - name: critical
    sns_configs:
      - topic_arn: arn:aws:sns:ap-northeast-2:123456789012:alerts-critical
        sigv4: {region: ap-northeast-2}
  - name: warning
    sns_configs:
      - topic_arn: arn:aws:sns:ap-northeast-2:123456789012:alerts-warning
        sigv4: {region: ap-northeast-2}
  - name: blackhole
"""


def test_alertmanager_definition_whose_routes_all_resolve_passes() -> None:
    assert messages(alertmanager_routes_resolve, definition(GOOD_CONFIG)) == []


def test_route_to_an_undefined_receiver_is_refused() -> None:
    (message,) = messages(
        alertmanager_routes_resolve, definition(GOOD_CONFIG.replace("receiver: warning", "receiver: pager"))
    )
    assert message.startswith("route.routes[0] sends to receiver 'pager', which is not defined")
    assert "(receivers: critical, warning, blackhole)" in message


def test_alertmanager_config_as_a_mapping_instead_of_a_string_is_refused() -> None:
    (message,) = messages(alertmanager_routes_resolve, definition(GOOD_CONFIG, inner_as_string=False))
    assert "has no `alertmanager_config: |` string" in message


def test_sns_receivers_with_topic_and_sigv4_region_pass() -> None:
    assert messages(alertmanager_sns_receivers_signed, definition(GOOD_CONFIG)) == []


def test_sns_receiver_without_sigv4_region_is_refused() -> None:
    unsigned = GOOD_CONFIG.replace(
        "        sigv4: {region: ap-northeast-2}\n  - name: blackhole", "  - name: blackhole"
    )
    (message,) = messages(alertmanager_sns_receivers_signed, definition(unsigned))
    assert message.startswith("receiver 'warning' sns_configs[0] has no sigv4.region")


def test_receiver_kinds_other_than_sns_are_refused() -> None:
    slack = GOOD_CONFIG + "  - name: chat\n    slack_configs:\n      - channel: '#alerts'\n"
    (message,) = messages(alertmanager_sns_receivers_signed, definition(slack))
    assert "receiver 'chat' uses slack_configs; AMP's Alertmanager delivers to SNS only" in message


def test_sns_receiver_with_api_url_is_refused() -> None:
    custom = GOOD_CONFIG.replace(
        "sigv4: {region: ap-northeast-2}\n  - name: warning",
        "sigv4: {region: ap-northeast-2}\n        api_url: https://sns.example\n  - name: warning",
    )
    (message,) = messages(alertmanager_sns_receivers_signed, definition(custom))
    assert "receiver 'critical' sns_configs[0] sets api_url, which AMP does not allow" in message


def test_repeat_interval_of_exactly_five_days_passes() -> None:
    assert messages(alertmanager_repeat_interval_capped, definition(GOOD_CONFIG)) == []


def test_repeat_interval_above_amps_five_day_cap_is_refused() -> None:
    (message,) = messages(alertmanager_repeat_interval_capped, definition(GOOD_CONFIG.replace("120h", "121h")))
    assert message.startswith("route.routes[0].repeat_interval is 121h, above AMP's cap of 5 days (120h)")


def test_unparseable_group_wait_is_refused() -> None:
    config = GOOD_CONFIG.replace("  repeat_interval: 4h", "  repeat_interval: 4h\n  group_wait: thirty seconds")
    (message,) = messages(alertmanager_repeat_interval_capped, definition(config))
    assert message.startswith("route.group_wait: 'thirty seconds' is not a Prometheus duration")
