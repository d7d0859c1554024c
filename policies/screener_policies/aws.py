"""Policies on AWS resources: SNS encryption and access, IAM scope, AMP retention and protection, tags."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy

from screener_policies.common import (
    PROD,
    REQUIRED_TAGS,
    Reader,
    action_matches,
    actions,
    allows,
    as_list,
    condition_values,
    document_validation,
    environment_of,
    is_mapping,
    service_principals,
    statements,
    validation,
    validation_of,
)
from screener_policies.taggable_aws import TAGGABLE_AWS_TYPES

SNS_TOPIC = "aws:sns/topic:Topic"
SNS_TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
AMP_WORKSPACE = "aws:amp/workspace:Workspace"
KMS_KEY = "aws:kms/key:Key"
IAM_ROLE = "aws:iam/role:Role"
AMP_WORKSPACE_CONFIGURATION = "aws:amp/workspaceConfiguration:WorkspaceConfiguration"
MIN_RETENTION_DAYS = 15

# Identity policies the program can attach, and where their documents sit.
_IAM_DOCUMENT_INPUTS = {
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
# Services whose resources (the AMP workspace, the alert topics) this stack
# creates, so a grant on them can always name the ARN.
_KNOWN_ARN_SERVICES = ("aps:", "sns:")
# Actions of those services that IAM only accepts on Resource "*".
_NO_RESOURCE_LEVEL = (
    "aps:List*",
    "aps:CreateWorkspace",
    "aps:GetDefaultScraperConfiguration",
    "sns:List*",
    "sns:CreatePlatformApplication",
    "sns:*SMS*",
    "sns:*PhoneNumber*",
)


def _iam_documents(args: ResourceValidationArgs) -> Iterator[tuple[str, Any]]:
    key = _IAM_DOCUMENT_INPUTS.get(args.resource_type)
    if key is not None and args.props.get(key) is not None:
        yield key, args.props[key]
    if args.resource_type == "aws:iam/role:Role":
        for index, inline in enumerate(as_list(args.props.get("inlinePolicies"))):
            if is_mapping(inline) and inline.get("policy"):
                yield f"inlinePolicies[{index}] '{inline.get('name')}'", inline["policy"]


def _parsed(where: str, document: Any) -> tuple[list[Mapping[str, Any]], str | None]:
    try:
        return statements(document), None
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        return [], f"{where}: the policy document does not parse ({error}). Fix: build it with json.dumps."


def _policy_document(where: str, key: str = "policy") -> Reader[list[Mapping[str, Any]]]:
    """Reads the statements of the policy document in input `key`; `where` names it in messages."""
    return lambda args: _parsed(where, args.props.get(key))


@validation
def iam_no_wildcard_action(args: ResourceValidationArgs) -> Iterator[str]:
    for where, document in _iam_documents(args):
        found, error = _parsed(where, document)
        if error:
            yield error
        for index, statement in enumerate(found):
            if not allows(statement):
                continue
            label = f"{where} statement {statement.get('Sid') or index}"
            if statement.get("NotAction") is not None:
                yield (f"{label}: Allow with NotAction grants every other action. Fix: list the actions allowed.")
            wild = [a for a in actions(statement) if a == "*" or a.endswith(":*")]
            if wild:
                yield (
                    f"{label}: allows {', '.join(wild)}. Fix: list the actions the component needs "
                    "(e.g. aps:RemoteWrite, aps:QueryMetrics, sns:Publish)."
                )


@validation
def iam_no_wildcard_resource_for_known_arns(args: ResourceValidationArgs) -> Iterator[str]:
    for where, document in _iam_documents(args):
        found, _ = _parsed(where, document)  # iam-no-wildcard-action reports a parse error
        for index, statement in enumerate(found):
            if not allows(statement) or "*" not in [str(r) for r in as_list(statement.get("Resource"))]:
                continue
            scoped = [
                a
                for a in actions(statement)
                if a.lower().startswith(_KNOWN_ARN_SERVICES)
                and not any(action_matches(pattern, a) for pattern in _NO_RESOURCE_LEVEL)
            ]
            if scoped:
                yield (
                    f'{where} statement {statement.get("Sid") or index}: {", ".join(scoped)} on Resource "*", '
                    "but this stack knows the workspace and topic ARNs. Fix: set Resource to the AMP workspace "
                    "ARN or the alert topic ARN."
                )


@validation_of(SNS_TOPIC)
def sns_topic_customer_managed_key(args: ResourceValidationArgs) -> Iterator[str]:
    key = args.props.get("kmsMasterKeyId")
    topic = args.props.get("name") or args.name
    if not key:
        yield (
            f"SNS topic '{topic}' is not encrypted. Fix: set kms_master_key_id to the stack's "
            "customer-managed KMS key (its policy must let aps.amazonaws.com use it)."
        )
    elif str(key).startswith("alias/aws/") or ":alias/aws/" in str(key):
        yield (
            f"SNS topic '{topic}' uses the AWS-managed key {key}; AMP cannot be granted use of it. "
            "Fix: use the stack's customer-managed KMS key."
        )


def _unconditioned_service_grants(where: str, found: list[Mapping[str, Any]], fix: str) -> Iterator[str]:
    """Allow statements to a service (or everyone) without aws:SourceArn and aws:SourceAccount: confused deputy."""
    for index, statement in enumerate(found):
        principals = service_principals(statement)
        if not allows(statement) or not principals:
            continue
        missing = [
            key
            for key, accepted in (
                ("aws:SourceArn", ("aws:SourceArn",)),
                ("aws:SourceAccount", ("aws:SourceAccount", "aws:SourceOwner")),
            )
            if not any(condition_values(statement, name) for name in accepted)
        ]
        if missing:
            yield (
                f"{where} statement {statement.get('Sid') or index} lets {', '.join(principals)} "
                f"act without a {' or '.join(missing)} condition (confused deputy). Fix: {fix}"
            )


@document_validation(SNS_TOPIC_POLICY, read=_policy_document("topic policy"), reports_read_error=True)
def sns_topic_policy_source_restricted(args: ResourceValidationArgs, found: list[Mapping[str, Any]]) -> Iterator[str]:
    yield from _unconditioned_service_grants(
        "topic policy",
        found,
        "add ArnEquals aws:SourceArn = the AMP workspace ARN and StringEquals aws:SourceAccount.",
    )


_LOGS_PRINCIPAL = re.compile(r"^logs\.[a-z0-9-]+\.amazonaws\.com$")
_THIS_ACCOUNTS_LOG_GROUP = re.compile(r"^arn:[a-z-]+:logs:[a-z0-9-]+:\d{12}:log-group:[^*]+$")


def _logs_bound_to_named_groups(statement: Mapping[str, Any]) -> bool:
    """CloudWatch Logs' own guard: every KMS call names the log group in the encryption context.

    CloudWatch Logs user guide, "Encrypt log data in CloudWatch Logs using AWS KMS": the key policy
    conditions the logs principal on kms:EncryptionContext:aws:logs:arn, the group's ARN (account
    included); aws:SourceArn is not what the service documents. Named groups only, no wildcard.
    """
    principals = service_principals(statement)
    groups = [value for _, value in condition_values(statement, "kms:EncryptionContext:aws:logs:arn")]
    return (
        bool(principals)
        and all(_LOGS_PRINCIPAL.match(principal) for principal in principals)
        and bool(groups)
        and all(_THIS_ACCOUNTS_LOG_GROUP.match(group) for group in groups)
    )


@document_validation(KMS_KEY, read=_policy_document("key policy"), reports_read_error=True)
def kms_key_policy_source_restricted(args: ResourceValidationArgs, found: list[Mapping[str, Any]]) -> Iterator[str]:
    """A key policy that lets a service use the key on anyone's behalf lets any account's workspace or alarm use it."""
    yield from _unconditioned_service_grants(
        "key policy",
        [statement for statement in found if not _logs_bound_to_named_groups(statement)],
        "condition the statement on aws:SourceArn (the workspace ARN, or ArnLike the stack's alarm names) "
        "and StringEquals aws:SourceAccount.",
    )


def _oidc_issuers(statement: Mapping[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    federated = as_list(principal.get("Federated")) if is_mapping(principal) else []
    return [str(arn).split(":oidc-provider/", 1)[1] for arn in federated if ":oidc-provider/" in str(arn)]


GITHUB_OIDC_ISSUER = "token.actions.githubusercontent.com"
# Operators under which a claim's value names who may assume: a negated operator (StringNotEquals) or
# ForAllValues (true when the claim is absent) lets everyone else in. IAM user guide, "Condition operators"
# and "Single-valued vs. multivalued condition keys".
_RESTRICTING_OPERATORS = {"StringEquals", "StringLike", "ForAnyValue:StringEquals", "ForAnyValue:StringLike"}
# GitHub's subject: repo:OWNER/REPO:<context> (OIDC reference, "Example subject claims"); the repository part
# may carry immutable IDs (OWNER@ID/REPO@ID or OWNER-ID/REPO-ID) but never a pattern.
_GITHUB_SUBJECT = re.compile(r"^repo:(?P<repository>[^:]+):(?P<context>.+)$")


def _restricting(statement: Mapping[str, Any], key: str) -> list[str]:
    return [value for operator, value in condition_values(statement, key) if operator in _RESTRICTING_OPERATORS]


def _github_subject_gaps(statement: Mapping[str, Any]) -> Iterator[str]:
    """A GitHub Actions subject that names no single repository lets another repository's workflows in."""
    for subject in _restricting(statement, f"{GITHUB_OIDC_ISSUER}:sub"):
        match = _GITHUB_SUBJECT.match(subject)
        repository = match.group("repository") if match else subject
        if match is None or any(c in repository for c in "*?") or repository.count("/") != 1:
            yield (
                f"lets the GitHub Actions workflows of any repository matching {subject!r} assume the role. "
                "Fix: name one repository: repo:OWNER/REPO:environment:NAME (bootstrap/ declares these roles)."
            )


