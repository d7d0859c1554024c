"""Notification section: who hears about alerts, and how often."""

from __future__ import annotations

from pydantic import Field, model_validator

from infra.config.base import Email, Section


class SlackChatbot(Section):
    """Slack delivery of the SNS topic through AWS Chatbot."""

    team_id: str = Field(pattern=r"^T[A-Z0-9]{6,12}$", description="Slack workspace ID, e.g. T012ABCDEF")
    channel_id: str = Field(pattern=r"^[CG][A-Z0-9]{6,12}$", description="Slack channel ID, e.g. C012ABCDEF")


class NotificationSpec(Section):
    """Who hears about alerts and how often."""

    emails: tuple[Email, ...] = Field(default=(), description="subscribed to the critical and warning topics")
    paging_emails: tuple[Email, ...] = Field(
        default=(), description="subscribed to the critical topic only, e.g. an on-call pager's email integration"
    )
    slack: SlackChatbot | None = None
    group_wait_seconds: int = Field(default=30, ge=0, le=600)
    group_interval_minutes: int = Field(default=5, ge=1, le=60)
    repeat_interval_hours: int = Field(default=4, ge=1, le=120, description="AMP caps repeat_interval at 5 days")
    page_on_warning: bool = Field(default=False, description="route warnings to the paging path too")

    @model_validator(mode="after")
    def _no_address_twice(self) -> NotificationSpec:
        # An address in both lists would get every critical alert twice.
        both = sorted(set(self.emails) & set(self.paging_emails))
        if both:
            raise ValueError(
                f"{', '.join(both)} listed in both emails and pagingEmails; keep each address in one list "
                "(emails already receive critical alerts)"
            )
        return self
