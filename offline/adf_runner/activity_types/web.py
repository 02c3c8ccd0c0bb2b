"""The Web activity (`WebActivity`), against loopback URLs only.

Rules, from Microsoft Learn "Web activity in Azure Data Factory and Azure Synapse Analytics"
(https://learn.microsoft.com/azure/data-factory/control-flow-web-activity) unless noted:
- method is one of GET, POST, PUT, PATCH, DELETE; body is required for POST, PUT and PATCH.
- httpRequestTimeout is hh:mm:ss, default 00:01:00, from 00:01:00 to 00:10:00; no response within it fails the
  activity.
- headers are sent as given; `datasets` and `linkedServices` are added to the JSON body as `{"name", "properties"}`
  lists ("Request payload schema").
- A 202 with a Location header is polled with GET until it is no longer 202, unless turnOffAsync is true.
- The output is the response's JSON object, plus the response headers under `ADFWebActivityResponseHeaders` (the key
  Learn's solution template "Extract data from PDF" reads: `output.ADFWebActivityResponseHeaders['Operation-Location']`,
  solution-template-extract-data-from-pdf); a body that is not a JSON object
  (the "Response body ... Unsupported" rows) comes back as text under `Response`, as the service returns it.
  "The maximum supported output response payload size is 4 MB."
- Failures use the codes of Learn "Troubleshoot Azure Data Factory", Web Activity: 2108 "Error calling the endpoint
  '%url;'. Response status code: '%code;'" for a status of 400 or more, 2128 "No response from the endpoint" when
  nothing answered.

Refused by name, because nothing here can be reached or authenticated against: any URL whose host is not a loopback
address (127.0.0.0/8, ::1, localhost), redirects away from loopback, and authentication other than none or Basic
(MSI, service principal, client certificate need Microsoft Entra ID or a PKI).
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import json
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import timedelta
from email.message import Message
from typing import Any
from urllib.parse import urljoin, urlsplit

from activities.common.errors import ActivityError
from factory_deploy.json_keys import get_property
from factory_deploy.limits import TIMESPAN_PATTERN
from offline.adf_runner.activity_types.base import ActivityCall, ActivityType
from offline.adf_runner.errors import (
    ActivityDefinitionError,
    ActivityFailed,
    NonLoopbackUrlError,
    UnsupportedActivityFeatureError,
)
from offline.adf_runner.expressions import is_expression
from offline.adf_runner.factory import Activity, Factory, Pipeline, parse_timespan
from offline.adf_runner.services import key_vault_store

__all__ = ["WebActivity", "check_loopback"]

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
METHODS_WITH_BODY = ("POST", "PUT", "PATCH")
DEFAULT_REQUEST_TIMEOUT = MIN_REQUEST_TIMEOUT = timedelta(minutes=1)
MAX_REQUEST_TIMEOUT = timedelta(minutes=10)
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
# Basic is the only type the runner can honour locally; the rest need Entra ID or certificates.
AUTHENTICATION_TYPES = ("Basic",)
ERROR_CALLING_ENDPOINT = "2108"
NO_RESPONSE = "2128"
EFFECTIVE_RUNTIME = "local (loopback HTTP)"
_LOOPBACK_NAMES = ("localhost",)
# Seconds between polls of a 202 Location when the response names no Retry-After.
_DEFAULT_POLL_SECONDS = 1.0


def check_loopback(url: str, activity: str, pipeline: str) -> str:
    """`url` if it is http(s) to a loopback host, else NonLoopbackUrlError naming the host."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() not in ("http", "https") or not _is_loopback(host):
        raise NonLoopbackUrlError(activity, pipeline, host or "(none)")
    return url


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def request_timeout(value: Any) -> timedelta:
    """httpRequestTimeout (None: one minute), or ValueError naming the rule: "The range is from 1 to 10 minutes"
    (WebActivity.HttpRequestTimeout in the Data Factory .NET SDK reference; Learn: "the max value as 00:10:00")."""
    if value is None:
        return DEFAULT_REQUEST_TIMEOUT
    timeout = parse_timespan(value) if isinstance(value, str) and TIMESPAN_PATTERN.match(value) else None
    if timeout is None or not MIN_REQUEST_TIMEOUT <= timeout <= MAX_REQUEST_TIMEOUT:
        raise ValueError(f"httpRequestTimeout {value!r} must be an hh:mm:ss timespan from 00:01:00 to 00:10:00")
    return timeout


