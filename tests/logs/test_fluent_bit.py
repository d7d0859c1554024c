"""The rendered Fluent Bit pipeline: which files each input reads, where each record goes, the chart's keys.

Contract sources: aws/eks-charts stable/aws-for-fluent-bit at chart 0.2.0 (values.yaml: `input.enabled`,
`filter.enabled`, `cloudWatch.enabled`, `cloudWatchLogs.enabled`, `service.extraParsers`,
`serviceAccount`, `fullnameOverride`, `resources`; templates/configmap.yaml: `additionalInputs`,
`additionalFilters`, `additionalOutputs` appended as whole sections, `extraParsers` written to
parser_extra.conf). Kubelet names container log files `<pod>_<namespace>_<container>-<container id>.log`
under /var/log/containers. Fluent Bit's tail input expands `*` in a tag to the file path with `/` as `.`.
"""

from __future__ import annotations

import re
from fnmatch import fnmatch

from infra.logs.contract import POSTGRES_MULTILINE_PARSER
from infra.logs.fluent_bit import (
    GROUP_OF_FORMAT,
    OTHER_GROUP,
    LogSource,
    chart_values,
    filters_text,
    inputs_text,
    outputs_text,
)

SOURCES = [
    LogSource("api", "backend", "screener", "backend"),
    LogSource("nginx", "nginx", "screener", "nginx"),
    LogSource("postgres", "postgres", "data", "postgres"),
]
GROUPS = {kind: f"/p/{kind}" for kind in ("application", "nginx-access", "database", OTHER_GROUP)}
CHART_KEYS = {
    "fullnameOverride", "serviceAccount", "service", "input", "filter", "cloudWatch", "cloudWatchLogs",
    "additionalInputs", "additionalFilters", "additionalOutputs", "resources",
}  # fmt: skip
CONTAINER_ID = "3f" * 32


def kubelet_file(pod: str, namespace: str, container: str) -> str:
    return f"/var/log/containers/{pod}_{namespace}_{container}-{CONTAINER_ID}.log"


def sections(text: str, kind: str) -> list[dict[str, str]]:
    found = []
    for block in text.split("\n\n"):
        lines = block.strip().splitlines()
        if lines and lines[0] == f"[{kind}]":
            found.append(dict(line.strip().split(None, 1) for line in lines[1:]))
    return found


def tag_of(input_section: dict[str, str], path: str) -> str:
    return input_section["Tag"].replace("*", path.replace("/", ".").lstrip("."))


def test_each_source_input_reads_its_container_in_its_namespace_only() -> None:
    inputs = sections(inputs_text(SOURCES), "INPUT")
    by_tag = {section["Tag"]: section for section in inputs}
    api = by_tag["src.api.*"]
    assert fnmatch(kubelet_file("api-7d9f-x2x", "screener", "backend"), api["Path"])
    assert not fnmatch(kubelet_file("api-7d9f-x2x", "staging", "backend"), api["Path"])
    assert not fnmatch(kubelet_file("api-7d9f-x2x", "screener", "frontend"), api["Path"])


def test_every_other_container_is_read_once_by_the_catch_all_and_fluent_bits_own_lines_by_none() -> None:
    inputs = sections(inputs_text(SOURCES), "INPUT")
    catch_all = next(section for section in inputs if section["Tag"] == "kube.*")
    excluded = [pattern.strip() for pattern in catch_all["Exclude_Path"].split(",")]
    for source in SOURCES:
        path = kubelet_file("pod-1", source.namespace, source.container)
        readers = [
            s
            for s in inputs
            if fnmatch(path, s["Path"]) and not any(fnmatch(path, e) for e in excluded if s is catch_all)
        ]
        assert [r["Tag"] for r in readers] == [f"{source.tag}.*"], source
    redis = kubelet_file("redis-master-0", "screener", "redis")
    assert fnmatch(redis, catch_all["Path"]) and not any(fnmatch(redis, e) for e in excluded)
    # The collector's pod is the DaemonSet's `<fullname>-<hash>`, its container the chart's name
    # (aws/eks-charts stable/aws-for-fluent-bit templates/daemonset.yaml: `- name: {{ .Chart.Name }}`).
    own = kubelet_file("logs-collector-abcde", "monitoring", "aws-for-fluent-bit")
    assert any(fnmatch(own, e) for e in excluded)
    # An application container that happens to share the release's name is still read.
    namesake = kubelet_file("api-7d9f", "screener", "logs-collector")
    assert not any(fnmatch(namesake, e) for e in excluded)


def test_each_record_reaches_exactly_its_formats_group() -> None:
    outputs = sections(outputs_text(SOURCES, GROUPS, "ap-northeast-2"), "OUTPUT")
    inputs = {s["Tag"]: s for s in sections(inputs_text(SOURCES), "INPUT")}
    for source in SOURCES:
        tag = tag_of(inputs[f"{source.tag}.*"], kubelet_file("pod-1", source.namespace, source.container))
        matched = [o["log_group_name"] for o in outputs if re.match(o["Match_Regex"], tag)]
        assert matched == [GROUPS[GROUP_OF_FORMAT[source.format]]], tag
    tag = tag_of(inputs["kube.*"], kubelet_file("redis-master-0", "screener", "redis"))
    assert [o["log_group_name"] for o in outputs if re.match(o["Match_Regex"], tag)] == [GROUPS[OTHER_GROUP]]
    # The groups are Pulumi's (retention, KMS): the collector neither creates them nor sets retention.
    assert all(o["auto_create_group"] == "Off" and "log_retention_days" not in o for o in outputs)


def test_postgres_statements_are_joined_across_chunks_before_the_regex_applies() -> None:
    """Fluent Bit's multiline filter docs: without `buffer On` it joins lines within one chunk only."""
    postgres = SOURCES[2]
    filters = [f for f in sections(filters_text(SOURCES), "FILTER") if f["Match"] == f"{postgres.tag}.*"]
    assert [f["Name"] for f in filters] == ["multiline", "parser", "modify"]
    assert filters[0]["buffer"] == "On" and filters[0]["multiline.parser"] == POSTGRES_MULTILINE_PARSER


def test_chart_values_turn_the_charts_own_pipeline_off_and_use_only_keys_the_chart_reads() -> None:
    values = chart_values(SOURCES, GROUPS, "ap-northeast-2", "arn:aws:iam::1:role/x")
    assert set(values) <= CHART_KEYS
    for block in ("input", "filter", "cloudWatch", "cloudWatchLogs"):
        assert values[block] == {"enabled": False}, block
    assert values["additionalOutputs"] == outputs_text(SOURCES, GROUPS, "ap-northeast-2")
    assert values["service"]["extraParsers"].startswith("[PARSER]")
