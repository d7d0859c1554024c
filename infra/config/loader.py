"""The one place that reads `pulumi.Config`.

`load_stack_config()` turns a stack's configuration into a frozen
`StackConfig`, or raises `ConfigError` listing every problem at once, one
line each, before any resource is declared.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.runtime
from pulumi.runtime import config as runtime_config
from pulumi_aws import Region
from pydantic import ValidationError

from infra.config.base import LOCATED_ERROR
from infra.config.model import StackConfig, StackInput, StackSecrets

NAMESPACE = "monitoring"
STACK_CONFIG_DIR = "stacks"


@dataclass(frozen=True)
class SecretSetting:
    key: str
    description: str
    required: bool = False
    # Required only when this section of the stack file is present (e.g. the Sentry token with `sentry`).
    required_with: str | None = None

    def required_by(self, present_sections: set[str]) -> bool:
        return self.required or (self.required_with is not None and self.required_with in present_sections)


SECRET_SETTINGS: tuple[SecretSetting, ...] = (
    SecretSetting("grafanaAuth", "Grafana service-account token", required=True),
    SecretSetting("grafanaCloudAccessPolicyToken", "Grafana Cloud access-policy token (plugin installation)"),
    # Required: without it no external probe watches the public endpoints, and a
    # stack that silently skipped its uptime checks would look monitored.
    SecretSetting("syntheticMonitoringToken", "Grafana Synthetic Monitoring access token", required=True),
    SecretSetting("slackWebhookUrl", "Slack incoming-webhook URL for the Grafana contact point"),
    SecretSetting("kubeconfig", "kubeconfig of the EKS cluster"),
    SecretSetting("postgresDsn", "PostgreSQL DSN for postgres_exporter"),
    SecretSetting("redisPassword", "Redis password for redis_exporter"),
    SecretSetting("celeryBrokerUrl", "Celery broker URL (with its credentials) for celery-exporter"),
    SecretSetting("sentryAuthToken", "Sentry API token of the organisation (Sentry provider)", required_with="sentry"),
    SecretSetting("pagerdutyToken", "PagerDuty API token (REST API key) for monitoring:paging", required_with="paging"),
)
_SECRET_KEYS = {setting.key for setting in SECRET_SETTINGS}
# The regions of the installed AWS provider (its `Region` enum), which is what would deploy them.
AWS_REGIONS = frozenset(region.value for region in Region)


# Keys outside `monitoring:` the program reads or the engine honours; every other one is refused, since a
# provider setting in a stack file changes where the program's calls go without the program knowing.
DISABLE_DEFAULT_PROVIDERS = "pulumi:disable-default-providers"
OTHER_KEYS: dict[str, str] = {
    "aws:region": "the region of every AWS resource",
    "aws:profile": "the local AWS CLI profile of the default AWS provider",
    "aws:allowedAccountIds": "the accounts the default AWS provider may act in (a guard against the wrong login)",
    "aws:accessKey": "static AWS credentials (prefer a profile or OIDC); `secure:` only",
    "aws:secretKey": "static AWS credentials; `secure:` only",
    "aws:token": "an AWS session token; `secure:` only",
    DISABLE_DEFAULT_PROVIDERS: "packages whose default provider the engine refuses",
}
# Settings of the AWS provider (pulumi-aws, provider config reference) that send its calls, and the
# credentials they carry, somewhere else or skip the checks that would notice: refused by name.
REDIRECTING_AWS_KEYS = {
    "aws:endpoints": "sends AWS API calls (with the deploy credentials) to other hosts",
    "aws:httpProxy": "sends AWS API calls through a proxy",
    "aws:httpsProxy": "sends AWS API calls through a proxy",
    "aws:customCaBundle": "trusts another certificate authority for AWS API calls",
    "aws:insecure": "turns off TLS verification of AWS API calls",
    "aws:skipCredentialsValidation": "skips the STS check of the credentials",
    "aws:skipRequestingAccountId": "skips learning which account the calls act in",
    "aws:skipMetadataApiCheck": "lets credentials come from an instance metadata service",
    "aws:skipRegionValidation": "accepts a region AWS does not have",
    "aws:stsRegion": "sends the credential check to another region's STS",
    "aws:assumeRole": "acts as another role than the deploy identity",
}
# A key whose name says it holds a credential must be `secure:` (encrypted in the stack file, a secret in the plan).
SECRET_NAME = re.compile(r"secret|token|password|passwd|credential|dsn|auth|webhook|key$|Key$", re.IGNORECASE)
# Packages whose resources always name their provider (infra/components, infra/program.py): a stack file must
# keep their default provider disabled, so a resource that forgot `provider=` fails instead of reaching the
# ambient kubeconfig or GRAFANA_URL (tests/test_default_providers.py).
EXPLICIT_PROVIDER_PACKAGES = ("kubernetes", "grafana", "sentry")
# The program's AWS resources use the default provider (configured by aws:region), so it must stay enabled.
DEFAULT_PROVIDER_PACKAGES = ("aws",)
_PACKAGE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
DISABLE_DEFAULT_PROVIDERS_FIX = (
    f"write `{DISABLE_DEFAULT_PROVIDERS}: [{', '.join(EXPLICIT_PROVIDER_PACKAGES)}]` (more packages may be added; "
    "never aws or '*')"
)


def disable_default_providers_problem(value: Any) -> str | None:
    """What is wrong with a `pulumi:disable-default-providers` value (as YAML or JSON gives it), or None."""
    if value is None:
        return f"is not set, so every default provider is enabled; {DISABLE_DEFAULT_PROVIDERS_FIX}"
    if not isinstance(value, list) or not all(isinstance(package, str) for package in value):
        return f"must be a list of package names; {DISABLE_DEFAULT_PROVIDERS_FIX}"
    malformed = [package for package in value if package != "*" and not _PACKAGE_NAME.match(package)]
    if malformed:
        return f"{malformed} are not package names; {DISABLE_DEFAULT_PROVIDERS_FIX}"
    if len(set(value)) != len(value):
        return f"lists a package twice ({value}); {DISABLE_DEFAULT_PROVIDERS_FIX}"
    enabled_needed = [package for package in ("*", *DEFAULT_PROVIDER_PACKAGES) if package in value]
    if enabled_needed:
        return (
            f"disables {enabled_needed}, but the program's AWS resources use the default AWS provider (aws:region); "
            f"{DISABLE_DEFAULT_PROVIDERS_FIX}"
        )
    re_enabled = [package for package in EXPLICIT_PROVIDER_PACKAGES if package not in value]
    if re_enabled:
        return (
            f"re-enables the default provider of {re_enabled}: a resource that forgot `provider=` would then act on "
            f"the ambient kubeconfig or GRAFANA_URL/SENTRY_AUTH_TOKEN; {DISABLE_DEFAULT_PROVIDERS_FIX}"
        )
    return None


def other_key_problem(full_key: str, secret: bool) -> str | None:
    """What is wrong with a key outside `monitoring:` (its value aside), or None."""
    if full_key in REDIRECTING_AWS_KEYS:
        return f"{REDIRECTING_AWS_KEYS[full_key]}; the program does not allow it: remove it"
    if full_key not in OTHER_KEYS:
        return (
            "not a setting this program reads (providers other than AWS are configured from monitoring: settings); "
            f"remove it. Accepted outside monitoring: {', '.join(sorted(OTHER_KEYS))}"
        )
    if SECRET_NAME.search(full_key.partition(":")[2]) and not secret:
        return (
            f"{OTHER_KEYS[full_key]}: it is in plain text; remove it and run "
            f"`pulumi config set --secret {full_key} <value>`"
        )
    return None


# Grafana's Slack integration posts to an incoming webhook, https://hooks.slack.com/services/... (Slack API docs,
# "Sending messages using incoming webhooks"); the URL is a credential, so no other host may receive it.
SLACK_WEBHOOK = re.compile(r"^https://hooks\.slack\.com/(services|workflows|triggers)/[A-Za-z0-9/_-]+$")


def offline_placeholder(full_key: str) -> str:
    """What the offline planner (planner/, infra/config/stackfile.py) holds for a secret it cannot decrypt."""
    return f"<secret {full_key}>"


def decode_config_value(value: str) -> Any:
    """A config value as the program reads it: the CLI hands structured values over as JSON text."""
    return json.loads(value) if value[:1] in ("[", "{") else value


class ConfigError(Exception):
    """Bad stack configuration; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid stack configuration:\n" + "\n".join(f"  - {p}" for p in problems))


