"""CI identities as code: GitHub's OIDC provider and the roles the workflows assume, in one AWS account.

Each role trusts exactly one OIDC subject, the one GitHub presents for the jobs that assume it, and
always the audience `sts.amazonaws.com` that aws-actions/configure-aws-credentials requests:

- GitHub's OIDC reference (https://docs.github.com/en/actions/reference/security/oidc, "Example
  subject claims"): a job that names an environment presents `repo:OWNER/REPO:environment:NAME`;
  otherwise a pull_request job presents `repo:OWNER/REPO:pull_request` and a branch job
  `repo:OWNER/REPO:ref:refs/heads/BRANCH`. Every job of .github/workflows/ that assumes a role names
  an environment (tests/ci/test_bootstrap.py derives the subjects from the workflow files).
- GitHub's "Configuring OpenID Connect in Amazon Web Services"
  (https://docs.github.com/en/actions/how-tos/secure-your-work/security-harden-deployments/oidc-in-aws):
  provider URL https://token.actions.githubusercontent.com, audience sts.amazonaws.com, a trust
  policy with StringEquals on `token.actions.githubusercontent.com:aud` and `:sub`. Repositories
  created (or renamed) after 18 June 2026, or opted in, present immutable owner and repository IDs in
  the subject (https://github.blog/changelog/2026-04-23-immutable-subject-claims-for-github-actions-oidc-tokens):
  `subjectRepository` holds that form.
- No thumbprint: for GitHub, IAM validates the certificate against its own trusted CAs and ignores a
  configured thumbprint (pulumi-aws 7.x sdk/python/pulumi_aws/iam/open_id_connect_provider.py,
  `thumbprint_lists`). IAM allows one provider per URL in an account: `createOidcProvider: false`
  looks up the existing one instead.

Permissions follow what each job runs:
- `pr-preview`: `pulumi preview` (no refresh) reads nothing of the resources; it only makes the
  program's lookups (the EKS cluster, its OIDC provider). Reviewed, but still pull-request code.
- `drift`: `pulumi preview --refresh` reads every resource the stacks declare, then `make verify`.
- each deploy environment: `pulumi up` creates, changes and deletes the resource types the stacks
  declare (tests/ci/test_bootstrap.py checks every AWS type of every plan is covered), then
  `make verify`. IAM is limited to the role names in `iamNamePatterns`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.config import ConfigError

PROJECT = "ci-bootstrap"
GITHUB_ISSUER = "token.actions.githubusercontent.com"
GITHUB_ISSUER_URL = f"https://{GITHUB_ISSUER}"
AUDIENCE = "sts.amazonaws.com"
PREVIEW_ENVIRONMENT = "pr-preview"
DRIFT_ENVIRONMENT = "drift"
DEFAULT_DEPLOY_ENVIRONMENTS = ("dev", "staging", "prod")
DEFAULT_IAM_NAME_PATTERNS = (
    "screener-*",
    # The Chatbot role of infra/components/notifications.py has no `name`: Pulumi auto-names it
    # `<logical name>-<7 hex>`.
    "notifications-chatbot-role-*",
)
# A deploy job runs for at most 60 minutes (deploy.yml timeout-minutes); the session lasts as long.
MAX_SESSION_SECONDS = 3600

_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
# GitHub's immutable form appends IDs to the owner and the repository; no wildcard either way.
_SUBJECT_REPOSITORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9@_-]*/[A-Za-z0-9@._-]+$")
_ENVIRONMENT = re.compile(r"^[A-Za-z0-9._-]{1,255}$")
_IAM_NAME_PATTERN = re.compile(r"^[A-Za-z0-9+=,.@_-]{3,}\*?$")

# What the program's lookups need during `pulumi preview` (aws:eks/getCluster,
# aws:iam/getOpenIdConnectProvider by URL); sts:GetCallerIdentity needs no permission.
PREVIEW_ACTIONS = ("eks:DescribeCluster", "iam:GetOpenIDConnectProvider", "iam:ListOpenIDConnectProviders")

# What `make verify` reads beyond the resources' own Describe/Get/List (samples, alerts, recent log events).
VERIFY_ACTIONS = (
    "aps:QueryMetrics",
    "aps:GetAlertManagerStatus",
    "aps:ListAlerts",
    "aps:ListAlertManagerSilences",
    "cloudwatch:GetMetricData",
    "cloudwatch:GetMetricStatistics",
    "logs:FilterLogEvents",
    "logs:DescribeLogStreams",
)

# What `pulumi up` of the monitoring stacks does, by the pulumi-aws module of each resource type.
# Regional services, limited to the stack's region by aws:RequestedRegion.
DEPLOY_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "amp": (
        "aps:Create*",
        "aps:Delete*",
        "aps:Describe*",
        "aps:List*",
        "aps:Put*",
        "aps:Update*",
        "aps:TagResource",
        "aps:UntagResource",
        # A managed collector (aws:amp/scraper) names the cluster's subnets and security groups.
        "eks:DescribeCluster",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
    ),
    "apigateway": ("apigateway:GET", "apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE"),
    "cloudwatch": (
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:DeleteAlarms",
        "cloudwatch:DescribeAlarms",
        "cloudwatch:ListTagsForResource",
        "cloudwatch:TagResource",
        "cloudwatch:UntagResource",
        # aws:cloudwatch/logGroup, logMetricFilter and queryDefinition are CloudWatch Logs.
        "logs:CreateLogGroup",
        "logs:DeleteLogGroup",
        "logs:DescribeLogGroups",
        "logs:PutRetentionPolicy",
        "logs:DeleteRetentionPolicy",
        "logs:AssociateKmsKey",
        "logs:DisassociateKmsKey",
        "logs:TagResource",
        "logs:UntagResource",
        "logs:ListTagsForResource",
        "logs:ListTagsLogGroup",
        "logs:PutMetricFilter",
        "logs:DeleteMetricFilter",
        "logs:DescribeMetricFilters",
        "logs:PutQueryDefinition",
        "logs:DeleteQueryDefinition",
        "logs:DescribeQueryDefinitions",
    ),
    "kms": (
        "kms:CreateKey",
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "kms:PutKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:EnableKeyRotation",
        "kms:DisableKeyRotation",
        "kms:UpdateKeyDescription",
        "kms:ListResourceTags",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:ScheduleKeyDeletion",
        "kms:CreateAlias",
        "kms:DeleteAlias",
        "kms:UpdateAlias",
        "kms:ListAliases",
    ),
    "sns": (
        "sns:CreateTopic",
        "sns:DeleteTopic",
        "sns:GetTopicAttributes",
        "sns:SetTopicAttributes",
        "sns:ListTagsForResource",
        "sns:TagResource",
        "sns:UntagResource",
        "sns:Subscribe",
        "sns:Unsubscribe",
        "sns:GetSubscriptionAttributes",
        "sns:SetSubscriptionAttributes",
        "sns:ListSubscriptionsByTopic",
    ),
}
# Global services: no region condition.
GLOBAL_DEPLOY_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "chatbot": (
        "chatbot:CreateSlackChannelConfiguration",
        "chatbot:UpdateSlackChannelConfiguration",
        "chatbot:DeleteSlackChannelConfiguration",
        "chatbot:DescribeSlackChannelConfigurations",
        "chatbot:ListTagsForResource",
        "chatbot:TagResource",
        "chatbot:UntagResource",
    ),
}
# aws:iam/role and aws:iam/rolePolicy, on the role names of `iamNamePatterns` only.
IAM_ROLE_ACTIONS = (
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:GetRole",
    "iam:UpdateRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:ListRoleTags",
    "iam:PutRolePolicy",
    "iam:GetRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:PassRole",  # the Chatbot configuration passes its role
)
_READ_VERB = re.compile(r"^[a-z0-9-]+:(Describe|Get|List)|^apigateway:GET$")


def read_only(actions: Sequence[str]) -> list[str]:
    """The actions among `actions` that only read (Describe*, Get*, List*, API Gateway's GET)."""
    return [action for action in actions if _READ_VERB.match(action)]


@dataclass(frozen=True)
class BootstrapSettings:
    repository: str
    subject_repository: str
    environments: tuple[str, ...]
    create_oidc_provider: bool
    iam_name_patterns: tuple[str, ...]
    region: str
    owner: str

    @property
    def tags(self) -> dict[str, str]:
        """The tags the monitoring stacks' resources carry too (policies: aws-required-tags)."""
        return {"environment": "ci", "service": "github-actions", "owner": self.owner}

    def subject(self, environment: str) -> str:
        """The `sub` GitHub presents for a job that names `environment`."""
        return f"repo:{self.subject_repository}:environment:{environment}"


def read_settings(config: pulumi.Config, aws_config: pulumi.Config, stack_file: str) -> BootstrapSettings:
    """The stack's settings, or a ConfigError naming each bad key, the stack file and the fix."""
    problems: list[str] = []
    repository = config.get("repository") or ""
    if not _REPOSITORY.match(repository):
        problems.append(
            f"{stack_file}: ci-bootstrap:repository is {repository!r}; set it to the GitHub repository as "
            "OWNER/REPO (no wildcard): pulumi config set ci-bootstrap:repository OWNER/REPO"
        )
    subject_repository = config.get("subjectRepository")
    if subject_repository is None:
        subject_repository = repository
    elif not _SUBJECT_REPOSITORY.match(subject_repository):
        problems.append(
            f"{stack_file}: ci-bootstrap:subjectRepository is {subject_repository!r}; copy the repository part of "
            "the subject from the repository's OIDC settings (no wildcard), or remove the key"
        )
    environments = tuple(config.get_object("environments") or DEFAULT_DEPLOY_ENVIRONMENTS)
    for environment in environments:
        if not isinstance(environment, str) or not _ENVIRONMENT.match(environment):
            problems.append(
                f"{stack_file}: ci-bootstrap:environments has {environment!r}; list GitHub environment names "
                "(letters, digits, '.', '_', '-')"
            )
        elif environment in (PREVIEW_ENVIRONMENT, DRIFT_ENVIRONMENT):
            problems.append(
                f"{stack_file}: ci-bootstrap:environments has {environment!r}, the read-only environment; list only "
                "the environments that deploy (dev, staging, prod)"
            )
    if len(set(environments)) != len(environments):
        problems.append(f"{stack_file}: ci-bootstrap:environments names an environment twice; list each once")
    patterns = tuple(config.get_object("iamNamePatterns") or DEFAULT_IAM_NAME_PATTERNS)
    for pattern in patterns:
        if not isinstance(pattern, str) or not _IAM_NAME_PATTERN.match(pattern):
            problems.append(
                f"{stack_file}: ci-bootstrap:iamNamePatterns has {pattern!r}; each is a role-name prefix of at least "
                "3 characters, optionally ending in one '*' (e.g. screener-*)"
            )
    owner = config.get("owner") or "platform-team"
    if not re.fullmatch(r"[A-Za-z0-9 _.:/=+@-]{1,256}", owner):
        problems.append(f"{stack_file}: ci-bootstrap:owner is {owner!r}; name the owning team (an AWS tag value)")
    region = aws_config.get("region") or ""
    if not region:
        problems.append(f"{stack_file}: aws:region is not set; set the region of the stacks this account holds")
    if problems:
        raise ConfigError(problems)
    return BootstrapSettings(
        repository=repository,
        subject_repository=subject_repository,
        environments=environments,
        create_oidc_provider=config.get_bool("createOidcProvider") is not False,
        iam_name_patterns=patterns,
        region=region,
        owner=owner,
    )


def trust_policy(provider_arn: str, subjects: Sequence[str]) -> str:
    """Only GitHub's tokens for this audience and exactly these subjects may assume the role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "GitHubActionsOidc",
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{GITHUB_ISSUER}:aud": AUDIENCE,
                            f"{GITHUB_ISSUER}:sub": list(subjects),
                        }
                    },
                }
            ],
        }
    )


def _statement(sid: str, actions: Sequence[str], resources: Sequence[str] | str, **condition: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": sorted(set(actions)), "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


def _in_region(region: str) -> dict[str, Any]:
    return {"StringEquals": {"aws:RequestedRegion": region}}


def permissions(kind: str, settings: BootstrapSettings, account_id: str) -> str:
    """The identity policy of a role of `kind` (preview, drift or deploy)."""
    roles = [f"arn:aws:iam::{account_id}:role/{pattern}" for pattern in settings.iam_name_patterns]
    regional = [a for actions in DEPLOY_ACTIONS.values() for a in actions]
    global_ = [a for actions in GLOBAL_DEPLOY_ACTIONS.values() for a in actions]
    if kind == "preview":
        statements = [_statement("ProgramLookups", PREVIEW_ACTIONS, "*")]
    elif kind == "drift":
        statements = [
            _statement(
                "ReadStackResources", [*read_only(regional), *VERIFY_ACTIONS], "*", **_in_region(settings.region)
            ),
            _statement("ReadGlobalResources", read_only(global_), "*"),
            _statement("ReadStackRoles", read_only(IAM_ROLE_ACTIONS), roles),
            _statement("ProgramLookups", PREVIEW_ACTIONS, "*"),
        ]
    elif kind == "deploy":
        statements = [
            _statement("ManageStackResources", [*regional, *VERIFY_ACTIONS], "*", **_in_region(settings.region)),
            _statement("ManageGlobalResources", global_, "*"),
            _statement("ManageStackRoles", IAM_ROLE_ACTIONS, roles),
            _statement("ProgramLookups", PREVIEW_ACTIONS, "*"),
        ]
    else:
        raise ValueError(f"unknown role kind {kind!r}")
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def role_kinds(settings: BootstrapSettings) -> dict[str, str]:
    """GitHub environment -> the kind of role its jobs assume."""
    return {
        PREVIEW_ENVIRONMENT: "preview",
        DRIFT_ENVIRONMENT: "drift",
        **{environment: "deploy" for environment in settings.environments},
    }


def _trust_of(provider_arn: str, subject: str) -> str:
    return trust_policy(provider_arn, [subject])


def main() -> None:
    stack_file = f"bootstrap/Pulumi.{pulumi.get_stack()}.yaml"
    settings = read_settings(pulumi.Config(PROJECT), pulumi.Config("aws"), stack_file)
    if settings.create_oidc_provider:
        provider_arn: pulumi.Output[str] = aws.iam.OpenIdConnectProvider(
            "github-actions",
            url=GITHUB_ISSUER_URL,
            client_id_lists=[AUDIENCE],
            tags=settings.tags,
            opts=pulumi.ResourceOptions(protect=True),  # every workflow of the account signs in through it
        ).arn
    else:
        provider_arn = pulumi.Output.from_input(aws.iam.get_open_id_connect_provider(url=GITHUB_ISSUER_URL).arn)
    account_id = aws.get_caller_identity().account_id
    role_arns: dict[str, pulumi.Output[str]] = {}
    for environment, kind in role_kinds(settings).items():
        role = aws.iam.Role(
            f"github-{environment}",
            name=f"github-actions-{environment}",
            description=f"GitHub Actions jobs of {settings.repository} in the environment {environment} ({kind})",
            assume_role_policy=provider_arn.apply(partial(_trust_of, subject=settings.subject(environment))),
            max_session_duration=MAX_SESSION_SECONDS,
            tags=settings.tags,
        )
        aws.iam.RolePolicy(
            f"github-{environment}-permissions",
            role=role.id,
            policy=permissions(kind, settings, account_id),
        )
        role_arns[environment] = role.arn
    pulumi.export("oidc_provider_arn", provider_arn)
    # The value of each environment's role variable (AWS_PREVIEW_ROLE_ARN, AWS_DRIFT_ROLE_ARN, AWS_DEPLOY_ROLE_ARN).
    pulumi.export("role_arns", role_arns)
