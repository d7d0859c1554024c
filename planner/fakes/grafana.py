"""Grafana fakes: UIDs and URLs shaped like the ones Grafana Cloud returns.

Grafana builds folder and dashboard URLs from the stack URL that the provider
was configured with; the provider registers before anything it manages, so
its fake remembers that URL (per stack) for the others.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pulumi.runtime import rpc

from planner.fakes import FakeContext, call_fake, resource_fake

_STACK_URLS: dict[str, str] = {}
_DEFAULT_URL = "https://grafana.example.net"


def _base_url(ctx: FakeContext) -> str:
    return _STACK_URLS.get(ctx.stack, _DEFAULT_URL).rstrip("/")


def slugify(title: str) -> str:
    """Grafana's URL slug of a title: lower case, runs of other characters become one '-'."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


@resource_fake("pulumi:providers:grafana")
def provider(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    url = inputs.get("url")
    if isinstance(url, str) and url:
        _STACK_URLS[ctx.stack] = url
    return f"{name}-{ctx.uuid(name)}", {}


@resource_fake("grafana:oss/folder:Folder")
def folder(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    uid = inputs.get("uid") or ctx.token(name, 14)
    title = str(inputs.get("title", name))
    return f"1:{uid}", {"uid": uid, "url": f"{_base_url(ctx)}/dashboards/f/{uid}/{slugify(title)}"}


@resource_fake("grafana:oss/dashboard:Dashboard")
def dashboard(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    model = json.loads(inputs.get("configJson") or "{}")
    uid = model.get("uid") or ctx.token(name, 14)
    title = str(model.get("title", name))
    return f"1:{uid}", {
        "uid": uid,
        "dashboardId": int(ctx.token(name, 6), 16),
        "version": 1,
        "url": f"{_base_url(ctx)}/d/{uid}/{slugify(title)}",
    }


@resource_fake("grafana:oss/dataSource:DataSource")
def data_source(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    uid = inputs.get("uid") or ctx.token(name, 14)
    return f"1:{uid}", {"uid": uid}


@resource_fake("grafana:cloud/pluginInstallation:PluginInstallation")
def plugin_installation(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return f"{inputs.get('stackSlug')}:{inputs.get('slug')}", {}


@resource_fake("grafana:alerting/contactPoint:ContactPoint")
def contact_point(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return f"1:{inputs.get('name', name)}", {}


@resource_fake("grafana:alerting/notificationPolicy:NotificationPolicy")
def notification_policy(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    # Grafana has one policy tree per organisation; its ID is the org's.
    return "1:policy", {}


@resource_fake("grafana:alerting/muteTiming:MuteTiming")
def mute_timing(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return f"1:{inputs.get('name', name)}", {}


@resource_fake("grafana:alerting/ruleGroup:RuleGroup")
def rule_group(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    rules = [
        {**rule, "uid": rule.get("uid") or ctx.token(f"{name}/{rule.get('name')}", 14)}
        for rule in inputs.get("rules") or []
    ]
    return f"1:{inputs.get('folderUid')}:{inputs.get('name', name)}", {"rules": rules}


# Public Synthetic Monitoring probes as the API lists them (name -> ID).
PUBLIC_PROBES: dict[str, int] = {
    "Amsterdam": 8,
    "Atlanta": 1,
    "Bangalore": 7,
    "CapeTown": 988,
    "Dallas": 565,
    "Frankfurt": 13,
    "London": 5,
    "Mumbai": 567,
    "NewYork": 2,
    "NorthCalifornia": 568,
    "NorthVirginia": 569,
    "Ohio": 570,
    "Oregon": 571,
    "Paris": 12,
    "SanFrancisco": 3,
    "SaoPaulo": 572,
    "Seoul": 14,
    "Singapore": 9,
    "Stockholm": 573,
    "Sydney": 10,
    "Tokyo": 11,
    "Toronto": 15,
}


@call_fake("grafana:syntheticMonitoring/getProbes:getProbes")
def synthetic_probes(ctx: FakeContext, args: dict[str, Any]) -> dict[str, Any]:
    return {"id": "probes", "filterDeprecated": args.get("filterDeprecated", True), "probes": dict(PUBLIC_PROBES)}


@resource_fake("grafana:syntheticMonitoring/check:Check")
def synthetic_check(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    # Check IDs are integers, unique in the tenant (kept as strings by the provider).
    return str(int(ctx.token(name, 5), 16)), {"tenantId": 4201}


@resource_fake("grafana:oss/dashboardPublic:DashboardPublic")
def dashboard_public(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    uid = inputs.get("uid") or ctx.token(f"{name}/uid", 14)
    access_token = inputs.get("accessToken") or ctx.token(f"{name}/token", 32)
    return f"1:{uid}", {"uid": uid, "accessToken": access_token, "orgId": "1"}


@resource_fake("grafana:oss/serviceAccount:ServiceAccount")
def service_account(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    # Grafana numbers service accounts per instance; the provider's ID is "<org>:<id>".
    return f"1:{int(ctx.token(name, 4), 16)}", {"isDisabled": False}


@resource_fake("grafana:oss/serviceAccountToken:ServiceAccountToken")
def service_account_token(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    # Shaped like a real token (glsa_ prefix); like the real provider, flagged secret.
    return str(int(ctx.token(name, 4), 16)), {
        "key": rpc.wrap_rpc_secret(f"glsa_{ctx.token(f'{name}/key', 32)}_{ctx.token(f'{name}/crc', 8)}"),
        "hasExpired": False,
    }


@resource_fake("grafana:enterprise/role:Role")
def rbac_role(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    uid = inputs.get("uid") or ctx.token(name, 14)
    return f"1:{uid}", {"uid": uid, "version": inputs.get("version") or 1}


@resource_fake("grafana:enterprise/roleAssignmentItem:RoleAssignmentItem")
def rbac_role_assignment(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return f"1:{inputs.get('roleUid')}:service_account:{inputs.get('serviceAccountId')}", {}