def stack_file_for(stack: str) -> str:
    return f"{STACK_CONFIG_DIR}/Pulumi.{stack}.yaml"


def _all_config_keys() -> set[str]:
    # pulumi.Config can read a key but not list them; the runtime holds the
    # full map (set by the language host, or by PULUMI_CONFIG in older hosts)
    # and we need it to refuse keys nobody reads.
    return set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())


def _field_keys() -> list[str]:
    return sorted(field.alias or name for name, field in StackInput.model_fields.items())


def _accepted_keys_at(loc: tuple[Any, ...]) -> list[str]:
    """The keys a section accepts, for the 'unknown key' message."""
    model: Any = StackInput
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return []
        annotation = field.annotation
        model = _section_type(annotation)
    if model is None:
        return []
    return sorted(f.alias or n for n, f in model.model_fields.items())


def _section_type(annotation: Any) -> Any:
    from pydantic import BaseModel

    candidates = [annotation, *getattr(annotation, "__args__", ())]
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
        for inner in getattr(candidate, "__args__", ()):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return None


def _format_error(error: Any, stack_file: str) -> str:
    loc = tuple(error["loc"])
    if error["type"] == LOCATED_ERROR:
        loc = tuple(error["ctx"]["at"])
    path = f"{NAMESPACE}:{loc[0]}" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[1:])
    if error["type"] == LOCATED_ERROR:
        return f"{stack_file}: {path}: {error['ctx']['message']}"
    if error["type"] == "extra_forbidden":
        accepted = _accepted_keys_at(loc)
        return f"{stack_file}: {path}: unknown key; accepted keys here: {', '.join(accepted)}"
    if error["type"] == "missing":
        return f"{stack_file}: {path}: required value is missing; set it in the stack file"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] != "value_error" and not isinstance(error.get("input"), dict | list):
        shown = repr(error.get("input"))
        # A 5,000-character value would bury the line that names it.
        message += f" (got {shown if len(shown) <= 80 else shown[:77] + '...'})"
    return f"{stack_file}: {path}: {message}"


