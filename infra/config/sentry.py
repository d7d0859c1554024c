"""Error tracking section (`monitoring:sentry`): the Sentry organisation, projects, client keys and alerts.

One Sentry organisation serves every environment, as one Grafana Cloud stack
does. A stack without this section declares no Sentry resource and says so in
the plan. The API token is not here: it is the secret `monitoring:sentryAuthToken`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from infra.config.base import K8S_NAME, HttpsUrl, Section
from infra.config.names import name_prefix_of

_SLUG = r"^[a-z0-9][a-z0-9_-]{0,49}$"

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

    workspace: str = Field(min_length=1, description="the Slack integration's name in Sentry (Settings → Integrations)")
    channel: str = Field(pattern=r"^#[a-z0-9][a-z0-9._-]{0,79}$", description="channel name, e.g. #alerts-prod")


class SentrySpec(Section):
    organization: str = Field(pattern=_SLUG, description="slug of the one Sentry organisation")
    api_url: HttpsUrl = Field(default="https://sentry.io/api/", description="Sentry API (provider base_url)")
    web_url: HttpsUrl = Field(default="https://sentry.io", description="Sentry web UI, for links from Grafana")
    team: str = Field(pattern=_SLUG, description="team that owns the projects; alert emails go to its members")
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

    def project_slug(self, platform: str, environment: str, role: str) -> str:
        """The slug of the `role` (backend, frontend) project: shared by every environment unless per environment."""
        return (
            f"{name_prefix_of(platform, environment)}-{role}" if self.project_per_environment else f"{platform}-{role}"
        )
