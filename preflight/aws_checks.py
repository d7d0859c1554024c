"""Read-only AWS checks, with the operator's credentials, through botocore clients.

Every call here is a read (sts:GetCallerIdentity, eks:DescribeCluster, eks:ListAccessEntries,
eks:DescribeAccessEntry, eks:ListAssociatedAccessPolicies, iam:ListOpenIDConnectProviders,
chatbot:DescribeSlackWorkspaces, sns:ListSubscriptionsByTopic); the request and response shapes are
botocore's service models (botocore/data/<service>/*/service-2.json), which the tests' Stubber enforces.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from preflight.target import Target
from verify.report import Result, failed, noted, passed, skipped, warned

# A botocore client for a service name ("eks", "iam", ...), in the stack's region.
Clients = Callable[[str], Any]

# Clusters whose API accepts access entries (infra/components/collection_scraper.py: the managed scraper's
# access entry needs them; so does an access entry for the deployer).
ACCESS_ENTRY_MODES = ("API", "API_AND_CONFIG_MAP")
# The deployer installs Namespaces, the charts' ClusterRoles and Secrets: cluster-wide rights (EKS user guide,
# access-policy-permissions: AmazonEKSClusterAdminPolicy is cluster-admin).
CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
# Who subscribes to which topic (infra/components/notifications.py: `subscribers`): `emails` to critical,
# warning and the pipeline topic, `pagingEmails` to critical and pipeline.
TEAM_TOPICS = ("critical", "warning", "pipeline")
PAGING_TOPICS = ("critical", "pipeline")


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str

    @property
    def partition(self) -> str:
        return self.arn.split(":")[1]

    @property
    def role_name(self) -> str | None:
        """The role of an assumed-role session (arn:aws:sts::<account>:assumed-role/<role>/<session>).

        The session ARN drops the role's path, so an access entry (which names the role's IAM ARN) is matched
        by role name (see `_names_caller`).
        """
        resource = self.arn.split(":", 5)[-1]
        return resource.split("/")[1] if resource.startswith("assumed-role/") else None


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def caller_identity(sts: Any) -> tuple[Result, Identity | None]:
    try:
        answer = sts.get_caller_identity()
    except (BotoCoreError, ClientError) as error:
        return (
            failed(
                "aws-identity",
                f"no usable AWS credentials ({type(error).__name__}: {error})",
                "sign in for the target account (`aws sso login`, AWS_PROFILE, or AWS_ACCESS_KEY_ID/...), then "
                "`aws sts get-caller-identity`",
            ),
            None,
        )
    identity = Identity(account=answer["Account"], arn=answer["Arn"])
    return passed("aws-identity", f"{identity.arn} (account {identity.account})"), identity


def aws_cli() -> Result:
    found = shutil.which("aws")
    if found is None:
        return failed(
            "aws-cli",
            "`aws` is not on PATH; the stack's kubeconfig runs `aws eks get-token` for every Kubernetes call "
            "(infra/collection/kubeconfig.py)",
            "install AWS CLI v2 (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)",
        )
    return passed("aws-cli", f"{found} (the kubeconfig's `aws eks get-token`)")


def _pages(call: Callable[..., dict[str, Any]], key: str, token: str, **params: Any) -> Iterator[Any]:
    """Every item of a paginated list call, whose request and response both name the page token `token`."""
    while True:
        page = call(**params)
        yield from page.get(key, [])
        if not page.get(token):
            return
        params[token] = page[token]


CLUSTER_CHECKS = ("eks-cluster", "eks-oidc-provider", "eks-authentication-mode", "eks-deployer-access")


def refused(check: str, actions: str, run: Callable[[], Result]) -> Result:
    """`run`'s finding, or a failure naming the read-only actions the caller may not perform."""
    try:
        return run()
    except (ClientError, BotoCoreError) as error:
        return failed(check, f"cannot read ({error})", f"allow {actions} to the identity running preflight")


def cluster_checks(target: Target, clients: Clients, identity: Identity | None) -> list[Result]:
    """The aws CLI, the EKS cluster, its OIDC provider, its authentication mode and the deployer's access to it."""
    cluster_name = target.cluster_name
    if cluster_name is None:
        return [skipped(name, target.no_cluster_reason) for name in ("aws-cli", *CLUSTER_CHECKS)]
    findings = [aws_cli()]
    if identity is None:
        return [*findings, *(skipped(name, "no AWS identity (see aws-identity)") for name in CLUSTER_CHECKS)]
    where = f"in {target.region} of account {identity.account}"
    try:
        cluster = clients("eks").describe_cluster(name=cluster_name)["cluster"]
    except (ClientError, BotoCoreError) as error:
        if isinstance(error, ClientError) and error_code(error) == "ResourceNotFoundException":
            missing = failed(
                "eks-cluster",
                f"no EKS cluster '{cluster_name}' {where}",
                f"create it, or set monitoring:collection.clusterName in {target.stack_file} to the cluster's name "
                "(`aws eks list-clusters`)",
            )
        else:
            missing = failed("eks-cluster", f"cannot describe '{cluster_name}' ({error})", "allow eks:DescribeCluster")
        return [*findings, missing, *(skipped(name, "no cluster (see eks-cluster)") for name in CLUSTER_CHECKS[1:])]
    status = cluster.get("status", "")
    findings.append(
        passed("eks-cluster", f"{cluster_name} {where}, {status}")
        if status == "ACTIVE"
        else failed("eks-cluster", f"cluster '{cluster_name}' is {status}, not ACTIVE", "wait for it, or repair it")
    )
    mode = cluster.get("accessConfig", {}).get("authenticationMode", "CONFIG_MAP")
    findings += [
        refused(
            "eks-oidc-provider",
            "iam:ListOpenIDConnectProviders",
            lambda: oidc_provider(clients("iam"), cluster_name, cluster),
        ),
        authentication_mode(target, cluster_name, mode),
        refused(
            "eks-deployer-access",
            "eks:ListAccessEntries, eks:ListAssociatedAccessPolicies and eks:DescribeAccessEntry",
            lambda: deployer_access(clients("eks"), cluster_name, mode, identity),
        ),
    ]
    return findings