def _trust_gaps(statement: Mapping[str, Any]) -> Iterator[str]:
    """What a trust statement lacks to name who may assume the role."""
    principal = statement.get("Principal")
    aws_principals = [str(p) for p in as_list(principal.get("AWS"))] if is_mapping(principal) else []
    if principal == "*" or "*" in aws_principals:
        yield "lets anyone assume the role. Fix: name the principal."
        return
    if aws_principals and not condition_values(statement, "sts:ExternalId"):
        yield (
            f"lets {', '.join(aws_principals)} assume the role without an sts:ExternalId condition (confused "
            "deputy). Fix: add StringEquals sts:ExternalId = the external ID the assuming service gives you."
        )
    for issuer in _oidc_issuers(statement):
        missing = [claim for claim in ("sub", "aud") if not _restricting(statement, f"{issuer}:{claim}")]
        if missing:
            yield (
                f"lets any identity of {issuer} assume the role: no {', '.join(f'{issuer}:{c}' for c in missing)} "
                "condition. Fix: add StringEquals on the token's sub (the service account or workflow) and aud."
            )
        if issuer == GITHUB_OIDC_ISSUER:
            yield from _github_subject_gaps(statement)
    services = [str(p) for p in as_list(principal.get("Service"))] if is_mapping(principal) else []
    if services and not (
        condition_values(statement, "aws:SourceAccount") or condition_values(statement, "aws:SourceArn")
    ):
        yield (
            f"lets {', '.join(services)} assume the role on anyone's behalf. Fix: add StringEquals "
            "aws:SourceAccount (or aws:SourceArn) for this account."
        )