def load_stack_config() -> StackConfig:
    """Read and validate the current stack's configuration, once."""
    stack = pulumi.get_stack()
    stack_file = stack_file_for(stack)
    problems: list[str] = []
    config = pulumi.Config(NAMESPACE)

    known = set(_field_keys()) | _SECRET_KEYS
    for full_key in sorted(_all_config_keys()):
        namespace, _, key = full_key.partition(":")
        if namespace == NAMESPACE and key not in known:
            problems.append(f"{stack_file}: {full_key}: unknown key; accepted keys: {', '.join(sorted(known))}")
        elif namespace != NAMESPACE and (
            problem := other_key_problem(full_key, pulumi.runtime.is_config_secret(full_key))
        ):
            problems.append(f"{stack_file}: {full_key}: {problem}")
    # The offline reader checks the stack file's own key, present or not; here only a value the CLI handed over
    # is checked (whether it hands `pulumi:` keys to the program at all is the CLI's business).
    disabled = pulumi.Config("pulumi").get("disable-default-providers")
    try:
        problem = disable_default_providers_problem(json.loads(disabled)) if disabled is not None else None
    except json.JSONDecodeError:
        problem = disable_default_providers_problem(disabled)
    if problem:
        problems.append(f"{stack_file}: {DISABLE_DEFAULT_PROVIDERS}: {problem}")

    raw: dict[str, Any] = {}
    for key in _field_keys():
        value = config.get(key)
        if value is None:
            continue
        try:
            raw[key] = decode_config_value(value)
        except json.JSONDecodeError as exc:
            problems.append(f"{stack_file}: {NAMESPACE}:{key}: not valid structured config ({exc.msg})")

    for setting in SECRET_SETTINGS:
        full_key = f"{NAMESPACE}:{setting.key}"
        present = config.get(setting.key) is not None
        if present and not pulumi.runtime.is_config_secret(full_key):
            problems.append(
                f"{stack_file}: {full_key}: the {setting.description} is in plain text; remove it and run "
                f"`pulumi config set --secret {full_key} <value> --stack {stack}`"
            )
        elif setting.required_by(set(raw)) and not present:
            why = (
                "required secret is missing"
                if setting.required
                else f"{NAMESPACE}:{setting.required_with} is set but its secret is missing"
            )
            problems.append(
                f"{stack_file}: {full_key}: {why} ({setting.description}); run "
                f"`pulumi config set --secret {full_key} <value> --stack {stack}`"
            )

    # The webhook URL is a secret: checked here, where the program first holds it, and never echoed.
    slack_webhook = config.get("slackWebhookUrl")
    unknown_offline = slack_webhook == offline_placeholder(f"{NAMESPACE}:slackWebhookUrl")
    if slack_webhook is not None and not unknown_offline and not SLACK_WEBHOOK.match(slack_webhook):
        problems.append(
            f"{stack_file}: {NAMESPACE}:slackWebhookUrl: not a Slack incoming-webhook URL "
            "(https://hooks.slack.com/services/...); the URL is not shown because it is a secret. Copy it again "
            f"from the Slack app's Incoming Webhooks page: `pulumi config set --secret {NAMESPACE}:slackWebhookUrl "
            f"<url> --stack {stack}`"
        )

    region = pulumi.Config("aws").get("region")
    if not region:
        problems.append(
            f"{stack_file}: aws:region: required value is missing; set it, e.g. "
            f"`pulumi config set aws:region ap-northeast-2 --stack {stack}`"
        )
    elif region not in AWS_REGIONS:
        problems.append(
            f"{stack_file}: aws:region: '{region}' is not an AWS region the provider knows; one of "
            f"{', '.join(sorted(AWS_REGIONS))}"
        )

    settings: StackInput | None = None
    try:
        settings = StackInput.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_format_error(error, stack_file) for error in exc.errors())

    if problems or settings is None or region is None:
        raise ConfigError(problems)

    def secret(key: str) -> pulumi.Output[str] | None:
        return config.get_secret(key)

    grafana_auth = secret("grafanaAuth")
    synthetic_monitoring_token = secret("syntheticMonitoringToken")
    assert grafana_auth is not None and synthetic_monitoring_token is not None  # checked above as required
    return StackConfig(
        stack=stack,
        stack_file=stack_file,
        aws_region=region,
        settings=settings,
        secrets=StackSecrets(
            grafana_auth=grafana_auth,
            grafana_cloud_access_policy_token=secret("grafanaCloudAccessPolicyToken"),
            synthetic_monitoring_token=synthetic_monitoring_token,
            slack_webhook_url=secret("slackWebhookUrl"),
            kubeconfig=secret("kubeconfig"),
            postgres_dsn=secret("postgresDsn"),
            redis_password=secret("redisPassword"),
            celery_broker_url=secret("celeryBrokerUrl"),
            sentry_auth_token=secret("sentryAuthToken"),
            pagerduty_token=secret("pagerdutyToken"),
        ),
    )
