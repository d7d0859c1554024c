"""The screener monitoring conventions as Pulumi policies.

One small function per convention, grouped by what they inspect. The pack
(`policies/__main__.py`) and the offline runner (`planner/policy_check.py`)
both take `POLICIES` from here. These modules import only the standard
library, pulumi_policy and PyYAML: the pack runs in its own virtualenv.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy

from screener_policies import alerting, aws, cost, grafana, kubernetes, maintenance, quotas, sentry, stack

PACK_NAME = "screener-monitoring-conventions"
# A policy without its own level blocks the update; advisory ones say why.
DEFAULT_ENFORCEMENT = EnforcementLevel.MANDATORY

POLICIES: list[Policy] = [
    *alerting.POLICIES,
    *aws.POLICIES,
    *cost.POLICIES,
    *grafana.POLICIES,
    *kubernetes.POLICIES,
    *maintenance.POLICIES,
    *quotas.POLICIES,
    *sentry.POLICIES,
    *stack.POLICIES,
]
