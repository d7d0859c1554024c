"""Across every stack file: one owner per Grafana object, one external ID per Grafana stack.

The committed stack files share one Grafana Cloud stack. Grafana identifies
each object by a key that does not mention the Pulumi stack (the provider's
import IDs, pulumiverse_grafana resource docstrings, "## Import"): a contact
point or mute timing by `{orgID}:{name}`, the notification policy tree by
the org alone, a rule group by `{folderUID}:{title}`, a data source, folder
or dashboard by its uid, a public dashboard by its dashboard, and a plugin
installation by `{stackSlug}:{pluginSlug}`. Two Pulumi stacks declaring the
same key would each believe they own it: the last `up` wins and a `destroy`
of either deletes it under the other.

Each stack is planned with a Cloud access-policy token, the case in which it
would also install the AMP plugin.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from infra.config import StackInput
from infra.config.stackfile import stack_settings
from planner.engine import Plan, PlannedResource
from tests.conftest import STACKS
from tests.grafana.stacks import plan_with_cloud_token

Identity = tuple[str, ...]


def _dashboard_uid(resource: PlannedResource) -> str:
    return str(json.loads(resource.inputs["configJson"])["uid"])


# Type token -> the keys Grafana identifies the object by (besides the Grafana instance).
IDENTITIES: Mapping[str, Callable[[PlannedResource], Sequence[Identity]]] = {
    "grafana:alerting/contactPoint:ContactPoint": lambda r: [("contact point", r.inputs["name"])],
    "grafana:alerting/notificationPolicy:NotificationPolicy": lambda r: [("notification policy tree",)],
    "grafana:alerting/muteTiming:MuteTiming": lambda r: [("mute timing", r.inputs["name"])],
    "grafana:alerting/ruleGroup:RuleGroup": lambda r: [
        ("rule group", r.inputs["folderUid"], r.inputs["name"]),
        *(("alert rule uid", rule["uid"]) for rule in r.inputs["rules"] if "uid" in rule),
    ],
    "grafana:oss/dataSource:DataSource": lambda r: [
        ("data source uid", r.inputs["uid"]),
        ("data source name", r.inputs["name"]),
    ],
    "grafana:oss/folder:Folder": lambda r: [("folder", r.inputs["uid"])],
    "grafana:oss/dashboard:Dashboard": lambda r: [("dashboard", _dashboard_uid(r))],
    "grafana:oss/dashboardPublic:DashboardPublic": lambda r: [("public dashboard of", r.inputs["dashboardUid"])],
    "grafana:syntheticMonitoring/check:Check": lambda r: [("synthetic check", r.inputs["job"], r.inputs["target"])],
    # Service accounts and custom roles are unique by name and by uid in an organisation (Grafana's
    # access-control API: roles by uid; `pulumi import` of a service account by its id, names unique).
    "grafana:oss/serviceAccount:ServiceAccount": lambda r: [("service account", r.inputs["name"])],
    "grafana:oss/serviceAccountToken:ServiceAccountToken": lambda r: [("service account token", r.inputs["name"])],
    "grafana:enterprise/role:Role": lambda r: [("role uid", r.inputs["uid"]), ("role name", r.inputs["name"])],
    "grafana:enterprise/roleAssignmentItem:RoleAssignmentItem": lambda r: [("role assignment", r.inputs["roleUid"])],
}
PLUGIN = "grafana:cloud/pluginInstallation:PluginInstallation"
POLICY_TREE = "grafana:alerting/notificationPolicy:NotificationPolicy"


def grafana_keys(plan: Plan, settings: StackInput) -> dict[Identity, str]:
    """Every Grafana object the plan declares, by the key Grafana knows it by, with the resource's name."""
    keys: dict[Identity, str] = {}
    for resource in plan.resources:
        if not resource.custom or not resource.type.startswith("grafana:"):
            continue
        if resource.type == PLUGIN:
            # Keyed by the Cloud stack, whatever URL the Pulumi stack reaches it by.
            keys[("plugin installation", resource.inputs["stackSlug"], resource.inputs["slug"])] = resource.name
            continue
        identify = IDENTITIES.get(resource.type)
        assert identify is not None, f"{resource.type}: say how Grafana identifies it (its import ID) in IDENTITIES"
        for identity in identify(resource):
            keys[(settings.grafana.url, *identity)] = resource.name
    return keys


