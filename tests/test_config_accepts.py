"""What the stricter configuration still accepts: the valid neighbours of the table's refused values.

A validator that refuses too much is as wrong as one that refuses too little; each
case here sits next to a refused one in tests/bad_stack_files.py.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter, ValidationError

from infra.config.base import PublicHttpsUrl, Re2Pattern, Url
from infra.config.collection import CollectionSpec
from infra.config.core import LabelSetLimit
from infra.config.grafana import GrafanaSpec
from infra.config.stackfile import REPO_ROOT
from infra.config.synthetics import SyntheticsSpec

PUBLIC = TypeAdapter(PublicHttpsUrl)
URL = TypeAdapter(Url)
RE2 = TypeAdapter(Re2Pattern)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.screener.kr/health",
        "https://api.screener.kr:8443/health?probe=sm&x=%7Bok%7D",
        "https://xn--9n2bp8q.xn--3e0b707e/",  # an internationalised (punycode) name
        "https://8.8.8.8/health",  # a global IPv4 literal
        "https://[2606:4700:4700::1111]/",  # a global IPv6 literal
        "https://api.screener.kr/a/b;v=1/c:d@e/~f_g.h-i!$&'()*+,=",
    ],
)
def test_public_urls_with_every_rfc3986_path_character_are_accepted(url: str) -> None:
    assert PUBLIC.validate_python(url) == url


def test_an_internal_url_is_still_fine_where_nothing_probes_it_from_outside() -> None:
    # nginxStatusUrl and runbookBaseUrl are Url, not PublicUrl: the cluster or an intranet reaches them.
    assert URL.validate_python("http://nginx.screener.svc.cluster.local:8080/stub_status")
    with pytest.raises(ValidationError, match="resolves only inside"):
        PUBLIC.validate_python("https://nginx.screener.svc.cluster.local/stub_status")


@pytest.mark.parametrize("pattern", [r'"status"\s*:\s*"(ok|healthy|pass)"', r"(?i)ok", r"^\d{3}$", r"[^\x00-\x1f]+"])
def test_re2_patterns_are_accepted(pattern: str) -> None:
    assert RE2.validate_python(pattern) == pattern


@pytest.mark.parametrize(
    "api_url",
    [
        "https://synthetic-monitoring-api.grafana.net",
        "https://synthetic-monitoring-api-eu-west-2.grafana.net",
        "https://synthetic-monitoring-api-us-east-0.grafana.net",
        # Regions created since 2026-01-15 nest the service host under <csp>-<region>-<counter>.
        "https://synthetic-monitoring-api.aws-us-east-2-0.grafana.net",
    ],
)
def test_grafana_cloud_synthetic_monitoring_hosts_are_accepted(api_url: str) -> None:
    assert SyntheticsSpec(api_url=api_url).api_url == api_url


# dev's committed Grafana section, whatever its other keys require.
GRAFANA: dict[str, Any] = yaml.safe_load((REPO_ROOT / "stacks/Pulumi.dev.yaml").read_text())["config"][
    "monitoring:grafana"
]


def test_a_self_hosted_grafana_needs_and_takes_a_reason() -> None:
    hosted = {**GRAFANA, "url": "https://grafana.screener.kr"}
    with pytest.raises(ValidationError, match=r"grafana\.selfHostedReason"):
        GrafanaSpec.model_validate(hosted)
    spec = GrafanaSpec.model_validate({**hosted, "selfHostedReason": "our own Grafana 12 in the tools account"})
    assert spec.url == "https://grafana.screener.kr"


def test_a_synthetic_monitoring_api_elsewhere_needs_and_takes_a_reason() -> None:
    with pytest.raises(ValidationError, match=r"synthetics\.apiUrlOutsideGrafanaCloudReason"):
        SyntheticsSpec.model_validate({"apiUrl": "https://sm.screener.kr"})
    spec = SyntheticsSpec.model_validate(
        {"apiUrl": "https://sm.screener.kr", "apiUrlOutsideGrafanaCloudReason": "a proxy that pins the SM API host"}
    )
    assert spec.api_url == "https://sm.screener.kr"


def test_short_and_long_ec2_ids_and_prometheus_label_names_are_accepted() -> None:
    spec = CollectionSpec.model_validate(
        {"subnetIds": ["subnet-0a1b2c3d", "subnet-0a1b2c3d4e5f60001"], "securityGroupIds": ["sg-0123abcd"]}
    )
    assert len(spec.subnet_ids) == 2
    limit = LabelSetLimit.model_validate({"labelSet": {"service": "api", "_private": "x"}, "maxSeries": 1000})
    assert limit.max_series == 1000
