"""What every alert of this project has in common, wherever it is evaluated.

AMP's rules (`rule_model`), Grafana-managed rules (`grafana_rules`) and the
Alertmanager and Grafana routing (`alertmanager`, the Grafana policy tree)
all take these from here, so a convention changes in one place:
- severities, and who hears each (routing reads the `severity` label);
- alert names in CamelCase, which are also the runbook headings;
- a static `summary` (templates belong in the description: a summary is what
  a phone's lock screen shows, and it must read the same every time);
- one runbook link per alert, GitHub's lower-case heading anchor;
- one notification per alert name, service and severity.
"""

from __future__ import annotations

import re
from typing import Literal

# info and none reach nobody: dashboards only, and the always-firing heartbeats.
Severity = Literal["critical", "warning", "info", "none"]
SEVERITIES: tuple[Severity, ...] = ("critical", "warning", "info", "none")

# Grouping in AMP's Alertmanager and Grafana's policy tree alike.
GROUP_BY = ("alertname", "service", "severity")

_ALERT_NAME = re.compile(r"^[A-Z][A-Za-z0-9]+$")


def check_alert_text(name: str, summary: str) -> None:
    """Refuse an alert name that is not CamelCase and a summary with a template in it."""
    if not _ALERT_NAME.match(name):
        raise ValueError(f"alert name '{name}' is not CamelCase")
    if "{{" in summary:
        raise ValueError(f"alert {name}: the summary is a static sentence; templates go in the description")


def runbook_link(runbook_base_url: str, alert_name: str) -> str:
    """The runbook link of an alert: one heading per alert in the runbook page (GitHub anchor rules)."""
    return f"{runbook_base_url}#{alert_name.lower()}"


# Dead man's switches (AMP's Watchdog, Grafana's heartbeat) are re-sent every 5 minutes, often enough
# that 15 minutes without one means the path is broken, not late, yet not so often that it costs anything.
HEARTBEAT_GROUP_INTERVAL = "1m"
HEARTBEAT_REPEAT_INTERVAL = "5m"
HEARTBEAT_SILENCE_SECONDS = 900
