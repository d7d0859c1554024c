"""The Pulumi program: read the configuration once, declare every component, export outputs.

Each component gets the validated `StackConfig` and the outputs of the
components it builds on; nothing below this module reads configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumiverse_grafana as grafana
import pulumiverse_sentry as sentry

from dashboards import logs as logs_dashboard
from dashboards import uptime
from dashboards.common import to_json
from dashboards.context import DashboardContext
from dashboards.registry import build_all
from infra.alerting.alertmanager import render_alertmanager_definition
from infra.alerting.grafana_rules import amp_health_rules, heartbeat_rule_group
from infra.alerting.quotas import QuotaUsage, quota_usage
from infra.alerting.rules import render_rule_files
from infra.alerting.sentry_alerts import issue_alert_definitions
from infra.alerting.uptime_rules import uptime_rule_groups
from infra.collection.celery_exporter import CeleryExporterSettings, celery_exporter_settings
from infra.collection.charts import ExporterRelease, exporter_releases
from infra.collection.scrape_config import agent_config_text, render_scrape_config
from infra.components.alert_rules import AlertRules, AlertRulesArgs
from infra.components.alertmanager import Alertmanager, AlertmanagerArgs
from infra.components.amp import AmpWorkspace, AmpWorkspaceArgs, LabelSetLimitArgs
from infra.components.amp_log_alarms import AmpLogAlarms, AmpLogAlarmsArgs
from infra.components.amp_usage_alarms import AmpUsageAlarms, AmpUsageAlarmsArgs
from infra.components.collection import ExporterSecrets, MetricsCollection, MetricsCollectionArgs
from infra.components.cost_estimate import CostEstimate
from infra.components.grafana_alerting import GrafanaAlerting, GrafanaAlertingArgs, NotificationTimings, Recipients
from infra.components.grafana_alertmanager import GrafanaAlertmanagerDataSource
from infra.components.grafana_dashboards import GrafanaDashboards, GrafanaDashboardsArgs
from infra.components.grafana_datasource import (
    GrafanaAmpDataSource,
    GrafanaAmpDataSourceArgs,
    GrafanaCloudRoleArgs,
    WorkspaceDataSourceArgs,
)
from infra.components.grafana_heartbeat import GrafanaHeartbeat, GrafanaHeartbeatArgs
from infra.components.grafana_logs import GrafanaLogs, GrafanaLogsArgs
from infra.components.grafana_rules import GrafanaRuleGroup, GrafanaRuleGroupArgs, RuleContext, RuleRouting
from infra.components.grafana_service_accounts import Permission, ScopedServiceAccount, ScopedServiceAccountArgs
from infra.components.logs import CentralLogs, CentralLogsArgs, CollectorArgs, log_group_name
from infra.components.notifications import CHAT, PIPELINE, Notifications, NotificationsArgs, SlackChannelArgs
from infra.components.sentry import BackendSecretArgs, ErrorTracking, ErrorTrackingArgs, ProjectArgs
from infra.components.synthetics import (
    StatusPageArgs,
    SyntheticChecks,
    SyntheticChecksArgs,
    lookup_probe_ids,
    synthetics_provider,
)
from infra.components.synthetics_checks import CheckSpec, plan_checks
from infra.config import StackConfig, load_stack_config
from infra.config.cost import DEFAULT_USAGE_ALARM_PERCENT
from infra.config.placeholders import PlaceholderError, find_placeholders
from infra.config.synthetics import SM_DATASOURCE_UID
from infra.cost.limits import workspace_label_set_limits
from infra.cost.model import Cardinality, cardinality
from infra.cost.pricing import estimate
from infra.gc_policy import apply_gc_policy
from infra.logs.fluent_bit import FLUENT_BIT, GROUP_KINDS, log_sources
from infra.logs.fluent_bit import RELEASE as LOGS_RELEASE


def declare_amp(config: StackConfig, model: Cardinality) -> AmpWorkspace:
    amp = AmpWorkspace(
        "amp",
        AmpWorkspaceArgs(
            alias=config.name_prefix,
            retention_days=config.settings.amp.retention_days,
            log_retention_days=config.settings.amp.log_retention_days,
            label_set_limits=[
                LabelSetLimitArgs(label_set, max_series)
                for label_set, max_series in workspace_label_set_limits(config.settings, model)
            ],
            protect=config.settings.amp.protect,
            managed_scraper=config.settings.collection.mode == "managed-scraper",
            tags=config.tags("amp"),
        ),
    )
    pulumi.export("amp_workspace_id", amp.workspace_id)
    pulumi.export("amp_workspace_arn", amp.arn)
    pulumi.export("amp_remote_write_url", amp.remote_write_url)
    pulumi.export("amp_query_url", amp.query_url)
    pulumi.export("amp_log_group_arn", amp.log_group_arn)
    return amp


def declare_notifications(config: StackConfig, amp: AmpWorkspace) -> Notifications:
    """SNS topics, subscribers, Slack and AMP's Alertmanager definition that publishes to them."""
    spec = config.settings.notifications
    notifications = Notifications(
        "notifications",
        NotificationsArgs(
            name_prefix=config.name_prefix,
            region=config.aws_region,
            workspace_id=amp.workspace_id,
            workspace_arn=amp.arn,
            emails=list(spec.emails),
            paging_emails=list(spec.paging_emails),
            slack=SlackChannelArgs(team_id=spec.slack.team_id, channel_id=spec.slack.channel_id)
            if spec.slack
            else None,
            # One switch protects every stateful resource of the stack.
            protect=config.settings.amp.protect,
            tags=config.tags("notifications"),
        ),
    )
    Alertmanager(
        "alertmanager",
        AlertmanagerArgs(
            workspace_id=amp.workspace_id,
            definition=notifications.topic_arns.apply(
                lambda arns: render_alertmanager_definition(config.settings, arns)
            ),
            delivery_dependencies=[notifications],
        ),
    )
    pulumi.export("alert_topic_arns", notifications.topic_arns)
    pulumi.export("alert_key_arn", notifications.key_arn)
    pulumi.export("alert_pipeline_key_arn", notifications.pipeline_key_arn)
    return notifications


