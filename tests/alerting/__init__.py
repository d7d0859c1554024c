"""Alerting tests."""

from planner.stackfile import stack_settings

__all__ = ["stack_settings"]
