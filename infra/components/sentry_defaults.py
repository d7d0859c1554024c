"""Removes what Sentry adds to every new project: its default issue alert and its "Default" client key.

Why a resource of our own: pulumiverse-sentry 0.0.9 bridges terraform-provider-sentry v0.11.2, whose
project resource cannot send `default_rules: false` (added in v0.12.0, with `default_key`) and 0.0.9 is the
newest pulumiverse-sentry on PyPI. So Sentry creates, with every project:
- an issue alert that mails the issue owners, falling through to all active members, on every new (or
  high-priority) issue of every environment (getsentry/sentry src/sentry/receivers/rules.py,
  `create_default_rules`: label DEFAULT_RULE_LABEL "Send a notification for new issues" or
  DEFAULT_RULE_LABEL_NEW "Send a notification for high priority issues"; skipped only when the project
  is created with `default_rules: false`, ProjectPostSerializer), bypassing our environment-scoped alerts;
- a client key named "Default" without a rate limit, which would bypass the rate limit of our own key
  (terraform-provider-sentry v0.12.0 removes it the same way: sentry/resource_sentry_project.go,
  `removeDefaultKey`, lists the keys and deletes the one named "Default").

Once the project exists, this resource lists the project's issue alerts and client keys and deletes those
two, through Sentry's documented API (docs.sentry.io/api/):
- GET    /api/0/projects/{org}/{project}/rules/           List a Project's Issue Alert Rules
- DELETE /api/0/projects/{org}/{project}/rules/{rule_id}/ Delete an Issue Alert Rule
- GET    /api/0/projects/{org}/{project}/keys/            List a Project's Client Keys
- DELETE /api/0/projects/{org}/{project}/keys/{key_id}/   Delete a Client Key
(docs.sentry.io/api/alerts/delete-an-issue-alert-rule answers 202 "Accepted", scopes alerts:write,
project:write or project:admin; docs.sentry.io/api/projects/delete-a-client-key answers 204 and needs
project:admin: scopes the token the README asks for already has.)
Lists are paginated with a `Link` header (`rel="next"; results="true"; cursor="..."`, "Paginating
Results"). Authentication: `Authorization: Bearer <token>` (the provider's token).

When a pulumiverse-sentry release bridges terraform-provider-sentry v0.13.0 or later (`default_rules`,
`default_key`, and `platform` checked against a built-in list, internal/sentryplatforms, instead of a web
request), set those two to false on the project, give it its platform again, and remove this resource.

Deleting this resource does nothing: the defaults are gone, and the project's own deletion removes the rest.
Only the standard library is used: a dynamic provider runs in its own process from the program's directory.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi.dynamic

# getsentry/sentry src/sentry/receivers/rules.py (DEFAULT_RULE_LABEL, DEFAULT_RULE_LABEL_NEW).
DEFAULT_RULE_LABELS = ("Send a notification for new issues", "Send a notification for high priority issues")
# The key Sentry creates with every project (terraform-provider-sentry v0.12.0 removeDefaultKey).
DEFAULT_KEY_NAME = "Default"
REQUEST_TIMEOUT_SECONDS = 30
# A new project has one rule and one key; a bound keeps a misbehaving server from looping forever.
MAX_PAGES = 50

_NEXT_PAGE = re.compile(r'<([^>]*)>;\s*rel="next";\s*results="true"')


class SentryApiError(RuntimeError):
    """A Sentry API call that did not answer 2xx (the message names the call, never the token)."""


@dataclass(frozen=True)
class SentryApi:
    """The few calls of Sentry's web API this resource makes, at `base_url` (the provider's, ending /api/)."""

    base_url: str
    token: str = field(repr=False)

    def _url(self, path: str) -> str:
        return urllib.parse.urljoin(self.base_url if self.base_url.endswith("/") else f"{self.base_url}/", path)

    def _request(self, method: str, url: str) -> tuple[Any, str]:
        request = urllib.request.Request(url, method=method, headers={"Authorization": f"Bearer {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
                body = response.read()
                return (json.loads(body) if body else None), response.headers.get("Link", "")
        except urllib.error.HTTPError as error:
            raise SentryApiError(f"Sentry API {method} {url} answered {error.code} {error.reason}") from None

    def list(self, path: str) -> list[dict[str, Any]]:
        """Every item of a paginated list endpoint, following `Link: <...>; rel="next"; results="true"`."""
        items: list[dict[str, Any]] = []
        url: str | None = self._url(path)
        for _ in range(MAX_PAGES):
            if url is None:
                return items
            page, link = self._request("GET", url)
            items.extend(page)
            found = _NEXT_PAGE.search(link)
            url = found.group(1) if found else None
        raise SentryApiError(f"Sentry API GET {self._url(path)} has more than {MAX_PAGES} pages")

    def delete(self, path: str) -> None:
        self._request("DELETE", self._url(path))


def remove_project_defaults(api: SentryApi, organization: str, project: str) -> dict[str, list[str]]:
    """Deletes Sentry's default issue alert(s) and "Default" key of the project; returns the deleted IDs."""
    base = f"0/projects/{urllib.parse.quote(organization)}/{urllib.parse.quote(project)}"
    rules = [r for r in api.list(f"{base}/rules/") if r.get("name") in DEFAULT_RULE_LABELS]
    keys = [k for k in api.list(f"{base}/keys/") if k.get("name") == DEFAULT_KEY_NAME]
    for rule in rules:
        api.delete(f"{base}/rules/{urllib.parse.quote(str(rule['id']))}/")
    for key in keys:
        api.delete(f"{base}/keys/{urllib.parse.quote(str(key['id']))}/")
    return {"removedRuleIds": [str(r["id"]) for r in rules], "removedKeyIds": [str(k["id"]) for k in keys]}


class ProjectDefaultsRemover(pulumi.dynamic.ResourceProvider):
    """Create removes the defaults; nothing else calls Sentry."""

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        api = SentryApi(props["apiUrl"], props["token"])
        removed = remove_project_defaults(api, props["organization"], props["project"])
        return pulumi.dynamic.CreateResult(
            id_=f"{props['organization']}/{props['project']}",
            outs={"organization": props["organization"], "project": props["project"], **removed},
        )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        # Another project is another clean-up; a new token or API URL changes nothing already done.
        moved = [key for key in ("organization", "project") if olds.get(key) != news.get(key)]
        return pulumi.dynamic.DiffResult(changes=bool(moved), replaces=moved, delete_before_replace=False)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


@dataclass
class ProjectDefaultsArgs:
    api_url: str
    token: pulumi.Input[str]
    organization: str
    project: pulumi.Input[str]  # the SentryProject's slug output: removed once the project exists


class SentryProjectDefaults(pulumi.dynamic.Resource, module="sentry", name="ProjectDefaults"):
    """The clean-up of one project's defaults (outputs removedRuleIds, removedKeyIds: what was deleted)."""

    def __init__(self, name: str, args: ProjectDefaultsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(
            ProjectDefaultsRemover(),
            name,
            {
                "apiUrl": args.api_url,
                "token": pulumi.Output.secret(args.token),
                "organization": args.organization,
                "project": args.project,
                "removedRuleIds": None,
                "removedKeyIds": None,
            },
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["token"])),
        )
