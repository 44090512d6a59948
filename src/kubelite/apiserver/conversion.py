"""Serving autoscaling/v1 HorizontalPodAutoscalers from the stored autoscaling/v2 objects.

Kubernetes serves several versions of a kind from one stored version and converts at the edge;
kubelite stores HPAs as autoscaling/v2 and converts v1 requests and responses, because
`kubectl autoscale` still speaks v1. A v1 HPA's `targetCPUUtilizationPercentage` is a v2 Resource
metric on cpu with a Utilization target; its status' `currentCPUUtilizationPercentage` is the
matching current metric. A v1 request is rewritten into a v2 request for the ordinary handlers,
and every object in the answer (a single object, a list, or each watch event) is converted back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import msgspec

from . import errors
from .encoding import PATCH_TYPES, decode_body, media_type
from .http import Request, Response, StreamResponse

V1 = "autoscaling/v1"
V2 = "autoscaling/v2"
_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.encode


def _cpu_target(metrics: Any) -> int | None:
    for metric in metrics if isinstance(metrics, list) else []:
        resource = metric.get("resource") if isinstance(metric, dict) else None
        if metric.get("type") == "Resource" and isinstance(resource, dict) and resource.get("name") == "cpu":
            target = resource.get("target") or {}
            if target.get("type") == "Utilization" and isinstance(target.get("averageUtilization"), int):
                return int(target["averageUtilization"])
    return None


def _cpu_current(metrics: Any) -> int | None:
    for metric in metrics if isinstance(metrics, list) else []:
        resource = metric.get("resource") if isinstance(metric, dict) else None
        if metric.get("type") == "Resource" and isinstance(resource, dict) and resource.get("name") == "cpu":
            current = resource.get("current") or {}
            if isinstance(current.get("averageUtilization"), int):
                return int(current["averageUtilization"])
    return None


def v1_to_v2(obj: dict[str, Any]) -> dict[str, Any]:
    """A v1 HPA (or patch of one) as v2."""
    out = {key: value for key, value in obj.items() if key not in ("spec", "status")}
    if obj.get("apiVersion") == V1:
        out["apiVersion"] = V2
    spec = obj.get("spec")
    if isinstance(spec, dict):
        converted = {key: value for key, value in spec.items() if key != "targetCPUUtilizationPercentage"}
        if "targetCPUUtilizationPercentage" in spec:
            percent = spec["targetCPUUtilizationPercentage"]
            converted["metrics"] = (
                None
                if percent is None
                else [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": percent},
                        },
                    }
                ]
            )
        out["spec"] = converted
    status = obj.get("status")
    if isinstance(status, dict):
        converted = {key: value for key, value in status.items() if key != "currentCPUUtilizationPercentage"}
        if isinstance(status.get("currentCPUUtilizationPercentage"), int):
            converted["currentMetrics"] = [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "current": {"averageUtilization": status["currentCPUUtilizationPercentage"]},
                    },
                }
            ]
        out["status"] = converted
    return out


def v2_to_v1(obj: dict[str, Any]) -> dict[str, Any]:
    """A stored v2 HPA as v1 (metrics other than cpu utilisation have no v1 form)."""
    out = {key: value for key, value in obj.items() if key not in ("spec", "status")}
    out["apiVersion"] = V1
    spec = obj.get("spec") or {}
    converted: dict[str, Any] = {
        key: value for key, value in spec.items() if key not in ("metrics", "behavior")
    }
    target = _cpu_target(spec.get("metrics"))
    if target is not None:
        converted["targetCPUUtilizationPercentage"] = target
    out["spec"] = converted
    status = obj.get("status") or {}
    status_out: dict[str, Any] = {
        key: value for key, value in status.items() if key not in ("currentMetrics", "conditions")
    }
    current = _cpu_current(status.get("currentMetrics"))
    if current is not None:
        status_out["currentCPUUtilizationPercentage"] = current
    status_out.setdefault("currentReplicas", status.get("currentReplicas", 0))
    status_out.setdefault("desiredReplicas", status.get("desiredReplicas", 0))
    out["status"] = status_out
    return out


def _convert_document(doc: Any) -> Any:
    if not isinstance(doc, dict):
        return doc
    if doc.get("kind") == "HorizontalPodAutoscaler":
        return v2_to_v1(doc)
    if doc.get("kind") == "HorizontalPodAutoscalerList":
        return {**doc, "apiVersion": V1, "items": [v2_to_v1(item) for item in doc.get("items") or []]}
    return doc


async def _convert_stream(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    buffer = b""
    async for chunk in chunks:
        buffer += chunk
        lines = buffer.split(b"\n")
        buffer = lines.pop()
        out = []
        for line in lines:
            if line.strip():
                event = _decode(line)
                if isinstance(event, dict):
                    event["object"] = _convert_document(event.get("object"))
                out.append(_encode(event) + b"\n")
        if out:
            yield b"".join(out)


async def serve_v1(
    request: Request, route: Callable[[Request], Awaitable[Response | StreamResponse]]
) -> Response | StreamResponse:
    """Answer an autoscaling/v1 HPA request through the v2 handlers."""
    path = request.path.replace("/apis/autoscaling/v1/", "/apis/autoscaling/v2/", 1)
    body = request.body
    headers = dict(request.headers)
    if body.strip() and request.method in ("POST", "PUT", "PATCH"):
        kind = media_type(request)
        patch_type = PATCH_TYPES.get(kind)
        data = decode_body(request, allow_list=patch_type == "json")
        if patch_type == "json":
            raise errors.unsupported_media_type(f"{kind} on autoscaling/v1 (use autoscaling/v2)")
        body = _encode(v1_to_v2(data))
        if patch_type is None:
            headers["content-type"] = "application/json"
    inner = replace(request, path=path, body=body, headers=headers)
    response = await route(inner)
    if isinstance(response, StreamResponse):
        return replace(response, chunks=_convert_stream(response.chunks))
    if response.status < 400 and response.content_type.startswith("application/json") and response.body:
        document = _decode(response.body)
        if isinstance(document, dict) and document.get("kind") != "Table":
            return replace(response, body=_encode(_convert_document(document)))
    return response
