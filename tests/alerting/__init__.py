"""Alerting tests."""
