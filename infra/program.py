"""The Pulumi program: read the configuration once, declare every component, export outputs.

Each component gets the validated `StackConfig` and the outputs of the
components it builds on; nothing below this module reads configuration.
"""

from __future__ import annotations

import pulumi

from infra.components.amp import AmpWorkspace, AmpWorkspaceArgs, LabelSetLimitArgs
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


def declare(config: StackConfig) -> None:
    """Declare every component of one stack from its validated configuration."""
    amp = declare_amp(config)
    # --- alert rules (issue 3) ---
    # --- notifications and Alertmanager (issue 3) ---
    # --- collection (issue 6) ---
    # --- Grafana (issue 4) ---
    # --- synthetic checks (issue 5) ---
    del amp  # used by the components above as they land


def main() -> None:
    # Configuration errors surface here, before any resource is declared.
    declare(load_stack_config())