@document_validation(IAM_ROLE, read=_policy_document("trust policy", "assumeRolePolicy"), reports_read_error=True)
def iam_trust_policy_conditioned(args: ResourceValidationArgs, found: list[Mapping[str, Any]]) -> Iterator[str]:
    for index, statement in enumerate(found):
        if allows(statement):
            for gap in _trust_gaps(statement):
                yield f"trust policy statement {statement.get('Sid') or index} {gap}"


@validation_of(AMP_WORKSPACE_CONFIGURATION)
def amp_retention_at_least_15_days(args: ResourceValidationArgs) -> Iterator[str]:
    days = args.props.get("retentionPeriodInDays")
    # Unset means AMP's default of 150 days.
    if days is not None and float(days) < MIN_RETENTION_DAYS:
        yield (
            f"AMP retention is {int(days)} days, below the {MIN_RETENTION_DAYS} days the spec requires. "
            f"Fix: set amp.retentionDays to {MIN_RETENTION_DAYS} or more in the stack file."
        )


@validation_of(AMP_WORKSPACE)
def amp_workspace_protected_in_prod(args: ResourceValidationArgs) -> Iterator[str]:
    if environment_of(args.props, args.urn) == PROD and not args.opts.protect:
        yield (
            "the prod AMP workspace is not protected, so a refactor or `pulumi destroy` could delete all "
            "metric history. Fix: set amp.protect: true in stacks/Pulumi.prod.yaml."
        )


