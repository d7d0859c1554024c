"""Golden files: each stack's rendered scrape config and the Airflow statsd mapping."""

from __future__ import annotations

from infra.collection.scrape_config import render_agent_config, render_scrape_config
from infra.collection.statsd_mapping import render_statsd_mapping
from infra.config.stackfile import stack_settings

# A stand-in URL: the real one is known only once the workspace exists.
EXAMPLE_REMOTE_WRITE = "https://aps-workspaces.ap-northeast-2.amazonaws.com/workspaces/ws-EXAMPLE/api/v1/remote_write"


def generate() -> dict[str, str]:
    files = {"collection/airflow-statsd-mapping.yaml": render_statsd_mapping()}
    for stack in ("dev", "staging", "prod"):
        settings = stack_settings(stack)
        files[f"collection/{stack}-scrape-config.yaml"] = render_scrape_config(
            settings, settings.collection.cluster_name
        )
    staging = stack_settings("staging")
    files["collection/staging-agent-config.yaml"] = render_agent_config(
        staging, staging.collection.cluster_name, EXAMPLE_REMOTE_WRITE, "ap-northeast-2"
    )
    return files
