"""Error tracking section (`monitoring:sentry`): the Sentry organisation, projects, client keys and alerts.

One Sentry organisation serves every environment, as one Grafana Cloud stack
does. A stack without this section declares no Sentry resource and says so in
the plan. The API token is not here: it is the secret `monitoring:sentryAuthToken`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from infra.config.base import K8S_NAME, HttpsUrl, PlainText, Section, check_trusted_host
from infra.config.names import name_prefix_of

# Sentry's own slug rules (getsentry/sentry src/sentry/slug/patterns.py): an organisation slug is letters,
# digits and '-', starting with a letter or digit, not ending with '-', not all digits (ORG_SLUG_PATTERN); a
# team or project slug is letters, digits, '_' and '-', not all digits (MIXED_SLUG_PATTERN). Sentry stores
# slugs lower-case; its slug fields (src/sentry/db/models/fields/slug.py) are Django SlugFields, whose default
# max_length, 50, Sentry keeps for organisations and teams.
ORG_SLUG = re.compile(r"^(?![0-9]+$)[a-z0-9][a-z0-9-]*(?<!-)$")
MIXED_SLUG = re.compile(r"^(?![0-9]+$)[a-z0-9_-]+$")
MAX_SLUG_LENGTH = 50
# Sentry's SaaS hosts: sentry.io and names under it: its regional hosts (us.sentry.io, de.sentry.io), an
# organisation's own subdomain (<org>.sentry.io) and regional ingest hosts (o<id>.ingest.us.sentry.io)
# (Sentry docs: "Data Storage Location", "Customer domains"; the provider's base_url defaults to
# https://sentry.io/api/). The plan sends the organisation's API token to this host.
SENTRY_SAAS_HOST = re.compile(r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*sentry\.io$")
# A Slack channel name (Slack API, conversations.create, "Naming"): lower-case letters, digits, '-' and '_',
# at most 80 characters, not only punctuation (invalid_name_punctuation); written here with its '#'.
SLACK_CHANNEL = re.compile(r"^#(?=[a-z0-9_-]*[a-z0-9])[a-z0-9_-]{1,80}$")


def _slug(kind: str, slug: str, pattern: re.Pattern[str], rule: str) -> str:
    if len(slug) > MAX_SLUG_LENGTH or not pattern.match(slug):
        raise ValueError(
            f"'{slug}' is not a Sentry {kind} slug ({rule}, at most {MAX_SLUG_LENGTH}); copy it from Sentry's URL"
        )
    return slug


def _org_slug(slug: str) -> str:
    return _slug(
        "organization",
        slug,
        ORG_SLUG,
        "lower-case letters, digits and '-', not starting or ending with '-', not all digits",
    )


def _team_slug(slug: str) -> str:
    return _slug("team", slug, MIXED_SLUG, "lower-case letters, digits, '_' and '-', not all digits")


def _slack_channel(channel: str) -> str:
    if not SLACK_CHANNEL.match(channel):
        raise ValueError(
            f"'{channel}' is not a Slack channel name Slack accepts: '#' then lower-case letters, digits, '-' and '_' "
            "(no spaces, periods or capitals), at most 80 characters, not only punctuation"
        )
    return channel


OrganizationSlug = Annotated[str, AfterValidator(_org_slug)]
TeamSlug = Annotated[str, AfterValidator(_team_slug)]
SlackChannel = Annotated[str, AfterValidator(_slack_channel)]

# The windows Sentry's EventFrequencyCondition accepts (sentry/rules/conditions/event_frequency.py,
# STANDARD_INTERVALS); anything else is refused when the rule is saved.
FrequencyInterval = Literal["1m", "5m", "15m", "1h", "1d", "1w", "30d"]


class RateLimitSpec(Section):
    """A client key's rate limit: a runaway loop must not eat the organisation's monthly quota."""

    count: int = Field(ge=1, le=1_000_000, description="events the key accepts per window; more are dropped")
    window_seconds: int = Field(ge=60, le=86_400, description="length of the window in seconds")


class BackendSpec(Section):
    """The FastAPI backend's project, key and the Kubernetes Secret it reads its settings from."""

    rate_limit: RateLimitSpec
    traces_sample_rate: float = Field(
        default=0.1, ge=0, le=1, description="share of requests traced (SENTRY_TRACES_SAMPLE_RATE)"
    )
    namespace: str = Field(
        default="screener", pattern=K8S_NAME, description="the backend's Kubernetes namespace (gets the Secret)"
    )
    secret_name: str = Field(
        default="sentry-backend", pattern=K8S_NAME, description="Kubernetes Secret the backend reads with envFrom"
    )