class WebActivity(ActivityType):
    type_name = "WebActivity"

    @classmethod
    def validate(cls, activity: Activity, pipeline: Pipeline, factory: Factory) -> None:
        properties = activity.type_properties

        def refuse(problem: str) -> ActivityDefinitionError:
            return ActivityDefinitionError(activity.name, pipeline.name, problem)

        method = _literal(get_property(properties, "method"))
        if not is_expression(method):
            if not isinstance(method, str) or method.upper() not in METHODS:
                raise refuse(f"method {method!r} is not one of {', '.join(METHODS)}")
            if method.upper() in METHODS_WITH_BODY and get_property(properties, "body") is None:
                raise refuse(f"a {method.upper()} needs typeProperties.body")
        url = _literal(get_property(properties, "url"))
        if isinstance(url, str) and not is_expression(url):
            check_loopback(url, activity.name, pipeline.name)
        elif url is None:
            raise refuse("typeProperties.url is required")
        timeout = _literal(get_property(properties, "httpRequestTimeout"))
        if not is_expression(timeout):
            try:
                request_timeout(timeout)
            except ValueError as exc:
                raise refuse(str(exc)) from None
        authentication = get_property(properties, "authentication")
        kind = get_property(authentication, "type") if isinstance(authentication, Mapping) else None
        if isinstance(kind, str) and not is_expression(kind) and kind not in AUTHENTICATION_TYPES:
            raise UnsupportedActivityFeatureError(
                activity.name, pipeline.name, f"authentication type `{kind}`",
                "Basic or none (no Microsoft Entra ID or certificate authority here)",
            )

    def run(self, call: ActivityCall) -> Any:
        name, pipeline = call.activity.name, call.scope.run.pipeline.name
        url = call.require("url", str, "a URL string")
        check_loopback(url, name, pipeline)
        method = str(call.require("method", str, "one of " + ", ".join(METHODS))).upper()
        if method not in METHODS:
            raise ActivityFailed("InvalidActivityDefinition", f"activity `{name}`: method {method!r} is not one of {', '.join(METHODS)}")
        try:
            timeout = request_timeout(get_property(call.inputs, "httpRequestTimeout"))
        except ValueError as exc:
            raise ActivityFailed("InvalidActivityDefinition", f"activity `{name}`: {exc}") from None
        headers = _headers(call)
        body = _body(call, method, headers)
        started = time.monotonic()
        status, response_headers, content = _send(call, method, url, headers, body, timeout)
        if status == 202 and not bool(get_property(call.inputs, "turnOffAsync", False)):
            status, response_headers, content = _poll(call, url, response_headers, headers, timeout)
        if status >= 400:
            detail = content[:1000].decode("utf-8", "replace")
            raise ActivityFailed(
                ERROR_CALLING_ENDPOINT,
                f"Error calling the endpoint '{url}'. Response status code: '{status}'. More details: {detail}",
            )
        if len(content) > MAX_RESPONSE_BYTES:
            raise ActivityFailed(
                ERROR_CALLING_ENDPOINT,
                f"activity `{name}`: the response from '{url}' is {len(content)} bytes; the Web activity's output "
                f"is limited to {MAX_RESPONSE_BYTES} bytes (4 MB)",
            )
        output = _response_output(content)
        output["ADFWebActivityResponseHeaders"] = response_headers
        output["effectiveIntegrationRuntime"] = EFFECTIVE_RUNTIME
        output["executionDuration"] = round(time.monotonic() - started)
        output["durationInQueue"] = {"integrationRuntimeQueue": 0}
        return output


def _literal(value: Any) -> Any:
    """The text of an Expression object that holds no expression (Studio wraps literals so), else `value`."""
    if is_expression(value) and isinstance(value, Mapping) and not is_expression(value["value"]):
        return value["value"]
    return value


def _headers(call: ActivityCall) -> dict[str, str]:
    raw = get_property(call.inputs, "headers") or {}
    if not isinstance(raw, Mapping):
        raise ActivityFailed("InvalidActivityDefinition", f"activity `{call.activity.name}`: headers must be an object of name: value")
    headers = {str(key): _text(value) for key, value in raw.items()}
    authentication = get_property(call.inputs, "authentication")
    if isinstance(authentication, Mapping):
        kind = get_property(authentication, "type")
        if kind != "Basic":
            raise UnsupportedActivityFeatureError(
                call.activity.name, call.scope.run.pipeline.name, f"authentication type `{kind}`", "Basic or none"
            )
        user = _text(get_property(authentication, "username"))
        password = _secret(call, get_property(authentication, "password"))
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
    return headers


def _secret(call: ActivityCall, value: Any) -> str:
    """A password: a Key Vault secret (Learn: a git-connected factory must keep Basic credentials in Key Vault),
    a SecureString or a string."""
    if isinstance(value, Mapping) and value.get("type") == "AzureKeyVaultSecret":
        store = key_vault_store(value, call.engine.factory)
        name = get_property(value, "secretName")
        if store is None or not isinstance(name, str):
            raise ActivityFailed(
                "InvalidActivityDefinition",
                f"activity `{call.activity.name}`: the password's Key Vault reference needs store.referenceName and secretName",
            )
        try:
            return store.get(name).reveal()
        except ActivityError as exc:  # a missing secret or an unreachable vault fails this activity, naming it
            raise ActivityFailed("InvalidActivityDefinition", f"activity `{call.activity.name}`: {exc}") from exc
    return _text(value)


