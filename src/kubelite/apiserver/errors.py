"""Kubernetes `Status` errors: the one error type of the API server.

Every failure a client can cause becomes an `ApiError` carrying the HTTP code, the Kubernetes
reason and, for validation failures, the causes with field paths. The HTTP layer renders it as a
`Status` object, so clients (kubectl, client-go, the Python client) show the message they expect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec


@dataclass(frozen=True, slots=True)
class Cause:
    """One cause of a failure, as in `Status.details.causes`."""

    reason: str
    message: str
    field: str = ""

    def to_json(self) -> dict[str, str]:
        out = {"reason": self.reason, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out


@dataclass(slots=True)
class ApiError(Exception):
    """A request failure with its Kubernetes reason."""

    code: int
    reason: str
    message: str
    kind: str = ""
    group: str = ""
    name: str = ""
    causes: list[Cause] = field(default_factory=list)
    retry_after_seconds: int = 0

    def __str__(self) -> str:
        return self.message

    def status(self) -> dict[str, Any]:
        """The `Status` object sent to the client."""
        out: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        details: dict[str, Any] = {}
        if self.name:
            details["name"] = self.name
        if self.group:
            details["group"] = self.group
        if self.kind:
            details["kind"] = self.kind
        if self.causes:
            details["causes"] = [cause.to_json() for cause in self.causes]
        if self.retry_after_seconds:
            details["retryAfterSeconds"] = self.retry_after_seconds
        if details:
            out["details"] = details
        return out

    def body(self) -> bytes:
        return msgspec.json.encode(self.status())


def _resource_label(plural: str, group: str) -> str:
    return f"{plural}.{group}" if group else plural


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def unauthorized(message: str = "Unauthorized") -> ApiError:
    return ApiError(401, "Unauthorized", message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, "Forbidden", message)


def not_found(plural: str, group: str, name: str) -> ApiError:
    label = _resource_label(plural, group)
    message = f'{label} "{name}" not found' if name else "the server could not find the requested resource"
    return ApiError(404, "NotFound", message, kind=plural, group=group, name=name)


def path_not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource")


def method_not_allowed(verb: str, what: str) -> ApiError:
    return ApiError(
        405,
        "MethodNotAllowed",
        f"the server does not allow this method on the requested resource ({verb} {what})",
    )


def already_exists(plural: str, group: str, name: str) -> ApiError:
    label = _resource_label(plural, group)
    return ApiError(
        409, "AlreadyExists", f'{label} "{name}" already exists', kind=plural, group=group, name=name
    )


def conflict(plural: str, group: str, name: str, detail: str) -> ApiError:
    label = _resource_label(plural, group)
    message = f'Operation cannot be fulfilled on {label} "{name}": {detail}'
    return ApiError(409, "Conflict", message, kind=plural, group=group, name=name)


def stale_resource_version(plural: str, group: str, name: str) -> ApiError:
    return conflict(
        plural,
        group,
        name,
        "the object has been modified; please apply your changes to the latest version and try again",
    )


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def too_large(message: str = "the request is too large") -> ApiError:
    return ApiError(413, "RequestEntityTooLarge", message)


def unsupported_media_type(content_type: str) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/merge-patch+json, application/strategic-merge-patch+json, application/json-patch+json, application/apply-patch+yaml (got {content_type!r})",
    )


def not_acceptable(accept: str) -> ApiError:
    return ApiError(
        406,
        "NotAcceptable",
        f"only the following media types are accepted: application/json, application/yaml (got {accept!r})",
    )


def invalid(kind: str, group: str, name: str, causes: list[Cause]) -> ApiError:
    """422 Invalid, with Kubernetes' message layout: `Kind "name" is invalid: [field: msg, ...]`."""
    parts = [f"{cause.field}: {cause.message}" if cause.field else cause.message for cause in causes]
    summary = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    return ApiError(
        422,
        "Invalid",
        f'{kind} "{name}" is invalid: {summary}',
        kind=kind,
        group=group,
        name=name,
        causes=causes,
    )


def too_many_requests(message: str, retry_after_seconds: int = 1) -> ApiError:
    return ApiError(429, "TooManyRequests", message, retry_after_seconds=retry_after_seconds)


def internal(message: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {message}")


def service_unavailable(message: str) -> ApiError:
    return ApiError(503, "ServiceUnavailable", message)
