"""The namespace controller: deleting a namespace deletes everything in it, then the namespace.

Data flow, after kube-controller-manager's `pkg/controller/namespace/deletion`: the namespace
informer enqueues every namespace that has a `deletionTimestamp` (the API server marks it
Terminating and gives it `spec.finalizers: [kubernetes]`). A sync then
1. lists every namespaced resource in it from the server (not a cache: the decision to finalize
   must not rest on a lagging watch) and deletes each object with Background propagation, so pods
   bound to nodes terminate gracefully through their agents;
2. while anything remains (graceful pods, objects held by other finalizers), records the
   `NamespaceContentRemaining` / `NamespaceFinalizersRemaining` conditions and looks again after
   a short delay;
3. once nothing remains, PUTs `/api/v1/namespaces/{name}/finalize` without the `kubernetes`
   finalizer, and the API server removes the namespace.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

from kubelite.api.resources import NAMESPACES, RESOURCE_TYPES, ResourceType
from kubelite.client import ApiClient, ApiError, Object
from kubelite.client.events import format_time
from kubelite.client.informers import meta
from kubelite.client.workqueue import RateLimitingQueue
from kubelite.clock import Clock

from .base import DONE, ControllerContext, SyncOutcome, requeue_after, run_workers

log = logging.getLogger(__name__)

NAME = "namespace"
KUBERNETES_FINALIZER = "kubernetes"
#: How soon a namespace whose content is still terminating is looked at again.
RECHECK_SECONDS = 1.0


class NamespaceController:
    """The `namespace` controller."""

    name = NAME

    def __init__(self, context: ControllerContext) -> None:
        self._client: ApiClient = context.client
        self._clock: Clock = context.clock
        self.queue: RateLimitingQueue[str] = RateLimitingQueue(context.clock, name=NAME)
        self._informer = context.informers.informer(NAMESPACES)
        self._informer.add_event_handler(self._enqueue, lambda old, new: self._enqueue(new))
        self._content = tuple(r for r in RESOURCE_TYPES if r.namespaced and r.listable)

    def _enqueue(self, namespace: Object) -> None:
        if meta(namespace).get("deletionTimestamp"):
            self.queue.add(str(meta(namespace).get("name")))

    async def run(self, workers: int, stop: asyncio.Event) -> None:
        await run_workers(NAME, self.queue, self.sync, workers, stop)

    async def sync(self, name: str) -> SyncOutcome:
        namespace = self._informer.lister.get(None, name)
        if namespace is None or not meta(namespace).get("deletionTimestamp"):
            return DONE
        if KUBERNETES_FINALIZER not in ((namespace.get("spec") or {}).get("finalizers") or []):
            return DONE  # our part is done; other finalizers belong to others
        remaining, held_by_finalizers = await self._delete_content(name)
        if remaining:
            await self._report_remaining(namespace, remaining, held_by_finalizers)
            return requeue_after(RECHECK_SECONDS)
        await self._finalize(namespace)
        return DONE

    async def _delete_content(self, namespace: str) -> tuple[Counter[str], Counter[str]]:
        """Delete every object in the namespace; returns what is still there, by resource, and
        which finalizers hold objects back."""
        remaining: Counter[str] = Counter()
        held: Counter[str] = Counter()
        for resource in self._content:
            items, _ = await self._client.list_all(resource, namespace, limit=500)
            for obj in items:
                remaining[resource_label(resource)] += 1
                metadata = meta(obj)
                for finalizer in metadata.get("finalizers") or []:
                    held[str(finalizer)] += 1
                if metadata.get("deletionTimestamp"):
                    continue  # already going (a graceful pod, or an object held by a finalizer)
                await self._delete(resource, obj)
        return remaining, held

    async def _delete(self, resource: ResourceType, obj: Object) -> None:
        metadata = meta(obj)
        try:
            await self._client.delete(
                resource,
                str(metadata.get("name")),
                str(metadata.get("namespace")),
                propagation_policy="Background",
                precondition_uid=str(metadata.get("uid")),
            )
        except ApiError as error:
            if error.code not in (404, 409):
                raise

    async def _report_remaining(self, namespace: Object, remaining: Counter[str], held: Counter[str]) -> None:
        """Set the conditions `kubectl describe namespace` shows while deletion waits."""
        now = format_time(self._clock.now())
        content = ", ".join(
            f"{label} has {count} resource instances" for label, count in sorted(remaining.items())
        )
        conditions: list[dict[str, Any]] = [
            {
                "type": "NamespaceContentRemaining",
                "status": "True",
                "reason": "SomeResourcesRemain",
                "message": f"Some resources are remaining: {content}",
                "lastTransitionTime": now,
            }
        ]
        if held:
            finalizers = ", ".join(
                f"{name} in {count} resource instances" for name, count in sorted(held.items())
            )
            conditions.append(
                {
                    "type": "NamespaceFinalizersRemaining",
                    "status": "True",
                    "reason": "SomeFinalizersRemain",
                    "message": f"Some content in the namespace has finalizers remaining: {finalizers}",
                    "lastTransitionTime": now,
                }
            )
        existing = {
            c.get("type"): c.get("message") for c in (namespace.get("status") or {}).get("conditions") or []
        }
        if all(existing.get(c["type"]) == c["message"] for c in conditions):
            return  # unchanged: no write, no watch event
        try:
            await self._client.patch(
                NAMESPACES,
                str(meta(namespace).get("name")),
                {"status": {"conditions": conditions}},
                subresource="status",
            )
        except ApiError as error:
            log.debug("namespace %s conditions not written: %s", meta(namespace).get("name"), error)

    async def _finalize(self, namespace: Object) -> None:
        spec = dict(namespace.get("spec") or {})
        spec["finalizers"] = [f for f in spec.get("finalizers") or [] if f != KUBERNETES_FINALIZER]
        body = {**namespace, "spec": spec}
        try:
            await self._client.replace(NAMESPACES, body, subresource="finalize")
        except ApiError as error:
            if error.code != 404:
                raise
        log.info("namespace %s is empty and finalized", meta(namespace).get("name"))


def resource_label(resource: ResourceType) -> str:
    """How Kubernetes names a resource in namespace conditions: "pods.", "deployments.apps"."""
    return f"{resource.plural}.{resource.group}"


def new_controller(context: ControllerContext) -> NamespaceController:
    return NamespaceController(context)