def declare_paging(config: StackConfig, notifications: Notifications) -> pulumi.Output[str] | None:
    """PagerDuty for the critical path when monitoring:paging is set; its Events API v2 key (secret) or None."""
    spec = config.settings.paging
    token = config.secrets.pagerduty_token
    if spec is None or token is None:  # the loader refuses paging without a token
        return None
    # Imported here: the PagerDuty SDK takes about 0.3 s to import, which stacks without paging never pay.
    from infra.components.paging import PagerDutyPaging, PagerDutyPagingArgs

    paging = PagerDutyPaging(
        "paging",
        PagerDutyPagingArgs(
            name_prefix=config.name_prefix,
            service_name=spec.service_name or f"{config.name_prefix} monitoring",
            escalation_policy_id=spec.escalation_policy_id,
            token=token,
            region=config.aws_region,
            amp_topic_arns={"critical": notifications.topic_arns.apply(lambda arns: arns["critical"])},
            # A broken alerting path (the pipeline topic's alarms) pages like a critical alert.
            alarm_topic_arns={PIPELINE: notifications.alarm_topic(PIPELINE)},
            alarm_actions=[notifications.alarm_topic(PIPELINE)]
            + ([notifications.alarm_topic(CHAT)] if CHAT in notifications.topics else []),
            log_retention_days=config.settings.amp.log_retention_days,
            tags=config.tags("paging"),
        ),
    )
    pulumi.export("paging_service_url", paging.service_url)
    return paging.integration_key


def grafana_role_args(config: StackConfig, purpose: str) -> GrafanaCloudRoleArgs:
    """The role a Grafana data source assumes, `<prefix>-grafana-<purpose>`.

    One account and one external ID for every role: Grafana Cloud presents the Grafana stack's, whichever
    data source assumes (see `trust_policy`).
    """
    grafana_spec = config.settings.grafana
    return GrafanaCloudRoleArgs(
        role_name=f"{config.name_prefix}-grafana-{purpose}",
        grafana_aws_account_id=grafana_spec.aws_account_id,
        external_id=grafana_spec.external_id,
        region=config.aws_region,
        tags=config.tags("grafana"),
    )


def grafana_rule_context(config: StackConfig, routing: RuleRouting) -> RuleContext:
    """What the stack's Grafana-managed rules are stamped with (UIDs, the `env` label, runbook links, routing)."""
    return RuleContext(config.name_prefix, config.environment, config.settings.rules.runbook_base_url, routing)


