"""Sentry fakes: slugs, numeric IDs and DSNs shaped like the ones sentry.io returns.

Sentry identifies an organisation, a project and a team by a slug in the API
and by a number inside; a DSN carries the key's public half, the
organisation's number (in the ingest host) and the project's number. Numbers
here come from the slugs alone, not the stack, so that every stack sees the
same IDs for the organisation-wide objects, as it would in the real org.
"""

from __future__ import annotations

import hashlib
from typing import Any

from planner.fakes import FakeContext, call_fake, resource_fake


def numeric_id(seed: str, digits: int = 7) -> str:
    """A stable decimal ID for an object named `seed` (Sentry's IDs are decimal strings)."""
    return str(int(hashlib.sha256(seed.encode()).hexdigest(), 16) % 10**digits + 10 ** (digits - 1))


def public_key(ctx: FakeContext, name: str) -> str:
    return ctx.token(f"{name}/public", 32)


def dsn(organization: str, project: str, key: str) -> str:
    """`https://<public key>@o<org id>.ingest.sentry.io/<project id>`, as the project's Client Keys page shows it."""
    return f"https://{key}@o{numeric_id(organization)}.ingest.sentry.io/{numeric_id(f'{organization}/{project}')}"


@resource_fake("pulumi:providers:sentry")
def provider(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return f"{name}-{ctx.uuid(name)}", {}


@resource_fake("sentry:index/sentryTeam:SentryTeam")
def team(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    slug = str(inputs.get("slug") or name)
    internal = numeric_id(f"{inputs.get('organization')}/team/{slug}")
    return slug, {"slug": slug, "internalId": internal, "teamId": internal, "hasAccess": True, "isMember": True}


@resource_fake("sentry:index/sentryProject:SentryProject")
def project(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    slug = str(inputs.get("slug") or name)
    internal = numeric_id(f"{inputs.get('organization')}/{slug}")
    return slug, {"slug": slug, "internalId": internal, "projectId": internal, "status": "active", "isPublic": False}


@resource_fake("sentry:index/sentryKey:SentryKey")
def key(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    # Only the secret half and the secret DSN are secret in the provider's schema (its SDK's
    # additional_secret_outputs); what else is secret is the program's choice, so not faked here.
    organization, project_slug = str(inputs.get("organization")), str(inputs.get("project"))
    public, secret = public_key(ctx, name), ctx.token(f"{name}/secret", 32)
    org_id, project_id = numeric_id(organization), numeric_id(f"{organization}/{project_slug}")
    host = f"o{org_id}.ingest.sentry.io"
    return public, {
        "public": public,
        "secret": secret,
        "projectId": int(project_id),
        "isActive": True,
        "dsnPublic": dsn(organization, project_slug, public),
        "dsnSecret": f"https://{public}:{secret}@{host}/{project_id}",
        "dsnCsp": f"https://{host}/api/{project_id}/security/?sentry_key={public}",
    }


@resource_fake("sentry:index/sentryIssueAlert:SentryIssueAlert")
def issue_alert(ctx: FakeContext, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    rule = numeric_id(f"{ctx.stack}/{name}")
    return f"{inputs.get('organization')}/{inputs.get('project')}/{rule}", {"internalId": rule}


@call_fake("sentry:index/getSentryOrganizationIntegration:getSentryOrganizationIntegration")
def organization_integration(ctx: FakeContext, args: dict[str, Any]) -> dict[str, Any]:
    # The Slack workspace installed in the organisation under the name the stack file gives.
    internal = numeric_id(f"{args.get('organization')}/integration/{args.get('providerKey')}/{args.get('name')}", 6)
    return {
        "id": internal,
        "internalId": internal,
        "name": args.get("name"),
        "organization": args.get("organization"),
        "providerKey": args.get("providerKey"),
    }


@call_fake("sentry:index/getSentryTeam:getSentryTeam")
def team_lookup(ctx: FakeContext, args: dict[str, Any]) -> dict[str, Any]:
    slug = str(args.get("slug"))
    internal = numeric_id(f"{args.get('organization')}/team/{slug}")
    return {
        "id": slug,
        "slug": slug,
        "name": slug,
        "organization": args.get("organization"),
        "internalId": internal,
        "hasAccess": True,
        "isMember": True,
        "isPending": False,
    }
