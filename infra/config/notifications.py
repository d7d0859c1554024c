"""Notification section: who hears about alerts, and how often."""

from __future__ import annotations

import re

from pydantic import Field, model_validator

from infra.config.base import Email, Section


def email_slug(email: str) -> str:
    """The part of an email subscription's logical name that comes from the address.

    SNS treats addresses case-insensitively and logical names drop punctuation,
    so two addresses with one slug would be one resource declared twice.
    """
    return re.sub(r"[^a-z0-9]+", "-", email.lower()).strip("-")


class SlackChatbot(Section):
    """Slack delivery of the SNS topic through AWS Chatbot."""

    team_id: str = Field(pattern=r"^T[A-Z0-9]{6,12}$", description="Slack workspace ID, e.g. T012ABCDEF")
    channel_id: str = Field(pattern=r"^[CG][A-Z0-9]{6,12}$", description="Slack channel ID, e.g. C012ABCDEF")


class NotificationSpec(Section):
    """Who hears about alerts and how often."""

    emails: tuple[Email, ...] = Field(
        default=(),
        description="at least one; subscribed to the critical and warning topics; Grafana mails them too",
    )
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
        seen: dict[str, str] = {}
        for email in (*self.emails, *self.paging_emails):
            slug = email_slug(email)
            if slug in seen:
                raise ValueError(
                    f"'{seen[slug]}' and '{email}' are the same subscriber (SNS ignores case; the logical name "
                    "drops punctuation); keep one of them"
                )
            seen[slug] = email
        return self
