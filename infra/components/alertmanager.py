"""AMP's managed Alertmanager: the definition (routes, receivers, templates) uploaded to the workspace."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws


@dataclass
class AlertmanagerArgs:
    workspace_id: pulumi.Input[str]
    # The rendered definition (infra.alerting.alertmanager.render_alertmanager_definition).
    definition: pulumi.Input[str]
    # What must exist before alerts can be delivered (the topics' policies).
    delivery_dependencies: Sequence[pulumi.Resource] = field(default_factory=list)


class Alertmanager(pulumi.ComponentResource):
    """The Alertmanager definition of one AMP workspace."""

    definition_id: pulumi.Output[str]

    def __init__(self, name: str, args: AlertmanagerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("monitoring:index:Alertmanager", name, None, opts)
        # Uploading before the topic policies exist would make the first
        # alerts fail to publish; waiting costs nothing.
        self.definition = aws.amp.AlertManagerDefinition(
            f"{name}-definition",
            workspace_id=args.workspace_id,
            definition=args.definition,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.delivery_dependencies)),
        )
        self.definition_id = self.definition.id
        self.register_outputs({"definition_id": self.definition_id})
