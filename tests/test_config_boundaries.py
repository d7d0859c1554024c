"""The trust boundaries of a stack file, each at its limit and one past it.

The reader (infra/config/stackfile.py) bounds what YAML can do before any value is
built; the program's loader (infra/config/loader.py) checks what the Pulumi CLI
hands over, including the keys outside `monitoring:` and the Slack webhook secret
that only the program sees. The table in tests/bad_stack_files.py covers the
classes end to end; this file pins the exact bounds.
"""

from __future__ import annotations

import pytest

from infra.config import ConfigError
from infra.config.loader import (
    EXPLICIT_PROVIDER_PACKAGES,
    disable_default_providers_problem,
    other_key_problem,
)
from infra.config.stackfile import (
    MAX_ALIASES,
    MAX_COLLECTION_ITEMS,
    MAX_DEPTH,
    SecretValue,
    decode_stack_file,
    read_stack_document,
)
from planner.engine import run_stack

FILE = "stacks/Pulumi.dev.yaml"
PROVIDERS = "  pulumi:disable-default-providers: [kubernetes, grafana, sentry]\n"


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as refused:
        read_stack_document(text, FILE)
    return refused.value.problems


def aliases(count: int) -> str:
    return (
        "config:\n" + PROVIDERS + "  monitoring:tags:\n    a: &a x\n" + "".join(f"    k{i}: *a\n" for i in range(count))
    )


def nested(levels: int) -> str:
    # `config:` and `monitoring:tags:` are two levels; the flow sequences the rest.
    inner = levels - 2
    return "config:\n" + PROVIDERS + "  monitoring:tags: " + "[" * inner + "]" * inner + "\n"


def test_aliases_up_to_the_bound_are_read() -> None:
    _, config = read_stack_document(aliases(MAX_ALIASES), FILE)
    assert config["monitoring:tags"][f"k{MAX_ALIASES - 1}"] == "x"


def test_one_alias_past_the_bound_is_refused_naming_the_setting() -> None:
    (problem,) = problems_of(aliases(MAX_ALIASES + 1))
    assert problem.startswith(f"{FILE}:{MAX_ALIASES + 5}: monitoring:tags: more than {MAX_ALIASES} YAML aliases")


def test_nesting_up_to_the_bound_is_read() -> None:
    read_stack_document(nested(MAX_DEPTH), FILE)


def test_one_level_past_the_nesting_bound_is_refused_naming_the_setting() -> None:
    (problem,) = problems_of(nested(MAX_DEPTH + 1))
    assert problem.startswith(f"{FILE}:3: monitoring:tags: nested more than {MAX_DEPTH} levels deep")


def test_a_file_that_is_not_utf8_is_refused_with_its_line_and_byte() -> None:
    with pytest.raises(ConfigError) as refused:
        decode_stack_file(b"config:\n  monitoring:owner: caf\xe9\n", FILE)
    assert refused.value.problems == [f"{FILE}:2: not UTF-8 text (byte 0xe9 at offset 31); save the file as UTF-8"]


def test_utf8_text_with_a_byte_order_mark_and_non_ascii_letters_is_read() -> None:
    text = decode_stack_file(("\ufeffconfig:\n" + PROVIDERS + "  monitoring:owner: équipe-plateforme\n").encode(), FILE)
    assert read_stack_document(text, FILE)[1]["monitoring:owner"] == "équipe-plateforme"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("config:\n  monitoring:owner: a\n  monitoring:owner: b\n", "monitoring:owner is set twice (first on line 2)"),
        ("config:\n  monitoring:tags: !!set {a, b}\n", "monitoring:tags is a YAML !!set"),
        ("config:\n  monitoring:owner: !!binary aGVsbG8=\n", "monitoring:owner is !!binary data"),
        ("config:\n  monitoring:tags: {at: 2026-11-29}\n", "monitoring:tags.at is a YAML date/timestamp"),
        ("config:\n  monitoring:tags: {a: !Ref b}\n", "monitoring:tags.a is tagged !Ref"),
        ("config:\n  monitoring:tags: &t {a: *t}\n", "monitoring:tags.a: an alias refers to the value that contains"),
    ],
    ids=["duplicate", "set", "binary", "date", "custom-tag", "cycle"],
)
def test_what_json_cannot_hold_is_refused_naming_the_key(text: str, expected: str) -> None:
    (problem,) = problems_of(text)
    assert expected in problem, problem


def test_a_quoted_date_is_text() -> None:
    text = "config:\n" + PROVIDERS + '  monitoring:tags: {at: "2026-11-29"}\n'
    assert read_stack_document(text, FILE)[1]["monitoring:tags"] == {"at": "2026-11-29"}


def test_default_providers_of_the_committed_form_pass_and_each_missing_package_is_named() -> None:
    assert disable_default_providers_problem(list(EXPLICIT_PROVIDER_PACKAGES)) is None
    assert disable_default_providers_problem([*EXPLICIT_PROVIDER_PACKAGES, "pagerduty"]) is None
    for package in EXPLICIT_PROVIDER_PACKAGES:
        kept = [p for p in EXPLICIT_PROVIDER_PACKAGES if p != package]
        assert f"re-enables the default provider of ['{package}']" in str(disable_default_providers_problem(kept))


