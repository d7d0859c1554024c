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


@pytest.fixture(scope="module")
def prod_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("plan")
    printed = io.StringIO()
    # The session's prod plan: the same engine run `main` would do, without a second one.
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        # (`main` passes its --stack-file, None here, as stack_file_path.)
        patch.setattr("planner.__main__.run_stack", lambda stack, stack_file_path=None: plan_of(stack))
        assert main(["prod", "--out", str(out)]) == 0
    return printed.getvalue(), json.loads((out / "prod" / "plan.json").read_text())


def test_simulated_outputs_are_marked_in_the_output_list_and_in_plan_json(prod_run):
    printed, document = prod_run
    assert set(document["metadata"]["simulatedOutputs"]) == PROD_SIMULATED_OUTPUTS
    assert document["metadata"]["simulatedAccountId"] == "123456789012"
    assert "simulated by the offline planner" in document["metadata"]["simulated"]
    marked = {m.group(1) for m in re.finditer(r"^  (\w+): .*  \(simulated\)$", printed.split("\nOutputs")[1], re.M)}
    assert marked == PROD_SIMULATED_OUTPUTS


def test_the_tree_marks_inputs_that_carry_a_simulated_id(prod_run):
    printed, document = prod_run
    tree = printed.split("\nOutputs")[0]
    assert (
        tree.splitlines()[0] == "pulumi:pulumi:Stack  monitoring-prod  (a value marked (simulated) is invented offline)"
    )
    rule_group = next(line for line in tree.splitlines() if "alert-rules-api " in line)
    assert re.search(r'workspaceId="ws-[0-9a-f-]+"\(simulated\)', rule_group)
    assert 'name="api"(simulated)' not in rule_group and 'name="api"' in rule_group
    by_name = {r["name"]: r for r in document["resources"]}
    assert by_name["alert-rules-api"]["simulatedInputs"] == ["workspaceId"]
    assert by_name["amp-workspace"]["simulatedId"].startswith("ws-")


def test_one_resource_count_and_the_policy_line_repeats_it(prod_run):
    printed, document = prod_run
    counts = re.findall(r"(\d+) resources\b", printed)
    assert set(counts) == {str(len(document["resources"]))} == {str(document["metadata"]["resourceCount"])}
    components = sum(1 for r in document["resources"] if r["type"].startswith("monitoring:index:"))
    providers = sum(1 for r in document["resources"] if r["type"].startswith("pulumi:providers:"))
    assert f"prod: {len(document['resources'])} resources ({components} components, {providers} providers)" in printed


def test_every_warning_and_note_says_what_it_is_about(prod_run):
    printed, document = prod_run
    warnings = [line for line in printed.splitlines() if line.startswith(("warning:", "note:"))]
    # Two warnings (no Seoul price table; the AMP plugin without a Cloud token), the three ESC notes, and
    # about the stack: its 13 example values (tests/test_placeholders.py) and the line that counts them.
    assert len(warnings) == 5 + 13 + 1
    for line in warnings:
        assert re.match(r"^(warning: [\w-]+ \([\w:/]+\)|note: secret monitoring:\w+|warning: stack prod): ", line), line
    about = "warning: cost-estimate (monitoring:index:CostEstimate)"
    assert f"{about}: AMP cost estimate: there is no AMP price " in printed
    assert "table for ap-northeast-2 (this stack's aws:region)" in printed
    assert all(d["about"] for d in document["metadata"]["diagnostics"])


def test_a_stack_in_a_region_with_a_price_table_gets_no_price_warning(plan_with):
    plan = plan_with("dev", {"aws:region": "us-east-1"})
    assert [d.message for d in plan.diagnostics if "price table" in d.message] == []
    seoul = plan_of("dev")
    (warning,) = [d for d in seoul.diagnostics if "price table" in d.message]
    assert warning.severity == "warning" and "ap-northeast-2" in warning.message


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
