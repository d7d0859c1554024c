"""Sentry issue alerts as data: what each one matches, how loud it is, where it goes.

The Sentry provider (pulumiverse-sentry 0.0.9) speaks the older issue-alert
schema: conditions, filters and actions are lists of string-to-string maps,
each naming a rule class of Sentry's registry by its dotted `id`
(getsentry/sentry src/sentry/rules/). The ids, field names and allowed values
used here are the ones that registry defines; tests/sentry pins them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.config.sentry import SentryAlertsSpec

FIRST_SEEN = "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"
REGRESSION = "sentry.rules.conditions.regression_event.RegressionEventCondition"
EVENT_FREQUENCY = "sentry.rules.conditions.event_frequency.EventFrequencyCondition"
EMAIL_ACTION = "sentry.mail.actions.NotifyEmailAction"
SLACK_ACTION = "sentry.integrations.slack.notify_action.SlackNotifyServiceAction"

# Sentry stores a rule's name in a 64-character column (sentry/models/rule.py, Rule.label).
MAX_NAME_LENGTH = 64
# Tags the Slack message shows next to the issue (SlackNotifyServiceForm `tags`, comma-separated keys).
SLACK_TAGS = "environment,release,level,transaction"


@dataclass(frozen=True)
class IssueAlertDefinition:
    """One issue alert of one project, as the provider's SentryIssueAlert takes it (minus the actions)."""

    alert: str  # the runbook anchor: docs/runbooks.md#<alert lower-cased>
    severity: str
    conditions: list[dict[str, str]]
    frequency: int
    action_match: str = "any"
    filter_match: str = "all"
    filters: list[dict[str, str]] = field(default_factory=list)

    def name(self, project_role: str, environment: str) -> str:
        """`[severity] Alert role env`: the severity first, as every other alert of the platform reads."""
        text = f"[{self.severity}] {self.alert} {project_role} {environment}"
        if len(text) > MAX_NAME_LENGTH:
            raise ValueError(f"Sentry alert name '{text}' exceeds Sentry's {MAX_NAME_LENGTH} characters")
        return text


def issue_alert_definitions(spec: SentryAlertsSpec) -> list[IssueAlertDefinition]:
    """The issue alerts every project of a stack gets, from its `monitoring:sentry.alerts` block."""
    frequency = spec.action_interval_minutes
    definitions: list[IssueAlertDefinition] = []
    if spec.new_issue:
        definitions.append(IssueAlertDefinition("SentryNewIssue", "warning", [{"id": FIRST_SEEN}], frequency))
    if spec.regression:
        definitions.append(IssueAlertDefinition("SentryRegression", "warning", [{"id": REGRESSION}], frequency))
    if spec.error_spike is not None:
        spike = spec.error_spike
        definitions.append(
            IssueAlertDefinition(
                "SentryErrorSpike",
                "critical",
                # Values are strings: the schema maps strings to strings, and Sentry's form parses them.
                [
                    {
                        "id": EVENT_FREQUENCY,
                        "value": str(spike.events),
                        "interval": spike.interval,
                        "comparisonType": "count",
                    }
                ],
                frequency,
            )
        )
    return definitions


def alert_actions(team_internal_id: str, slack: tuple[str, str] | None) -> list[dict[str, str]]:
    """Email to the team's members and, when configured, a post through Sentry's Slack integration.

    `slack`: (integration ID of the workspace, channel name).
    """
    actions = [{"id": EMAIL_ACTION, "targetType": "Team", "targetIdentifier": team_internal_id}]
    if slack is not None:
        workspace, channel = slack
        actions.append({"id": SLACK_ACTION, "workspace": workspace, "channel": channel, "tags": SLACK_TAGS})
    return actions