@validation_of(*TAGGABLE_AWS_TYPES)
def aws_required_tags(args: ResourceValidationArgs) -> Iterator[str]:
    tags = args.props.get("tags")
    missing = [key for key in REQUIRED_TAGS if not is_mapping(tags) or not str(tags.get(key) or "").strip()]
    if missing:
        yield (
            f"{args.resource_type.rsplit(':', 1)[-1]} '{args.name}' lacks tag(s) {', '.join(missing)}. "
            "Fix: pass tags=config.tags(<component>) when creating it."
        )


POLICIES = [
    ResourceValidationPolicy(
        name="iam-no-wildcard-action",
        description="IAM policies the program creates allow named actions, never `*`, `service:*` or NotAction.",
        validate=iam_no_wildcard_action,
    ),
    ResourceValidationPolicy(
        name="iam-no-wildcard-resource-for-known-arns",
        description="AMP and SNS actions are granted on the workspace or topic ARN, not on Resource `*`.",
        validate=iam_no_wildcard_resource_for_known_arns,
    ),
    ResourceValidationPolicy(
        name="sns-topic-customer-managed-key",
        description="SNS topics are encrypted with a customer-managed KMS key (not alias/aws/sns).",
        validate=sns_topic_customer_managed_key,
    ),
    ResourceValidationPolicy(
        name="sns-topic-policy-source-restricted",
        description="Topic policy grants to services or everyone carry aws:SourceArn and aws:SourceAccount.",
        validate=sns_topic_policy_source_restricted,
    ),
    ResourceValidationPolicy(
        name="kms-key-policy-source-restricted",
        description="KMS key-policy grants to services carry aws:SourceArn and aws:SourceAccount.",
        validate=kms_key_policy_source_restricted,
    ),
    ResourceValidationPolicy(
        name="iam-trust-policy-conditioned",
        description="Role trust policies name who may assume: an external ID for AWS principals, sub and aud for "
        "OIDC (a GitHub Actions sub naming one repository), the source account for services; never anyone.",
        validate=iam_trust_policy_conditioned,
    ),
    ResourceValidationPolicy(
        name="amp-retention-at-least-15-days",
        description="The AMP workspace keeps metrics for 15 days or more.",
        validate=amp_retention_at_least_15_days,
    ),
    ResourceValidationPolicy(
        name="amp-workspace-protected-in-prod",
        description="The prod AMP workspace is protected against deletion.",
        validate=amp_workspace_protected_in_prod,
    ),
    ResourceValidationPolicy(
        name="aws-required-tags",
        description="Every taggable AWS resource has the environment, service and owner tags.",
        validate=aws_required_tags,
    ),
]