@dataclass(frozen=True)
class DeclaredGrafana:
    """What later Grafana pieces (synthetic checks) build on: the provider, the folder, the routing."""

    provider: grafana.Provider
    folder_uid: pulumi.Output[str]
    datasource_uid: pulumi.Output[str]
    alerting: GrafanaAlerting


def declare_grafana(
    config: StackConfig,
    amp: AmpWorkspace,
    context: DashboardContext,
    dashboard_models: Mapping[str, dict[str, Any]],
    pagerduty_integration_key: pulumi.Output[str] | None = None,
) -> DeclaredGrafana:
    """The AMP data source, the environment's folder and dashboards, and Grafana-managed alerting.

    Grafana's contact points mail the people the critical and warning SNS
    topics deliver to (Grafana Cloud cannot publish to SNS; see grafana_alerting).
    """
    spec = config.settings.grafana
    secrets = config.secrets
    provider = grafana.Provider(
        "grafana",
        url=spec.url,
        auth=secrets.grafana_auth,
        # Only stack-level resources (plugin installation) need the Cloud token.
        cloud_access_policy_token=secrets.grafana_cloud_access_policy_token,
    )
    # Installing a plugin goes through the Cloud API: without the access-policy
    # token the install would fail at deploy time, so the plan skips it and says so.
    install_on = spec.stack_slug if secrets.grafana_cloud_access_policy_token is not None else None
    datasource = GrafanaAmpDataSource(
        "grafana-amp",
        GrafanaAmpDataSourceArgs(
            name=f"AMP ({config.environment})",
            uid=context.datasource_uid,
            workspace_arn=amp.arn,
            prometheus_endpoint=amp.prometheus_endpoint,
            role=grafana_role_args(config, "amp-query"),
            provider=provider,
            plugin_version=spec.amp_plugin_version,
            install_plugin_on_stack=install_on,
        ),
    )
    if spec.stack_slug and install_on is None:
        pulumi.log.warn(
            f"AMP plugin: monitoring:grafana.stackSlug is set but monitoring:grafanaCloudAccessPolicyToken is not, "
            f"so the plugin is not installed from code; install it once in Grafana Cloud or set the token with "
            f"`pulumi config set --secret monitoring:grafanaCloudAccessPolicyToken <token> --stack {config.stack}`",
            resource=datasource,
        )
    dashboards = GrafanaDashboards(
        "grafana-dashboards",
        GrafanaDashboardsArgs(
            folder_uid=config.name_prefix,
            folder_title=spec.folder_title or f"Screener monitoring ({config.environment})",
            models=dashboard_models,
            provider=provider,
        ),
        opts=pulumi.ResourceOptions(depends_on=[datasource]),
    )
    pulumi.export("grafana_datasource_uid", datasource.uid)
    pulumi.export("grafana_folder_url", dashboards.folder_url)
    notifications = config.settings.notifications
    alerting = GrafanaAlerting(
        "grafana-alerting",
        GrafanaAlertingArgs(
            name_prefix=config.name_prefix,
            environment=config.environment,
            provider=provider,
            page_on_warning=notifications.page_on_warning,
            slack_webhook_url=secrets.slack_webhook_url,
            recipients=Recipients(emails=notifications.emails, paging_emails=notifications.paging_emails),
            pagerduty_integration_key=pagerduty_integration_key,
            timings=NotificationTimings(
                group_wait_seconds=notifications.group_wait_seconds,
                group_interval_minutes=notifications.group_interval_minutes,
                repeat_interval_hours=notifications.repeat_interval_hours,
            ),
            maintenance=config.settings.maintenance,
            owns_policy_tree=spec.notification_policy is not None,
        ),
    )
    # "AMP returns no data" is the normal state of a stack that collects nothing (dev): such a stack
    # must not upload an alert that fires on the data it is configured to have.
    collects = config.settings.collection.mode != "none"
    for group in [amp_health_rules(context.datasource_uid, spec.no_data_for_minutes)] if collects else []:
        GrafanaRuleGroup(
            f"grafana-rules-{group.name}",
            GrafanaRuleGroupArgs(
                folder_uid=dashboards.folder_uid,
                group=group,
                context=grafana_rule_context(config, alerting.routing),
                provider=provider,
            ),
            opts=pulumi.ResourceOptions(depends_on=[datasource]),
        )
    pulumi.export("grafana_dashboard_urls", dashboards.dashboard_urls)
    pulumi.export("grafana_contact_points", [alerting.oncall_contact_point, alerting.team_contact_point])
    return DeclaredGrafana(provider, dashboards.folder_uid, datasource.uid, alerting)


