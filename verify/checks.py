"""`make verify`: every check of a deployed stack, read-only, in order (AMP, Grafana, delivery, logs, Sentry)."""

from __future__ import annotations

import os
import urllib.error
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import botocore.exceptions
import botocore.session
from botocore.credentials import Credentials

from oncall.alertmanager_api import signed_json_request
from verify.amp_checks import (
    Query,
    check_alertmanager_definition,
    check_rule_namespaces,
    check_samples,
    check_workspace,
)
from verify.delivery_checks import check_insufficient_data, check_pipeline_alarms, check_subscriptions
from verify.grafana_checks import check_dashboards, check_datasources, check_rule_groups, check_synthetics
from verify.http_api import JsonApi
from verify.logs_checks import check_log_sources
from verify.report import Result, failed, warned
from verify.sentry_checks import check_sentry
from verify.target import Endpoints, Target

# The variables the Grafana and Sentry Terraform providers read: an operator or a job that can deploy has them.
GRAFANA_TOKEN_VARIABLE = "GRAFANA_AUTH"
SENTRY_TOKEN_VARIABLE = "SENTRY_AUTH_TOKEN"


@dataclass(frozen=True)
class AwsClients:
    """botocore clients of the stack's region (tests wrap them in botocore's Stubber)."""

    amp: Any
    sns: Any
    cloudwatch: Any
    logs: Any

    @classmethod
    def for_region(cls, session: botocore.session.Session, region: str) -> AwsClients:
        return cls(*(session.create_client(name, region_name=region) for name in ("amp", "sns", "cloudwatch", "logs")))


def amp_query(url: str, region: str, credentials: Credentials) -> Query:
    """An instant query against AMP's (or a local Prometheus's) `/api/v1/query`, signed for `aps`."""

    def query(expr: str) -> list[dict[str, Any]]:
        # %20, not '+': SigV4 signs the query string as AWS canonicalises it (RFC 3986, spaces as %20).
        query_string = urllib.parse.urlencode({"query": expr}, quote_via=urllib.parse.quote)
        answer = signed_json_request("GET", f"{url}?{query_string}", region, credentials)
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    return query


@dataclass(frozen=True)
class Clients:
    aws: AwsClients
    query: Query | None
    grafana: JsonApi | None
    sentry: JsonApi | None


def clients_for(target: Target, endpoints: Endpoints, session: botocore.session.Session) -> Clients:
    credentials = session.get_credentials()
    grafana_token = os.environ.get(GRAFANA_TOKEN_VARIABLE, "")
    sentry_token = os.environ.get(SENTRY_TOKEN_VARIABLE, "")
    return Clients(
        aws=AwsClients.for_region(session, target.region),
        query=amp_query(endpoints.amp_query_url, target.region, credentials)
        if endpoints.amp_query_url and credentials is not None
        else None,
        grafana=JsonApi(endpoints.grafana_url, grafana_token) if endpoints.grafana_url and grafana_token else None,
        sentry=JsonApi(endpoints.sentry_api_url, sentry_token) if endpoints.sentry_api_url and sentry_token else None,
    )


def guarded(check: str, run: Callable[[], Result | list[Result]]) -> list[Result]:
    """One check's results; an API error becomes that check's FAIL (the next checks still run)."""
    try:
        outcome = run()
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "?")
        return [
            failed(
                check,
                f"{code}: {error}",
                "the identity running verify needs the read permissions in "
                "docs/after-deploy.md (Describe*/List*/Get*), on this stack's resources",
            )
        ]
    except (botocore.exceptions.BotoCoreError, urllib.error.URLError, OSError, KeyError, ValueError) as error:
        return [failed(check, f"{type(error).__name__}: {error}", "see the error; run `make verify` again")]
    return outcome if isinstance(outcome, list) else [outcome]


def run_checks(target: Target, clients: Clients, now: datetime) -> list[Result]:
    aws = clients.aws
    results: list[Result] = []
    results += guarded("amp.workspace", lambda: check_workspace(aws.amp, target))
    results += guarded("amp.rule-namespaces", lambda: check_rule_namespaces(aws.amp, target))
    results += guarded("amp.alertmanager-definition", lambda: check_alertmanager_definition(aws.amp, target))
    results += guarded("amp.samples", lambda: check_samples(clients.query, target))
    grafana = clients.grafana
    if grafana is None:
        results.append(
            warned(
                "grafana",
                "no Grafana token: data sources, dashboards, rule groups and synthetics not checked",
                f"export {GRAFANA_TOKEN_VARIABLE}=<a Grafana service account token with the Viewer role>",
            )
        )
    else:
        results += guarded("grafana.datasource", lambda: check_datasources(grafana, target))
        results += guarded("grafana.dashboards", lambda: check_dashboards(grafana, target))
        results += guarded("grafana.rule-groups", lambda: check_rule_groups(grafana, target))
        results += guarded("grafana.synthetics", lambda: check_synthetics(grafana, target))
    results += guarded("delivery.subscriptions", lambda: check_subscriptions(aws.sns, target))
    results += guarded("delivery.pipeline-alarms", lambda: check_pipeline_alarms(aws.cloudwatch, target))
    results += guarded("delivery.alarms-with-data", lambda: check_insufficient_data(aws.cloudwatch, target, now))
    results += guarded("logs.sources", lambda: check_log_sources(aws.logs, target, now))
    sentry = clients.sentry
    if target.settings.sentry is not None and sentry is None:
        results.append(
            warned(
                "sentry",
                "no Sentry token: projects, keys and alerts not checked",
                f"export {SENTRY_TOKEN_VARIABLE}=<a Sentry token with project:read>",
            )
        )
    else:
        results += guarded("sentry", lambda: check_sentry(sentry, target))
    return results
