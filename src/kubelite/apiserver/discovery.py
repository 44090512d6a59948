"""Discovery and OpenAPI documents, built once from the resource table.

kubectl learns what the server serves from `/api`, `/apis` and the per-group-version resource lists
(or, when it asks for it, the aggregated `apidiscovery.k8s.io/v2` form of `/api` and `/apis` in one
request each). It reads `/openapi/v3` to learn that the server validates fields itself (the
`fieldValidation` query parameter), so the OpenAPI documents describe every path and operation with
that parameter and the `x-kubernetes-group-version-kind` extension kubectl keys them by.
All documents are serialised once at start-up and served as bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import msgspec

from kubelite.api.resources import ResourceType

AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

_SUBRESOURCE_VERBS: dict[str, tuple[str, ...]] = {
    "status": ("get", "patch", "update"),
    "scale": ("get", "patch", "update"),
    "binding": ("create",),
    "eviction": ("create",),
    "log": ("get",),
    "finalize": ("update",),
    "token": ("create",),
}


def _subresource_kind(resource: ResourceType, subresource: str) -> tuple[str, str, str]:
    """(group, version, kind) of what a subresource accepts and returns."""
    if subresource == "scale":
        return ("autoscaling", "v1", "Scale")
    if subresource == "binding":
        return ("", "v1", "Binding")
    if subresource == "eviction":
        return ("policy", "v1", "Eviction")
    if subresource == "token":
        return ("authentication.k8s.io", "v1", "TokenRequest")
    return (resource.group, resource.version, resource.kind)


def _verbs(resource: ResourceType) -> list[str]:
    if resource.group == "metrics.k8s.io":  # read-only views (metrics_api)
        return ["get", "list"]
    return list(resource.verbs)


class Discovery:
    """Pre-serialised discovery and OpenAPI documents."""

    def __init__(self, resources: Iterable[ResourceType], git_version: str) -> None:
        self.resources = tuple(resources)
        # A group's preferred version is the one of its first listed resource (the stored one).
        self._preferred: dict[str, str] = {}
        for resource in self.resources:
            self._preferred.setdefault(resource.group, resource.version)
        self.group_versions: dict[str, list[ResourceType]] = {}
        for resource in self.resources:
            self.group_versions.setdefault(resource.api_version, []).append(resource)
        encode = msgspec.json.encode
        self.version = encode(
            {
                "major": "1",
                "minor": "32",
                "gitVersion": git_version,
                "gitCommit": "",
                "gitTreeState": "clean",
                "buildDate": "2026-11-01T00:00:00Z",
                "goVersion": "python",
                "compiler": "cpython",
                "platform": "linux/amd64",
            }
        )
        self.api_versions = encode(
            {"kind": "APIVersions", "apiVersion": "v1", "versions": ["v1"], "serverAddressByClientCIDRs": []}
        )
        self.api_groups = encode(
            {"kind": "APIGroupList", "apiVersion": "v1", "groups": [self._group(g) for g in self._groups()]}
        )
        self.groups = {group: encode(self._group(group)) for group in self._groups()}
        self.resource_lists = {
            gv: encode(self._resource_list(gv, items)) for gv, items in self.group_versions.items()
        }
        self.aggregated_core = encode(self._aggregated([""]))
        self.aggregated_groups = encode(self._aggregated(self._groups()))
        self.openapi_v3_docs = {
            self._v3_path(gv): encode(self._openapi_v3(gv, items))
            for gv, items in self.group_versions.items()
        }
        self.openapi_v3_root = encode(
            {
                "paths": {
                    path: {
                        "serverRelativeURL": f"/openapi/v3/{path}?hash={hashlib.sha256(doc).hexdigest()[:32].upper()}"
                    }
                    for path, doc in self.openapi_v3_docs.items()
                }
            }
        )
        self.openapi_v2 = encode(self._openapi_v2())

    def _versions(self, group: str) -> list[str]:
        """The group's versions, preferred first (as Kubernetes lists them)."""
        preferred = self._preferred.get(group, "")
        return sorted({r.version for r in self.resources if r.group == group}, key=lambda v: (v != preferred, v))

    def _groups(self) -> list[str]:
        seen: list[str] = []
        for resource in self.resources:
            if resource.group and resource.group not in seen:
                seen.append(resource.group)
        return seen

    def _group(self, group: str) -> dict[str, Any]:
        versions = self._versions(group)
        entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {
            "kind": "APIGroup",
            "apiVersion": "v1",
            "name": group,
            "versions": entries,
            "preferredVersion": entries[0],
        }

    def _resource_list(self, group_version: str, items: list[ResourceType]) -> dict[str, Any]:
        resources: list[dict[str, Any]] = []
        for resource in items:
            entry: dict[str, Any] = {
                "name": resource.plural,
                "singularName": resource.singular,
                "namespaced": resource.namespaced,
                "kind": resource.kind,
                "verbs": _verbs(resource),
                "storageVersionHash": hashlib.sha256(resource.key.encode()).hexdigest()[:12],
            }
            if resource.short_names:
                entry["shortNames"] = list(resource.short_names)
            if resource.categories:
                entry["categories"] = list(resource.categories)
            resources.append(entry)
            for sub in resource.subresources:
                group, version, kind = _subresource_kind(resource, sub)
                sub_entry: dict[str, Any] = {
                    "name": f"{resource.plural}/{sub}",
                    "singularName": "",
                    "namespaced": resource.namespaced,
                    "kind": kind,
                    "verbs": list(_SUBRESOURCE_VERBS.get(sub, ("get",))),
                }
                if group != resource.group or version != resource.version:
                    sub_entry["group"] = group
                    sub_entry["version"] = version
                resources.append(sub_entry)
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": group_version,
            "resources": resources,
        }

    def _aggregated(self, groups: list[str]) -> dict[str, Any]:
        items = []
        for group in groups:
            versions = []
            for version in self._versions(group):
                resources = []
                for resource in (r for r in self.resources if r.group == group and r.version == version):
                    entry: dict[str, Any] = {
                        "resource": resource.plural,
                        "responseKind": {
                            "group": resource.group,
                            "version": resource.version,
                            "kind": resource.kind,
                        },
                        "scope": "Namespaced" if resource.namespaced else "Cluster",
                        "singularResource": resource.singular,
                        "verbs": _verbs(resource),
                    }
                    if resource.short_names:
                        entry["shortNames"] = list(resource.short_names)
                    if resource.categories:
                        entry["categories"] = list(resource.categories)
                    if resource.subresources:
                        entry["subresources"] = [
                            {
                                "subresource": sub,
                                "responseKind": dict(
                                    zip(
                                        ("group", "version", "kind"),
                                        _subresource_kind(resource, sub),
                                        strict=True,
                                    )
                                ),
                                "verbs": list(_SUBRESOURCE_VERBS.get(sub, ("get",))),
                            }
                            for sub in resource.subresources
                        ]
                    resources.append(entry)
                versions.append({"version": version, "resources": resources, "freshness": "Current"})
            items.append({"metadata": {"name": group, "creationTimestamp": None}, "versions": versions})
        return {
            "kind": "APIGroupDiscoveryList",
            "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": {},
            "items": items,
        }

    @staticmethod
    def _v3_path(group_version: str) -> str:
        return f"apis/{group_version}" if "/" in group_version else f"api/{group_version}"

    def _operations(self, resource: ResourceType) -> dict[str, dict[str, Any]]:
        """OpenAPI path items for a resource's collection and object paths (shared by v2 and v3)."""
        gvk = {"group": resource.group, "version": resource.version, "kind": resource.kind}
        validation = {
            "name": "fieldValidation",
            "in": "query",
            "schema": {"type": "string"},
            "type": "string",
        }
        dry_run = {"name": "dryRun", "in": "query", "schema": {"type": "string"}, "type": "string"}
        manager = {"name": "fieldManager", "in": "query", "schema": {"type": "string"}, "type": "string"}

        def op(action: str, writes: bool) -> dict[str, Any]:
            operation: dict[str, Any] = {
                "x-kubernetes-action": action,
                "x-kubernetes-group-version-kind": gvk,
                "responses": {"200": {"description": "OK"}},
            }
            if writes:
                operation["parameters"] = [validation, dry_run, manager]
            return operation

        scope = "/namespaces/{namespace}" if resource.namespaced else ""
        prefix = (
            f"/apis/{resource.group}/{resource.version}" if resource.group else f"/api/{resource.version}"
        )
        collection = f"{prefix}{scope}/{resource.plural}"
        paths = {
            collection: {
                "get": op("list", False),
                "post": op("post", True),
                "delete": op("deletecollection", False),
            },
            collection + "/{name}": {
                "get": op("get", False),
                "put": op("put", True),
                "patch": op("patch", True),
                "delete": op("delete", False),
            },
        }
        for sub in resource.subresources:
            if sub in ("status", "scale"):
                paths[collection + "/{name}/" + sub] = {
                    "get": op("get", False),
                    "put": op("put", True),
                    "patch": op("patch", True),
                }
        return paths

    def _openapi_v3(self, group_version: str, items: list[ResourceType]) -> dict[str, Any]:
        paths: dict[str, Any] = {}
        for resource in items:
            paths.update(self._operations(resource))
        return {
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": "v1.32.0"},
            "paths": paths,
            "components": {"schemas": {}},
        }

    def _openapi_v2(self) -> dict[str, Any]:
        paths: dict[str, Any] = {}
        for resource in self.resources:
            paths.update(self._operations(resource))
        return {
            "swagger": "2.0",
            "info": {"title": "Kubernetes", "version": "v1.32.0"},
            "paths": paths,
            "definitions": {},
        }