def declare_grafana_heartbeat(
    config: StackConfig, declared: DeclaredGrafana, notifications: Notifications, context: DashboardContext
) -> None:
    """Grafana's dead man's switch: its always-firing rule, the webhook it calls and the alarm on its silence."""
    heartbeat = GrafanaHeartbeat(
        "grafana-heartbeat",
        GrafanaHeartbeatArgs(
            name_prefix=config.name_prefix,
            provider=declared.provider,
            # Like the Watchdog alarm: the last-resort pipeline topic (its own key), and chat where there is one.
            alarm_topic_arns=[
                notifications.alarm_topic(PIPELINE),
                *([notifications.alarm_topic(CHAT)] if config.settings.notifications.slack else []),
            ],
            tags=config.tags("grafana-heartbeat"),
            runbook_base_url=config.settings.rules.runbook_base_url,
        ),
    )
    GrafanaRuleGroup(
        "grafana-rules-grafana-heartbeat",
        GrafanaRuleGroupArgs(
            # Through the data source's uid too: Grafana refuses a rule whose data source does not exist yet.
            folder_uid=pulumi.Output.all(declared.folder_uid, declared.datasource_uid).apply(lambda uids: uids[0]),
            group=heartbeat_rule_group(context.datasource_uid, config.name_prefix),
            context=grafana_rule_context(config, declared.alerting.routing),
            provider=declared.provider,
        ),
        opts=pulumi.ResourceOptions(depends_on=[heartbeat]),
    )
    pulumi.export("grafana_heartbeat_alarm_arn", heartbeat.alarm_arn)


def declare_alert_console(config: StackConfig, amp: AmpWorkspace, declared: DeclaredGrafana) -> None:
    """AMP's Alertmanager as a Grafana data source: see what fires and silence it."""
    console = GrafanaAlertmanagerDataSource(
        "grafana-alertmanager",
        WorkspaceDataSourceArgs(
            name=f"AMP Alertmanager ({config.environment})",
            uid=f"{config.name_prefix}-alertmanager",
            workspace_arn=amp.arn,
            prometheus_endpoint=amp.prometheus_endpoint,
            role=grafana_role_args(config, "amp-alertmanager"),
            provider=declared.provider,
        ),
    )
    pulumi.export("grafana_alertmanager_datasource_uid", console.uid)
    # What `make alerts` and `make silence` sign their requests for.
    pulumi.export("amp_alertmanager_url", console.url.apply(lambda url: f"{url}/alertmanager"))


# Grafana RBAC (grafana/grafana pkg/api/api.go, pkg/services/accesscontrol/models.go): posting an
# annotation that belongs to no dashboard needs annotations:create on annotations:type:organization.
ANNOTATION_POSTER = (Permission("annotations:create", "annotations:type:organization"),)


def declare_deploy_annotations(config: StackConfig, declared: DeclaredGrafana) -> None:
    """A service account that may only post annotations: deploy.yml and the application's pipelines mark deploys."""
    poster = ScopedServiceAccount(
        "grafana-deploy-annotations",
        ScopedServiceAccountArgs(
            account_name=f"{config.name_prefix}-deploy-annotations",
            # Grafana keeps role UIDs to 40 characters like its other UIDs (infra/config/names.py).
            role_uid=f"{config.name_prefix}-annotator",
            description=f"Posts deploy annotations (tags: deploy, {config.environment}); nothing else",
            permissions=ANNOTATION_POSTER,
            provider=declared.provider,
        ),
    )
    pulumi.export("grafana_url", config.settings.grafana.url)
    pulumi.export("grafana_deploy_annotation_token", poster.token)


def preview_permissions(previews_folder_uid: str) -> tuple[Permission, ...]:
    """Folders and dashboards under the previews folder only (Grafana's nested folders inherit a folder's scope)."""
    scope = f"folders:uid:{previews_folder_uid}"
    return tuple(
        Permission(action, scope)
        for action in (
            "folders:read",
            "folders:create",
            "folders:write",
            "folders:delete",
            "dashboards:read",
            "dashboards:create",
            "dashboards:write",
            "dashboards:delete",
        )
    )


