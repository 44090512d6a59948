"""Server-side Table output (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`).

kubectl asks for tables so that `kubectl get` prints the same columns as against Kubernetes; the
columns per kind come from `kubelite.api.printers`. Each row carries the object's metadata (or the
whole object with `includeObject=Object`) so kubectl can add the namespace and label columns.
"""

from __future__ import annotations

from typing import Any

from kubelite.api import print_table
from kubelite.api.resources import ResourceType

from .http import Request
from .routing import parse_query


def _row_object(resource: ResourceType, obj: dict[str, Any], include: str) -> dict[str, Any] | None:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


def render_table(
    resource: ResourceType,
    objs: list[dict[str, Any]],
    now: float,
    request: Request,
    revision: str,
    continue_token: str,
) -> dict[str, Any]:
    query = parse_query(request.query_string)
    include = query.get("includeObject", "Metadata")
    wide = True  # kubectl hides priority>0 columns unless -o wide, so always send them
    columns, cells = print_table(resource, objs, now, wide)
    rows = []
    for obj, row_cells in zip(objs, cells, strict=True):
        row: dict[str, Any] = {"cells": row_cells}
        embedded = _row_object(resource, obj, include)
        if embedded is not None:
            row["object"] = embedded
        rows.append(row)
    meta: dict[str, Any] = {"resourceVersion": revision}
    if continue_token:
        meta["continue"] = continue_token
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": columns,
        "rows": rows,
    }
