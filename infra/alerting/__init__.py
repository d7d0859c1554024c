"""Alerting as data: rule files and the Alertmanager definition, rendered from the stack settings."""
