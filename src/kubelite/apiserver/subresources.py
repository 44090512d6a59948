"""Subresources: status, scale, binding, eviction and a namespace's finalize.

- `status`: GET returns the object; PUT and PATCH change only `.status`.
- `scale` (Deployments, ReplicaSets): an `autoscaling/v1` Scale view of `spec.replicas`, so that
  `kubectl scale` and the HPA work on any scalable kind.
- `binding` (pods): the scheduler's write; sets `spec.nodeName` once, adds PodScheduled=True and
  copies the Binding's annotations onto the pod, as Kubernetes does.
- `eviction` (pods): a graceful delete.
- `finalize` (namespaces): replaces `spec.finalizers`; the namespace goes once none are left.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from . import errors
from .encoding import PATCH_TYPES, check_type, decode_body, media_type
from .http import Request, Response, StreamResponse
from .objects import clone_object, rfc3339
from .patch import PatchError, apply_patch
from .proxy import proxy_pod_log
from .registry import DeleteOptions
from .routing import ResourceRequest

if TYPE_CHECKING:
    from .handlers import ResourceHandlers

_encode = msgspec.json.encode


async def handle_subresource(
    handlers: ResourceHandlers, request: Request, target: ResourceRequest, query: dict[str, str]
) -> Response | StreamResponse:
    assert target.name is not None and target.subresource is not None
    sub, verb = target.subresource, target.verb
    if sub == "status":
        if verb == "get":
            found = await handlers.registry.get(target.resource, target.namespace, target.name)
            return handlers.render_object(request, target.resource, found)
        if verb in ("update", "patch"):
            return await handlers.update_subresource(request, target, query)
    elif sub == "scale":
        return await _scale(handlers, request, target, query)
    elif sub == "binding" and verb == "create":
        return await _bind(handlers, request, target)
    elif sub == "eviction" and verb == "create":
        body = decode_body(request)
        options = body.get("deleteOptions") or {}
        grace = options.get("gracePeriodSeconds") if isinstance(options, dict) else None
        await handlers.registry.delete(
            target.resource, target.namespace, target.name, DeleteOptions(grace_period_seconds=grace)
        )
        return Response(
            201,
            _encode({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
        )
    elif sub == "finalize" and verb == "update":
        body = decode_body(request)
        check_type(body, "v1", "Namespace")
        finalizers = body.get("spec", {}).get("finalizers", [])

        def set_finalizers(current: dict[str, Any]) -> dict[str, Any]:
            current.setdefault("spec", {})["finalizers"] = finalizers
            return current

        written = await handlers.registry.update(target.resource, None, target.name, set_finalizers)
        return Response(200, written.raw())
    elif sub == "log" and verb == "get":
        return await proxy_pod_log(handlers.registry, handlers.agents, target.namespace, target.name, query)
    raise errors.method_not_allowed(verb, f"{target.resource.plural}/{sub}")


def _scale_of(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    selector = obj.get("spec", {}).get("selector", {}) or {}
    labels = selector.get("matchLabels", {}) if isinstance(selector, dict) else {}
    expressions = []
    for term in selector.get("matchExpressions", []) if isinstance(selector, dict) else []:
        operator, key, values = term.get("operator"), term.get("key"), term.get("values", [])
        if operator == "In":
            expressions.append(f"{key} in ({','.join(values)})")
        elif operator == "NotIn":
            expressions.append(f"{key} notin ({','.join(values)})")
        elif operator == "Exists":
            expressions.append(str(key))
        elif operator == "DoesNotExist":
            expressions.append(f"!{key}")
    selector_text = ",".join([f"{k}={v}" for k, v in sorted(labels.items())] + expressions)
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta.get("name"),
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
            "creationTimestamp": meta.get("creationTimestamp"),
        },
        "spec": {"replicas": obj.get("spec", {}).get("replicas", 1)},
        "status": {"replicas": obj.get("status", {}).get("replicas", 0), "selector": selector_text},
    }


async def _scale(
    handlers: ResourceHandlers, request: Request, target: ResourceRequest, query: dict[str, str]
) -> Response:
    assert target.name is not None
    registry = handlers.registry
    if target.verb == "get":
        found = await registry.get(target.resource, target.namespace, target.name)
        return Response(200, _encode(_scale_of(found.obj)))
    if target.verb == "update":
        body = decode_body(request)
        check_type(body, "autoscaling/v1", "Scale")
    elif target.verb == "patch":
        patch_type = PATCH_TYPES.get(media_type(request))
        body = decode_body(request, allow_list=patch_type == "json")
    else:
        raise errors.method_not_allowed(target.verb, f"{target.resource.plural}/scale")

    def rescale(current: dict[str, Any]) -> dict[str, Any]:
        scale = _scale_of(current)
        if target.verb == "update":
            wanted = body
        else:
            try:
                wanted = apply_patch(patch_type or "merge", scale, body)
            except PatchError as error:
                raise errors.bad_request(str(error)) from None
        replicas = wanted.get("spec", {}).get("replicas") if isinstance(wanted, dict) else None
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise errors.invalid(
                "Scale",
                "autoscaling",
                target.name or "",
                [
                    errors.Cause(
                        "FieldValueInvalid",
                        f"Invalid value: {replicas!r}: must be greater than or equal to 0",
                        "spec.replicas",
                    )
                ],
            )
        updated = clone_object(current)
        updated.setdefault("spec", {})["replicas"] = replicas
        return updated

    meta = body.get("metadata") if isinstance(body, dict) else None
    version = meta.get("resourceVersion") if isinstance(meta, dict) else None
    written = await registry.update(
        target.resource, target.namespace, target.name, rescale, precondition=str(version) if version else None
    )
    return Response(200, _encode(_scale_of(written.obj)))


async def _bind(handlers: ResourceHandlers, request: Request, target: ResourceRequest) -> Response:
    assert target.name is not None
    body = decode_body(request)
    check_type(body, "v1", "Binding")
    node = body.get("target", {}).get("name") if isinstance(body.get("target"), dict) else None
    if not isinstance(node, str) or not node:
        raise errors.invalid(
            "Binding", "", target.name, [errors.Cause("FieldValueRequired", "Required value", "target.name")]
        )
    annotations = body.get("metadata", {}).get("annotations") or {}
    now = rfc3339(handlers.clock.now())

    def bind(pod: dict[str, Any]) -> dict[str, Any]:
        spec = pod.setdefault("spec", {})
        if pod["metadata"].get("deletionTimestamp"):
            raise errors.conflict(
                "pods", "", target.name or "", "pod is being deleted, cannot be assigned to a host"
            )
        if spec.get("nodeName"):
            raise errors.conflict(
                "pods",
                "",
                target.name or "",
                f'pod {target.name} is already assigned to node "{spec["nodeName"]}"',
            )
        spec["nodeName"] = node
        if annotations:
            pod["metadata"].setdefault("annotations", {}).update(annotations)
        status = pod.setdefault("status", {})
        conditions = [c for c in status.get("conditions", []) if c.get("type") != "PodScheduled"]
        conditions.append(
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
        )
        status["conditions"] = conditions
        return pod

    await handlers.registry.update(
        target.resource, target.namespace, target.name, bind, subresource="binding"
    )
    return Response(
        201, _encode({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})
    )
