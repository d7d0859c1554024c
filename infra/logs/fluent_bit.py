"""The Fluent Bit configuration of the log collector (AWS's aws-for-fluent-bit chart), rendered from the contract.

Pure functions of the log sources and group names: the component passes the
role ARN in; nothing here talks to a cluster.

Why the chart and not the `amazon-cloudwatch-observability` EKS add-on: the
add-on's Fluent Bit writes every container to its fixed Container Insights
groups (`/aws/containerinsights/<cluster>/application`, `dataplane`, `host`)
with its own parsers, and it installs the CloudWatch agent, whose Container
Insights metrics duplicate what AMP already has and are billed as custom
metrics. The chart runs Fluent Bit alone, with our parsers and one output per
log group, so each source lands, parsed, in the group this stack declared
(with `auto_create_group` off, which the collector's role could not do anyway).

Pipeline, per source of the catalog (`monitoring:logs.sources`): a `tail`
input over that container's files (kubelet's `<pod>_<namespace>_<container>-<id>.log`
naming), the CRI/docker multiline parser, the contract's parser for its format,
a `modify` filter adding `service`, and a `cloudwatch_logs` output to its
format's group. Every other container goes, with Kubernetes metadata, to
the `containers` group, so nothing a pod writes is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.collection.charts import IRSA_ROLE_ANNOTATION, ChartPin
from infra.config.logs import LogsSpec
from infra.logs.contract import (
    PARSERS,
    POSTGRES_ENTRY_START_REGEX,
    POSTGRES_MULTILINE_PARSER,
    SERVICE,
    LogFormat,
    ParserSpec,
)

# https://aws.github.io/eks-charts index.yaml: aws-for-fluent-bit 0.2.0 is AWS for Fluent Bit 3.2.1.
# renovate: datasource=helm depName=aws-for-fluent-bit registryUrl=https://aws.github.io/eks-charts
FLUENT_BIT = ChartPin("aws-for-fluent-bit", "0.2.0", repo="https://aws.github.io/eks-charts")
RELEASE = "logs-collector"
SERVICE_ACCOUNT = "fluent-bit-logs"
CONTAINER_LOG_DIR = "/var/log/containers"
STATE_DIR = "/var/log"
# The group of each format, and of every container outside the catalog's sources.
GROUP_OF_FORMAT: dict[LogFormat, str] = {"backend": "application", "nginx": "nginx-access", "postgres": "database"}
OTHER_GROUP = "containers"
GROUP_KINDS: tuple[str, ...] = ("application", "nginx-access", "database", OTHER_GROUP)


@dataclass(frozen=True)
class LogSource:
    """One container of the catalog whose lines follow a format of the contract."""

    service: str
    format: LogFormat
    namespace: str
    container: str

    @property
    def tag(self) -> str:
        return f"src.{self.service}"

    @property
    def path(self) -> str:
        return f"{CONTAINER_LOG_DIR}/*_{self.namespace}_{self.container}-*.log"


def log_sources(spec: LogsSpec) -> list[LogSource]:
    return [LogSource(source.service, source.format, source.namespace, source.container) for source in spec.sources]


def config_text(sources: Sequence[LogSource], group_names: Mapping[str, str], region: str) -> str:
    """The whole pipeline as Fluent Bit reads it (parsers file, then the chart's `additional*` blocks), for review."""
    return "\n".join(
        [
            "# parser_extra.conf",
            parsers_text(),
            "# fluent-bit.conf: inputs, filters, outputs",
            inputs_text(sources),
            filters_text(sources),
            outputs_text(sources, group_names, region),
        ]
    )


def _section(kind: str, entries: Sequence[tuple[str, str]]) -> str:
    width = max(len(key) for key, _ in entries) + 1
    return "\n".join([f"[{kind}]", *(f"    {key.ljust(width)}{value}" for key, value in entries)])


def parser_section(parser: ParserSpec) -> str:
    entries = [("Name", parser.name), ("Format", parser.format)]
    if parser.regex is not None:
        entries.append(("Regex", parser.regex))
    if parser.types:
        entries.append(("Types", " ".join(f"{name}:{kind}" for name, kind in parser.types)))
    return _section("PARSER", entries)


def parsers_text() -> str:
    """The parsers file: the contract's parsers and the multiline rule joining a statement's lines."""
    multiline = "\n".join(
        [
            "[MULTILINE_PARSER]",
            f"    name          {POSTGRES_MULTILINE_PARSER}",
            "    type          regex",
            "    flush_timeout 1000",
            f'    rule          "start_state" "/{POSTGRES_ENTRY_START_REGEX}/" "cont"',
            f'    rule          "cont" "/^(?!{POSTGRES_ENTRY_START_REGEX.removeprefix("^")})/" "cont"',
        ]
    )
    return "\n\n".join([*(parser_section(parser) for parser in PARSERS.values()), multiline]) + "\n"


def _tail(tag: str, path: str, db: str, exclude: Sequence[str] = ()) -> str:
    entries = [("Name", "tail"), ("Tag", f"{tag}.*"), ("Path", path)]
    if exclude:
        entries.append(("Exclude_Path", ", ".join(exclude)))
    entries += [
        # The container runtime wraps each line; these undo it and rejoin lines it split.
        ("multiline.parser", "docker, cri"),
        ("DB", f"{STATE_DIR}/{db}.db"),
        ("Mem_Buf_Limit", "5MB"),
        ("Skip_Long_Lines", "On"),
        ("Refresh_Interval", "10"),
    ]
    return _section("INPUT", entries)


def inputs_text(sources: Sequence[LogSource]) -> str:
    # Fluent Bit's own lines would feed back on errors. Its pods are the DaemonSet's (named after the
    # release's fullname), its container the chart's name (aws/eks-charts aws-for-fluent-bit
    # templates/daemonset.yaml: `name: {{ .Chart.Name }}`); kubelet names the file <pod>_<ns>_<container>-<id>.
    own = f"{CONTAINER_LOG_DIR}/{RELEASE}-*_*_{FLUENT_BIT.chart}-*.log"
    blocks = [_tail(source.tag, source.path, f"flb_{source.service}") for source in sources]
    blocks.append(_tail("kube", f"{CONTAINER_LOG_DIR}/*.log", "flb_kube", [*(s.path for s in sources), own]))
    return "\n\n".join(blocks) + "\n"


def filters_text(sources: Sequence[LogSource]) -> str:
    blocks: list[str] = []
    for source in sources:
        match = f"{source.tag}.*"
        if source.format == "postgres":
            blocks.append(
                _section(
                    "FILTER",
                    [
                        ("Name", "multiline"),
                        ("Match", match),
                        ("multiline.key_content", "log"),
                        ("multiline.parser", POSTGRES_MULTILINE_PARSER),
                        # Unbuffered, the filter joins lines within one chunk only; tail splits
                        # a statement across chunks (Fluent Bit's multiline filter docs).
                        ("buffer", "On"),
                        ("flush_ms", "1000"),
                    ],
                )
            )
        blocks.append(
            _section(
                "FILTER",
                [
                    ("Name", "parser"),
                    ("Match", match),
                    ("Key_Name", "log"),
                    ("Parser", PARSERS[source.format].name),
                    # A line the parser refuses is kept whole rather than lost.
                    ("Reserve_Data", "On"),
                ],
            )
        )
        blocks.append(
            _section("FILTER", [("Name", "modify"), ("Match", match), ("Add", f"{SERVICE} {source.service}")])
        )
    blocks.append(
        _section(
            "FILTER",
            [
                ("Name", "kubernetes"),
                ("Match", "kube.*"),
                ("Kube_Tag_Prefix", f"kube{CONTAINER_LOG_DIR.replace('/', '.')}."),
                ("Merge_Log", "On"),
                ("Keep_Log", "Off"),
                # Labels and annotations would add bytes (and cost) to every line.
                ("Labels", "Off"),
                ("Annotations", "Off"),
            ],
        )
    )
    return "\n\n".join(blocks) + "\n"


def _output(match: str, region: str, group: str, prefix: str) -> str:
    return _section(
        "OUTPUT",
        [
            ("Name", "cloudwatch_logs"),
            ("Match_Regex", match),
            ("region", region),
            ("log_group_name", group),
            ("log_stream_prefix", prefix),
            # The groups are declared (retention, KMS) by Pulumi; the role may not create them.
            ("auto_create_group", "Off"),
        ],
    )


def outputs_text(sources: Sequence[LogSource], group_names: Mapping[str, str], region: str) -> str:
    blocks = []
    for fmt, kind in GROUP_OF_FORMAT.items():
        services = [source.service for source in sources if source.format == fmt]
        if services:
            match = rf"^src\.({'|'.join(services)})\..*"
            blocks.append(_output(match, region, group_names[kind], f"{kind}."))
    blocks.append(_output(r"^kube\..*", region, group_names[OTHER_GROUP], "pod."))
    return "\n\n".join(blocks) + "\n"


def chart_values(
    sources: Sequence[LogSource], group_names: Mapping[str, str], region: str, role_arn: Any
) -> dict[str, Any]:
    """aws-for-fluent-bit values: the chart's own pipeline off, ours in its `additional*` blocks."""
    return {
        "fullnameOverride": RELEASE,
        "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT, "annotations": {IRSA_ROLE_ANNOTATION: role_arn}},
        "service": {"extraParsers": parsers_text()},
        "input": {"enabled": False},
        "filter": {"enabled": False},
        "cloudWatch": {"enabled": False},
        "cloudWatchLogs": {"enabled": False},
        "additionalInputs": inputs_text(sources),
        "additionalFilters": filters_text(sources),
        "additionalOutputs": outputs_text(sources, group_names, region),
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "250Mi"}},
    }
