"""Grafana's dead man's switch: an always-firing Grafana rule whose silence CloudWatch notices.

AMP's Watchdog proves AMP evaluates and delivers; nothing outside Grafana
watched Grafana's own evaluator and notifier, which the uptime and AMP-no-data
alerts depend on. The heartbeat rule fires all the time and routes itself
(rule-level routing, not the shared policy tree) every few minutes to a
webhook contact point. The webhook is an API Gateway REST endpoint with a mock
integration: no code runs, the request is only counted in CloudWatch
(`AWS/ApiGateway` `Count` per ApiName and Stage). A CloudWatch alarm pages on
the last-resort pipeline topic when no accepted heartbeat arrives for 15 minutes, the
same silence budget as the Watchdog's.

Requests must carry the stage's API key, which Grafana sends as a custom
webhook header (Grafana 12, grafana/grafana#103818; the provider's `headers`,
terraform-provider-grafana#2331; an X-API-KEY header is the case in grafana#108128); a
request without it is refused (403) and, since refusals also count, the alarm
subtracts `4XXError` so that nobody else can keep the switch quiet. AWS
generates the key: it is a secret output and reaches Grafana only as a secret.
Cost: one request every 5 minutes (about 8,800 a month, $3.50 per million)
and one alarm of two metrics.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumiverse_grafana as grafana

from infra.alerting.conventions import HEARTBEAT_SILENCE_SECONDS, runbook_link
from infra.alerting.grafana_rules import HEARTBEAT_RULE, heartbeat_contact_point

STAGE = "heartbeat"
API_KEY_HEADER = "x-api-key"

# The mock integration answers 200 to a JSON body, which Grafana's webhook always sends.
MOCK_REQUEST_TEMPLATE = json.dumps({"statusCode": 200})


def accepted_heartbeats_expression() -> str:
    """Requests the stage accepted: all requests minus the refused ones (a missing key is a 403)."""
    return "FILL(requests, 0) - FILL(refused, 0)"


@dataclass
class GrafanaHeartbeatArgs:
    name_prefix: str
    provider: grafana.Provider
    # Where the silence pages: the last-resort pipeline topic (and chat), as the Watchdog alarm.
    alarm_topic_arns: Sequence[pulumi.Input[str]]
    tags: Mapping[str, str]
    runbook_base_url: str


class GrafanaHeartbeat(pulumi.ComponentResource):
    """The heartbeat's receiving endpoint and silence alarm in AWS, and its contact point in Grafana."""

    contact_point: pulumi.Output[str]
    alarm_arn: pulumi.Output[str]

    def __init__(self, name: str, args: GrafanaHeartbeatArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("monitoring:index:GrafanaHeartbeat", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        api_name = f"{args.name_prefix}-grafana-heartbeat"

        self.api = aws.apigateway.RestApi(
            f"{name}-api",
            name=api_name,
            description="Counts Grafana's heartbeat notifications; a CloudWatch alarm watches the count",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
            api_key_source="HEADER",
            tags=tags,
            opts=child,
        )
        # The one method lives on the API's root: POST / with the key.
        root: dict[str, Any] = {"rest_api": self.api.id, "resource_id": self.api.root_resource_id}
        method = aws.apigateway.Method(
            f"{name}-post", **root, http_method="POST", authorization="NONE", api_key_required=True, opts=child
        )
        on_post = {**root, "http_method": method.http_method}
        integration = aws.apigateway.Integration(
            f"{name}-mock",
            **on_post,
            type="MOCK",
            request_templates={"application/json": MOCK_REQUEST_TEMPLATE},
            # Anything but JSON is refused (415) rather than passed to the mock.
            passthrough_behavior="NEVER",
            opts=child,
        )
        method_response = aws.apigateway.MethodResponse(f"{name}-ok", **on_post, status_code="200", opts=child)
        integration_response = aws.apigateway.IntegrationResponse(
            f"{name}-ok-mapping",
            **on_post,
            status_code=method_response.status_code,
            response_templates={"application/json": ""},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[integration]),
        )
        deployment = aws.apigateway.Deployment(
            f"{name}-deployment",
            rest_api=self.api.id,
            # A deployment is a snapshot: redeploy when what it serves changes.
            triggers={"api": json.dumps({"template": MOCK_REQUEST_TEMPLATE, "key_required": True})},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[method, integration, integration_response]),
        )
        self.stage = aws.apigateway.Stage(
            f"{name}-stage",
            rest_api=self.api.id,
            deployment=deployment.id,
            stage_name=STAGE,
            tags=tags,
            opts=child,
        )
        self.api_key = aws.apigateway.ApiKey(
            f"{name}-key",
            name=api_name,
            description="Grafana's heartbeat webhook sends it; AWS generated it",
            enabled=True,
            tags=tags,
            opts=child,
        )
        usage_plan = aws.apigateway.UsagePlan(
            f"{name}-usage",
            name=api_name,
            description="Only the heartbeat: a request a minute at most, in short bursts",
            api_stages=[aws.apigateway.UsagePlanApiStageArgs(api_id=self.api.id, stage=self.stage.stage_name)],
            throttle_settings=aws.apigateway.UsagePlanThrottleSettingsArgs(rate_limit=1, burst_limit=5),
            tags=tags,
            opts=child,
        )
        aws.apigateway.UsagePlanKey(
            f"{name}-usage-key",
            key_id=self.api_key.id,
            key_type="API_KEY",
            usage_plan_id=usage_plan.id,
            opts=child,
        )

        def api_metric(query_id: str, metric_name: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
            return aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=query_id,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace="AWS/ApiGateway",
                    metric_name=metric_name,
                    dimensions={"ApiName": api_name, "Stage": STAGE},
                    period=HEARTBEAT_SILENCE_SECONDS,
                    stat="Sum",
                ),
                return_data=False,
            )

        self.alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-silent",
            name=f"{args.name_prefix}-grafana-heartbeat-silent",
            alarm_description=f"No Grafana heartbeat for {HEARTBEAT_SILENCE_SECONDS // 60} minutes: Grafana Cloud "
            "stopped evaluating rules or sending notifications, so uptime and AMP-no-data alerts would not "
            "reach anyone. "
            f"Runbook: {runbook_link(args.runbook_base_url, HEARTBEAT_RULE)}",
            metric_queries=[
                api_metric("requests", "Count"),
                api_metric("refused", "4XXError"),
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="accepted",
                    expression=accepted_heartbeats_expression(),
                    label="Accepted heartbeats",
                    return_data=True,
                ),
            ],
            comparison_operator="LessThanThreshold",
            threshold=1,
            evaluation_periods=1,
            # Silence is the failure being watched for.
            treat_missing_data="breaching",
            alarm_actions=list(args.alarm_topic_arns),
            ok_actions=list(args.alarm_topic_arns),
            tags=tags,
            opts=child,
        )

        self.contact = grafana.alerting.ContactPoint(
            f"{name}-contact-point",
            name=heartbeat_contact_point(args.name_prefix),
            webhooks=[
                grafana.alerting.ContactPointWebhookArgs(
                    url=self.stage.invoke_url,
                    http_method="POST",
                    headers=pulumi.Output.secret(self.api_key.value.apply(lambda key: {API_KEY_HEADER: key})),
                    # A resolved heartbeat means Grafana stopped it on purpose: nothing to count.
                    disable_resolve_message=True,
                )
            ],
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[usage_plan]),
        )

        self.contact_point = self.contact.name
        self.alarm_arn = self.alarm.arn
        self.register_outputs({"contact_point": self.contact_point, "alarm_arn": self.alarm_arn})
