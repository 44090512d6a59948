"""Taint-based eviction: pods leave nodes with `NoExecute` taints they do not tolerate.

Data flow, after kube-controller-manager's `pkg/controller/tainteviction`: node changes enqueue
every pod bound to the node (the pod informer's node-name index); pod changes enqueue the pod. A
sync compares the node's `NoExecute` taints with the pod's tolerations:
- a taint the pod does not tolerate: delete the pod now;
- tolerated for `tolerationSeconds`: delete it when the shortest such toleration, counted from
  the taint's `timeAdded`, runs out — until then the key is re-queued for that moment (on the
  injected clock, so tests move virtual time instead of waiting);
- tolerated forever, or no `NoExecute` taint: nothing.
The deletion is an ordinary graceful delete; a pod on an unreachable node then stays Terminating,
but its ReplicaSet no longer counts it and creates a replacement that is scheduled elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from kubelite.api.resources import NODES, PODS
from kubelite.client import ApiClient, ApiError, Object
from kubelite.client.events import EventRecorder, parse_time
from kubelite.client.informers import BY_NODE_NAME, SharedInformer, meta, object_key, split_key
from kubelite.client.workqueue import RateLimitingQueue
from kubelite.clock import Clock

from .base import DONE, ControllerContext, SyncOutcome, requeue_after, run_workers

log = logging.getLogger(__name__)

NAME = "taint-eviction-controller"


def tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """Kubernetes' `Toleration.ToleratesTaint`: effect, key and operator (Equal or Exists) match."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    operator = toleration.get("operator") or "Equal"
    if key and key != taint.get("key"):
        return False
    if operator == "Exists":
        return True  # an empty key with Exists tolerates everything
    return bool(key) and (toleration.get("value") or "") == (taint.get("value") or "")


def no_execute_taints(node: Object) -> list[Mapping[str, Any]]:
    taints = (node.get("spec") or {}).get("taints") or []
    return [t for t in taints if isinstance(t, dict) and t.get("effect") == "NoExecute"]


def eviction_time(pod: Object, taints: Sequence[Mapping[str, Any]], now: float) -> float | None:
    """When the pod must leave (epoch seconds; `now` if at once), or None if it may stay."""
    if not taints:
        return None
    tolerations = [t for t in (pod.get("spec") or {}).get("tolerations") or [] if isinstance(t, dict)]
    deadline: float | None = None
    for taint in taints:
        matching = [t for t in tolerations if tolerates(t, taint)]
        if not matching:
            return now
        bounded = [float(t["tolerationSeconds"]) for t in matching if t.get("tolerationSeconds") is not None]
        if len(bounded) < len(matching):
            continue  # one toleration without a limit tolerates this taint forever
        added = parse_time(taint.get("timeAdded")) or now
        due = added + max(0.0, min(bounded))
        deadline = due if deadline is None else min(deadline, due)
    return deadline


class TaintEviction:
    """Deletes pods whose node has `NoExecute` taints they do not tolerate (long enough)."""

    name = NAME

    def __init__(self, context: ControllerContext) -> None:
        self._client: ApiClient = context.client
        self._clock: Clock = context.clock
        self._recorder: EventRecorder = context.recorder
        self.queue: RateLimitingQueue[str] = RateLimitingQueue(context.clock, name=NAME)
        self._pods: SharedInformer = context.informers.informer(PODS)
        self._nodes: SharedInformer = context.informers.informer(NODES)
        self._pods.add_event_handler(self._on_pod, lambda old, new: self._on_pod(new))
        self._nodes.add_event_handler(self._on_node, self._on_node_update)
        self.evicted = 0

    def _on_pod(self, pod: Object) -> None:
        if (pod.get("spec") or {}).get("nodeName") and not meta(pod).get("deletionTimestamp"):
            self.queue.add(object_key(pod))

    def _on_node(self, node: Object) -> None:
        if no_execute_taints(node):
            for pod in self._pods.lister.by_index(BY_NODE_NAME, str(meta(node).get("name"))):
                self._on_pod(pod)

    def _on_node_update(self, old: Object, new: Object) -> None:
        if no_execute_taints(old) != no_execute_taints(new):
            self._on_node(new)

    async def run(self, workers: int, stop: asyncio.Event) -> None:
        await run_workers(NAME, self.queue, self.sync, workers, stop)

    async def sync(self, key: str) -> SyncOutcome:
        namespace, name = split_key(key)
        pod = self._pods.lister.get(namespace, name)
        if pod is None or meta(pod).get("deletionTimestamp"):
            return DONE
        node_name = (pod.get("spec") or {}).get("nodeName")
        node = self._nodes.lister.get(None, str(node_name)) if node_name else None
        if node is None:
            return DONE
        now = self._clock.now()
        due = eviction_time(pod, no_execute_taints(node), now)
        if due is None:
            return DONE
        if due > now:
            return requeue_after(due - now)
        await self._evict(pod)
        return DONE

    async def _evict(self, pod: Object) -> None:
        metadata = meta(pod)
        self._recorder.event(
            {"apiVersion": "v1", "kind": "Pod", **pod},
            "Normal",
            "TaintManagerEviction",
            f"Marking for deletion Pod {metadata.get('namespace')}/{metadata.get('name')}",
        )
        try:
            await self._client.delete(
                PODS,
                str(metadata.get("name")),
                str(metadata.get("namespace")),
                precondition_uid=str(metadata.get("uid")),
            )
        except ApiError as error:
            if error.code not in (404, 409):
                raise
            return
        self.evicted += 1
        log.info("evicted pod %s/%s from a tainted node", metadata.get("namespace"), metadata.get("name"))