class FrontendSpec(Section):
    """The web frontend's project and key; its settings are stack outputs for the frontend build."""

    rate_limit: RateLimitSpec
    traces_sample_rate: float = Field(default=0.1, ge=0, le=1, description="share of page loads traced")
    replays_session_sample_rate: float = Field(
        default=0.0, ge=0, le=1, description="share of sessions recorded by session replay (0: off)"
    )
    replays_on_error_sample_rate: float = Field(
        default=0.0, ge=0, le=1, description="share of sessions with an error whose replay is kept (0: off)"
    )


class ErrorSpikeSpec(Section):
    events: int = Field(ge=1, description="SentryErrorSpike fires when one issue is seen more often than this ...")
    interval: FrequencyInterval = Field(default="1h", description="... within this window")


class SentryAlertsSpec(Section):
    """Issue alerts of every project, for this stack's environment only."""

    new_issue: bool = Field(default=True, description="SentryNewIssue: an issue seen for the first time")
    regression: bool = Field(default=True, description="SentryRegression: a resolved issue seen again")
    error_spike: ErrorSpikeSpec | None = Field(default=None, description="SentryErrorSpike; none when absent")
    action_interval_minutes: int = Field(
        default=30, ge=5, le=43_200, description="one issue notifies at most once per this many minutes"
    )


class SentrySlackSpec(Section):
    """Where Sentry's own Slack integration posts (installed once in the organisation by hand)."""

    workspace: PlainText = Field(
        min_length=1, max_length=80, description="the Slack integration's name in Sentry (Settings → Integrations)"
    )
    channel: SlackChannel = Field(description="channel name as Slack accepts it, e.g. #alerts-prod")


class SentrySpec(Section):
    organization: OrganizationSlug = Field(description="slug of the one Sentry organisation")
    self_hosted_reason: str | None = Field(
        default=None,
        min_length=10,
        description="why apiUrl/webUrl are not sentry.io hosts (a self-hosted Sentry; the API token is sent there)",
    )
    api_url: HttpsUrl = Field(
        default="https://sentry.io/api/",
        description="Sentry API (provider base_url): sentry.io or a *.sentry.io host unless selfHostedReason is set",
    )
    web_url: HttpsUrl = Field(
        default="https://sentry.io",
        description="Sentry web UI, for links from Grafana: sentry.io or a *.sentry.io host unless selfHostedReason",
    )
    team: TeamSlug = Field(description="team that owns the projects; alert emails go to its members")
    owns_shared_objects: bool = Field(
        default=False,
        description="this stack creates the organisation-wide objects (the team, and the shared projects unless "
        "projectPerEnvironment); exactly one stack does, and it is deployed first",
    )
    project_per_environment: bool = Field(
        default=False,
        description="give this environment its own backend and frontend projects instead of sharing the "
        "organisation's (environments then differ by project, not only by the environment tag)",
    )
    backend: BackendSpec
    frontend: FrontendSpec
    alerts: SentryAlertsSpec = SentryAlertsSpec()
    slack: SentrySlackSpec | None = Field(default=None, description="Slack channel of the alerts; email only without")

    @field_validator("api_url", "web_url")
    @classmethod
    def _sentry_saas_unless_self_hosted(cls, url: str, info: ValidationInfo) -> str:
        # selfHostedReason is declared first so that it is validated (and in info.data) by now.
        return check_trusted_host(
            url,
            SENTRY_SAAS_HOST,
            info.data.get("self_hosted_reason"),
            expected="a Sentry SaaS host (https://sentry.io, https://us.sentry.io, https://de.sentry.io or "
            "https://<org>.sentry.io)",
            token="Sentry organisation's API token",
            override_key="sentry.selfHostedReason",
        )

    def project_slug(self, platform: str, environment: str, role: str) -> str:
        """The slug of the `role` (backend, frontend) project: shared by every environment unless per environment."""
        return (
            f"{name_prefix_of(platform, environment)}-{role}" if self.project_per_environment else f"{platform}-{role}"
        )