def _text(value: Any) -> str:
    """A header or credential value: a SecureString's value, a string, or JSON of anything else."""
    if isinstance(value, Mapping) and value.get("type") == "SecureString":
        return str(value.get("value", ""))
    return value if isinstance(value, str) else json.dumps(value)


def _body(call: ActivityCall, method: str, headers: dict[str, str]) -> bytes | None:
    body = get_property(call.inputs, "body")
    if body is None:
        if method in METHODS_WITH_BODY:
            raise ActivityFailed("InvalidActivityDefinition", f"activity `{call.activity.name}`: a {method} needs a body")
        return None
    attached = _attached_resources(call)
    if attached:
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except ValueError:
                body = None
        if not isinstance(body, dict):
            raise ActivityFailed(
                "InvalidActivityDefinition",
                f"activity `{call.activity.name}`: datasets/linkedServices are sent inside a JSON object body",
            )
        body = {**body, **attached}
    if isinstance(body, str):
        return body.encode("utf-8")
    headers.setdefault("Content-Type", "application/json")
    return json.dumps(body).encode("utf-8")


def _attached_resources(call: ActivityCall) -> dict[str, list[dict[str, Any]]]:
    factory = call.engine.factory
    attached: dict[str, list[dict[str, Any]]] = {}
    for key, find in (("datasets", factory.dataset), ("linkedServices", factory.linked_service)):
        references = get_property(call.inputs, key) or []
        resources = [find(str(get_property(ref, "referenceName"))) for ref in references if isinstance(ref, Mapping)]
        if resources:
            attached[key] = [{"name": r.name, "properties": r.raw.get("properties", {})} for r in resources]
    return attached


class _LoopbackRedirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, activity: str, pipeline: str) -> None:
        self.activity, self.pipeline = activity, pipeline

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        check_loopback(newurl, self.activity, self.pipeline)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _send(
    call: ActivityCall, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: timedelta
) -> tuple[int, dict[str, str], bytes]:
    handlers: list[Any] = [_LoopbackRedirects(call.activity.name, call.scope.run.pipeline.name)]
    if bool(get_property(call.inputs, "disableCertValidation", False)):
        handlers.append(urllib.request.HTTPSHandler(context=ssl._create_unverified_context()))  # noqa: S323 - asked for
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, data=body, headers=dict(headers), method=method)
    try:
        with opener.open(request, timeout=timeout.total_seconds()) as response:
            return response.status, _header_map(response.headers), response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        return exc.code, _header_map(exc.headers), exc.read(MAX_RESPONSE_BYTES + 1)
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ActivityFailed(
            NO_RESPONSE,
            f"No response from the endpoint '{url}' within {timeout} (httpRequestTimeout). Possible causes: network "
            f"connectivity, DNS failure, server certificate validation or timeout. Details: {reason}",
        ) from exc


def _poll(
    call: ActivityCall, url: str, headers: dict[str, str], request_headers: Mapping[str, str], timeout: timedelta
) -> tuple[int, dict[str, str], bytes]:
    """Learn: "For endpoints that support Asynchronous Request-Reply pattern, the web activity will continue to wait
    ... or till the endpoints signals completion": GET the Location until it answers something other than 202,
    within the activity's policy.timeout."""
    clock = call.engine.clock
    deadline = clock.now() + call.timeout
    status, content = 202, b""
    while status == 202:
        location = _header(headers, "Location")
        if not location:
            return status, headers, content
        location = check_loopback(urljoin(url, location), call.activity.name, call.scope.run.pipeline.name)
        if clock.now() >= deadline:
            raise ActivityFailed(
                "ActivityTimeout", f"activity `{call.activity.name}`: '{location}' still answered 202 when policy.timeout elapsed"
            )
        clock.sleep(_retry_after(headers))
        status, headers, content = _send(call, "GET", location, request_headers, None, timeout)
    return status, headers, content


def _retry_after(headers: Mapping[str, str]) -> float:
    value = _header(headers, "Retry-After")
    try:
        return max(0.0, float(value)) if value else _DEFAULT_POLL_SECONDS
    except ValueError:
        return _DEFAULT_POLL_SECONDS


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


def _header_map(message: Message | None) -> dict[str, str]:
    if message is None:
        return {}
    merged: dict[str, str] = {}
    for key, value in message.items():
        merged[key] = f"{merged[key]}, {value}" if key in merged else value
    return merged


def _response_output(content: bytes) -> dict[str, Any]:
    text = content.decode("utf-8", "replace")
    try:
        parsed = json.loads(text) if text.strip() else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return parsed
    return {"Response": text}
