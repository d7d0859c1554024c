"""One Grafana folder per environment and every registered dashboard in it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumiverse_grafana as grafana

from dashboards.common import to_json


@dataclass
class GrafanaDashboardsArgs:
    folder_uid: str
    folder_title: str
    # slug -> JSON model (`dashboards.registry.build_all`), built once per plan: the cost model reads them too.
    models: Mapping[str, dict[str, Any]]
    provider: grafana.Provider


class GrafanaDashboards(pulumi.ComponentResource):
    """The environment's folder and its dashboards, uploaded from the Python builders."""

    folder_uid: pulumi.Output[str]
    folder_url: pulumi.Output[str]
    dashboard_urls: dict[str, pulumi.Output[str]]
    dashboard_uids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: GrafanaDashboardsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("monitoring:index:GrafanaDashboards", name, None, opts)
        on_grafana = pulumi.ResourceOptions(parent=self, provider=args.provider)

        self.folder = grafana.oss.Folder(
            f"{name}-folder",
            uid=args.folder_uid,
            title=args.folder_title,
            # Someone may have saved their own dashboards or alert rules here;
            # deleting the stack must not take those with it.
            prevent_destroy_if_not_empty=True,
            opts=on_grafana,
        )

        self.dashboards: dict[str, grafana.oss.Dashboard] = {}
        for slug, model in args.models.items():
            self.dashboards[slug] = grafana.oss.Dashboard(
                f"{name}-{slug}",
                folder=self.folder.uid,
                config_json=to_json(model),
                message="Deployed by Pulumi (monitoring project)",
                # Code is the source of truth: an edit saved in the UI is replaced
                # on the next deploy instead of failing it with a version conflict.
                overwrite=True,
                opts=on_grafana,
            )

        self.folder_uid = self.folder.uid
        self.folder_url = self.folder.url
        self.dashboard_urls = {slug: board.url for slug, board in self.dashboards.items()}
        self.dashboard_uids = {slug: board.uid for slug, board in self.dashboards.items()}
        self.register_outputs(
            {
                "folder_uid": self.folder_uid,
                "folder_url": self.folder_url,
                "dashboard_urls": self.dashboard_urls,
                "dashboard_uids": self.dashboard_uids,
            }
        )
