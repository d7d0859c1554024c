"""The IAM document envelope every policy of the stack is written in (infra/iam_policy.py).

Expectations written by hand from the IAM JSON policy reference: "IAM JSON policy elements:
Version" (docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html:
"2012-10-17. This is the current version of the policy language", placed outside `Statement`),
and the Action/Resource elements, which take a string or an array of strings.
"""

from __future__ import annotations

from infra.iam_policy import allow, policy_document, policy_json


def test_a_document_is_the_current_version_with_its_statements_in_order_and_keys_sorted() -> None:
    text = policy_json(
        allow(["s3:GetObject"], "arn:aws:s3:::b/*", sid="Read"), allow(("s3:ListBucket",), ["arn:aws:s3:::b"])
    )
    assert text == (
        '{"Statement": ['
        '{"Action": ["s3:GetObject"], "Effect": "Allow", "Resource": "arn:aws:s3:::b/*", "Sid": "Read"}, '
        '{"Action": ["s3:ListBucket"], "Effect": "Allow", "Resource": ["arn:aws:s3:::b"]}], "Version": "2012-10-17"}'
    )


def test_an_unsorted_document_keeps_version_before_statement_and_the_sid_first() -> None:
    # Key policies are serialised without sorting: the order they are built in is the order KMS is sent.
    document = policy_document(allow(["kms:Decrypt"], "*", sid="UseTheKey"))
    assert list(document) == ["Version", "Statement"]
    assert list(document["Statement"][0]) == ["Sid", "Effect", "Action", "Resource"]
