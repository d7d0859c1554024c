"""Under mocks: Grafana's dead man's switch, from the always-firing rule to the alarm on its silence."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi.runtime import rpc

from infra.components.grafana_heartbeat import accepted_heartbeats_expression
from planner.engine import SECRET, Plan
from tests.conftest import STACKS, plan_of

RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup"
CONTACT_POINT = "grafana:alerting/contactPoint:ContactPoint"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def heartbeat_rule(plan: Plan) -> dict[str, Any]:
    (rule,) = plan.one(RULE_GROUP, "grafana-rules-grafana-heartbeat-group").inputs["rules"]
    return dict(rule)


@pytest.mark.parametrize("stack", STACKS)
def test_the_heartbeat_fires_whatever_the_data_source_answers(stack: str) -> None:
    rule = heartbeat_rule(plan_of(stack))
    assert rule["name"] == "GrafanaHeartbeat" and rule["for"] == "0m"
    # A value (vector(1) > 0), no data and a failing query all mean Alerting.
    assert rule["noDataState"] == "Alerting" and rule["execErrState"] == "Alerting"
    query, threshold = rule["datas"]
    assert json.loads(query["model"])["expr"] == "vector(1)"
    assert json.loads(threshold["model"])["conditions"][0]["evaluator"] == {"type": "gt", "params": [0]}


@pytest.mark.parametrize("stack", STACKS)
def test_the_heartbeat_webhook_calls_the_stage_with_its_api_key_only_as_a_secret(stack: str) -> None:
    plan = plan_of(stack)
    contact = plan.one(CONTACT_POINT, "grafana-heartbeat-contact-point")
    assert contact.inputs["name"] == f"screener-{stack}-heartbeat"
    assert contact.inputs["webhooks"] == SECRET and rpc.is_rpc_secret(contact.raw_inputs["webhooks"])
    (webhook,) = rpc.unwrap_rpc_secret(contact.raw_inputs["webhooks"])
    stage = plan.one("aws:apigateway/stage:Stage")
    key = plan.one("aws:apigateway/apiKey:ApiKey")
    assert webhook["url"] == stage.outputs["invokeUrl"] and webhook["httpMethod"] == "POST"
    # The key AWS generated (a secret output) is what Grafana sends, and it is nowhere in plain text.
    assert key.outputs["value"] == SECRET
    (header,) = webhook["headers"].items()
    assert header[0] == "x-api-key" and len(header[1]) == 40
    everything = json.dumps([repr(r.inputs) + repr(r.outputs) for r in plan.resources])
    assert header[1] not in everything and header[1] not in repr(plan.outputs)


@pytest.mark.parametrize("stack", STACKS)
def test_the_endpoint_refuses_requests_without_the_key_and_counts_only_json(stack: str) -> None:
    plan = plan_of(stack)
    method = plan.one("aws:apigateway/method:Method")
    assert method.inputs["apiKeyRequired"] is True and method.inputs["httpMethod"] == "POST"
    integration = plan.one("aws:apigateway/integration:Integration")
    assert integration.inputs["type"] == "MOCK" and integration.inputs["passthroughBehavior"] == "NEVER"
    assert json.loads(integration.inputs["requestTemplates"]["application/json"]) == {"statusCode": 200}
    usage = plan.one("aws:apigateway/usagePlan:UsagePlan")
    stage = plan.one("aws:apigateway/stage:Stage")
    assert usage.inputs["apiStages"] == [{"apiId": stage.inputs["restApi"], "stage": "heartbeat"}]
    link = plan.one("aws:apigateway/usagePlanKey:UsagePlanKey")
    assert (
        link.inputs["keyId"] == plan.one("aws:apigateway/apiKey:ApiKey").urn.rsplit("::", 1)[0] or link.inputs["keyId"]
    )


@pytest.mark.parametrize("stack", STACKS)
def test_fifteen_minutes_without_an_accepted_heartbeat_pages_like_the_watchdog(stack: str) -> None:
    plan = plan_of(stack)
    alarm = plan.one(ALARM, "grafana-heartbeat-silent").inputs
    watchdog = plan.one(ALARM, "notifications-watchdog-silent").inputs
    assert alarm["alarmActions"] == watchdog["alarmActions"] == alarm["okActions"]
    assert alarm["alarmActions"]  # the Watchdog alarm's topics: who hears that the pipeline broke
    assert alarm["treatMissingData"] == "breaching"
    assert (alarm["comparisonOperator"], alarm["threshold"], alarm["evaluationPeriods"]) == ("LessThanThreshold", 1, 1)
    queries = {query["id"]: query for query in alarm["metricQueries"]}
    assert (
        queries["accepted"]["expression"] == accepted_heartbeats_expression() == "FILL(requests, 0) - FILL(refused, 0)"
    )
    assert [q["id"] for q in alarm["metricQueries"] if q.get("returnData")] == ["accepted"]
    api = plan.one("aws:apigateway/restApi:RestApi").inputs["name"]
    for query_id, metric in (("requests", "Count"), ("refused", "4XXError")):
        spec = queries[query_id]["metric"]
        assert (spec["namespace"], spec["metricName"], spec["stat"], spec["period"]) == (
            "AWS/ApiGateway",
            metric,
            "Sum",
            900,
        )
        assert spec["dimensions"] == {"ApiName": api, "Stage": "heartbeat"}


def test_the_heartbeat_rule_waits_for_its_contact_point() -> None:
    plan = plan_of("prod")
    group = plan.one(RULE_GROUP, "grafana-rules-grafana-heartbeat-group")
    component = plan.one("monitoring:index:GrafanaRuleGroup", "grafana-rules-grafana-heartbeat")
    contact = plan.one(CONTACT_POINT, "grafana-heartbeat-contact-point")
    # Grafana refuses a rule that routes to a contact point that does not exist yet.
    assert contact.urn in component.depends_on
    assert group.parent == component.urn
