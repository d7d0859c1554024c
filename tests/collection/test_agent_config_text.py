"""The agent config appended to the rendered scrape config is the text of the whole document rendered at once."""

from __future__ import annotations

import pytest

from infra.collection.scrape_config import render_agent_config, scrape_config_document, to_yaml
from infra.config.stackfile import stack_settings

URL = "https://aps-workspaces.ap-northeast-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write"


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_agent_config_text_equals_rendering_the_whole_document(stack: str) -> None:
    settings = stack_settings(stack)
    cluster = settings.collection.cluster_name
    whole = scrape_config_document(settings, cluster)
    whole["remote_write"] = [
        {
            "url": URL,
            "sigv4": {"region": "ap-northeast-2"},
            "queue_config": {"max_samples_per_send": 1000, "max_shards": 200, "capacity": 2500},
        }
    ]
    assert render_agent_config(settings, cluster, URL, "ap-northeast-2") == to_yaml(whole)