@pytest.mark.parametrize("key", ["aws:accessKey", "aws:secretKey", "aws:token"])
def test_aws_credentials_pass_only_as_secrets(key: str) -> None:
    assert other_key_problem(key, secret=True) is None
    assert "it is in plain text" in str(other_key_problem(key, secret=False))


@pytest.mark.parametrize("key", ["aws:region", "aws:profile", "aws:allowedAccountIds"])
def test_plain_aws_settings_pass_in_plain_text(key: str) -> None:
    assert other_key_problem(key, secret=False) is None


def test_an_endpoint_redirection_is_refused_even_as_a_secret() -> None:
    assert "sends AWS API calls" in str(other_key_problem("aws:endpoints", secret=True))


def test_slack_webhook_secret_on_slacks_host_plans() -> None:
    url = "https://hooks.slack.com/services/T0SCREENER/B0ALERTS/abcdefghijklmnop"
    plan = run_stack("dev", overrides={"monitoring:slackWebhookUrl": SecretValue(url)})
    assert plan.resources


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com.attacker.example/services/T0/B0/x",
        "https://attacker.example/hooks.slack.com/services/T0/B0/x",
        "http://hooks.slack.com/services/T0/B0/x",
        "https://hooks.slack.com:8443/services/T0/B0/x",
        "https://user@hooks.slack.com/services/T0/B0/x",
    ],
    ids=["suffix", "path", "http", "port", "userinfo"],
)
def test_slack_webhook_secret_elsewhere_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(ConfigError) as refused:
        run_stack("dev", overrides={"monitoring:slackWebhookUrl": SecretValue(url)})
    (problem,) = refused.value.problems
    assert problem.startswith(f"{FILE}: monitoring:slackWebhookUrl: not a Slack incoming-webhook URL")
    assert url not in problem and "attacker" not in problem


def test_the_program_itself_refuses_a_default_provider_re_enabled() -> None:
    # Overrides skip the offline reader: this is the check a real `pulumi up` runs, on what the CLI hands over.
    with pytest.raises(ConfigError) as refused:
        run_stack("dev", overrides={"pulumi:disable-default-providers": ["kubernetes", "sentry"]})
    (problem,) = refused.value.problems
    assert problem.startswith(
        f"{FILE}: pulumi:disable-default-providers: re-enables the default provider of ['grafana']"
    )


def _with_services(count: int) -> dict[str, object]:
    from infra.config.stackfile import stack_settings

    raw = stack_settings("dev").model_dump(by_alias=True, exclude_none=True)
    redis = next(service for service in raw["services"] if service["kind"] == "redis")
    raw["services"] = [{**redis, "name": f"svc-{i}"} for i in range(count)]
    return raw


def test_the_catalog_takes_up_to_its_own_bound_and_refuses_one_more() -> None:
    """2,000 services fit one workspace by design; the catalog's bound, not the shared 200, applies to it."""
    from pydantic import ValidationError

    from infra.config import StackInput
    from infra.config.base import MAX_CATALOG_SERVICES

    assert len(StackInput.model_validate(_with_services(MAX_CATALOG_SERVICES)).services) == MAX_CATALOG_SERVICES
    with pytest.raises(
        ValidationError, match=f"holds {MAX_CATALOG_SERVICES + 1} entries; at most {MAX_CATALOG_SERVICES}"
    ):
        StackInput.model_validate(_with_services(MAX_CATALOG_SERVICES + 1))


def test_other_lists_keep_the_shared_bound() -> None:
    from pydantic import ValidationError

    from infra.config import StackInput
    from infra.config.base import MAX_ENTRIES

    raw = _with_services(1)
    raw["tags"] = {f"k{i}": "v" for i in range(MAX_ENTRIES + 1)}
    with pytest.raises(ValidationError, match=f"at most {MAX_ENTRIES}"):
        StackInput.model_validate(raw)


def test_the_reader_takes_a_list_as_long_as_the_catalog_bound() -> None:
    from infra.config.base import MAX_CATALOG_SERVICES

    assert MAX_COLLECTION_ITEMS >= MAX_CATALOG_SERVICES
    items = "\n".join(f"    - {{name: s{i}}}" for i in range(MAX_COLLECTION_ITEMS))
    providers = "  pulumi:disable-default-providers: [kubernetes, grafana, sentry]\n"
    read_stack_document(f"config:\n{providers}  monitoring:services:\n{items}\n", "stacks/Pulumi.x.yaml")
    with pytest.raises(ConfigError, match="no setting takes more than"):
        read_stack_document(
            f"config:\n  monitoring:services:\n{items}\n    - {{name: extra}}\n", "stacks/Pulumi.x.yaml"
        )
