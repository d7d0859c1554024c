"""Error tracking: the Sentry team, projects, client keys and issue alerts of one environment.

One Sentry organisation serves every environment. The team (and, unless each
environment has its own, the backend and frontend projects) exist once in the
organisation: the stack that owns them creates them, the others refer to them
by slug and add their own client key and alerts, filtered by their
environment. The backend's DSN reaches the cluster as a Kubernetes Secret; the
frontend's is a stack output for its build.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumiverse_sentry as sentry

from infra.alerting.sentry_alerts import IssueAlertDefinition, alert_actions
from infra.collection.kubeconfig import eks_provider
from infra.components.sentry_defaults import ProjectDefaultsArgs, SentryProjectDefaults

# Every DSN and key half a client key returns is kept secret. The provider marks only `dsnSecret`
# and `secret` (its SDK's additional_secret_outputs); the public DSN sends events on our quota just as well.
KEY_SECRET_OUTPUTS = ["dsnPublic", "dsnSecret", "dsnCsp", "public", "secret"]


def _kebab(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", camel).lower()


@dataclass(frozen=True)
class ProjectArgs:
    role: str  # backend | frontend
    slug: str
    rate_limit_count: int
    rate_limit_window_seconds: int
    create: bool  # this stack creates the project (else it exists, owned by another stack)


@dataclass(frozen=True)
class BackendSecretArgs:
    """The Kubernetes Secret the backend reads with `envFrom` (SENTRY_DSN plus non-secret settings)."""

    namespace: str
    name: str
    settings: Mapping[str, str]  # SENTRY_ENVIRONMENT, SENTRY_TRACES_SAMPLE_RATE
    cluster_name: str
    region: str
    kubeconfig: pulumi.Input[str] | None  # the stack's kubeconfig secret; built from the cluster when None


@dataclass
class ErrorTrackingArgs:
    organization: str
    environment: str
    key_name: str
    team_slug: str
    team_name: str
    create_team: bool
    projects: Sequence[ProjectArgs]
    alerts: Sequence[IssueAlertDefinition]
    slack_workspace: str | None
    slack_channel: str | None
    provider: sentry.Provider
    # The provider's API URL and token, for the removal of what Sentry adds to a new project.
    api_url: str
    token: pulumi.Input[str]
    backend_secret: BackendSecretArgs | None
    # Projects of this environment alone (else shared by every environment, created by the owning stack).
    project_per_environment: bool
    # Protects this environment's own projects; organisation-wide objects are always protected.
    protect: bool


class ErrorTracking(pulumi.ComponentResource):
    """Sentry projects, keys and alerts of one environment, and the delivery of the backend's DSN."""

    dsns: dict[str, pulumi.Output[str]]
    project_slugs: dict[str, str]
    backend_secret_name: pulumi.Output[str] | None = None

    def __init__(self, name: str, args: ErrorTrackingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(
            "monitoring:index:ErrorTracking",
            name,
            {"organization": args.organization, "environment": args.environment},
            opts,
        )
        in_sentry = pulumi.ResourceOptions(parent=self, provider=args.provider)
        # Organisation-wide objects hold every environment's issues: protected, and kept in Sentry
        # when the stack that created them is destroyed (the other environments still use them).
        shared = pulumi.ResourceOptions.merge(in_sentry, pulumi.ResourceOptions(retain_on_delete=True, protect=True))
        own = pulumi.ResourceOptions.merge(in_sentry, pulumi.ResourceOptions(protect=args.protect))
        team_slug, team_internal_id = self._team(name, args, shared)
        actions = self._actions(args, team_internal_id)

        self.dsns = {}
        self.project_slugs = {}
        for project in args.projects:
            project_opts = in_sentry
            if project.create:
                resource = sentry.SentryProject(
                    f"{name}-{project.role}",
                    organization=args.organization,
                    name=project.slug,
                    slug=project.slug,
                    # No `platform`: provider v0.11.2's validatePlatform (sentry/resource_sentry_project.go)
                    # GETs https://docs.sentry.io/_platforms/<platform>.json at every preview and refuses the
                    # value unless it answers 200; an unset optional attribute is never validated.
                    # The team's output, not its slug: the project is created after the team.
                    teams=[team_slug],
                    opts=own if args.project_per_environment else shared,
                )
                # The provider cannot ask Sentry to skip its default alert and unlimited key: removed here.
                SentryProjectDefaults(
                    f"{name}-{project.role}-defaults",
                    ProjectDefaultsArgs(
                        api_url=args.api_url, token=args.token, organization=args.organization, project=resource.slug
                    ),
                    opts=pulumi.ResourceOptions(parent=self),
                )
                project_opts = pulumi.ResourceOptions.merge(in_sentry, pulumi.ResourceOptions(depends_on=[resource]))
            key = sentry.SentryKey(
                f"{name}-{project.role}-key",
                organization=args.organization,
                project=project.slug,
                name=args.key_name,
                rate_limit_count=project.rate_limit_count,
                rate_limit_window=project.rate_limit_window_seconds,
                opts=pulumi.ResourceOptions.merge(
                    project_opts, pulumi.ResourceOptions(additional_secret_outputs=KEY_SECRET_OUTPUTS)
                ),
            )
            self.dsns[project.role] = pulumi.Output.secret(key.dsn_public)
            self.project_slugs[project.role] = project.slug
            self._alerts(name, project, args, actions, project_opts)

        if args.backend_secret is not None:
            self.backend_secret_name = self._backend_secret(name, args.backend_secret)
        self.register_outputs(
            {
                "dsns": self.dsns,
                "project_slugs": self.project_slugs,
                "backend_secret_name": self.backend_secret_name,
            }
        )

    def _team(
        self, name: str, args: ErrorTrackingArgs, opts: pulumi.ResourceOptions
    ) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """The team's slug and numeric ID (which the email action targets): created here, or looked up."""
        if args.create_team:
            team = sentry.SentryTeam(
                f"{name}-team", organization=args.organization, name=args.team_name, slug=args.team_slug, opts=opts
            )
            return team.slug, team.internal_id
        found = sentry.get_sentry_team_output(
            organization=args.organization,
            slug=args.team_slug,
            opts=pulumi.InvokeOutputOptions(parent=self, provider=args.provider),
        )
        return found.slug, found.internal_id

    def _actions(
        self, args: ErrorTrackingArgs, team_internal_id: pulumi.Output[str]
    ) -> pulumi.Output[list[dict[str, str]]]:
        """Where every alert of the stack goes: the team's email, and the Slack workspace looked up by name."""
        slack_id: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        if args.slack_workspace is not None:
            slack_id = sentry.get_sentry_organization_integration_output(
                organization=args.organization,
                provider_key="slack",
                name=args.slack_workspace,
                opts=pulumi.InvokeOutputOptions(parent=self, provider=args.provider),
            ).internal_id
        channel = args.slack_channel
        return pulumi.Output.all(team_internal_id, slack_id).apply(
            lambda ids: alert_actions(ids[0], (ids[1], channel) if ids[1] is not None and channel else None)
        )

    def _alerts(
        self,
        name: str,
        project: ProjectArgs,
        args: ErrorTrackingArgs,
        actions: pulumi.Output[list[dict[str, str]]],
        opts: pulumi.ResourceOptions,
    ) -> None:
        for definition in args.alerts:
            sentry.SentryIssueAlert(
                f"{name}-{project.role}-{_kebab(definition.alert.removeprefix('Sentry'))}",
                organization=args.organization,
                project=project.slug,
                name=definition.name(project.role, args.environment),
                environment=args.environment,
                action_match=definition.action_match,
                filter_match=definition.filter_match,
                frequency=definition.frequency,
                conditions=definition.conditions,
                filters=definition.filters,
                actions=actions,
                opts=opts,
            )

    def _backend_secret(self, name: str, spec: BackendSecretArgs) -> pulumi.Output[str]:
        # string_data with a secret value: the provider keeps the whole map secret in state and diffs.
        secret = k8s.core.v1.Secret(
            f"{name}-backend-secret",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=spec.name,
                namespace=spec.namespace,
                labels={"app.kubernetes.io/part-of": "screener", "app.kubernetes.io/managed-by": "pulumi"},
            ),
            type="Opaque",
            string_data={"SENTRY_DSN": self.dsns["backend"], **spec.settings},
            opts=pulumi.ResourceOptions(
                parent=self, provider=eks_provider(f"{name}-k8s", spec.cluster_name, spec.region, spec.kubeconfig, self)
            ),
        )
        return pulumi.Output.concat(secret.metadata.namespace, "/", secret.metadata.name)