def oidc_provider(iam: Any, cluster_name: str, cluster: dict[str, Any]) -> Result:
    """The cluster's IAM OIDC provider: the collector's and Fluent Bit's roles trust it (IRSA)."""
    issuer = cluster.get("identity", {}).get("oidc", {}).get("issuer", "")
    fix = (
        f"`eksctl utils associate-iam-oidc-provider --cluster {cluster_name} --approve`, or IAM → Identity providers "
        f"→ Add provider → OpenID Connect, URL {issuer or '<the cluster issuer>'}, audience sts.amazonaws.com "
        "(EKS user guide: enable-iam-roles-for-service-accounts)"
    )
    if not issuer:
        return failed("eks-oidc-provider", f"cluster '{cluster_name}' reports no OIDC issuer", fix)
    host_path = issuer.removeprefix("https://")
    providers = [p["Arn"] for p in iam.list_open_id_connect_providers().get("OpenIDConnectProviderList", [])]
    registered = next((arn for arn in providers if arn.endswith(f":oidc-provider/{host_path}")), None)
    if registered is None:
        return failed("eks-oidc-provider", f"no IAM OIDC provider for {issuer}; IRSA roles cannot be assumed", fix)
    return passed("eks-oidc-provider", registered)


def authentication_mode(target: Target, cluster_name: str, mode: str) -> Result:
    fix = (
        f"`aws eks update-cluster-config --name {cluster_name} --access-config authenticationMode=API_AND_CONFIG_MAP` "
        "(one way: a cluster cannot go back to CONFIG_MAP)"
    )
    if mode in ACCESS_ENTRY_MODES:
        return passed("eks-authentication-mode", mode)
    if target.settings.collection.mode == "managed-scraper":
        return failed(
            "eks-authentication-mode",
            f"{mode}: the AMP managed scraper gets its cluster access through an EKS access entry, which needs "
            "API or API_AND_CONFIG_MAP",
            fix,
        )
    return warned(
        "eks-authentication-mode",
        f"{mode}: the deployer's access lives in the aws-auth ConfigMap, which this check cannot read",
        fix,
    )


def _names_caller(principal_arn: str, identity: Identity) -> bool:
    if principal_arn == identity.arn:
        return True
    role = identity.role_name
    prefix = f"arn:{identity.partition}:iam::{identity.account}:role/"
    return role is not None and principal_arn.startswith(prefix) and principal_arn.rsplit("/", 1)[-1] == role


def deployer_access(eks: Any, cluster_name: str, mode: str, identity: Identity) -> Result:
    """Whether the caller's access entry grants cluster-admin (Helm releases with ClusterRoles, Namespaces, Secrets).

    What the RBAC of an entry's Kubernetes groups or an aws-auth mapping allows cannot be read from the AWS API;
    `kubectl auth can-i` (a SelfSubjectAccessReview) answers that, and the message says so.
    """
    can_i = (
        f"`aws eks update-kubeconfig --name {cluster_name}` then `kubectl auth can-i create secrets -n monitoring` "
        "and `kubectl auth can-i create clusterroles`"
    )
    grant = (
        f"`aws eks create-access-entry --cluster-name {cluster_name} --principal-arn <your role ARN>` and "
        f"`aws eks associate-access-policy --cluster-name {cluster_name} --principal-arn <your role ARN> "
        f"--policy-arn {CLUSTER_ADMIN_POLICY} --access-scope type=cluster`"
    )
    if mode not in ACCESS_ENTRY_MODES:
        return warned("eks-deployer-access", f"{identity.arn}: mode {mode} has no access entries to read", can_i)
    entries = _pages(eks.list_access_entries, "accessEntries", "nextToken", clusterName=cluster_name)
    principal = next((arn for arn in entries if _names_caller(arn, identity)), None)
    if principal is None:
        if mode == "API":
            return failed("eks-deployer-access", f"no access entry for {identity.arn} on '{cluster_name}'", grant)
        return warned(
            "eks-deployer-access",
            f"no access entry for {identity.arn} on '{cluster_name}'; it may still be mapped in aws-auth",
            f"check with {can_i}, or {grant}",
        )
    policies = _pages(
        eks.list_associated_access_policies,
        "associatedAccessPolicies",
        "nextToken",
        clusterName=cluster_name,
        principalArn=principal,
    )
    if any(p["policyArn"] == CLUSTER_ADMIN_POLICY and p["accessScope"]["type"] == "cluster" for p in policies):
        return passed("eks-deployer-access", f"{principal}: AmazonEKSClusterAdminPolicy, cluster-wide")
    groups = eks.describe_access_entry(clusterName=cluster_name, principalArn=principal)["accessEntry"].get(
        "kubernetesGroups", []
    )
    if groups:
        return warned(
            "eks-deployer-access",
            f"{principal}: no cluster-wide AmazonEKSClusterAdminPolicy; Kubernetes groups {', '.join(groups)} decide "
            "through their RBAC bindings",
            f"check with {can_i}",
        )
    return failed(
        "eks-deployer-access",
        f"{principal} has an access entry on '{cluster_name}' but no cluster-wide AmazonEKSClusterAdminPolicy "
        "(the deploy creates Namespaces, ClusterRoles and Secrets)",
        grant.split(" and ", 1)[1],
    )


