"""The ReplicaSet controller: keep `spec.replicas` pods alive and report how many are ready.

Data flow, after kube-controller-manager's `pkg/controller/replicaset/replica_set.go`:

    informers (ReplicaSets, Pods) --handlers: owner key--> RateLimitingQueue --workers--> sync(key)
    sync: lister reads -> claim pods (adopt / release) -> create or delete the difference in
          slow-start batches -> status (replicas, fullyLabeled, ready, available, observedGeneration,
          ReplicaFailure) -> requeue when a pod will turn available after minReadySeconds

Expectations stop a sync from acting again before its own creates and deletes come back
through the watch. Pods to delete are picked by `rs_pods.pods_to_delete`, which ranks the
ReplicaSet's pods against every pod of its owner (the Deployment) so that scale-down spreads out.
Only the owner-uid and orphan indexes of the pod cache are read, so a sync costs the size of
its own ReplicaSet, not of the namespace.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.api.labels import SelectorError, selector_from_object
from kubelite.api.resources import PODS, REPLICASETS
from kubelite.client.client import ApiClient
from kubelite.client.errors import ApiError, TransportError
from kubelite.client.events import EventRecorder, format_time
from kubelite.client.expectations import UIDTrackingExpectations
from kubelite.client.informers import BY_OWNER_UID, SharedInformerFactory, object_key, split_key
from kubelite.client.workqueue import RateLimitingQueue
from kubelite.clock import Clock
from kubelite.controllers.base import DONE, ControllerContext, SyncOutcome, requeue_after, run_workers
from kubelite.controllers.rs_claims import (
    OwnerIdentity,
    candidates_for,
    claim,
    controller_of,
    ensure_orphan_index,
    owner_identity,
)
from kubelite.controllers.rs_pods import (
    available_after,
    is_pod_active,
    is_pod_available,
    is_pod_ready,
    pods_to_delete,
    slow_start_batches,
)

JSONObject = dict[str, Any]
BURST_REPLICAS = 500
"""At most this many creates or deletes per sync (kube-controller-manager's burstReplicas)."""


@dataclass(frozen=True, slots=True)
class ReplicaSetSettings:
    """Knobs of the ReplicaSet controller."""

    workers: int = 5
    """Concurrent syncs (kube-controller-manager's --concurrent-replicaset-syncs)."""
    burst_replicas: int = BURST_REPLICAS
    """Upper bound on pods created or deleted by one sync."""


class ReplicaSetController:
    """Reconciles every ReplicaSet in the cluster; see the module docstring."""

    name = "replicaset"

    def __init__(
        self,
        client: ApiClient,
        informers: SharedInformerFactory,
        clock: Clock,
        recorder: EventRecorder,
        settings: ReplicaSetSettings | None = None,
    ) -> None:
        self.client = client
        self.clock = clock
        self.recorder = recorder
        self.settings = settings or ReplicaSetSettings()
        self.queue: RateLimitingQueue[str] = RateLimitingQueue(clock, name="replicaset")
        self.expectations = UIDTrackingExpectations(clock)
        self._informers = informers
        self.rs_lister = informers.lister(REPLICASETS)
        self.pod_lister = informers.lister(PODS)
        ensure_orphan_index(informers, PODS)
        informers.informer(REPLICASETS).add_event_handler(
            lambda rs: self.queue.add(object_key(rs)),
            lambda _old, new: self.queue.add(object_key(new)),
            self._on_replicaset_delete,
        )
        informers.informer(PODS).add_event_handler(self._on_pod_add, self._on_pod_update, self._on_pod_delete)

    # --- event handlers: compute keys, never call the server ------------------------------------

    def _on_replicaset_delete(self, rs: JSONObject) -> None:
        key = object_key(rs)
        self.expectations.delete_expectations(key)
        self.queue.add(key)

    def _owner_key(self, pod: Mapping[str, Any]) -> str | None:
        reference = controller_of(pod)
        if reference is None or reference.get("kind") != "ReplicaSet":
            return None
        namespace = str((pod.get("metadata") or {}).get("namespace") or "")
        rs = self.rs_lister.get(namespace, str(reference.get("name") or ""))
        if rs is None or (rs.get("metadata") or {}).get("uid") != reference.get("uid"):
            return None
        return object_key(rs)

    def _enqueue_selecting(self, pod: Mapping[str, Any]) -> None:
        meta = pod.get("metadata") or {}
        labels = meta.get("labels") or {}
        for rs in self.rs_lister.list(str(meta.get("namespace") or "")):
            try:
                if selector_from_object((rs.get("spec") or {}).get("selector")).matches(labels):
                    self.queue.add(object_key(rs))
            except SelectorError:
                continue

    def _on_pod_add(self, pod: JSONObject) -> None:
        if (pod.get("metadata") or {}).get("deletionTimestamp"):
            self._on_pod_delete(pod)
            return
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.creation_observed(key)
            self.queue.add(key)
        elif controller_of(pod) is None:
            self._enqueue_selecting(pod)

    def _on_pod_update(self, old: JSONObject, new: JSONObject) -> None:
        old_meta, new_meta = old.get("metadata") or {}, new.get("metadata") or {}
        if old_meta.get("resourceVersion") == new_meta.get("resourceVersion"):
            return
        labels_changed = old_meta.get("labels") != new_meta.get("labels")
        if new_meta.get("deletionTimestamp"):
            # A graceful delete is as good as gone for counting; wake the owner now, not at removal.
            self._on_pod_delete(new)
            if labels_changed:
                self._on_pod_delete(old)
            return
        old_key, new_key = self._owner_key(old), self._owner_key(new)
        reference_changed = controller_of(old) != controller_of(new)
        if reference_changed and old_key is not None:
            self.queue.add(old_key)
        if new_key is not None:
            self.queue.add(new_key)
            if not is_pod_ready(old) and is_pod_ready(new):
                rs = self.rs_lister.get(*split_key(new_key))
                min_ready = int(((rs or {}).get("spec") or {}).get("minReadySeconds") or 0)
                if min_ready > 0:
                    self.queue.add_after(new_key, min_ready + 1)
            return
        if controller_of(new) is None and (labels_changed or reference_changed):
            self._enqueue_selecting(new)

    def _on_pod_delete(self, pod: JSONObject) -> None:
        key = self._owner_key(pod)
        if key is None:
            return
        self.expectations.deletion_observed_uid(key, str((pod.get("metadata") or {}).get("uid") or ""))
        self.queue.add(key)

    # --- the loop --------------------------------------------------------------------------------

    async def run(self, workers: int, stop: asyncio.Event) -> None:
        """Wait for the caches, then run `workers` sync loops until `stop` is set."""
        await run_workers(self.name, self.queue, self.sync, workers, stop)

    async def sync(self, key: str) -> SyncOutcome:
        """Reconcile one ReplicaSet; a failed write raises, so that the key is retried."""
        namespace, name = split_key(key)
        cached = self.rs_lister.get(namespace, name)
        if cached is None:
            self.expectations.delete_expectations(key)
            return DONE
        rs = copy.deepcopy(cached)
        needs_sync = self.expectations.satisfied(key)
        try:
            selector = selector_from_object((rs.get("spec") or {}).get("selector"))
        except SelectorError as error:
            self.recorder.event(rs, "Warning", "InvalidSelector", str(error))
            return DONE
        identity = owner_identity(rs, "apps/v1", "ReplicaSet")
        candidates = [pod for pod in candidates_for(self.pod_lister, rs) if is_pod_active(pod)]
        pods = await claim(
            self.client, PODS, rs, identity, selector, candidates, lambda: self._owner_still_current(rs)
        )
        manage_error: Exception | None = None
        if needs_sync and not rs["metadata"].get("deletionTimestamp"):
            try:
                await self.manage_replicas(pods, rs, identity)
            except (ApiError, TransportError) as error:
                manage_error = error
        status = replicaset_status(rs, pods, manage_error, self.clock.now())
        updated = await self.update_status(rs, status)
        if manage_error is not None:
            raise manage_error
        min_ready = int(updated.get("spec", {}).get("minReadySeconds") or 0)
        waits = [available_after(pod, min_ready, self.clock.now()) for pod in pods]
        pending = [wait for wait in waits if wait is not None]
        # Look again just after the first ready pod has been ready for minReadySeconds.
        return requeue_after(min(pending) + 1) if pending else DONE

    async def _owner_still_current(self, rs: Mapping[str, Any]) -> bool:
        meta = rs.get("metadata") or {}
        try:
            fresh = await self.client.get(REPLICASETS, str(meta.get("name")), str(meta.get("namespace")))
        except ApiError:
            return False
        fresh_meta = fresh.get("metadata") or {}
        return fresh_meta.get("uid") == meta.get("uid") and not fresh_meta.get("deletionTimestamp")

    async def manage_replicas(self, pods: list[JSONObject], rs: JSONObject, identity: OwnerIdentity) -> None:
        """Create or delete the difference between the pods and `spec.replicas`."""
        key = object_key(rs)
        namespace = str(rs["metadata"].get("namespace") or "")
        difference = len(pods) - int(rs.get("spec", {}).get("replicas", 1))
        if difference < 0:
            wanted = min(-difference, self.settings.burst_replicas)
            self.expectations.expect_creations(key, wanted)
            pod = pod_from_template(rs, identity)
            created = 0
            error: Exception | None = None
            for batch in slow_start_batches(wanted):
                results = await asyncio.gather(
                    *(self._create_pod(namespace, pod, rs) for _ in range(batch)), return_exceptions=True
                )
                failures = [result for result in results if isinstance(result, BaseException)]
                created += batch - len(failures)
                if failures:
                    first = failures[0]
                    error = first if isinstance(first, Exception) else RuntimeError(str(first))
                    break
            if created < wanted:
                # The skipped and failed creates will never be observed.
                self.expectations.lower_expectations(key, wanted - created, 0)
            if error is not None:
                raise error
        elif difference > 0:
            count = min(difference, self.settings.burst_replicas)
            victims = pods_to_delete(pods, self._related_pods(rs), count, self.clock.now())
            uids = {str(victim["metadata"].get("uid")) for victim in victims}
            self.expectations.expect_deletions_of(key, uids)
            results = await asyncio.gather(
                *(self._delete_pod(key, victim, rs) for victim in victims), return_exceptions=True
            )
            for result in results:
                if isinstance(result, Exception):
                    raise result

    def _related_pods(self, rs: Mapping[str, Any]) -> list[JSONObject]:
        """Every pod of the ReplicaSet's owner (all its ReplicaSets), or just its own without one."""
        reference = controller_of(rs)
        siblings: list[Mapping[str, Any]] = [rs]
        if reference is not None:
            siblings = [
                other
                for other in self.rs_lister.by_index(BY_OWNER_UID, str(reference.get("uid")))
                if controller_of(other) == reference
            ]
        related: list[JSONObject] = []
        for sibling in siblings:
            related.extend(
                self.pod_lister.by_index(BY_OWNER_UID, str((sibling.get("metadata") or {}).get("uid")))
            )
        return related

    async def _create_pod(self, namespace: str, pod: JSONObject, rs: JSONObject) -> None:
        try:
            created = await self.client.create(PODS, copy.deepcopy(pod), namespace)
        except ApiError as error:
            self.recorder.event(rs, "Warning", "FailedCreate", f"Error creating: {error.message}")
            raise
        self.recorder.event(rs, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}")

    async def _delete_pod(self, key: str, pod: JSONObject, rs: JSONObject) -> None:
        meta = pod["metadata"]
        try:
            await self.client.delete(PODS, str(meta["name"]), str(meta.get("namespace")))
        except ApiError as error:
            # A delete that failed will not be observed; a pod already gone needs nothing more.
            self.expectations.deletion_observed_uid(key, str(meta.get("uid")))
            if error.code == 404:
                return
            self.recorder.event(rs, "Warning", "FailedDelete", f"Error deleting: {error.message}")
            raise
        self.recorder.event(rs, "Normal", "SuccessfulDelete", f"Deleted pod: {meta['name']}")

    async def update_status(self, rs: JSONObject, status: JSONObject) -> JSONObject:
        """Write the status if it changed, retrying once on a conflict with a fresh read."""
        generation = rs["metadata"].get("generation")
        current = dict(rs.get("status") or {})
        if current.get("observedGeneration") == generation and _same_status(current, status):
            return rs
        status["observedGeneration"] = generation
        target = rs
        for attempt in range(2):
            target["status"] = status
            try:
                return await self.client.replace_status(REPLICASETS, target)
            except ApiError as error:
                if attempt == 1 or error.code == 404:
                    raise
                meta = rs["metadata"]
                target = await self.client.get(REPLICASETS, str(meta["name"]), str(meta.get("namespace")))
        return rs


def _same_status(current: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    fields = ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas", "conditions")
    return all((current.get(field) or 0) == (new.get(field) or 0) for field in fields)


def pod_from_template(rs: Mapping[str, Any], identity: OwnerIdentity) -> JSONObject:
    """controller.GetPodFromTemplate: the template's labels, annotations and spec, owned by `rs`."""
    template = (rs.get("spec") or {}).get("template") or {}
    template_meta = template.get("metadata") or {}
    meta: JSONObject = {
        "generateName": f"{identity.name}-",
        "namespace": (rs.get("metadata") or {}).get("namespace"),
        "ownerReferences": [identity.owner_reference()],
    }
    for field in ("labels", "annotations", "finalizers"):
        if template_meta.get(field):
            meta[field] = copy.deepcopy(template_meta[field])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": copy.deepcopy(template.get("spec") or {})}


def replicaset_status(
    rs: Mapping[str, Any], pods: list[JSONObject], manage_error: Exception | None, now: float
) -> JSONObject:
    """calculateStatus: counts of the claimed active pods and the ReplicaFailure condition."""
    spec = rs.get("spec") or {}
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    min_ready = int(spec.get("minReadySeconds") or 0)
    status: JSONObject = {
        "replicas": len(pods),
        "fullyLabeledReplicas": sum(
            1
            for pod in pods
            if all(((pod.get("metadata") or {}).get("labels") or {}).get(k) == v for k, v in template_labels.items())
        ),
        "readyReplicas": sum(1 for pod in pods if is_pod_ready(pod)),
        "availableReplicas": sum(1 for pod in pods if is_pod_available(pod, min_ready, now)),
    }
    conditions = [dict(c) for c in (rs.get("status") or {}).get("conditions") or [] if isinstance(c, dict)]
    failure = next((c for c in conditions if c.get("type") == "ReplicaFailure"), None)
    if manage_error is not None and failure is None:
        reason = "FailedCreate" if len(pods) < int(spec.get("replicas", 1)) else "FailedDelete"
        message = manage_error.message if isinstance(manage_error, ApiError) else str(manage_error)
        conditions.append(
            {
                "type": "ReplicaFailure",
                "status": "True",
                "lastTransitionTime": format_time(now),
                "reason": reason,
                "message": message,
            }
        )
    elif manage_error is None and failure is not None:
        conditions.remove(failure)
    if conditions:
        status["conditions"] = conditions
    return status


def new_controller(context: ControllerContext) -> ReplicaSetController:
    """The controller-manager's constructor hook."""
    return ReplicaSetController(context.client, context.informers, context.clock, context.recorder)
