"""The alert delivery graph of a plan, derived from its resources, and the edges whose policies refuse it.

Every edge an alert travels, read from the plan (nothing listed by hand):

- AMP Alertmanager -> SNS topic: each `sns_configs[].topic_arn` of the uploaded
  definition. The topic policy must let `aps.amazonaws.com` `sns:Publish` with
  the request context AMP sends (aws:SourceArn = the workspace, aws:SourceAccount),
  and the topic's KMS key policy must let it `kms:GenerateDataKey*` and `kms:Decrypt`
  in that context (AMP user guide, "Giving Amazon Managed Service for Prometheus
  permission to send alert messages to your Amazon SNS topic").
- CloudWatch alarm -> SNS topic: each SNS ARN among an alarm's alarm, OK and
  insufficient-data actions; the same two checks for `cloudwatch.amazonaws.com`
  with aws:SourceArn = the alarm's ARN (AWS re:Post knowledge center
  "cloudwatch-receive-sns-for-alarm-trigger" for the topic policy,
  "cloudwatch-configure-alarm-sns" for the key: a customer-managed key whose policy
  grants CloudWatch Decrypt and GenerateDataKey*; the AWS-managed aws/sns key cannot).
- SNS topic -> KMS key: the topic's `kms_master_key_id` is a key of this plan
  (by ARN, ID or alias), never an AWS-managed `alias/aws/...` key.
- SNS topic -> subscriber: email/https subscriptions, AWS Chatbot channels (whose
  role trusts `chatbot.amazonaws.com` from this account), and CloudWatch alarms on
  the topic's own metrics (the Watchdog's dead man's switch). A topic someone
  publishes to with no subscriber at all is a broken edge too.
- Grafana contact points have no AWS edge: Grafana Cloud rejects the `sns`
  integration (tests/grafana/test_alerting.py), so they reach people by email and Slack.

The policy evaluation is a deliberately small subset of IAM's: Allow statements for
the principal whose actions, resources and every condition match the request
context (StringEquals/Like, ArnEquals/Like, Bool, with IfExists, and their Not
forms), minus any matching Deny; an unknown operator does not match, nor does a
key the context lacks, except under a Not operator, where IAM counts an absent
key as true (IAM user guide, "Condition operators": "If the policy condition
requires that the key is not matched, such as StringNotLike or ArnNotLike, and
the right key is not present, the condition is true"). A service principal's
request carries aws:PrincipalServiceName (IAM global condition keys).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from planner.engine import Plan, PlannedResource

AMP = "aps.amazonaws.com"
CLOUDWATCH = "cloudwatch.amazonaws.com"
CHATBOT = "chatbot.amazonaws.com"
KMS_PUBLISH = ("kms:GenerateDataKey", "kms:Decrypt")
_TOPIC = "aws:sns/topic:Topic"
_TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
_KEY = "aws:kms/key:Key"
_ALIAS = "aws:kms/alias:Alias"


@dataclass(frozen=True)
class Edge:
    kind: str
    source: str
    target: str


@dataclass(frozen=True)
class Broken:
    edge: Edge
    problem: str


# --- a small IAM evaluator ------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _glob(pattern: str, value: str, case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=0 if case else re.IGNORECASE) is not None


_NEGATED = {"StringNotEquals": "StringEquals", "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals"}
_NEGATED["ArnNotLike"] = "ArnLike"


def _condition_holds(operator: str, key: str, wanted: Any, context: Mapping[str, str]) -> bool:
    base = operator.removesuffix("IfExists")
    actual = next((v for k, v in context.items() if k.lower() == key.lower()), None)
    if base in _NEGATED:
        return actual is None or not _condition_holds(_NEGATED[base], key, wanted, context)
    if actual is None:
        return operator.endswith("IfExists")
    values = [str(v) for v in _as_list(wanted)]
    if base in ("StringEquals", "ArnEquals"):
        return actual in values
    if base in ("StringLike", "ArnLike"):
        return any(_glob(v, actual, case=True) for v in values)
    if base == "Bool":
        return actual.lower() in [v.lower() for v in values]
    return False


def _principal_matches(statement: Mapping[str, Any], principal: Mapping[str, str]) -> bool:
    given = statement.get("Principal")
    if given == "*":
        return True
    if not isinstance(given, Mapping):
        return "Principal" not in statement  # identity policies name no principal
    return any(value in [str(v) for v in _as_list(given.get(kind))] for kind, value in principal.items()) or (
        "*" in [str(v) for v in _as_list(given.get("AWS"))]
    )


def _statement_matches(
    statement: Mapping[str, Any], principal: Mapping[str, str], action: str, resource: str, context: Mapping[str, str]
) -> bool:
    return (
        _principal_matches(statement, principal)
        and any(_glob(str(a), action) for a in _as_list(statement.get("Action")))
        # Trust policies name no Resource: the role itself is the resource.
        and (
            "Resource" not in statement
            or any(_glob(str(r), resource, case=True) for r in _as_list(statement["Resource"]))
        )
        and all(
            _condition_holds(operator, key, wanted, context)
            for operator, clauses in (statement.get("Condition") or {}).items()
            for key, wanted in clauses.items()
        )
    )


def allows(document: Any, principal: Mapping[str, str], action: str, resource: str, context: Mapping[str, str]) -> bool:
    """Whether a policy document lets `principal` do `action` on `resource` in the request `context`."""
    if not isinstance(document, str):
        return False
    statements = [s for s in _as_list(json.loads(document).get("Statement")) if isinstance(s, Mapping)]
    context = {"aws:SecureTransport": "true", **context}

    def effect(name: str) -> bool:
        return any(
            str(s.get("Effect")) == name and _statement_matches(s, principal, action, resource, context)
            for s in statements
        )

    return effect("Allow") and not effect("Deny")


# --- the graph --------------------------------------------------------------------


def _arn_account(arn: str) -> str:
    return arn.split(":")[4]


class DeliveryGraph:
    """The plan's alert edges, each with the problems that would stop an alert on it."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.topics = {str(t.outputs.get("arn")): t for t in plan.of_type(_TOPIC)}
        self.broken: list[Broken] = []
        self.edges: list[Edge] = []

    def _key_of(self, topic: PlannedResource) -> PlannedResource | None:
        reference = str(topic.inputs.get("kmsMasterKeyId") or "")
        for alias in self.plan.of_type(_ALIAS):
            if reference in (alias.inputs.get("name"), alias.outputs.get("arn")):
                reference = str(alias.inputs.get("targetKeyId") or "")
        return next(
            (
                k
                for k in self.plan.of_type(_KEY)
                if reference and reference in (k.outputs.get("arn"), k.outputs.get("keyId"))
            ),
            None,
        )

    def _topic_policy(self, arn: str) -> Any:
        policies = [p for p in self.plan.of_type(_TOPIC_POLICY) if p.inputs.get("arn") == arn]
        return policies[0].inputs.get("policy") if len(policies) == 1 else None

    def _publish(self, kind: str, source: str, service: str, source_arn: str, topic_arn: str) -> None:
        edge = Edge(kind, source, topic_arn)
        self.edges.append(edge)
        topic = self.topics.get(topic_arn)
        if topic is None:
            self.broken.append(Broken(edge, "the topic is not part of this plan, so nothing proves it accepts"))
            return
        context = {
            "aws:SourceArn": source_arn,
            "aws:SourceAccount": _arn_account(source_arn),
            "aws:PrincipalServiceName": service,
        }
        if not allows(self._topic_policy(topic_arn), {"Service": service}, "sns:Publish", topic_arn, context):
            self.broken.append(Broken(edge, f"the topic policy does not let {service} sns:Publish from {source_arn}"))
        key = self._key_of(topic)
        if key is not None:
            for action in KMS_PUBLISH:
                if not allows(key.inputs.get("policy"), {"Service": service}, action, "*", context):
                    self.broken.append(
                        Broken(edge, f"the topic's KMS key policy does not let {service} {action} for {source_arn}")
                    )

    def amp_edges(self) -> None:
        workspaces = self.plan.of_type("aws:amp/workspace:Workspace")
        for definition in self.plan.of_type("aws:amp/alertManagerDefinition:AlertManagerDefinition"):
            workspace_id = str(definition.inputs.get("workspaceId"))
            workspace = next(
                (str(w.outputs["arn"]) for w in workspaces if str(w.outputs.get("arn")).endswith(f"/{workspace_id}")),
                f"(workspace {workspace_id} not in the plan)",
            )
            config = yaml.safe_load(yaml.safe_load(definition.inputs["definition"])["alertmanager_config"])
            arns = {sns["topic_arn"] for r in config["receivers"] for sns in r.get("sns_configs") or []}
            for arn in sorted(arns):
                self._publish("amp->topic", definition.name, AMP, workspace, arn)

    def alarm_edges(self) -> None:
        for alarm in self.plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
            actions = {
                str(a)
                for key in ("alarmActions", "okActions", "insufficientDataActions")
                for a in alarm.inputs.get(key) or []
            }
            for arn in sorted(a for a in actions if a.split(":")[2:3] == ["sns"]):
                self._publish("alarm->topic", alarm.name, CLOUDWATCH, str(alarm.outputs["arn"]), arn)

    def key_edges(self) -> None:
        for arn, topic in self.topics.items():
            reference = str(topic.inputs.get("kmsMasterKeyId") or "")
            edge = Edge("topic->key", arn, reference or "(none)")
            self.edges.append(edge)
            if "alias/aws/" in reference:
                self.broken.append(Broken(edge, "an AWS-managed key: its policy cannot admit AMP or CloudWatch"))
            elif reference and self._key_of(topic) is None:
                self.broken.append(Broken(edge, "the key is not part of this plan, so its policy cannot be checked"))

    def subscriber_edges(self) -> None:
        consumers: dict[str, int] = {arn: 0 for arn in self.topics}
        for subscription in self.plan.of_type("aws:sns/topicSubscription:TopicSubscription"):
            arn = str(subscription.inputs.get("topic"))
            edge = Edge("topic->subscriber", arn, f"{subscription.inputs.get('protocol')}:{subscription.name}")
            self.edges.append(edge)
            if arn not in self.topics:
                self.broken.append(Broken(edge, "subscribes to a topic that is not part of this plan"))
            consumers[arn] = consumers.get(arn, 0) + 1
        roles = {str(r.outputs.get("arn")): r for r in self.plan.of_type("aws:iam/role:Role")}
        for channel in self.plan.of_type("aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration"):
            role = roles.get(str(channel.inputs.get("iamRoleArn")))
            for arn in channel.inputs.get("snsTopicArns") or []:
                edge = Edge("topic->subscriber", arn, f"chatbot:{channel.name}")
                self.edges.append(edge)
                consumers[arn] = consumers.get(arn, 0) + 1
                if arn not in self.topics:
                    self.broken.append(Broken(edge, "the channel reads a topic that is not part of this plan"))
                trust = role.inputs.get("assumeRolePolicy") if role is not None else None
                account = _arn_account(arn)
                if not allows(trust, {"Service": CHATBOT}, "sts:AssumeRole", "*", {"aws:SourceAccount": account}):
                    self.broken.append(Broken(edge, f"the channel's role does not trust {CHATBOT} from {account}"))
        by_name = {str(t.inputs.get("name")): arn for arn, t in self.topics.items()}
        for alarm in self.plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
            watched = (alarm.inputs.get("dimensions") or {}).get("TopicName")
            if alarm.inputs.get("namespace") == "AWS/SNS" and watched in by_name:
                self.edges.append(Edge("topic->subscriber", by_name[watched], f"alarm:{alarm.name}"))
                consumers[by_name[watched]] += 1
        published = {edge.target for edge in self.edges if edge.kind.endswith("->topic")}
        for arn in sorted(published & {a for a, n in consumers.items() if n == 0}):
            self.broken.append(Broken(Edge("topic->subscriber", arn, "(nobody)"), "alerts reach the topic and stop"))


def delivery_graph(plan: Plan) -> DeliveryGraph:
    graph = DeliveryGraph(plan)
    graph.amp_edges()
    graph.alarm_edges()
    graph.key_edges()
    graph.subscriber_edges()
    return graph