def chatbot_workspace(target: Target, clients: Clients) -> Result:
    slack = target.settings.notifications.slack
    if slack is None:
        return skipped("chatbot-slack", f"monitoring:notifications.slack is not set in {target.stack_file}")
    fix = (
        "a Slack admin authorises the workspace once per AWS account: console → Amazon Q Developer in chat "
        "applications (formerly AWS Chatbot) → Configure new client → Slack → Allow; then set "
        f"monitoring:notifications.slack.teamId in {target.stack_file} to the workspace ID it shows"
    )
    try:
        workspaces = list(_pages(clients("chatbot").describe_slack_workspaces, "SlackWorkspaces", "NextToken"))
    except (ClientError, BotoCoreError) as error:
        return failed(
            "chatbot-slack",
            f"cannot list the authorised Slack workspaces ({error})",
            "allow chatbot:DescribeSlackWorkspaces to the identity running preflight",
        )
    found = next((w for w in workspaces if w["SlackTeamId"] == slack.team_id), None)
    if found is None:
        known = ", ".join(f"{w['SlackTeamId']} ({w['SlackTeamName']})" for w in workspaces) or "none"
        return failed("chatbot-slack", f"Slack workspace {slack.team_id} is not authorised (authorised: {known})", fix)
    state = found.get("State")
    if state not in (None, "ENABLED"):
        return failed("chatbot-slack", f"{slack.team_id} ({found['SlackTeamName']}) is {state}", fix)
    return passed("chatbot-slack", f"{slack.team_id} ({found['SlackTeamName']}) is authorised")


def expected_subscriptions(target: Target) -> list[tuple[str, str]]:
    """(topic audience, address) of every email subscription the stack declares."""
    spec = target.settings.notifications
    team = [(topic, email) for email in spec.emails for topic in TEAM_TOPICS]
    return team + [(topic, email) for email in spec.paging_emails for topic in PAGING_TOPICS]


def email_subscriptions(target: Target, clients: Clients, identity: Identity) -> list[Result]:
    """Informational: SNS delivers nothing to an address until it confirms (the link in SNS's first email)."""
    sns = clients("sns")
    prefix = target.settings.name_prefix
    by_topic: dict[str, list[str]] = {}
    for topic, email in expected_subscriptions(target):
        by_topic.setdefault(topic, []).append(email)
    findings = []
    for topic, emails in by_topic.items():
        arn = f"arn:{identity.partition}:sns:{target.region}:{identity.account}:{prefix}-alerts-{topic}"
        try:
            subscriptions = list(_pages(sns.list_subscriptions_by_topic, "Subscriptions", "NextToken", TopicArn=arn))
        except (ClientError, BotoCoreError) as error:
            if isinstance(error, ClientError) and error_code(error) == "NotFound":
                findings.append(
                    noted(
                        f"sns-{topic}",
                        f"topic {prefix}-alerts-{topic} is not deployed yet: after the first `pulumi up`, "
                        f"{', '.join(emails)} each get an email 'AWS Notification - Subscription Confirmation' and "
                        "must click 'Confirm subscription'; SNS delivers nothing to an unconfirmed address",
                    )
                )
            else:
                findings.append(warned(f"sns-{topic}", f"cannot list the subscriptions of {arn}: {error}"))
            continue
        state = {s["Endpoint"].lower(): s["SubscriptionArn"] for s in subscriptions if s.get("Protocol") == "email"}
        for email in emails:
            subscription = state.get(email.lower())
            if subscription is None:
                message = f"{email} is not subscribed yet (the next `pulumi up` subscribes it, then it must confirm)"
            elif subscription.startswith("arn:"):
                findings.append(passed(f"sns-{topic}", f"{email} confirmed"))
                continue
            else:
                message = (
                    f"{email} has not confirmed ({subscription}): until it clicks 'Confirm subscription' in the "
                    "email from AWS Notifications, it receives no alert"
                )
            findings.append(noted(f"sns-{topic}", message))
    return findings
