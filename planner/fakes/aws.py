"""AWS fakes: IDs, ARNs and endpoints shaped like the real ones."""

from __future__ import annotations

from typing import Any

from pulumi.runtime import rpc

from planner.fakes import FakeContext, call_fake, resource_fake


@resource_fake("aws:amp/workspace:Workspace")
def amp_workspace(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    workspace_id = f"ws-{ctx.uuid(name)}"
    return workspace_id, {
        "arn": ctx.arn("aps", f"workspace/{workspace_id}"),
        "prometheusEndpoint": f"https://aps-workspaces.{ctx.region}.amazonaws.com/workspaces/{workspace_id}/",
    }


@resource_fake("aws:amp/ruleGroupNamespace:RuleGroupNamespace")
def amp_rule_group_namespace(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    workspace_arn = ctx.arn("aps", f"workspace/{inputs.get('workspaceId', 'ws-unknown')}")
    arn = f"{workspace_arn.replace(':workspace/', ':rulegroupsnamespace/')}/{inputs.get('name', name)}"
    return arn, {"arn": arn}


@resource_fake("aws:amp/scraper:Scraper")
def amp_scraper(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    scraper_id = f"s-{ctx.uuid(name)}"
    return scraper_id, {
        "arn": ctx.arn("aps", f"scraper/{scraper_id}"),
        "roleArn": ctx.arn(
            "iam",
            "role/aws-service-role/scraper.aps.amazonaws.com/"
            f"AWSServiceRoleForAmazonPrometheusScraper_{ctx.token(name, 15)}",
            regional=False,
        ),
    }


@resource_fake("aws:cloudwatch/logGroup:LogGroup")
def log_group(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    group = ctx.physical_name(name, inputs)
    return group, {"name": group, "arn": ctx.arn("logs", f"log-group:{group}")}


@resource_fake("aws:cloudwatch/queryDefinition:QueryDefinition")
def query_definition(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    # Logs Insights identifies a saved query by a generated UUID, not by its name.
    query_id = ctx.uuid(name)
    return query_id, {"queryDefinitionId": query_id}


@resource_fake("aws:sns/topic:Topic")
def sns_topic(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    topic = ctx.physical_name(name, inputs)
    arn = ctx.arn("sns", topic)
    return arn, {"name": topic, "arn": arn}


@resource_fake("aws:sns/topicSubscription:TopicSubscription")
def sns_subscription(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    arn = f"{inputs.get('topic', ctx.arn('sns', 'topic'))}:{ctx.uuid(name)}"
    return arn, {"arn": arn}


@resource_fake("aws:cloudwatch/metricAlarm:MetricAlarm")
def metric_alarm(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    # The ARN CloudWatch puts in aws:SourceArn when an alarm publishes: ...:alarm:<alarm name>.
    alarm = ctx.physical_name(name, inputs)
    return alarm, {"arn": ctx.arn("cloudwatch", f"alarm:{alarm}")}


@resource_fake("aws:kms/key:Key")
def kms_key(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    key_id = ctx.uuid(name)
    return key_id, {"keyId": key_id, "arn": ctx.arn("kms", f"key/{key_id}")}


@resource_fake("aws:kms/alias:Alias")
def kms_alias(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    alias = ctx.physical_name(name, inputs)
    return alias, {"arn": ctx.arn("kms", alias)}


@resource_fake("aws:iam/role:Role")
def iam_role(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    role = ctx.physical_name(name, inputs)
    return role, {
        "name": role,
        "arn": ctx.arn("iam", f"role{inputs.get('path', '/')}{role}", regional=False),
        "uniqueId": f"AROA{ctx.token(name, 17).upper()}",
    }


@resource_fake("aws:iam/policy:Policy")
def iam_policy(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    policy = ctx.physical_name(name, inputs)
    arn = ctx.arn("iam", f"policy{inputs.get('path', '/')}{policy}", regional=False)
    return arn, {"name": policy, "arn": arn}


@resource_fake("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
def oidc_provider(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    host = str(inputs.get("url", "oidc.eks.example/id/X")).removeprefix("https://")
    arn = ctx.arn("iam", f"oidc-provider/{host}", regional=False)
    return arn, {"arn": arn}


@resource_fake("aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration")
def chatbot_slack(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    arn = ctx.arn(
        "chatbot", f"chat-configuration/slack-channel/{inputs.get('configurationName', name)}", regional=False
    )
    return arn, {"chatConfigurationArn": arn}


def generic_aws(ctx: FakeContext, type_token: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Fallback for AWS resources without a specific fake: an ARN of the usual shape."""
    module = type_token.split(":")[1].split("/")[0]
    physical = f"{name}-{ctx.token(name, 7)}"
    return physical, {"arn": ctx.arn(module, f"{name}/{physical}")}


@call_fake("aws:index/getCallerIdentity:getCallerIdentity")
def caller_identity(ctx: FakeContext, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "accountId": ctx.account_id,
        "arn": ctx.arn("iam", "user/offline-plan", regional=False),
        "userId": "AIDAOFFLINEPLAN",
        "id": ctx.account_id,
    }


@call_fake("aws:index/getRegion:getRegion")
def region(ctx: FakeContext, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": ctx.region,
        "region": ctx.region,
        "id": ctx.region,
        "endpoint": f"ec2.{ctx.region}.amazonaws.com",
        "description": ctx.region,
    }


@call_fake("aws:index/getPartition:getPartition")
def partition(ctx: FakeContext, args: dict[str, Any]) -> dict[str, Any]:
    return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws", "reverseDnsPrefix": "com.amazonaws"}


@call_fake("aws:eks/getCluster:getCluster")
def eks_cluster(ctx: FakeContext, args: dict[str, Any]) -> dict[str, Any]:
    name = str(args.get("name", "cluster"))
    oidc_id = ctx.token(f"eks/{name}", 32).upper()
    return {
        "id": name,
        "name": name,
        "arn": ctx.arn("eks", f"cluster/{name}"),
        "endpoint": f"https://{ctx.token(f'eks/{name}/endpoint', 32).upper()}.gr7.{ctx.region}.eks.amazonaws.com",
        "certificateAuthorities": [{"data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="}],
        "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{ctx.region}.amazonaws.com/id/{oidc_id}"}]}],
        "accessConfigs": [
            {"authenticationMode": "API_AND_CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": True}
        ],
        "version": "1.31",
        "status": "ACTIVE",
        "platformVersion": "eks.12",
        "vpcConfig": {
            "vpcId": f"vpc-{ctx.token(f'eks/{name}/vpc', 17)}",
            "endpointPrivateAccess": True,
            "endpointPublicAccess": False,
        },
    }


@call_fake("aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider")
def oidc_provider_lookup(ctx: FakeContext, args: dict[str, Any]) -> dict[str, Any]:
    url = str(args.get("url", "https://oidc.eks.example/id/X"))
    arn = ctx.arn("iam", f"oidc-provider/{url.removeprefix('https://')}", regional=False)
    return {"arn": arn, "id": arn, "url": url.removeprefix("https://"), "clientIdLists": ["sts.amazonaws.com"]}


@resource_fake("aws:iam/rolePolicy:RolePolicy")
def iam_role_policy(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    policy = ctx.physical_name(name, inputs)
    return f"{inputs.get('role', 'role')}:{policy}", {"name": policy}


# The Grafana heartbeat's API Gateway endpoint.
@resource_fake("aws:apigateway/restApi:RestApi")
def rest_api(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    api_id = ctx.token(name, 10)
    return api_id, {
        "rootResourceId": ctx.token(f"{name}/root", 10),
        "arn": ctx.arn("apigateway", f"/restapis/{api_id}", in_account=False),
        "executionArn": ctx.arn("execute-api", api_id),
    }


@resource_fake("aws:apigateway/stage:Stage")
def api_stage(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    api_id, stage = inputs.get("restApi"), inputs.get("stageName")
    return f"ags-{api_id}-{stage}", {
        "invokeUrl": f"https://{api_id}.execute-api.{ctx.region}.amazonaws.com/{stage}",
        "arn": ctx.arn("apigateway", f"/restapis/{api_id}/stages/{stage}", in_account=False),
    }


@resource_fake("aws:apigateway/apiKey:ApiKey")
def api_key(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    # AWS generates the value (40 characters); the SDK marks it secret (additional_secret_outputs).
    key_id = ctx.token(name, 10)
    return key_id, {
        "value": rpc.wrap_rpc_secret(ctx.token(f"{name}/value", 40)),
        "arn": ctx.arn("apigateway", f"/apikeys/{key_id}", in_account=False),
    }


@resource_fake("aws:lambda/function:Function")
def lambda_function(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    function = ctx.physical_name(name, inputs)
    arn = ctx.arn("lambda", f"function:{function}")
    return function, {"name": function, "arn": arn, "invokeArn": arn}
