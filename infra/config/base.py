"""Shared building blocks of the configuration model.

Every section of the stack configuration is a frozen pydantic model whose
Python fields are snake_case and whose stack-file keys are camelCase, with
unknown keys refused. Section modules import `Section` and the validated
scalar types from here so that every error reads the same way.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_URL = re.compile(r"^(https?)://[A-Za-z0-9.-]+(:\d{1,5})?(/[^\s]*)?$")


class Section(BaseModel):
    """Base of every configuration section: frozen, camelCase keys, no unknown keys."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
    )


def _check_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"'{value}' is not an email address (expected name@example.com)")
    return value


def _check_url(value: str) -> str:
    if not _URL.match(value):
        raise ValueError(f"'{value}' is not an http(s) URL (expected https://host/path)")
    return value


def _check_https_url(value: str) -> str:
    _check_url(value)
    if not value.startswith("https://"):
        raise ValueError(f"'{value}' must use https:// (plain http is refused)")
    return value


def _check_date(value: str) -> str:
    if not _DATE.match(value):
        raise ValueError(f"'{value}' is not a date (YYYY-MM-DD)")
    return value


Email = Annotated[str, AfterValidator(_check_email)]
# A day as the stack files write it, e.g. the `asOf` of a price table.
IsoDate = Annotated[str, AfterValidator(_check_date)]
Url = Annotated[str, AfterValidator(_check_url)]
HttpsUrl = Annotated[str, AfterValidator(_check_https_url)]
