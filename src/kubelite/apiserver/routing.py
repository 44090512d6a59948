"""Request routing: which resource, namespace, name, subresource and verb a path and method mean.

Paths follow Kubernetes exactly:
`/api/v1/namespaces/{ns}/pods/{name}/status`, `/apis/apps/v1/deployments` (all namespaces),
`/api/v1/namespaces/{name}` (the Namespace object itself), `/api/v1/nodes/{name}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

from kubelite.api.resources import NAMESPACES, ResourceType

from . import errors


@dataclass(frozen=True, slots=True)
class ResourceRequest:
    """A request for a resource collection, an object, or an object's subresource."""

    resource: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None
    verb: str


def parse_query(query_string: str) -> dict[str, str]:
    """Query parameters, last value winning (Kubernetes takes the first; clients send one)."""
    if not query_string:
        return {}
    return {key: values[0] for key, values in parse_qs(query_string, keep_blank_values=True).items()}


def int_param(query: dict[str, str], name: str) -> int | None:
    """An integer query parameter, or None when absent; a 400 when it is not an integer."""
    value = query.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise errors.bad_request(f"{name}: invalid integer {value!r}") from None


def is_watch(query: dict[str, str]) -> bool:
    return query.get("watch", "").lower() in ("true", "1")


class Router:
    """Maps resource paths onto the resource table."""

    def __init__(self, resources: tuple[ResourceType, ...]) -> None:
        self._by_path = {(r.group, r.version, r.plural): r for r in resources}

    def resolve(self, method: str, segments: list[str], query: dict[str, str]) -> ResourceRequest | None:
        """Parse resource path segments (after `/api/v1` or `/apis/g/v`); None if not a resource path."""
        if segments[0] == "api":
            group, version, rest = "", segments[1], segments[2:]
        else:
            group, version, rest = segments[1], segments[2], segments[3:]
        namespace: str | None = None
        if rest and rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in NAMESPACES.subresources:
            namespace, rest = rest[1], rest[2:]
        if not rest:
            return None
        resource = self._by_path.get((group, version, rest[0]))
        if resource is None:
            raise errors.path_not_found()
        if namespace is not None and not resource.namespaced:
            raise errors.path_not_found()
        name = rest[1] if len(rest) > 1 else None
        subresource = rest[2] if len(rest) > 2 else None
        if len(rest) > 3 or (subresource is not None and subresource not in resource.subresources):
            raise errors.path_not_found()
        verb = self._verb(method, name, subresource, query)
        if subresource is None and verb not in resource.verbs:
            raise errors.method_not_allowed(verb, resource.plural)
        return ResourceRequest(resource, namespace, name, subresource, verb)

    @staticmethod
    def _verb(method: str, name: str | None, subresource: str | None, query: dict[str, str]) -> str:
        if method == "GET":
            if name is None:
                return "watch" if is_watch(query) else "list"
            return "watch" if is_watch(query) else "get"
        if method == "POST":
            return "create"
        if method == "PUT":
            return "update"
        if method == "PATCH":
            return "patch"
        if method == "DELETE":
            return "delete" if name is not None else "deletecollection"
        raise errors.method_not_allowed(method, "resource")
