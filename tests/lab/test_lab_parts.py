"""The lab's parts that need no processes: the SNS stand-in's strictness and the time compression."""

from __future__ import annotations

import json

import yaml

from lab.fake_sns import FakeSns
from lab.run import TIME_COMPRESSION, compress_for

TOPICS = {"critical": "arn:aws:sns:ap-northeast-2:000000000000:t-critical", "chat": "arn:aws:sns:x:0:t-chat"}
AUDIENCE = {arn: audience for audience, arn in TOPICS.items()}


def publish(**form: str) -> str | None:
    return FakeSns.check({"Action": "Publish", **form}, AUDIENCE)


def test_sns_stand_in_refuses_a_subject_of_100_characters_like_sns() -> None:
    assert publish(TopicArn=TOPICS["critical"], Subject="x" * 99, Message="m") is None
    assert publish(TopicArn=TOPICS["critical"], Subject="x" * 100, Message="m") == (
        "InvalidParameter: Subject must be 1-99 characters, got 100"
    )


def test_sns_stand_in_refuses_line_breaks_and_non_ascii_subjects() -> None:
    assert publish(TopicArn=TOPICS["critical"], Subject="a\nb", Message="m")
    assert publish(TopicArn=TOPICS["critical"], Subject="서비스", Message="m")


def test_sns_stand_in_refuses_unknown_topics() -> None:
    assert (
        publish(TopicArn="arn:aws:sns:x:0:other", Message="m")
        == "NotFound: Topic does not exist: arn:aws:sns:x:0:other"
    )


def test_sns_stand_in_refuses_chat_messages_chatbot_would_drop() -> None:
    assert publish(TopicArn=TOPICS["chat"], Message="FIRING: plain text")
    chatbot = {"version": "1.0", "source": "custom", "content": {"textType": "client-markdown", "description": "d"}}
    assert publish(TopicArn=TOPICS["chat"], Message=json.dumps(chatbot)) is None


def test_compression_divides_every_for_and_changes_nothing_else() -> None:
    rules = """groups:
- name: g
  interval: 1m
  rules:
  - alert: A
    expr: up == 0
    for: 3m
    labels: {severity: critical}
  - alert: B
    expr: vector(1)
  - record: a:b:c
    expr: sum(up)
"""
    compressed = yaml.safe_load(compress_for(rules))
    original = yaml.safe_load(rules)
    assert compressed["groups"][0]["rules"][0]["for"] == f"{180 // TIME_COMPRESSION}s"
    original["groups"][0]["rules"][0]["for"] = f"{180 // TIME_COMPRESSION}s"
    assert compressed == original
