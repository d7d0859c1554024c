"""What every policy gets from common.py: it sees only its resource types, and a broken document is one violation.

Several policies read one document (a rule namespace's data, the Alertmanager
definition, a dashboard's configJson); the expectation, worked out by hand, is
that the whole pack reports an unreadable one exactly once, by the policy that
owns the parse check, and that the others stay quiet rather than guess.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy import ResourceValidationPolicy
from screener_policies import POLICIES
from screener_policies.alerting import ALERT_MANAGER_DEFINITION, RULE_GROUP_NAMESPACE
from screener_policies.aws import SNS_TOPIC, sns_topic_customer_managed_key
from screener_policies.grafana import DASHBOARD_TYPES

from tests.policies.support import args, messages

# The AWS resources carry their tags, so aws-required-tags has nothing to say about them.
TAGS = {"environment": "dev", "service": "screener-monitoring", "owner": "platform-team"}


def pack_messages(validation_args: Any) -> dict[str, list[str]]:
    """Every resource policy's messages for one resource, by policy name (policies that report nothing left out)."""
    found: dict[str, list[str]] = {}
    for policy in POLICIES:
        if isinstance(policy, ResourceValidationPolicy) and policy.has_validation():
            reported = messages(policy.validate, validation_args)
            if reported:
                found[policy.name] = reported
    return found


@pytest.mark.parametrize(
    ("type_token", "props", "owner", "start"),
    [
        (RULE_GROUP_NAMESPACE, {"name": "api", "data": "groups: [unclosed"}, "amp-rule-data-parses", "rule namespace"),
        (
            ALERT_MANAGER_DEFINITION,
            {"definition": "alertmanager_config: [unclosed"},
            "amp-alertmanager-routes-resolve",
            "Alertmanager definition is not valid YAML",
        ),
        (DASHBOARD_TYPES[0], {"configJson": "{not json"}, "grafana-dashboard-uid", "dashboard 'subject'"),
    ],
)
def test_an_unreadable_document_is_one_violation_of_the_policy_that_owns_its_parse_check(
    type_token: str, props: dict[str, Any], owner: str, start: str
) -> None:
    found = pack_messages(args(type_token, {**props, "tags": TAGS}))
    assert list(found) == [owner]
    (message,) = found[owner]
    assert message.startswith(start)


def test_a_typed_check_ignores_resources_of_other_types() -> None:
    unencrypted = {"name": "alerts"}  # no kmsMasterKeyId
    assert len(messages(sns_topic_customer_managed_key, args(SNS_TOPIC, unencrypted))) == 1
    assert messages(sns_topic_customer_managed_key, args("aws:sqs/queue:Queue", unencrypted)) == []
