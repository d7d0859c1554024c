"""`monitoring:paging`: a paging service for the critical path (optional; without it the paging emails stay)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from infra.config.base import PlainText, Section


class PagingSpec(Section):
    provider: Literal["pagerduty"] = Field(description="the paging service; only pagerduty for now")
    escalation_policy_id: str = Field(
        pattern=r"^P[A-Z0-9]{6}$",
        description="PagerDuty escalation policy (e.g. PABC123) the service pages; it holds the on-call schedule",
    )
    # PagerDuty's service name: at most 255 characters (PagerDuty REST API, Services: name).
    service_name: PlainText | None = Field(
        default=None, min_length=1, max_length=255, description="defaults to '<platform>-<environment> monitoring'"
    )
