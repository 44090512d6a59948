"""The sans-I/O core of the client: building requests and reading responses, with no I/O at all.

Every transport (HTTP over the network, in-process calls into an API server, a test double) moves
the same `HttpRequest` and `HttpResponse` values, so request building and response parsing live
here once, in the way lightkube and httpx separate them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

import msgspec

from kubelite.api.resources import ResourceType

from .errors import ApiError

PatchType = Literal["merge", "strategic", "json", "apply"]
PATCH_CONTENT_TYPES: dict[PatchType, str] = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
    "apply": "application/apply-patch+yaml",
}

_encode = msgspec.json.encode
_decode = msgspec.json.decode


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_type: str = "application/json"
    accept: str = "application/json"

    @property
    def target(self) -> str:
        """Path and query string, as sent on the request line."""
        return f"{self.path}?{urlencode(self.query)}" if self.query else self.path


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: bytes
    content_type: str = "application/json"


def build(
    method: str,
    resource: ResourceType,
    *,
    namespace: str | None = None,
    name: str | None = None,
    subresource: str | None = None,
    query: dict[str, str] | None = None,
    body: Any = None,
    content_type: str = "application/json",
) -> HttpRequest:
    """A request for a resource path; `body` is JSON-encoded unless it is already bytes."""
    if resource.namespaced and namespace is None and name is not None:
        raise ValueError(f"{resource.kind} is namespaced: a namespace is required")
    path = resource.path(namespace if resource.namespaced else None, name, subresource)
    payload = body if isinstance(body, bytes) else (b"" if body is None else _encode(body))
    clean = {key: value for key, value in (query or {}).items() if value not in ("", None)}
    return HttpRequest(method, path, clean, payload, content_type)


def selector_query(
    label_selector: str = "",
    field_selector: str = "",
    limit: int = 0,
    continue_token: str = "",
    resource_version: str = "",
) -> dict[str, str]:
    query: dict[str, str] = {}
    if label_selector:
        query["labelSelector"] = label_selector
    if field_selector:
        query["fieldSelector"] = field_selector
    if limit:
        query["limit"] = str(limit)
    if continue_token:
        query["continue"] = continue_token
    if resource_version:
        query["resourceVersion"] = resource_version
    return query


def error_from(response: HttpResponse) -> ApiError:
    """The `ApiError` a failed response describes."""
    try:
        status = _decode(response.body)
    except msgspec.DecodeError:
        status = None
    if isinstance(status, dict) and status.get("kind") == "Status":
        return ApiError(
            int(status.get("code") or response.status),
            str(status.get("reason", "")),
            str(status.get("message", "")),
            status,
        )
    text = response.body[:200].decode("utf-8", "replace")
    return ApiError(response.status, "Unknown", text)


def parse(response: HttpResponse) -> dict[str, Any]:
    """The JSON object of a successful response; raises `ApiError` for a failure."""
    if response.status >= 400:
        raise error_from(response)
    try:
        data = _decode(response.body)
    except msgspec.DecodeError as error:
        raise ApiError(response.status, "InvalidResponse", f"response is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise ApiError(response.status, "InvalidResponse", "response is not a JSON object")
    return data


def parse_watch_line(line: bytes) -> tuple[str, dict[str, Any]]:
    """One line of a watch stream: (event type, object)."""
    event = _decode(line)
    if not isinstance(event, dict) or not isinstance(event.get("object"), dict):
        raise ApiError(500, "InvalidResponse", "malformed watch event")
    event_type = str(event.get("type", ""))
    obj = event["object"]
    if event_type == "ERROR":
        raise ApiError(
            int(obj.get("code") or 500), str(obj.get("reason", "")), str(obj.get("message", "")), obj
        )
    return event_type, obj