def declare_dashboard_previews(config: StackConfig, declared: DeclaredGrafana) -> None:
    """The previews folder and the account pr.yml uploads with (one stack per Grafana instance owns them)."""
    if not config.settings.grafana.dashboard_previews:
        return
    uid = f"{config.settings.platform}-previews"
    folder = grafana.oss.Folder(
        "grafana-previews-folder",
        uid=uid,
        title="Dashboard previews (pull requests)",
        opts=pulumi.ResourceOptions(provider=declared.provider),
    )
    uploader = ScopedServiceAccount(
        "grafana-previews",
        ScopedServiceAccountArgs(
            account_name=f"{config.settings.platform}-dashboard-previews",
            role_uid=f"{config.settings.platform}-previewer",
            description=f"Uploads pull-request dashboard previews under the folder {uid}; nothing else",
            permissions=preview_permissions(uid),
            provider=declared.provider,
        ),
        opts=pulumi.ResourceOptions(depends_on=[folder]),
    )
    pulumi.export("grafana_previews_folder_uid", folder.uid)
    pulumi.export("grafana_previews_token", uploader.token)


@dataclass(frozen=True)
class Probes:
    provider: grafana.Provider
    ids: list[int]


def resolve_probes(config: StackConfig) -> Probes:
    """The Synthetic Monitoring provider and the configured probes' IDs.

    Done first thing: an unknown probe name is a configuration error that only
    the provider's lookup can find, and it should stop the program before the
    rest of the stack is declared.
    """
    spec = config.settings.synthetics
    provider = synthetics_provider("grafana-synthetics", spec.api_url, config.secrets.synthetic_monitoring_token)
    return Probes(provider, lookup_probe_ids(provider, spec.probes, config.stack_file))


def declare_synthetics(
    config: StackConfig, declared: DeclaredGrafana, documents: Documents, probes: Probes
) -> SyntheticChecks:
    """HTTP checks of every public endpoint from outside, their alerts and (prod) the public status page."""
    spec = config.settings.synthetics
    checks = documents.checks
    synthetics = SyntheticChecks(
        "synthetics",
        SyntheticChecksArgs(
            name_prefix=config.name_prefix,
            environment=config.environment,
            spec=spec,
            checks=checks,
            probe_ids=probes.ids,
            synthetics_provider=probes.provider,
            grafana_provider=declared.provider,
            folder_uid=declared.folder_uid,
            rule_groups=uptime_rule_groups(checks, spec, config.name_prefix, SM_DATASOURCE_UID),
            rule_context=grafana_rule_context(config, declared.alerting.routing),
            status_page=StatusPageArgs(
                dashboard_json=to_json(uptime.build_status_page(documents.dashboard_context)),
                grafana_url=config.settings.grafana.url,
                protect=config.settings.amp.protect,
            )
            if spec.publish_status_page
            else None,
            rule_dependencies=[declared.alerting],
        ),
    )
    pulumi.export("synthetic_check_ids", synthetics.check_ids)
    if synthetics.status_page_url is not None:
        pulumi.export("status_page_url", synthetics.status_page_url)
    return synthetics


def declare_collection(config: StackConfig, amp: AmpWorkspace, documents: Documents) -> MetricsCollection:
    """Exporters and the collector (managed scraper or in-cluster agent) that feed the workspace."""
    spec = config.settings.collection
    secrets = config.secrets
    collection = MetricsCollection(
        "collection",
        MetricsCollectionArgs(
            mode=spec.mode,
            stack_file=config.stack_file,
            name_prefix=config.name_prefix,
            region=config.aws_region,
            cluster_name=spec.cluster_name,
            namespace=spec.namespace,
            scrape_config=documents.scrape_config,
            # The scrape config rendered once above, plus remote write (same text as rendering it all again).
            render_agent_config=lambda url: agent_config_text(documents.scrape_config, url, config.aws_region),
            workspace_arn=amp.arn,
            remote_write_url=amp.remote_write_url,
            tags=config.tags("collection"),
            exporters=documents.exporters,
            celery_exporter=documents.celery_exporter,
            subnet_ids=spec.subnet_ids,
            security_group_ids=spec.security_group_ids,
            kubeconfig=secrets.kubeconfig,
            credentials=ExporterSecrets(
                postgres_dsn=secrets.postgres_dsn,
                redis_password=secrets.redis_password,
                celery_broker_url=secrets.celery_broker_url,
            ),
        ),
    )
    pulumi.export("collection_mode", spec.mode)
    pulumi.export("collection_helm_releases", collection.release_names)
    if collection.collector_role_arn is not None:
        pulumi.export("collection_role_arn", collection.collector_role_arn)
    if collection.scraper_arn is not None:
        pulumi.export("collection_scraper_arn", collection.scraper_arn)
        pulumi.export("collection_scraper_role_arn", collection.scraper_role_arn)
    if collection.celery_exporter_deployment is not None:
        pulumi.export("collection_celery_exporter", collection.celery_exporter_deployment)
    return collection


