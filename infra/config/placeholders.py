"""The example values the committed stack files carry, and where each real value comes from.

The stack files under stacks/ describe the screener platform with values nobody
outside its team can know (a Grafana Cloud stack, an external ID, Slack and
subnet IDs, addresses at the documentation domain example.com). They plan
offline as they are; a real deployment must not. `find_placeholders` lists every
one still present in a stack's validated settings (set in the file or left at a
default, like the runbook URL). Two callers read that list: the Pulumi program
(`infra.program.refuse_placeholders`) refuses to declare anything while it is not
empty, and the offline planner (`planner.engine.run_stack`) reports it as
warnings and plans on. When an example here really is your value (your Sentry
organisation is called `screener`), delete its entry in a reviewed change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from infra.config.loader import NAMESPACE, ConfigError
from infra.config.model import StackInput

# Domains reserved for documentation and testing (RFC 2606 section 2-3, RFC 6761 section 6): no mailbox there
# receives mail, so an SNS subscription or Grafana contact point to one reaches nobody.
_RESERVED_MAIL_DOMAIN = re.compile(
    r"@(?:[a-z0-9-]+\.)*(?:example\.(?:com|net|org)|[a-z0-9-]+\.(?:example|test|invalid|localhost))$", re.IGNORECASE
)


@dataclass(frozen=True)
class Placeholder:
    """One example value: the settings key it sits at and where the operator finds the real one."""

    key: str  # camelCase path under `monitoring:`, `[]` for any list index, as in the stack file
    where: str
    values: frozenset[str] = frozenset()
    pattern: re.Pattern[str] | None = None

    def matches(self, value: str) -> bool:
        return value in self.values or (self.pattern is not None and self.pattern.search(value) is not None)


PLACEHOLDERS: tuple[Placeholder, ...] = (
    Placeholder(
        "grafana.url",
        "your Grafana Cloud stack's URL, https://<slug>.grafana.net (grafana.com → My Account → the stack → Launch)",
        values=frozenset({"https://screener.grafana.net"}),
    ),
    Placeholder(
        "grafana.stackSlug",
        "the <slug> of your Grafana Cloud stack's URL (grafana.com → My Account → the stack's name)",
        values=frozenset({"screener"}),
    ),
    Placeholder(
        "grafana.externalId",
        "your Grafana Cloud stack's numeric ID: Connections → Data sources → add 'Amazon Managed Service for "
        "Prometheus' → Authentication provider 'Grafana Assume Role' shows it as External ID (the same in every "
        "stack file with this grafana.url)",
        values=frozenset({"1234567"}),
    ),
    Placeholder(
        "notifications.emails[]",
        "a real mailbox of the team (example.com and the other documentation domains receive no mail); each "
        "address confirms its SNS subscriptions after the first deploy",
        pattern=_RESERVED_MAIL_DOMAIN,
    ),
    Placeholder(
        "notifications.pagingEmails[]",
        "the on-call pager's real email integration address",
        pattern=_RESERVED_MAIL_DOMAIN,
    ),
    Placeholder(
        "notifications.slack.teamId",
        "the Slack workspace ID (T…) that AWS Chatbot shows once a Slack admin has authorised the workspace "
        "(console → Amazon Q Developer in chat applications → Configure new client → Slack)",
        values=frozenset({"T0SCREENER"}),
    ),
    Placeholder(
        "notifications.slack.channelId",
        "the alert channel's ID (C…): in Slack, the channel's name → About → Channel ID at the bottom",
        values=frozenset({"C0PRODALRT1", "C0STAGING01"}),
    ),
    Placeholder(
        "collection.subnetIds[]",
        "the cluster's subnets: `aws eks describe-cluster --name <clusterName> --query "
        "cluster.resourcesVpcConfig.subnetIds`",
        pattern=re.compile(r"^subnet-0a1b2c3d4e5f6"),
    ),
    Placeholder(
        "collection.securityGroupIds[]",
        "a security group that may reach the nodes' metrics ports, e.g. the cluster's own: `aws eks describe-cluster "
        "--name <clusterName> --query cluster.resourcesVpcConfig.clusterSecurityGroupId`",
        pattern=re.compile(r"^sg-0a1b2c3d4e5f6"),
    ),
    Placeholder(
        "sentry.organization",
        "your Sentry organisation's slug: Sentry → Settings → General Settings → Organization Slug "
        "(the <slug> of https://<slug>.sentry.io)",
        values=frozenset({"screener"}),
    ),
    Placeholder(
        "sentry.slack.workspace",
        "the name of the Slack workspace installed in Sentry (Sentry → Settings → Integrations → Slack)",
        values=frozenset({"Screener"}),
    ),
    Placeholder(
        "rules.runbookBaseUrl",
        "where your copy of docs/runbooks.md is served, e.g. https://github.com/<owner>/<repository>/blob/main/"
        "docs/runbooks.md (every alert links to it)",
        values=frozenset({"https://github.com/screener-platform/monitoring/blob/main/docs/runbooks.md"}),
    ),
)


@dataclass(frozen=True)
class FoundPlaceholder:
    """An example value at `path` (e.g. `notifications.emails[1]`) of a stack's settings."""

    path: str
    value: str
    placeholder: Placeholder
    # False when the stack file does not set the key and the example is the program's default.
    set_in_file: bool

    def describe(self, stack_file: str) -> str:
        """The one line both callers print: the stack file, the key, the example and where the real value is."""
        key = f"{NAMESPACE}:{self.path}"
        how = "holds the example value" if self.set_in_file else "is not set, so it defaults to the example value"
        return f"{stack_file}: {key}: {how} '{self.value}'; set it to {self.placeholder.where}"


def _leaves(section: Any, path: str, set_in_file: bool) -> Iterator[tuple[str, str, bool]]:
    """(path, value, set in the file?) of every string under `section`, with camelCase keys as in the stack file."""
    if isinstance(section, BaseModel):
        for name, field in type(section).model_fields.items():
            key = field.alias or name
            explicit = set_in_file and name in section.model_fields_set
            yield from _leaves(getattr(section, name), f"{path}.{key}" if path else key, explicit)
    elif isinstance(section, tuple | list):
        for index, item in enumerate(section):
            yield from _leaves(item, f"{path}[{index}]", set_in_file)
    elif isinstance(section, dict):
        for key, item in section.items():
            yield from _leaves(item, f"{path}.{key}", set_in_file)
    elif isinstance(section, str):
        yield path, section, set_in_file


_INDEX = re.compile(r"\[\d+\]")


def find_placeholders(settings: StackInput) -> list[FoundPlaceholder]:
    """Every example value of `PLACEHOLDERS` in the settings, in the order of the stack file's keys."""
    by_key = {placeholder.key: placeholder for placeholder in PLACEHOLDERS}
    found = []
    for path, value, set_in_file in _leaves(settings, "", True):
        placeholder = by_key.get(_INDEX.sub("[]", path))
        if placeholder is not None and placeholder.matches(value):
            found.append(FoundPlaceholder(path, value, placeholder, set_in_file))
    return found


class PlaceholderError(ConfigError):
    """A stack that still holds example values; `problems` has one line per value, as the planner prints them."""

    def __init__(self, problems: list[str]) -> None:
        # ConfigError's own message says "invalid"; these values are valid, only not yours.
        Exception.__init__(
            self,
            f"{len(problems)} example value(s) left in the stack configuration; nothing was deployed. Replace each "
            "(docs/deploying.md, 'Placeholders'):\n" + "\n".join(f"  - {p}" for p in problems),
        )
        self.problems = problems
