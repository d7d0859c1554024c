"""Shared building blocks of the configuration model.

Every section of the stack configuration is a frozen pydantic model whose
Python fields are snake_case and whose stack-file keys are camelCase, with
unknown keys refused and numbers finite. Section modules import `Section`
and the validated scalar types from here so that every error reads the same
way.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import date
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit

import annotated_types
import re2
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_URL = re.compile(r"^(https?)://[A-Za-z0-9.-]+(:\d{1,5})?(/[^\s]*)?$")
# RFC 3986 (section 3.3 and 3.4): what a path and a query may hold besides percent-encodings.
# Quotes, backslashes, spaces, braces and angle brackets are not among them, so a URL that
# passes can sit inside a PromQL string, a YAML scalar or an alert template unchanged.
_URI_PATH_QUERY = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$")
# RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens.
_HOST_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
# Host names that only resolve inside a machine or a private network (RFC 6761, RFC 8375,
# Kubernetes' cluster domain, mDNS): an external probe can never reach them.
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".lan", ".intranet", ".corp", ".svc")
_TEMPLATE_BRACES = ("{{", "}}")
# Prometheus data model: label names match this; names starting with __ are reserved.
# A Kubernetes object name: an RFC 1123 label, at most 63 characters (namespaces, containers, Services,
# Secrets, name prefixes; kubernetes/apimachinery pkg/util/validation, IsDNS1123Label, DNS1123LabelMaxLength).
K8S_NAME = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


# Bounds every setting shares, beyond its own: no text setting needs more than a paragraph, and no list or
# mapping more than a few hundred entries (the reader's bounds stop what would exhaust memory; these stop
# what would only make a slow, unreadable plan).
MAX_TEXT_CHARACTERS = 1024
MAX_ENTRIES = 200
# The service catalog is the one list meant to be long: one AMP workspace is sized for 2,000 services
# (rules by alert family, not by service), and this leaves room for 2.5 times that.
MAX_CATALOG_SERVICES = 5_000


def _own_max_length(field: FieldInfo) -> int | None:
    """A field's own `max_length` (Field(max_length=...)), which replaces the shared MAX_ENTRIES."""
    return next((m.max_length for m in field.metadata if isinstance(m, annotated_types.MaxLen)), None)


def _is_bool_field(annotation: Any) -> bool:
    return annotation is bool or (get_origin(annotation) in (Union, UnionType) and bool in get_args(annotation))


def _is_number_field(annotation: Any) -> bool:
    if annotation in (int, float):
        return True
    if get_origin(annotation) is Literal:
        return all(isinstance(arg, int | float) and not isinstance(arg, bool) for arg in get_args(annotation))
    if get_origin(annotation) in (Union, UnionType):
        return any(_is_number_field(arg) for arg in get_args(annotation) if arg is not type(None))
    return False