def declare_error_tracking(config: StackConfig) -> ErrorTracking | None:
    """Sentry projects, keys and alerts; the backend DSN as a Secret on the cluster, the frontend DSN an output."""
    spec = config.settings.sentry
    if spec is None:
        pulumi.export(
            "error_tracking",
            f"off: no monitoring:sentry block in {config.stack_file}; no Sentry project, key or alert is declared",
        )
        return None
    token = config.secrets.sentry_auth_token
    assert token is not None  # required with the sentry block (infra/config/loader.py)
    provider = sentry.Provider("sentry", base_url=spec.api_url, token=token)
    cluster = config.settings.collection.cluster_name
    backend_secret = None
    if cluster:
        backend_secret = BackendSecretArgs(
            namespace=spec.backend.namespace,
            name=spec.backend.secret_name,
            settings={
                "SENTRY_ENVIRONMENT": config.environment,
                "SENTRY_TRACES_SAMPLE_RATE": f"{spec.backend.traces_sample_rate:g}",
            },
            cluster_name=cluster,
            region=config.aws_region,
            kubeconfig=config.secrets.kubeconfig,
        )
    projects = [
        ProjectArgs(
            role=role,
            slug=spec.project_slug(config.settings.platform, config.environment, role),
            rate_limit_count=project.rate_limit.count,
            rate_limit_window_seconds=project.rate_limit.window_seconds,
            create=spec.project_per_environment or spec.owns_shared_objects,
        )
        for role, project in (("backend", spec.backend), ("frontend", spec.frontend))
    ]
    tracking = ErrorTracking(
        "error-tracking",
        ErrorTrackingArgs(
            organization=spec.organization,
            environment=config.environment,
            key_name=config.name_prefix,
            team_slug=spec.team,
            team_name=spec.team,
            create_team=spec.owns_shared_objects,
            projects=projects,
            alerts=issue_alert_definitions(spec.alerts),
            slack_workspace=spec.slack.workspace if spec.slack else None,
            slack_channel=spec.slack.channel if spec.slack else None,
            provider=provider,
            api_url=spec.api_url,
            token=token,
            backend_secret=backend_secret,
            project_per_environment=spec.project_per_environment,
            protect=config.settings.amp.protect,
        ),
    )
    delivery = (
        f"backend DSN in Secret {spec.backend.namespace}/{spec.backend.secret_name} on cluster {cluster}"
        if cluster
        else f"no Kubernetes Secret: monitoring:collection.clusterName is not set in {config.stack_file}"
    )
    pulumi.export(
        "error_tracking", f"on: Sentry organisation {spec.organization}, environment {config.environment}; {delivery}"
    )
    pulumi.export("sentry_organization", spec.organization)
    pulumi.export("sentry_environment", config.environment)
    pulumi.export("sentry_projects", tracking.project_slugs)
    pulumi.export("sentry_backend_dsn", tracking.dsns["backend"])
    pulumi.export("sentry_frontend_dsn", tracking.dsns["frontend"])
    pulumi.export(
        "sentry_frontend_settings",
        {
            "tracesSampleRate": spec.frontend.traces_sample_rate,
            "replaysSessionSampleRate": spec.frontend.replays_session_sample_rate,
            "replaysOnErrorSampleRate": spec.frontend.replays_on_error_sample_rate,
        },
    )
    if tracking.backend_secret_name is not None:
        pulumi.export("sentry_backend_secret", tracking.backend_secret_name)
    return tracking


def declare_usage_alarms(
    config: StackConfig, amp: AmpWorkspace, notifications: Notifications, model: Cardinality
) -> None:
    """Alarms on AMP's quotas to the warning topic, and the cost estimate the budget policy checks."""
    cost_spec = config.settings.cost
    AmpUsageAlarms(
        "amp-usage",
        AmpUsageAlarmsArgs(
            name_prefix=config.name_prefix,
            workspace_id=amp.workspace_id,
            alarm_topic_arns=[notifications.alarm_topic("warning")],
            threshold_percent=cost_spec.usage_alarm_percent if cost_spec is not None else DEFAULT_USAGE_ALARM_PERCENT,
            tags=config.tags("amp-usage"),
        ),
    )
    cost = estimate(config.settings, model, config.aws_region)
    if cost is not None:
        summary = cost.summary()
        CostEstimate("cost-estimate", summary)
        pulumi.export("cost_estimate", summary)


