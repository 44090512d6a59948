"""Pod garbage collection: removes pods that nothing else will ever remove.

Data flow, after kube-controller-manager's `pkg/controller/podgc`: every `gc_period` (20 s) one
pass over the pod and node informer caches force-deletes (grace period 0)
- **orphaned pods**: bound to a node that no longer exists — the node must have been absent for
  the 40 s quarantine and a live GET must confirm it, since the node cache may lag;
- **unscheduled terminating pods**: deletion requested but never bound, so no agent finishes them;
- **terminating pods on out-of-service nodes**: the node is not Ready and carries the
  `node.kubernetes.io/out-of-service` taint, the operator's statement that it is gone for good;
- **terminated pods beyond the threshold**: when more than `terminated_pod_threshold` (12,500)
  pods have phase Succeeded or Failed, the oldest excess.
"""

from __future__ import annotations

import asyncio
import logging

from kubelite.api.resources import NODES, PODS
from kubelite.client import ApiClient, ApiError, Object, TransportError
from kubelite.client.events import parse_time
from kubelite.client.informers import SharedInformer, meta
from kubelite.clock import Clock

from .base import ControllerContext

log = logging.getLogger(__name__)

NAME = "podgc"
GC_PERIOD_SECONDS = 20.0
QUARANTINE_SECONDS = 40.0
TERMINATED_POD_THRESHOLD = 12_500
OUT_OF_SERVICE_TAINT = "node.kubernetes.io/out-of-service"


class PodGarbageCollector:
    """The `podgc` controller."""

    name = NAME

    def __init__(
        self, context: ControllerContext, terminated_pod_threshold: int = TERMINATED_POD_THRESHOLD
    ) -> None:
        self._client: ApiClient = context.client
        self._clock: Clock = context.clock
        self._pods: SharedInformer = context.informers.informer(PODS)
        self._nodes: SharedInformer = context.informers.informer(NODES)
        self.terminated_pod_threshold = terminated_pod_threshold
        # When each missing node was first found missing (the quarantine's start).
        self._missing_since: dict[str, float] = {}
        self.deleted = 0

    async def run(self, workers: int, stop: asyncio.Event) -> None:
        next_due = self._clock.monotonic()
        while not stop.is_set():
            try:
                await self.gc_once()
            except (ApiError, TransportError) as error:
                log.warning("pod gc: %s", error)
            except Exception:
                log.exception("pod gc pass failed")  # a bug in one pass must not end collection
            # A ticker's fixed grid: a slow pass does not push the schedule back a whole period.
            next_due = max(next_due + GC_PERIOD_SECONDS, self._clock.monotonic() - GC_PERIOD_SECONDS)
            sleeping = asyncio.create_task(self._clock.sleep(next_due - self._clock.monotonic()))
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({sleeping, stopping}, return_when=asyncio.FIRST_COMPLETED)
            sleeping.cancel()
            stopping.cancel()

    async def gc_once(self) -> None:
        pods = self._pods.lister.list()
        await self._gc_terminated(pods)
        await self._gc_orphaned(pods)
        for pod in pods:
            metadata, spec = meta(pod), pod.get("spec") or {}
            if metadata.get("deletionTimestamp") and not spec.get("nodeName"):
                await self._force_delete(pod, "unscheduled and terminating")
            elif metadata.get("deletionTimestamp") and self._out_of_service(str(spec.get("nodeName"))):
                await self._force_delete(pod, "terminating on an out-of-service node")

    async def _gc_terminated(self, pods: list[Object]) -> None:
        terminated = [p for p in pods if (p.get("status") or {}).get("phase") in ("Succeeded", "Failed")]
        excess = len(terminated) - self.terminated_pod_threshold
        if excess <= 0:
            return
        terminated.sort(key=lambda p: parse_time(meta(p).get("creationTimestamp")) or 0.0)
        for pod in terminated[:excess]:
            await self._force_delete(pod, "terminated, beyond the threshold")

    async def _gc_orphaned(self, pods: list[Object]) -> None:
        now = self._clock.monotonic()
        bound_to = {
            str((p.get("spec") or {}).get("nodeName")) for p in pods if (p.get("spec") or {}).get("nodeName")
        }
        missing = {name for name in bound_to if self._nodes.lister.get(None, name) is None}
        for name in list(self._missing_since):
            if name not in missing:
                del self._missing_since[name]
        gone: set[str] = set()
        for name in missing:
            since = self._missing_since.setdefault(name, now)
            if now - since >= QUARANTINE_SECONDS and not await self._node_exists(name):
                gone.add(name)
        for pod in pods:
            if str((pod.get("spec") or {}).get("nodeName")) in gone:
                await self._force_delete(pod, "bound to a node that no longer exists")

    async def _node_exists(self, name: str) -> bool:
        try:
            await self._client.get(NODES, name)
        except ApiError as error:
            if error.code == 404:
                return False
            raise
        return True

    def _out_of_service(self, node_name: str) -> bool:
        node = self._nodes.lister.get(None, node_name)
        if node is None:
            return False
        taints = (node.get("spec") or {}).get("taints") or []
        ready = next(
            (c for c in (node.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), None
        )
        not_ready = ready is None or ready.get("status") != "True"
        return not_ready and any(t.get("key") == OUT_OF_SERVICE_TAINT for t in taints if isinstance(t, dict))

    async def _force_delete(self, pod: Object, why: str) -> None:
        metadata = meta(pod)
        try:
            await self._client.delete(
                PODS,
                str(metadata.get("name")),
                str(metadata.get("namespace")),
                grace_period_seconds=0,
                precondition_uid=str(metadata.get("uid")),
            )
        except ApiError as error:
            if error.code not in (404, 409):
                raise
            return
        self.deleted += 1
        log.info("force-deleted pod %s/%s: %s", metadata.get("namespace"), metadata.get("name"), why)


def new_controller(context: ControllerContext) -> PodGarbageCollector:
    return PodGarbageCollector(context)