def second_owners(plans: Mapping[str, Plan], settings: Mapping[str, StackInput]) -> list[str]:
    owners: dict[Identity, list[str]] = {}
    for stack, plan in plans.items():
        for key, name in grafana_keys(plan, settings[stack]).items():
            owners.setdefault(key, []).append(f"{stack}:{name}")
    return sorted(f"{' / '.join(key)} is declared by {', '.join(who)}" for key, who in owners.items() if len(who) > 1)


def test_every_grafana_object_has_exactly_one_owning_stack() -> None:
    plans = {stack: plan_with_cloud_token(stack) for stack in STACKS}
    settings = {stack: stack_settings(stack) for stack in STACKS}
    # The stack-wide ones are there to be checked: the tree and the plugin installation.
    everything = {key for stack in STACKS for key in grafana_keys(plans[stack], settings[stack])}
    assert ("plugin installation", "screener", "grafana-amazonprometheus-datasource") in everything
    assert ("https://screener.grafana.net", "notification policy tree") in everything
    assert second_owners(plans, settings) == []


def test_a_planted_second_owner_of_the_tree_and_the_plugin_is_caught() -> None:
    prod = plan_with_cloud_token("prod")
    staging = plan_with_cloud_token("staging")
    stack_wide = [
        r for r in prod.resources if r.type in (PLUGIN, "grafana:alerting/notificationPolicy:NotificationPolicy")
    ]
    assert len(stack_wide) == 2
    planted = replace(staging, resources=[*staging.resources, *stack_wide])
    settings = {stack: stack_settings(stack) for stack in ("staging", "prod")}
    assert second_owners({"staging": planted, "prod": prod}, settings) == [
        "https://screener.grafana.net / notification policy tree is declared by "
        "staging:grafana-alerting-policy, prod:grafana-alerting-policy",
        "plugin installation / screener / grafana-amazonprometheus-datasource is declared by "
        "staging:grafana-amp-plugin, prod:grafana-amp-plugin",
    ]


def external_id_disagreements(settings: Mapping[str, StackInput]) -> list[str]:
    """Stack files on one Grafana stack that trust different external IDs.

    Grafana Assume Role sends one external ID per Grafana instance (the
    instance-wide AWS_AUTH_EXTERNAL_ID: grafana/grafana-aws-sdk
    pkg/awsds/authSettings.go, used for every SigV4 data source by
    pkg/awsauth/sigv4.go and pkg/awsds/external_id.go), so a role trusting any
    other value is never assumed and every dashboard of that stack is blank.
    """
    by_url: dict[str, dict[str, list[str]]] = {}
    for stack, spec in settings.items():
        by_url.setdefault(spec.grafana.url, {}).setdefault(spec.grafana.external_id, []).append(stack)
    return [
        f"{url}: "
        + "; ".join(f"{', '.join(stacks)} trust {external_id}" for external_id, stacks in sorted(ids.items()))
        for url, ids in sorted(by_url.items())
        if len(ids) > 1
    ]


def test_stacks_on_one_grafana_stack_trust_the_same_external_id() -> None:
    settings = {stack: stack_settings(stack) for stack in STACKS}
    assert len({spec.grafana.url for spec in settings.values()}) == 1  # the test compares something
    assert external_id_disagreements(settings) == []


def test_a_stack_file_with_its_own_external_id_is_caught() -> None:
    settings = {stack: stack_settings(stack) for stack in STACKS}
    staging = settings["staging"]
    settings["staging"] = staging.model_copy(
        update={"grafana": staging.grafana.model_copy(update={"external_id": "7654321"})}
    )
    assert external_id_disagreements(settings) == [
        "https://screener.grafana.net: dev, prod trust 1234567; staging trust 7654321"
    ]
