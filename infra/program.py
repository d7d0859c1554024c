"""The Pulumi program: read the configuration once, declare every component, export outputs.

Each component gets the validated `StackConfig` and the outputs of the
components it builds on; nothing below this module reads configuration.
"""

from __future__ import annotations

import pulumi

from infra.alerting.alertmanager import render_alertmanager_definition
from infra.components.alertmanager import Alertmanager, AlertmanagerArgs
from infra.components.amp import AmpWorkspace, AmpWorkspaceArgs, LabelSetLimitArgs
from infra.components.notifications import Notifications, NotificationsArgs, SlackChannelArgs
from infra.config import StackConfig, load_stack_config


def declare_amp(config: StackConfig) -> AmpWorkspace:
    amp = AmpWorkspace(
        "amp",
        AmpWorkspaceArgs(
            alias=config.name_prefix,
            retention_days=config.settings.amp.retention_days,
            log_retention_days=config.settings.amp.log_retention_days,
            label_set_limits=[
                LabelSetLimitArgs(label_set=limit.label_set, max_series=limit.max_series)
                for limit in config.settings.amp.label_set_limits
            ],
            protect=config.settings.amp.protect,
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
    return notifications


def declare(config: StackConfig) -> None:
    """Declare every component of one stack from its validated configuration."""
    amp = declare_amp(config)
    # --- alert rules (issue 3) ---
    # --- notifications and Alertmanager (issue 3) ---
    declare_notifications(config, amp)
    # --- collection (issue 6) ---
    # --- Grafana (issue 4) ---
    # --- synthetic checks (issue 5) ---
    del amp  # used by the components above as they land


def main() -> None:
    # Configuration errors surface here, before any resource is declared.
    declare(load_stack_config())