def declare_amp_log_alarms(config: StackConfig, amp: AmpWorkspace, notifications: Notifications) -> None:
    """Alarms on what AMP logs when it drops alerts or fails rules, to the pipeline topic (not through AMP)."""
    AmpLogAlarms(
        "amp-log-alarms",
        AmpLogAlarmsArgs(
            name_prefix=config.name_prefix,
            environment=config.settings.environment,
            log_group_name=amp.log_group.name,
            alarm_topic_arns=[notifications.alarm_topic(PIPELINE)],
            runbook_base_url=config.settings.rules.runbook_base_url,
            tags=config.tags("amp-log-alarms"),
        ),
    )


def declare_alert_rules(
    config: StackConfig, amp: AmpWorkspace, rule_files: dict[str, str], quotas: QuotaUsage
) -> AlertRules:
    if config.settings.collection.discovery != "kubernetes":
        # Say where the cluster alerts went rather than leave a reader of the plan to wonder.
        pulumi.log.info(
            "no cluster alert rules (resources, kubernetes) for this stack: collection.discovery is "
            f"'{config.settings.collection.discovery}', so there is no cluster to watch"
        )
    rules = AlertRules(
        "alert-rules",
        AlertRulesArgs(
            workspace_id=amp.workspace_id,
            rule_files=rule_files,
            tags=config.tags("alert-rules"),
            quotas=quotas.summary(),
        ),
    )
    pulumi.export("amp_rule_namespaces", rules.namespace_names)
    return rules


def declare_logs(
    config: StackConfig,
    notifications: Notifications,
    collection: MetricsCollection,
    declared: DeclaredGrafana,
    context: DashboardContext,
) -> None:
    """Container logs to CloudWatch Logs, their error-burst alarms and saved queries, and Grafana's view of them."""
    spec = config.settings.logs
    cluster = config.settings.collection
    # The log collector runs where the metrics collection runs on a cluster, on its Kubernetes provider.
    collector = None
    skipped = None
    if cluster.runs_in_cluster:
        # The collection declares its provider whenever it runs on a cluster.
        assert cluster.cluster_name is not None and collection.provider is not None
        collector = CollectorArgs(cluster.cluster_name, collection.namespace, collection.provider)
    elif cluster.cluster_name is None:
        skipped = (
            f"no cluster: monitoring:collection.clusterName is not set in {config.stack_file}, so no container "
            "writes logs here; set it (and monitoring:logs.sources) to collect them"
        )
    else:
        skipped = (
            f"monitoring:collection.mode is 'none' in {config.stack_file}: nothing is deployed on cluster "
            f"{cluster.cluster_name}, the log collector neither; set a mode to collect its logs"
        )
    sources = log_sources(spec)
    logs = CentralLogs(
        "logs",
        CentralLogsArgs(
            name_prefix=config.name_prefix,
            environment=config.environment,
            region=config.aws_region,
            retention_days=spec.retention_days,
            sources=sources,
            error_burst=spec.error_burst,
            alarm_topic_arns=[notifications.alarm_topic("warning")],
            runbook_base_url=config.settings.rules.runbook_base_url,
            tags=config.tags("logs"),
            collector=collector,
            skipped=skipped,
            protect=config.settings.amp.protect,
        ),
    )
    if skipped is not None:
        pulumi.export("logs_collection", f"none: {skipped}")
        return
    pulumi.export("logs_collection", f"{FLUENT_BIT.chart} {FLUENT_BIT.version} (Helm release {LOGS_RELEASE})")
    pulumi.export("log_group_names", logs.group_names)
    pulumi.export("log_key_arn", logs.key_arn)
    pulumi.export("log_error_alarm_names", logs.alarm_names)
    pulumi.export("log_saved_query_ids", logs.query_ids)
    names = {kind: log_group_name(config.name_prefix, kind) for kind in GROUP_KINDS}
    grafana_logs = GrafanaLogs(
        "grafana-logs",
        GrafanaLogsArgs(
            name=f"CloudWatch Logs ({config.environment})",
            uid=logs_dashboard.cloudwatch_datasource_uid(config.name_prefix),
            role=grafana_role_args(config, "logs-read"),
            group_names=[logs.group_names[kind] for kind in GROUP_KINDS],
            group_arns=logs.group_arns,
            folder_uid=declared.folder_uid,
            dashboard=logs_dashboard.build(context, config.aws_region, names, [s.service for s in sources]),
            provider=declared.provider,
        ),
    )
    pulumi.export("logs_datasource_uid", grafana_logs.uid)
    pulumi.export("logs_dashboard_url", grafana_logs.dashboard_url)


