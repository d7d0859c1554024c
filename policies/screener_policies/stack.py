"""Cross-resource policies, run once over the whole stack."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from pulumi_policy import PolicyResource, ReportViolation, StackValidationArgs, StackValidationPolicy

from screener_policies.common import (
    action_matches,
    actions,
    allows,
    arn_matches,
    as_list,
    condition_values,
    is_mapping,
    service_principals,
    statements,
)

AMP_PRINCIPAL = "aps.amazonaws.com"
CLOUDWATCH_PRINCIPAL = "cloudwatch.amazonaws.com"
_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
_ALERT_MANAGER_DEFINITION = "aws:amp/alertManagerDefinition:AlertManagerDefinition"
_WORKSPACE = "aws:amp/workspace:Workspace"
_TOPIC = "aws:sns/topic:Topic"
_TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
_KMS_KEY = "aws:kms/key:Key"
_KMS_ALIAS = "aws:kms/alias:Alias"


def _of_type(resources: Sequence[PolicyResource], token: str) -> list[PolicyResource]:
    return [r for r in resources if r.resource_type == token]


def _alert_topic_arns(definition: PolicyResource) -> list[str]:
    """Topic ARNs of the SNS receivers (parse errors are the resource policies' to report)."""
    try:
        document = yaml.safe_load(definition.props.get("definition") or "")
        config = yaml.safe_load(document["alertmanager_config"]) if is_mapping(document) else None
    except (yaml.YAMLError, KeyError, TypeError):
        return []
    arns: list[str] = []
    for receiver in as_list(config.get("receivers") if is_mapping(config) else None):
        for sns in as_list(receiver.get("sns_configs") if is_mapping(receiver) else None):
            arn = sns.get("topic_arn") if is_mapping(sns) else None
            if isinstance(arn, str) and arn not in arns:
                arns.append(arn)
    return arns


def _grants(document: Any, principal: str, needed: Sequence[str], source_arn: str | None) -> bool:
    """Whether a resource policy lets `principal` do every `needed` action (from `source_arn`)."""
    try:
        found = statements(document)
    except ValueError:
        return False
    granted: set[str] = set()
    for statement in found:
        if not allows(statement) or principal not in service_principals(statement):
            continue
        sources = condition_values(statement, "aws:SourceArn")
        if source_arn and sources and not any(arn_matches(value, source_arn) for _, value in sources):
            continue
        granted.update(n for n in needed if any(action_matches(a, n) for a in actions(statement)))
    return granted == set(needed)


def _topic_allows(topic_policies: Sequence[PolicyResource], arn: str, principal: str, source_arn: str | None) -> bool:
    """Whether a topic policy of `arn` lets `principal` sns:Publish (from `source_arn`)."""
    return any(
        p.props.get("arn") == arn and _grants(p.props.get("policy"), principal, ["sns:Publish"], source_arn)
        for p in topic_policies
    )


def _kms_key(resources: Sequence[PolicyResource], reference: str) -> PolicyResource | None:
    """The KMS key a topic's kms_master_key_id names: key ARN or ID, or an alias name or ARN."""
    keys = _of_type(resources, _KMS_KEY)
    for alias in _of_type(resources, _KMS_ALIAS):
        if reference in (alias.props.get("name"), alias.props.get("arn")):
            reference = str(alias.props.get("targetKeyId") or alias.props.get("targetKeyArn") or "")
    return next((k for k in keys if reference and reference in (k.props.get("arn"), k.props.get("keyId"))), None)


def amp_can_publish_to_alert_topics(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    resources = args.resources
    workspaces = _of_type(resources, _WORKSPACE)
    topics = _of_type(resources, _TOPIC)
    topic_policies = _of_type(resources, _TOPIC_POLICY)
    for definition in _of_type(resources, _ALERT_MANAGER_DEFINITION):
        workspace_id = str(definition.props.get("workspaceId") or "")
        workspace = next(
            (w for w in workspaces if str(w.props.get("arn") or "").endswith(f":workspace/{workspace_id}")), None
        )
        workspace_arn = str(workspace.props.get("arn")) if workspace is not None else None
        for arn in _alert_topic_arns(definition):
            topic = next((t for t in topics if t.props.get("arn") == arn), None)
            if topic is None:
                report_violation(
                    f"Alertmanager publishes to {arn}, which this stack does not manage, so its policy and key "
                    "cannot be checked. Fix: create the alert topic in the notifications component.",
                    definition.urn,
                )
                continue
            if topic.props.get("fifoTopic"):
                report_violation(
                    f"alert topic {arn} is FIFO; AMP publishes to standard topics only. Fix: drop fifo_topic.",
                    topic.urn,
                )
            if not _topic_allows(topic_policies, arn, AMP_PRINCIPAL, workspace_arn):
                report_violation(
                    f"no topic policy on {arn} lets {AMP_PRINCIPAL} sns:Publish"
                    f"{' from ' + workspace_arn if workspace_arn else ''}, so every notification fails with "
                    "'no resource-based policy allows the SNS:Publish action'. Fix: attach a TopicPolicy granting "
                    "it, conditioned on aws:SourceArn (the workspace) and aws:SourceAccount.",
                    topic.urn,
                )
            key_reference = topic.props.get("kmsMasterKeyId")
            if not key_reference:
                continue  # sns-topic-customer-managed-key reports it
            key = _kms_key(resources, str(key_reference))
            if key is None:
                report_violation(
                    f"alert topic {arn} is encrypted with {key_reference}, a key this stack does not manage, so "
                    f"its policy cannot be checked for {AMP_PRINCIPAL}. Fix: encrypt with the stack's KMS key.",
                    topic.urn,
                )
            elif not _grants(key.props.get("policy"), AMP_PRINCIPAL, ["kms:GenerateDataKey", "kms:Decrypt"], None):
                report_violation(
                    f"the KMS key of alert topic {arn} does not let {AMP_PRINCIPAL} use it, so AMP cannot publish "
                    "to the encrypted topic. Fix: add a key-policy statement allowing kms:GenerateDataKey* and "
                    f"kms:Decrypt to {AMP_PRINCIPAL}.",
                    key.urn,
                )


def alarms_can_publish_to_their_topics(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Every SNS topic a CloudWatch alarm notifies lets CloudWatch publish for that alarm, and its key lets it encrypt.

    Contract: AWS re:Post knowledge center "cloudwatch-receive-sns-for-alarm-trigger" (topic policy,
    aws:SourceArn = the alarm's ARN) and "cloudwatch-configure-alarm-sns" (a customer-managed key whose
    policy grants CloudWatch kms:Decrypt and kms:GenerateDataKey*). The alarm's ARN is built from its name
    and the topic's region and account, so the check also runs in a preview, before the alarm exists.
    """
    resources = args.resources
    topics = _of_type(resources, _TOPIC)
    topic_policies = _of_type(resources, _TOPIC_POLICY)
    for alarm in _of_type(resources, _ALARM):
        notified = [
            str(arn)
            for key in ("alarmActions", "okActions", "insufficientDataActions")
            for arn in as_list(alarm.props.get(key))
            if str(arn).split(":")[2:3] == ["sns"]
        ]
        for arn in dict.fromkeys(notified):
            partition, _, region, account = arn.split(":")[1:5]
            alarm_arn = f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{alarm.props.get('name')}"
            topic = next((t for t in topics if t.props.get("arn") == arn), None)
            if topic is None:
                continue  # a topic of another stack: its own policies are not visible here
            if not _topic_allows(topic_policies, arn, CLOUDWATCH_PRINCIPAL, alarm_arn):
                report_violation(
                    f"alarm {alarm.props.get('name')} notifies {arn}, whose topic policy does not let "
                    f"{CLOUDWATCH_PRINCIPAL} sns:Publish from {alarm_arn}: the alarm fires and nobody hears it. Fix: "
                    "add a statement for it (ArnLike aws:SourceArn on the stack's alarm names, StringEquals "
                    "aws:SourceAccount), or notify a topic that has one.",
                    alarm.urn,
                )
            key = _kms_key(resources, str(topic.props.get("kmsMasterKeyId") or ""))
            if key is not None and not _grants(
                key.props.get("policy"), CLOUDWATCH_PRINCIPAL, ["kms:GenerateDataKey", "kms:Decrypt"], alarm_arn
            ):
                report_violation(
                    f"the KMS key of {arn} does not let {CLOUDWATCH_PRINCIPAL} encrypt for alarm "
                    f"{alarm.props.get('name')}, so its notifications are dropped. Fix: grant kms:GenerateDataKey* "
                    "and kms:Decrypt to it, conditioned on the stack's alarm ARNs and account.",
                    key.urn,
                )


POLICIES = [
    StackValidationPolicy(
        name="amp-can-publish-to-alert-topics",
        description="Every SNS topic the Alertmanager uses is a standard topic of this stack whose topic policy and "
        "KMS key let AMP (from this workspace) publish.",
        validate=amp_can_publish_to_alert_topics,
    ),
    StackValidationPolicy(
        name="alarms-can-publish-to-their-topics",
        description="Every SNS topic of this stack that a CloudWatch alarm notifies lets CloudWatch publish for that "
        "alarm, and the topic's KMS key lets it encrypt.",
        validate=alarms_can_publish_to_their_topics,
    ),
]
