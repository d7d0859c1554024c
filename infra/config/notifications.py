"""Notification section: who hears about alerts, and how often."""

from __future__ import annotations

from pydantic import Field

from infra.config.base import Email, Section


class SlackChatbot(Section):
    """Slack delivery of the SNS topic through AWS Chatbot."""

    team_id: str = Field(pattern=r"^T[A-Z0-9]{6,12}$", description="Slack workspace ID, e.g. T012ABCDEF")
    channel_id: str = Field(pattern=r"^[CG][A-Z0-9]{6,12}$", description="Slack channel ID, e.g. C012ABCDEF")


class NotificationSpec(Section):
    """Who hears about alerts and how often."""

    emails: tuple[Email, ...] = Field(default=(), description="subscribed to the alert topic")
    slack: SlackChatbot | None = None
    group_wait_seconds: int = Field(default=30, ge=0, le=600)
    group_interval_minutes: int = Field(default=5, ge=1, le=60)
    repeat_interval_hours: int = Field(default=4, ge=1, le=120, description="AMP caps repeat_interval at 5 days")
    page_on_warning: bool = Field(default=False, description="route warnings to the paging path too")