@dataclass(frozen=True)
class Documents:
    """What the program derives from the configuration alone, before declaring anything.

    Rendering these first means a problem in them (a public service that
    nothing probes, a catalog the renderers refuse) stops the program with
    nothing half-declared, and each is rendered exactly once.
    """

    rule_files: dict[str, str]
    rule_quotas: QuotaUsage
    scrape_config: str
    dashboard_context: DashboardContext
    dashboards: dict[str, dict[str, Any]]
    cardinality: Cardinality
    checks: tuple[CheckSpec, ...]
    exporters: list[ExporterRelease]
    celery_exporter: CeleryExporterSettings | None


def render_documents(config: StackConfig) -> Documents:
    settings = config.settings
    # Rendered once: the cost model reads the rule files as data, AMP gets their YAML.
    rule_files = render_rule_files(settings)
    dashboard_context = DashboardContext.from_settings(settings)
    dashboards = build_all(dashboard_context)
    return Documents(
        rule_files=dict(rule_files),
        rule_quotas=quota_usage(settings, rule_files),
        scrape_config=render_scrape_config(settings, settings.collection.cluster_name),
        dashboard_context=dashboard_context,
        dashboards=dashboards,
        cardinality=cardinality(settings, rule_files.documents, dashboards),
        checks=plan_checks(settings),
        exporters=exporter_releases(settings, redis_password_set=config.secrets.redis_password is not None),
        celery_exporter=celery_exporter_settings(settings),
    )


def declare(config: StackConfig) -> None:
    """Declare every component of one stack from its validated configuration.

    The order follows the data: the workspace first (everything else names
    it), then what writes to and reads from it; the rule files go in before the
    Alertmanager definition and the collectors, so a workspace is never fed or
    alerting without its rules.
    """
    documents = render_documents(config)
    # An unknown probe is a configuration error only the provider can find: before anything else.
    probes = resolve_probes(config)
    amp = declare_amp(config, documents.cardinality)
    declare_alert_rules(config, amp, documents.rule_files, documents.rule_quotas)
    notifications = declare_notifications(config, amp)
    declare_usage_alarms(config, amp, notifications, documents.cardinality)
    declare_amp_log_alarms(config, amp, notifications)
    pagerduty_key = declare_paging(config, notifications)
    collection = declare_collection(config, amp, documents)
    # Grafana-managed alerts reach the same people as AMP's.
    declared_grafana = declare_grafana(config, amp, documents.dashboard_context, documents.dashboards, pagerduty_key)
    declare_grafana_heartbeat(config, declared_grafana, notifications, documents.dashboard_context)
    declare_alert_console(config, amp, declared_grafana)
    declare_deploy_annotations(config, declared_grafana)
    declare_dashboard_previews(config, declared_grafana)
    declare_synthetics(config, declared_grafana, documents, probes)
    declare_logs(config, notifications, collection, declared_grafana, documents.dashboard_context)
    declare_error_tracking(config)


def refuse_placeholders(config: StackConfig) -> None:
    """Stop a real preview or deployment while the stack still holds an example value (infra/config/placeholders)."""
    found = find_placeholders(config.settings)
    if found:
        raise PlaceholderError([placeholder.describe(config.stack_file) for placeholder in found])


def main(on_placeholders: Callable[[StackConfig], None] = refuse_placeholders) -> None:
    """The program `pulumi preview` and `pulumi up` run (__main__.py).

    `on_placeholders` sees the validated configuration before anything is declared. The CLI's entry point
    keeps the default, which refuses example values; the offline planner, which must plan the committed
    example stacks, passes one that reports them as warnings instead (planner.engine.run_stack).
    """
    apply_gc_policy()
    # Configuration errors surface here, before any resource is declared.
    config = load_stack_config()
    on_placeholders(config)
    declare(config)
