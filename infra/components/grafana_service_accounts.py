"""A Grafana service account that may do only what a custom RBAC role lists, and its token.

The account's basic role is `None` (terraform-provider-grafana
resource_service_account.go accepts Viewer, Editor, Admin, None), so every
right comes from the custom role (Grafana RBAC: Enterprise and Cloud). The
token is a secret output (the provider flags `key` as secret); rotate it with
`pulumi up --replace` on the token resource.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumiverse_grafana as grafana

NO_BASIC_ROLE = "None"


@dataclass(frozen=True)
class Permission:
    """One RBAC permission: an action (e.g. `annotations:create`) on a scope (e.g. `annotations:type:organization`)."""

    action: str
    scope: str


@dataclass
class ScopedServiceAccountArgs:
    account_name: str
    role_uid: str
    description: str
    permissions: Sequence[Permission]
    provider: grafana.Provider


class ScopedServiceAccount(pulumi.ComponentResource):
    """Service account + custom role + assignment + token."""

    token: pulumi.Output[str]
    account_id: pulumi.Output[str]

    def __init__(self, name: str, args: ScopedServiceAccountArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("monitoring:index:GrafanaScopedServiceAccount", name, None, opts)
        on_grafana = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.account = grafana.oss.ServiceAccount(
            f"{name}-account", name=args.account_name, role=NO_BASIC_ROLE, opts=on_grafana
        )
        self.role = grafana.enterprise.Role(
            f"{name}-role",
            uid=args.role_uid,
            name=f"custom:{args.role_uid}",
            description=args.description,
            # Scoped to this organisation only; a changed permission list gets a new version.
            global_=False,
            auto_increment_version=True,
            permissions=[
                grafana.enterprise.RolePermissionArgs(action=permission.action, scope=permission.scope)
                for permission in args.permissions
            ],
            opts=on_grafana,
        )
        grafana.enterprise.RoleAssignmentItem(
            f"{name}-assignment", role_uid=self.role.uid, service_account_id=self.account.id, opts=on_grafana
        )
        token = grafana.oss.ServiceAccountToken(
            f"{name}-token", service_account_id=self.account.id, name=f"{args.account_name}-token", opts=on_grafana
        )
        self.token = pulumi.Output.secret(token.key.apply(lambda key: key or ""))
        self.account_id = self.account.id
        self.register_outputs({"account_id": self.account_id, "token": self.token})
