"""What `make plan` prints and writes: simulated values marked, one count, every warning labelled."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config.stackfile import REPO_ROOT, stack_settings
from infra.cost.pricing import PRICE_TABLES_FILE, price_tables, pricing_for
from planner.__main__ import main
from tests.conftest import STACKS, plan_of

# Worked out from planner/fakes: these outputs carry an invented ID, the fake account or a fake's token;
# the others are built only from names in the stack file (dashboard uids, folder URL) or are not IDs.
PROD_SIMULATED_OUTPUTS = {
    "alert_key_arn",
    "alert_pipeline_key_arn",
    "alert_topic_arns",
    "amp_alertmanager_url",
    "amp_log_group_arn",
    "amp_query_url",
    "amp_remote_write_url",
    "amp_workspace_arn",
    "amp_workspace_id",
    "collection_scraper_arn",
    "collection_scraper_role_arn",
    "grafana_heartbeat_alarm_arn",
    "log_key_arn",  # the logs component's KMS key
    "log_saved_query_ids",  # Logs Insights generates a saved query's ID
    "status_page_url",
    "synthetic_check_ids",
}


def _run(tmp_path_factory: pytest.TempPathFactory, *flags: str) -> tuple[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("plan")
    printed = io.StringIO()
    # The session's prod plan: the same engine run `main` would do, without a second one.
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        # (`main` passes its --stack-file, None here, as stack_file_path.)
        patch.setattr("planner.__main__.run_stack", lambda stack, stack_file_path=None: plan_of(stack))
        assert main(["prod", "--out", str(out), *flags]) == 0
    return printed.getvalue(), json.loads((out / "prod" / "plan.json").read_text())


@pytest.fixture(scope="module")
def prod_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    return _run(tmp_path_factory)


@pytest.fixture(scope="module")
def prod_details(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    return _run(tmp_path_factory, "--details")


def _section(printed: str, heading: str) -> list[str]:
    """The lines of one section (`Outputs:`, `Diagnostics:`), up to the next blank line."""
    after = printed.split(f"\n{heading}", 1)[1]
    return after.split("\n\n", 1)[0].splitlines()[1:]


def test_prod_reads_on_one_screen_by_default_and_no_line_is_wider_than_160(prod_run, prod_details):
    printed, _ = prod_run
    assert len(printed.splitlines()) <= 100
    for text in (printed, prod_details[0]):
        assert max(len(line) for line in text.splitlines()) <= 160


def test_simulated_outputs_are_marked_in_the_output_list_and_in_plan_json(prod_run, prod_details):
    printed, document = prod_run
    assert set(document["metadata"]["simulatedOutputs"]) == PROD_SIMULATED_OUTPUTS
    assert document["metadata"]["simulatedAccountId"] == "123456789012"
    assert "simulated by the offline planner" in document["metadata"]["simulated"]
    names = " ".join(line for line in _section(printed, "Outputs:") if not line.startswith("  URLs"))
    marked = set(re.findall(r"(\w+) \(simulated\)", names))
    assert marked == PROD_SIMULATED_OUTPUTS
    assert len(re.findall(r"\b[a-z]\w+\b", names.split("URLs")[0])) >= len(document["outputs"])
    details = _section(prod_details[0], "Outputs:")
    assert {m.group(1) for line in details if (m := re.match(r"^    (\w+) *:.*  \(simulated\)$", line))} == (
        PROD_SIMULATED_OUTPUTS
    )


def test_every_real_url_output_is_printed_in_full_and_no_simulated_one(prod_run):
    printed, document = prod_run
    urls = dict(line.split(maxsplit=1) for line in printed.split("\n  URLs:\n", 1)[1].split("\n\n")[0].splitlines())
    assert urls["grafana_dashboard_urls.slo"] == document["outputs"]["grafana_dashboard_urls"]["slo"]
    assert urls["grafana_folder_url"] == document["outputs"]["grafana_folder_url"]
    assert "status_page_url" not in urls and "amp_query_url" not in urls  # invented: nothing to open


def test_the_tree_has_pulumis_columns_and_counts_a_components_resources(prod_run):
    printed, document = prod_run
    lines = printed.splitlines()
    header = next(i for i, line in enumerate(lines) if line.strip().startswith("Type"))
    assert lines[header].split() == ["Type", "Name", "Plan", "Info"]
    assert lines[header + 1].split() == ["+", "pulumi:pulumi:Stack", "monitoring-prod", "create"]
    rules = next(line for line in lines if " alert-rules " in line)
    namespaces = sum(1 for r in document["resources"] if r["type"] == "aws:amp/ruleGroupNamespace:RuleGroupNamespace")
    assert rules.split()[1:] == [
        "├─",
        "monitoring:index:AlertRules",
        "alert-rules",
        "create",
        f"{namespaces}",
        "RuleGroupNamespace",
    ]
    amp = next(line for line in lines if " amp " in line and "AmpWorkspace" in line)
    assert "2 protected, 2 kept on delete; 1 LogGroup, 1 Workspace" in amp
    # The stack's own resources are rows; a component's are counted, not listed.
    assert any("pulumi:providers:sentry" in line and line.split()[-2:] == ["sentry", "create"] for line in lines)
    assert not any("alert-rules-api" in line for line in lines)


def test_details_list_every_resource_with_its_inputs_and_mark_the_simulated_ones(prod_details):
    printed, document = prod_details
    tree = printed.split("\nDiagnostics:")[0]
    for resource in document["resources"]:
        assert f" {resource['name']} " in tree, resource["name"]
    rule_group = tree.split(" alert-rules-api ", 1)[1].split(" create", 2)[1].split("\n +")[0]
    assert re.search(r'workspaceId : "ws-[0-9a-f-]+" \(simulated\)', rule_group)
    assert re.search(r'name +: "api"\n', rule_group)
    assert re.search(r"data +: <text: \d+ lines, [\d,]+ bytes>", rule_group)
    # The Grafana provider's service-account ID (`<orgId>:<id>`) is invented too.
    account = tree.split(" grafana-previews-token ", 1)[1].split("\n +")[0]
    assert re.search(r'serviceAccountId : "\d+:\d+" \(simulated\)', account)
    # SDK bookkeeping and the stack-wide tags say nothing about one resource.
    assert not re.search(r"^ +│.* (compat|tags|tagsAll|__defaults) +: ", tree, re.M)
    by_name = {r["name"]: r for r in document["resources"]}
    assert by_name["alert-rules-api"]["simulatedInputs"] == ["workspaceId"]
    assert by_name["amp-workspace"]["simulatedId"].startswith("ws-")


def test_one_resource_count_and_the_policy_line_repeats_it(prod_run):
    printed, document = prod_run
    total = len(document["resources"])
    assert total == document["metadata"]["resourceCount"]
    components = sum(1 for r in document["resources"] if r["type"].startswith("monitoring:index:"))
    providers = sum(1 for r in document["resources"] if r["type"].startswith("pulumi:providers:"))
    protected = sum(1 for r in document["resources"] if r["protect"])
    assert (
        f"    + {total} to create ({components} components, {providers} providers, "
        f"{total - components - providers} cloud resources; {protected} protected)"
    ) in printed.splitlines()
    assert f"policies over the {total} resources" in printed


def test_every_diagnostic_is_grouped_under_what_it_is_about_and_said_once(prod_run):
    printed, document = prod_run
    lines = _section(printed, "Diagnostics:")
    subjects = [line for line in lines if re.match(r"^  \S", line)]
    assert subjects and all(
        re.match(r"^  ([\w-]+ \([\w:/]+\)|stack file stacks/Pulumi\.prod\.yaml):$", s) for s in subjects
    )
    assert len(subjects) == len(set(subjects))
    messages = [line for line in lines if re.match(r"^    \S", line)]
    assert all(re.match(r"^    (info|warning|note|error): ", m) for m in messages)
    assert len(messages) == len(set(messages))
    # The three ESC secrets of one environment are one note, not three.
    (esc,) = [m for m in messages if "ESC environment" in m]
    assert "monitoring:grafanaAuth, monitoring:sentryAuthToken, monitoring:syntheticMonitoringToken" in esc
    assert all(d["about"] for d in document["metadata"]["diagnostics"])


def test_a_stack_priced_with_another_regions_table_says_so_once_in_the_cost_line(prod_run):
    printed, document = prod_run
    assert "price table" not in printed.split("\nCost:")[0]  # no warning on every plan
    cost = printed.split("\nCost:", 1)[1].split("\n\n")[0]
    assert " ".join(cost.split()).count("ap-northeast-2 has no table in infra/cost/amp_prices.yaml") == 1
    assert "us-east-1's prices stand in" in document["outputs"]["cost_estimate"]["pricing"]


def test_a_stack_in_a_region_with_a_price_table_uses_it_without_a_note(plan_with):
    plan = plan_with("dev", {"aws:region": "us-east-1"})
    assert "stand in" not in plan.outputs["cost_estimate"]["pricing"]
    assert not [d for d in plan.diagnostics if "price" in d.message]
    seoul = plan_of("dev")
    assert "ap-northeast-2 has no table" in seoul.outputs["cost_estimate"]["pricing"]
    assert not [d for d in seoul.diagnostics if "price" in d.message]


def test_the_stacks_share_one_price_table_file():
    for stack in STACKS:
        document = yaml.safe_load((REPO_ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
        assert "pricing" not in document["config"]["monitoring:cost"], f"{stack}: prices belong in {PRICE_TABLES_FILE}"
    tables = price_tables()
    assert tables.for_region(tables.fallback_region) is not None
    for table in tables.tables:
        assert table.source.startswith("https://aws.amazon.com/prometheus/pricing")
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", table.as_of)


def test_a_stack_file_may_still_set_its_own_prices():
    settings = stack_settings("dev")
    own = {**price_tables().tables[0].model_dump(by_alias=True), "region": "ap-northeast-2", "asOf": "2030-01-01"}
    raw = settings.model_dump(by_alias=True, exclude_none=True)
    raw["cost"]["pricing"] = own
    custom = type(settings).model_validate(raw)
    assert pricing_for(custom, "ap-northeast-2").as_of == "2030-01-01"  # type: ignore[union-attr]
    assert pricing_for(settings, "ap-northeast-2").region == "us-east-1"  # type: ignore[union-attr]


def test_price_tables_refuse_two_tables_for_one_region(tmp_path: Path):
    text = PRICE_TABLES_FILE.read_text()
    table = text[text.index("  - region:") :]
    duplicate = tmp_path / "amp_prices.yaml"
    duplicate.write_text(text + table)
    with pytest.raises(ValueError, match=r"one table per region, got \['us-east-1', 'us-east-1'\]"):
        price_tables.__wrapped__(duplicate)


def test_the_example_values_are_one_line_each_and_the_details_say_where_the_real_ones_are(prod_run, prod_details):
    printed, _ = prod_run
    section = printed.split("\nExample values to replace (", 1)[1].split("\n\n")[0].splitlines()
    count = int(section[0].split(")")[0])
    keys = [line.split()[0] for line in section[1:]]
    assert count == len(keys) == len(set(keys)) >= 10
    assert "refuses stacks/Pulumi.prod.yaml" in section[0]
    assert {"monitoring:grafana.url", "monitoring:notifications.emails[0]", "monitoring:sentry.organization"} <= set(
        keys
    )
    # Said once: not again as warnings.
    assert "placeholder: " not in printed
    details = prod_details[0]
    assert details.count("placeholder: stacks/Pulumi.prod.yaml: monitoring:") == count
    assert "\nExample values to replace" not in details
