"""The AWS half of `make preflight`, against botocore's Stubber.

The Stubber checks every request's parameters and every canned response against the service models that
botocore ships (botocore/data/{sts,eks,iam,chatbot,sns}/*/service-2.json), and fails on a call nobody queued:
a check that calls an operation wrongly, reads a field the API does not return or makes an extra call fails
here. Each test plants one missing prerequisite and asserts the line that names it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

from preflight.aws_checks import (
    CLUSTER_ADMIN_POLICY,
    Identity,
    caller_identity,
    chatbot_workspace,
    cluster_checks,
    email_subscriptions,
    expected_subscriptions,
)
from preflight.target import Target, load_target
from tests.conftest import plan_of
from verify.report import Result, Status

ACCOUNT = "111122223333"
REGION = "ap-northeast-2"
ISSUER = "https://oidc.eks.ap-northeast-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
PROVIDER_ARN = (
    f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.ap-northeast-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
)
# A role with a path: its session ARN drops the path, the access entry names it.
DEPLOYER_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ci/monitoring-deployer"
DEPLOYER = Identity(ACCOUNT, f"arn:aws:sts::{ACCOUNT}:assumed-role/monitoring-deployer/alice")


class StubbedAws:
    """A botocore client per service, each behind a Stubber; `clients` is what the checks take."""

    def __init__(self) -> None:
        session = botocore.session.Session()
        session.set_credentials("AKIDEXAMPLE", "not-a-secret")
        self.stubbers: dict[str, Stubber] = {}
        self._clients: dict[str, Any] = {}
        for service in ("sts", "eks", "iam", "chatbot", "sns"):
            client = session.create_client(service, region_name=REGION)
            self._clients[service] = client
            self.stubbers[service] = Stubber(client)
            self.stubbers[service].activate()

    def clients(self, service: str) -> Any:
        return self._clients[service]

    def __getitem__(self, service: str) -> Stubber:
        return self.stubbers[service]

    def verify(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


@pytest.fixture
def aws() -> Iterator[StubbedAws]:
    stubbed = StubbedAws()
    yield stubbed
    stubbed.verify()


@pytest.fixture(autouse=True)
def aws_cli_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("preflight.aws_checks.shutil.which", lambda name: f"/usr/local/bin/{name}")


def cluster(mode: str = "API_AND_CONFIG_MAP", status: str = "ACTIVE", name: str = "screener-prod") -> dict[str, Any]:
    return {
        "cluster": {
            "name": name,
            "arn": f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{name}",
            "status": status,
            "identity": {"oidc": {"issuer": ISSUER}},
            "accessConfig": {"authenticationMode": mode, "bootstrapClusterCreatorAdminPermissions": True},
        }
    }


def by_check(findings: list[Result]) -> dict[str, Result]:
    return {f.check: f for f in findings}


def queue_cluster(
    aws: StubbedAws,
    *,
    mode: str = "API_AND_CONFIG_MAP",
    providers: tuple[str, ...] = (PROVIDER_ARN,),
    name: str = "screener-prod",
) -> None:
    aws["eks"].add_response("describe_cluster", cluster(mode, name=name), {"name": name})
    aws["iam"].add_response(
        "list_open_id_connect_providers", {"OpenIDConnectProviderList": [{"Arn": arn} for arn in providers]}, {}
    )


def queue_access(aws: StubbedAws, policies: list[dict[str, Any]], *, name: str = "screener-prod") -> None:
    other = f"arn:aws:iam::{ACCOUNT}:role/someone-else"
    # Two pages: the entry sits on the second, so a check that reads one page misses it.
    aws["eks"].add_response(
        "list_access_entries", {"accessEntries": [other], "nextToken": "page-2"}, {"clusterName": name}
    )
    aws["eks"].add_response(
        "list_access_entries", {"accessEntries": [DEPLOYER_ROLE_ARN]}, {"clusterName": name, "nextToken": "page-2"}
    )
    aws["eks"].add_response(
        "list_associated_access_policies",
        {"clusterName": name, "principalArn": DEPLOYER_ROLE_ARN, "associatedAccessPolicies": policies},
        {"clusterName": name, "principalArn": DEPLOYER_ROLE_ARN},
    )


def admin(scope: str = "cluster") -> dict[str, Any]:
    access_scope: dict[str, Any] = {"type": scope}
    if scope == "namespace":
        access_scope["namespaces"] = ["monitoring"]
    return {"policyArn": CLUSTER_ADMIN_POLICY, "accessScope": access_scope}


def test_the_caller_identity_is_reported_and_a_refused_one_fails():
    aws = StubbedAws()
    aws["sts"].add_response(
        "get_caller_identity", {"UserId": "AROAEXAMPLE:alice", "Account": ACCOUNT, "Arn": DEPLOYER.arn}
    )
    finding, identity = caller_identity(aws.clients("sts"))
    assert finding.status is Status.PASS and identity == DEPLOYER
    aws["sts"].add_client_error("get_caller_identity", "ExpiredToken", "The security token included has expired", 403)
    finding, identity = caller_identity(aws.clients("sts"))
    assert finding.status is Status.FAIL and identity is None
    assert "ExpiredToken" in finding.evidence and "aws sso login" in finding.fix
    aws.verify()


def test_prod_with_every_cluster_prerequisite_passes(aws):
    queue_cluster(aws)
    queue_access(aws, [admin()])
    findings = by_check(cluster_checks(load_target("prod"), aws.clients, DEPLOYER))
    assert {name: f.status for name, f in findings.items()} == dict.fromkeys(
        ("aws-cli", "eks-cluster", "eks-oidc-provider", "eks-authentication-mode", "eks-deployer-access"), Status.PASS
    )
    assert findings["eks-oidc-provider"].evidence == PROVIDER_ARN
    assert findings["eks-deployer-access"].evidence.startswith(DEPLOYER_ROLE_ARN)


def test_a_missing_cluster_is_named_with_the_stack_file_key(aws):
    aws["eks"].add_client_error(
        "describe_cluster", "ResourceNotFoundException", "No cluster found for name: screener-prod.", 404
    )
    findings = by_check(cluster_checks(load_target("prod"), aws.clients, DEPLOYER))
    missing = findings["eks-cluster"]
    assert missing.status is Status.FAIL
    assert missing.evidence == f"no EKS cluster 'screener-prod' in {REGION} of account {ACCOUNT}"
    assert "monitoring:collection.clusterName in stacks/Pulumi.prod.yaml" in missing.fix
    assert {findings[n].status for n in ("eks-oidc-provider", "eks-authentication-mode", "eks-deployer-access")} == {
        Status.SKIP
    }


def test_an_unregistered_oidc_provider_fails_naming_the_issuer(aws):
    another = PROVIDER_ARN.replace("EXAMPLED539D4633E53DE1B71EXAMPLE", "OTHERCLUSTER00000000000000000000")
    queue_cluster(aws, providers=(another,))
    queue_access(aws, [admin()])
    oidc = by_check(cluster_checks(load_target("prod"), aws.clients, DEPLOYER))["eks-oidc-provider"]
    assert oidc.status is Status.FAIL
    assert oidc.evidence == f"no IAM OIDC provider for {ISSUER}; IRSA roles cannot be assumed"
    assert "eksctl utils associate-iam-oidc-provider --cluster screener-prod --approve" in oidc.fix


def test_config_map_mode_fails_the_managed_scraper_and_leaves_access_to_kubectl(aws):
    queue_cluster(aws, mode="CONFIG_MAP")
    findings = by_check(cluster_checks(load_target("prod"), aws.clients, DEPLOYER))
    mode = findings["eks-authentication-mode"]
    assert mode.status is Status.FAIL and mode.evidence.startswith("CONFIG_MAP: the AMP managed scraper")
    assert "authenticationMode=API_AND_CONFIG_MAP" in mode.fix
    access = findings["eks-deployer-access"]
    assert access.status is Status.WARN and "kubectl auth can-i create secrets -n monitoring" in access.fix


def test_config_map_mode_is_only_a_warning_for_the_in_cluster_agent(aws):
    queue_cluster(aws, mode="CONFIG_MAP", name="screener-staging")
    findings = by_check(cluster_checks(load_target("staging"), aws.clients, DEPLOYER))
    assert findings["eks-authentication-mode"].status is Status.WARN


def test_a_deployer_without_an_access_entry_fails_in_api_mode(aws):
    queue_cluster(aws, mode="API")
    aws["eks"].add_response("list_access_entries", {"accessEntries": []}, {"clusterName": "screener-prod"})
    access = by_check(cluster_checks(load_target("prod"), aws.clients, DEPLOYER))["eks-deployer-access"]
    assert access.status is Status.FAIL
    assert access.evidence == f"no access entry for {DEPLOYER.arn} on 'screener-prod'"
    assert "aws eks create-access-entry --cluster-name screener-prod" in access.fix
    assert f"--policy-arn {CLUSTER_ADMIN_POLICY} --access-scope type=cluster" in access.fix


def test_a_namespace_scoped_admin_policy_is_not_enough(aws):
    queue_cluster(aws)
    queue_access(aws, [admin("namespace")])
    aws["eks"].add_response(
        "describe_access_entry",
        {"accessEntry": {"clusterName": "screener-prod", "principalArn": DEPLOYER_ROLE_ARN, "kubernetesGroups": []}},
        {"clusterName": "screener-prod", "principalArn": DEPLOYER_ROLE_ARN},
    )
    access = by_check(cluster_checks(load_target("prod"), aws.clients, DEPLOYER))["eks-deployer-access"]
    assert access.status is Status.FAIL and "no cluster-wide AmazonEKSClusterAdminPolicy" in access.evidence
    assert access.fix.startswith("`aws eks associate-access-policy")


def test_an_entry_with_kubernetes_groups_is_left_to_kubectl(aws):
    queue_cluster(aws)
    queue_access(aws, [])
    aws["eks"].add_response(
        "describe_access_entry",
        {
            "accessEntry": {
                "clusterName": "screener-prod",
                "principalArn": DEPLOYER_ROLE_ARN,
                "kubernetesGroups": ["platform-admins"],
            }
        },
        {"clusterName": "screener-prod", "principalArn": DEPLOYER_ROLE_ARN},
    )
    access = by_check(cluster_checks(load_target("prod"), aws.clients, DEPLOYER))["eks-deployer-access"]
    assert access.status is Status.WARN and "platform-admins" in access.evidence


def test_a_missing_aws_cli_fails(aws, monkeypatch):
    monkeypatch.setattr("preflight.aws_checks.shutil.which", lambda name: None)
    queue_cluster(aws)
    queue_access(aws, [admin()])
    cli = by_check(cluster_checks(load_target("prod"), aws.clients, DEPLOYER))["aws-cli"]
    assert cli.status is Status.FAIL and "`aws eks get-token`" in cli.evidence


def test_dev_skips_every_cluster_check_and_says_why(aws):
    findings = cluster_checks(load_target("dev"), aws.clients, DEPLOYER)
    assert len(findings) == 5
    for finding in findings:
        assert finding.status is Status.SKIP
        assert finding.evidence == (
            "monitoring:collection.clusterName is not set in stacks/Pulumi.dev.yaml: nothing runs on a cluster"
        )


def with_team_id(target: Target, team_id: str) -> Target:
    notifications = target.settings.notifications
    assert notifications.slack is not None
    slack = notifications.slack.model_copy(update={"team_id": team_id})
    settings = target.settings.model_copy(update={"notifications": notifications.model_copy(update={"slack": slack})})
    return Target(target.stack, target.stack_file, target.region, settings)


def test_chatbot_finds_the_authorised_workspace_on_a_later_page(aws):
    target = with_team_id(load_target("prod"), "T0123ABCD")
    aws["chatbot"].add_response(
        "describe_slack_workspaces",
        {"SlackWorkspaces": [{"SlackTeamId": "T9999ZZZZ", "SlackTeamName": "Other"}], "NextToken": "next"},
        {},
    )
    aws["chatbot"].add_response(
        "describe_slack_workspaces",
        {"SlackWorkspaces": [{"SlackTeamId": "T0123ABCD", "SlackTeamName": "Acme", "State": "ENABLED"}]},
        {"NextToken": "next"},
    )
    finding = chatbot_workspace(target, aws.clients)
    assert finding.status is Status.PASS and finding.evidence == "T0123ABCD (Acme) is authorised"


def test_an_unauthorised_slack_workspace_is_named(aws):
    target = with_team_id(load_target("prod"), "T0123ABCD")
    aws["chatbot"].add_response(
        "describe_slack_workspaces", {"SlackWorkspaces": [{"SlackTeamId": "T9999ZZZZ", "SlackTeamName": "Other"}]}, {}
    )
    finding = chatbot_workspace(target, aws.clients)
    assert finding.status is Status.FAIL
    assert finding.evidence == "Slack workspace T0123ABCD is not authorised (authorised: T9999ZZZZ (Other))"
    assert "Configure new client → Slack" in finding.fix


def test_a_stack_without_slack_skips_chatbot(aws):
    finding = chatbot_workspace(load_target("dev"), aws.clients)
    assert finding.status is Status.SKIP and "notifications.slack is not set" in finding.evidence


def test_the_expected_subscriptions_are_the_ones_the_program_declares():
    declared = set()
    for resource in plan_of("prod").of_type("aws:sns/topicSubscription:TopicSubscription"):
        if resource.inputs["protocol"] == "email":
            audience = resource.name.removeprefix("notifications-").split("-email-")[0]
            declared.add((audience, resource.inputs["endpoint"]))
    assert declared and set(expected_subscriptions(load_target("prod"))) == declared


def topic_arn(topic: str, prefix: str = "screener-dev") -> str:
    return f"arn:aws:sns:{REGION}:{ACCOUNT}:{prefix}-alerts-{topic}"


def test_email_confirmation_is_reported_per_address_and_topic(aws):
    target = load_target("dev")
    (email,) = target.settings.notifications.emails
    aws["sns"].add_client_error("list_subscriptions_by_topic", "NotFound", "Topic does not exist", 404)
    aws["sns"].add_response(
        "list_subscriptions_by_topic",
        {"Subscriptions": [{"SubscriptionArn": "PendingConfirmation", "Protocol": "email", "Endpoint": email}]},
        {"TopicArn": topic_arn("warning")},
    )
    aws["sns"].add_response(
        "list_subscriptions_by_topic",
        {
            "Subscriptions": [
                {"SubscriptionArn": f"{topic_arn('pipeline')}:0d2f", "Protocol": "email", "Endpoint": email.upper()}
            ]
        },
        {"TopicArn": topic_arn("pipeline")},
    )
    critical, warning, pipeline = email_subscriptions(target, aws.clients, DEPLOYER)
    assert critical.status is Status.INFO and "screener-dev-alerts-critical is not deployed yet" in critical.evidence
    assert "must click 'Confirm subscription'" in critical.evidence
    assert warning.status is Status.INFO
    assert warning.evidence.startswith(f"{email} has not confirmed (PendingConfirmation)")
    assert pipeline.status is Status.PASS and pipeline.evidence == f"{email} confirmed"


def test_a_read_the_caller_may_not_make_is_named_by_its_action(aws):
    aws["eks"].add_response("describe_cluster", cluster(), {"name": "screener-prod"})
    aws["iam"].add_client_error("list_open_id_connect_providers", "AccessDenied", "not authorized", 403)
    aws["eks"].add_client_error("list_access_entries", "AccessDeniedException", "not authorized", 403)
    findings = by_check(cluster_checks(load_target("prod"), aws.clients, DEPLOYER))
    assert findings["eks-oidc-provider"].status is Status.FAIL
    assert findings["eks-oidc-provider"].fix == "allow iam:ListOpenIDConnectProviders to the identity running preflight"
    assert "AccessDenied" in findings["eks-oidc-provider"].evidence
    assert findings["eks-deployer-access"].status is Status.FAIL
    assert findings["eks-deployer-access"].fix.startswith("allow eks:ListAccessEntries")