class Section(BaseModel):
    """Base of every configuration section: frozen, camelCase keys, no unknown keys, finite numbers,
    strict booleans, bounded text and lists."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
        # `.inf` in a threshold silences its alert (`x >= +Inf` is never true) and NaN compares false.
        allow_inf_nan=False,
        str_max_length=MAX_TEXT_CHARACTERS,
    )

    @field_validator("*", mode="before")
    @classmethod
    def _booleans_are_booleans_and_sizes_are_bounded(cls, value: Any, info: ValidationInfo) -> Any:
        # Pydantic's lax mode reads 1, "yes" or "on" as true and true as the number 1, so `tracesSampleRate: true`
        # would trace every request and `protect: 1` would pass for a decision. A switch takes true or false, a
        # number takes a number.
        field = cls.model_fields[info.field_name or ""]
        annotation = field.annotation
        limit = _own_max_length(field) or MAX_ENTRIES
        if _is_bool_field(annotation) and value is not None and not isinstance(value, bool):
            raise ValueError(f"must be true or false (YAML's unquoted true/false), not {value!r}")
        if isinstance(value, bool | str) and not _is_bool_field(annotation) and _is_number_field(annotation):
            shown = str(value).lower() if isinstance(value, bool) else f"the text {value!r}"
            raise ValueError(f"must be a number (unquoted), not {shown}")
        if isinstance(value, list | tuple | dict) and len(value) > limit:
            raise ValueError(f"holds {len(value)} entries; at most {limit}")
        # The same inside a list or mapping of numbers (`weekdays: [true, 2]`, `labelValues: {endpoint: true}`).
        items = value.values() if isinstance(value, dict) else value if isinstance(value, list | tuple) else ()
        element_types = [arg for arg in get_args(annotation) if arg is not Ellipsis]
        element = element_types[-1] if get_origin(annotation) in (tuple, list, dict) and element_types else None
        if element is not None and _is_number_field(element) and any(isinstance(item, bool) for item in items):
            raise ValueError("holds true/false where numbers belong; write numbers")
        return value


# The error type of `error_at`: the loader reports it at `ctx["at"]` instead of where pydantic raised it.
LOCATED_ERROR = "located"


def error_at(loc: tuple[str | int, ...], message: str) -> PydanticCustomError:
    """A problem that a section-level validator found in one particular key (e.g. `services[0]`).

    `loc` is the key path from the top of the `monitoring:` settings, camelCase as in the stack file.
    """
    return PydanticCustomError(LOCATED_ERROR, "{message}", {"message": message, "at": loc})


def _check_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"'{value}' is not an email address (expected name@example.com)")
    return value


def refuse_template_braces(value: str) -> str:
    """Values that end up inside an alert or notification template must not open a template action."""
    if any(braces in value for braces in _TEMPLATE_BRACES):
        raise ValueError(
            f"'{value}' contains template braces ('{{{{' or '}}}}'), which alert and notification templates would "
            "try to execute; remove them (percent-encode as %7B/%7D if the URL really has braces)"
        )
    return value


def url_host(value: str) -> str:
    """The host of an already validated URL, lower-case, without brackets."""
    return (urlsplit(value).hostname or "").lower()


def _check_url(value: str) -> str:
    refuse_template_braces(value)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or value.split("://", 1)[0] != parts.scheme:
        raise ValueError(f"'{value}' is not an http(s) URL (expected https://host/path)")
    if "@" in parts.netloc:
        raise ValueError(f"'{value}' carries user information before '@'; give the host only (https://host/path)")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"'{value}' has a port outside 1-65535") from None
    if port == 0:
        raise ValueError(f"'{value}' has a port outside 1-65535")
    host = parts.hostname or ""
    if parts.netloc.startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"'{value}' has an invalid IPv6 address") from None
    elif len(host) > 253 or not all(_HOST_LABEL.match(label) for label in host.split(".")):
        raise ValueError(f"'{value}' has an invalid host name '{host}' (letters, digits, '-' and '.')")
    path_query, _, fragment = value.split("://", 1)[1][len(parts.netloc) :].partition("#")
    if not (_URI_PATH_QUERY.match(path_query) and _URI_PATH_QUERY.match(fragment)):
        raise ValueError(
            f"'{value}' has characters a URL may not hold (RFC 3986: letters, digits, -._~!$&'()*+,;=:@/? "
            "and %XX); percent-encode the others"
        )
    return value


def _check_https_url(value: str) -> str:
    _check_url(value)
    if not value.startswith("https://"):
        raise ValueError(f"'{value}' must use https:// (plain http is refused)")
    return value


def _check_date(value: str) -> str:
    try:
        valid = bool(_DATE.match(value)) and date.fromisoformat(value) is not None
    except ValueError:
        valid = False
    if not valid:
        raise ValueError(f"'{value}' is not a date (YYYY-MM-DD, a day that exists)")
    return value


def _is_ip_literal(host: str) -> bool:
    # Besides dotted quads, resolvers take '2130706433', '0x7f.1' or '127.1' as IPv4 addresses;
    # a public DNS name always ends in a label with a letter (top-level domains are alphabetic).
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return not any(char.isalpha() for char in host.rsplit(".", 1)[-1]) or host.startswith("0x")
    return True


def check_public_url(value: str) -> str:
    """A URL an external probe can reach: no private, loopback or link-local address, no local name.

    Offline there is no DNS, so a name is judged by its form: IP literals must be
    globally routable, and names must have a public-looking top-level domain.
    """
    host = url_host(value)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and not address.is_global:
        raise ValueError(
            f"'{value}' points at {host}, a private, loopback, link-local or reserved address that no external "
            "probe can reach; use the endpoint's public DNS name"
        )
    if address is None and _is_ip_literal(host):
        raise ValueError(f"'{value}' writes an IP address in a numeric short form; use the public DNS name")
    if address is None and (
        host == "localhost" or "." not in host or any(host.endswith(suffix) for suffix in _LOCAL_SUFFIXES)
    ):
        raise ValueError(
            f"'{value}' names '{host}', which resolves only inside a machine or a private network; "
            "use the endpoint's public DNS name"
        )
    return value


def check_trusted_host(
    url: str, allowed: re.Pattern[str], override_reason: str | None, *, expected: str, token: str, override_key: str
) -> str:
    """`url`'s host matches `allowed` (the provider's own domains) unless the stack file says why it need not.

    The plan hands `token` to this host: a typo or a hostile edit would send it elsewhere.
    """
    if override_reason is None and not allowed.match(url_host(url)):
        raise ValueError(
            f"{url} is not {expected} and the plan sends the {token} there; use the address the provider shows, "
            f"or set {override_key} to say why this host is trusted"
        )
    # The provider's hosts answer on 443; another port on an allow-listed name is not the provider's service.
    if override_reason is None and urlsplit(url).port not in (None, 443):
        raise ValueError(
            f"{url} names port {urlsplit(url).port}, and {expected} answers on 443 only; remove the port, or set "
            f"{override_key} to say why this host is trusted"
        )
    return url


def check_re2(pattern: str) -> str:
    """The pattern compiles with RE2, the engine of Prometheus, Grafana and Synthetic Monitoring (Go's regexp)."""
    options = re2.Options()
    options.log_errors = False  # the ValueError below says it; RE2 would also print to stderr
    try:
        re2.compile(pattern, options)
    except re2.error as error:
        reason = error.args[0].decode() if error.args and isinstance(error.args[0], bytes) else str(error)
        raise ValueError(
            f"'{pattern}' is not an RE2 regular expression ({reason}); RE2 has no lookaround and no backreferences"
        ) from None
    return pattern


def check_label_name(name: str) -> str:
    if not _LABEL_NAME.match(name) or name.startswith("__"):
        raise ValueError(
            f"'{name}' is not a Prometheus label name (letters, digits and '_', not starting with a digit; "
            "names starting with '__' are reserved)"
        )
    return name


Email = Annotated[str, AfterValidator(_check_email)]
# Free text that reaches a notification, a title or a third-party service name: template braces would be
# executed by Grafana's or Alertmanager's templates wherever the text is shown.
PlainText = Annotated[str, AfterValidator(refuse_template_braces)]
# A day as the stack files write it, e.g. the `asOf` of a price table.
IsoDate = Annotated[str, AfterValidator(_check_date)]
Url = Annotated[str, AfterValidator(_check_url)]
HttpsUrl = Annotated[str, AfterValidator(_check_https_url)]
# Probed from the internet by Synthetic Monitoring.
PublicUrl = Annotated[str, AfterValidator(_check_url), AfterValidator(check_public_url)]
PublicHttpsUrl = Annotated[str, AfterValidator(_check_https_url), AfterValidator(check_public_url)]
Re2Pattern = Annotated[str, AfterValidator(check_re2)]
