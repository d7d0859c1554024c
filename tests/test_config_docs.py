"""Pulumi.yaml documents every configuration key, exactly as the config model defines it."""

from __future__ import annotations

from planner.config_docs import BEGIN, PROJECT_FILE, render_block, updated_project_file


def test_pulumi_yaml_documents_every_key_of_the_current_model() -> None:
    text = PROJECT_FILE.read_text()
    assert BEGIN in text
    assert updated_project_file(text) == text, "Pulumi.yaml's configuration keys are stale: run `make config-docs`"


def test_the_block_names_every_section_and_secret() -> None:
    block = render_block()
    for key in ("monitoring:services", "monitoring:amp", "monitoring:grafana", "monitoring:collection"):
        assert f"# {key} " in block
    assert "# monitoring:grafanaAuth (secret, required)" in block
    assert "retentionDays (default 15)" in block
