"""The Deployment controller: roll a pod template out through ReplicaSets, one revision at a time.

Data flow, after kube-controller-manager's `pkg/controller/deployment/deployment_controller.go`:

    informers (Deployments, ReplicaSets, Pods) --handlers: owner key--> queue --workers--> sync(key)
    sync: claim ReplicaSets -> paused / scaling event: proportional scale (`sync`)
                            -> RollingUpdate: new RS up within maxSurge, old down within maxUnavailable
                            -> Recreate: old RSs to 0, wait for their pods, then the new RS up
          -> status and conditions (Available, Progressing with progressDeadlineSeconds,
             ReplicaFailure) -> prune history beyond revisionHistoryLimit once complete

The new ReplicaSet is named `<deployment>-<pod-template-hash>` and carries revision annotations,
so `kubectl rollout history|undo` work from the ReplicaSets alone (modern kubectl's `undo`
copies an old ReplicaSet's template back into the Deployment, which is an ordinary rollout).
The decisions are pure functions in `deployment_rollout` and `deployment_util`; this module
reads the caches, applies the steps through the API and records Events.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import Mapping, Sequence
from typing import Any

from kubelite.api.labels import SelectorError, selector_from_object
from kubelite.api.resources import DEPLOYMENTS, PODS, REPLICASETS
from kubelite.client.client import ApiClient
from kubelite.client.errors import ApiError
from kubelite.client.events import EventRecorder, format_time
from kubelite.client.informers import BY_OWNER_UID, SharedInformerFactory, object_key, split_key
from kubelite.client.workqueue import RateLimitingQueue
from kubelite.clock import Clock
from kubelite.controllers import deployment_rollout as rollout
from kubelite.controllers import deployment_util as du
from kubelite.controllers.base import DONE, ControllerContext, SyncOutcome, requeue_after, run_workers
from kubelite.controllers.rs_claims import (
    candidates_for,
    claim,
    controller_of,
    ensure_orphan_index,
    owner_identity,
)

JSONObject = dict[str, Any]


class DeploymentController:
    """Reconciles every Deployment in the cluster; see the module docstring."""

    name = "deployment"

    def __init__(
        self, client: ApiClient, informers: SharedInformerFactory, clock: Clock, recorder: EventRecorder
    ) -> None:
        self.client = client
        self.clock = clock
        self.recorder = recorder
        self.queue: RateLimitingQueue[str] = RateLimitingQueue(clock, name="deployment")
        self.deployment_lister = informers.lister(DEPLOYMENTS)
        self.rs_lister = informers.lister(REPLICASETS)
        self.pod_lister = informers.lister(PODS)
        ensure_orphan_index(informers, REPLICASETS)
        informers.informer(DEPLOYMENTS).add_event_handler(
            lambda d: self.queue.add(object_key(d)),
            lambda _old, new: self.queue.add(object_key(new)),
            lambda d: self.queue.add(object_key(d)),
        )
        informers.informer(REPLICASETS).add_event_handler(
            self._on_replicaset, self._on_replicaset_update, self._on_replicaset
        )
        informers.informer(PODS).add_event_handler(on_delete=self._on_pod_delete)

    # --- event handlers ----------------------------------------------------------------------------

    def _owner_key(self, obj: Mapping[str, Any], kind: str, lister: Any) -> str | None:
        reference = controller_of(obj)
        if reference is None or reference.get("kind") != kind:
            return None
        namespace = str((obj.get("metadata") or {}).get("namespace") or "")
        owner = lister.get(namespace, str(reference.get("name") or ""))
        if owner is None or (owner.get("metadata") or {}).get("uid") != reference.get("uid"):
            return None
        return object_key(owner)

    def _enqueue_selecting(self, replicaset: Mapping[str, Any]) -> None:
        meta = replicaset.get("metadata") or {}
        for deployment in self.deployment_lister.list(str(meta.get("namespace") or "")):
            try:
                selector = selector_from_object((deployment.get("spec") or {}).get("selector"))
            except SelectorError:
                continue
            if selector.matches(meta.get("labels") or {}):
                self.queue.add(object_key(deployment))

    def _on_replicaset(self, replicaset: JSONObject) -> None:
        key = self._owner_key(replicaset, "Deployment", self.deployment_lister)
        if key is not None:
            self.queue.add(key)
        elif controller_of(replicaset) is None:
            self._enqueue_selecting(replicaset)

    def _on_replicaset_update(self, old: JSONObject, new: JSONObject) -> None:
        if controller_of(old) != controller_of(new):
            self._on_replicaset(old)
        self._on_replicaset(new)

    def _on_pod_delete(self, pod: JSONObject) -> None:
        # Recreate waits for old pods to be gone, so their removal is worth a look.
        rs_key = self._owner_key(pod, "ReplicaSet", self.rs_lister)
        replicaset = self.rs_lister.get(*split_key(rs_key)) if rs_key else None
        key = self._owner_key(replicaset, "Deployment", self.deployment_lister) if replicaset else None
        if key is not None:
            self.queue.add(key)

    async def run(self, workers: int, stop: asyncio.Event) -> None:
        await run_workers(self.name, self.queue, self.sync, workers, stop)

    # --- sync --------------------------------------------------------------------------------------

    async def sync(self, key: str) -> SyncOutcome:
        cached = self.deployment_lister.get(*split_key(key))
        if cached is None:
            return DONE
        deployment = copy.deepcopy(cached)
        raw_selector = du.section(deployment, "spec").get("selector")
        if (
            isinstance(raw_selector, dict)
            and not raw_selector.get("matchLabels")
            and not raw_selector.get("matchExpressions")
        ):
            self.recorder.event(
                deployment,
                "Warning",
                "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.",
            )
            return DONE
        try:
            selector = selector_from_object(raw_selector)
        except SelectorError as error:
            self.recorder.event(deployment, "Warning", "InvalidSelector", str(error))
            return DONE
        identity = owner_identity(deployment, "apps/v1", "Deployment")
        candidates = [copy.deepcopy(rs) for rs in candidates_for(self.rs_lister, deployment)]
        replicasets = await claim(
            self.client,
            REPLICASETS,
            deployment,
            identity,
            selector,
            candidates,
            lambda: self._still_current(deployment),
        )
        replicasets = [copy.deepcopy(rs) for rs in replicasets]
        if du.section(deployment, "metadata").get("deletionTimestamp"):
            new, old = await self.replicasets_and_revision(deployment, replicasets, create=False)
            return await self.write_status(
                deployment, rollout.deployment_status(deployment, [*old, new], new, self.clock.now())
            )
        deployment = await self.check_paused_conditions(deployment)
        if du.section(deployment, "spec").get("paused") or await self.is_scaling_event(
            deployment, replicasets
        ):
            return await self.sync_scale(deployment, replicasets)
        if not du.is_rolling_update(deployment):
            return await self.rollout_recreate(deployment, replicasets)
        return await self.rollout_rolling(deployment, replicasets)

    async def _still_current(self, deployment: Mapping[str, Any]) -> bool:
        try:
            fresh = await self.client.get(DEPLOYMENTS, du.name_of(deployment), self._namespace(deployment))
        except ApiError:
            return False
        return du.uid_of(fresh) == du.uid_of(deployment) and not du.section(fresh, "metadata").get(
            "deletionTimestamp"
        )

    @staticmethod
    def _namespace(obj: Mapping[str, Any]) -> str:
        return str(du.section(obj, "metadata").get("namespace") or "default")

    async def replicasets_and_revision(
        self, deployment: JSONObject, replicasets: list[JSONObject], *, create: bool
    ) -> tuple[JSONObject | None, list[JSONObject]]:
        """getAllReplicaSetsAndSyncRevision: the new ReplicaSet (created if asked) and the old ones."""
        existing = du.find_new_replicaset(deployment, replicasets)
        old = du.find_old_replicasets(replicasets, existing)
        new_revision = du.max_revision(old) + 1
        if existing is not None:
            changed = du.set_new_replicaset_annotations(deployment, existing, new_revision, exists=True)
            min_ready = du.section(deployment, "spec").get("minReadySeconds")
            if existing["spec"].get("minReadySeconds") != min_ready:
                existing["spec"]["minReadySeconds"] = min_ready
                changed = True
            if changed:
                _refresh(existing, await self.client.replace(REPLICASETS, existing))
                return existing, old
            status_changed = False
            if du.progress_deadline(deployment) is not None and not du.get_condition(
                du.section(deployment, "status"), "Progressing"
            ):
                du.set_condition(
                    deployment.setdefault("status", {}),
                    du.new_condition(
                        "Progressing",
                        "True",
                        du.REASON_FOUND_NEW_RS,
                        f'Found new replica set "{du.name_of(existing)}"',
                        format_time(self.clock.now()),
                    ),
                )
                status_changed = True
            await self.set_revision(deployment, str(du.revision(existing)), status_changed)
            return existing, old
        if not create:
            return None, old
        created = await self.create_new_replicaset(deployment, old, new_revision)
        replicasets.append(created)
        return created, old

    async def set_revision(self, deployment: JSONObject, revision_text: str, status_changed: bool) -> None:
        """Record the revision on the Deployment (metadata) and write a changed status."""
        if du.annotations_of(deployment).get(du.REVISION_ANNOTATION) != revision_text:
            patch = {"metadata": {"annotations": {du.REVISION_ANNOTATION: revision_text}}}
            patched = await self.client.patch(
                DEPLOYMENTS, du.name_of(deployment), patch, self._namespace(deployment)
            )
            deployment["metadata"] = patched["metadata"]
        if status_changed:
            _refresh(deployment, await self.client.replace_status(DEPLOYMENTS, deployment))

    async def create_new_replicaset(
        self, deployment: JSONObject, old: list[JSONObject], revision: int
    ) -> JSONObject:
        status = deployment.setdefault("status", {})
        template = copy.deepcopy(du.section(deployment, "spec", "template"))
        pod_hash = du.compute_hash(template, status.get("collisionCount"))
        template.setdefault("metadata", {}).setdefault("labels", {})[du.POD_TEMPLATE_HASH_LABEL] = pod_hash
        selector = copy.deepcopy(du.section(deployment, "spec", "selector"))
        selector.setdefault("matchLabels", {})[du.POD_TEMPLATE_HASH_LABEL] = pod_hash
        name = f"{du.name_of(deployment)}-{pod_hash}"
        identity = owner_identity(deployment, "apps/v1", "Deployment")
        new: JSONObject = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": self._namespace(deployment),
                "ownerReferences": [identity.owner_reference()],
                "labels": dict(template["metadata"]["labels"]),
            },
            "spec": {"replicas": 0, "selector": selector, "template": template},
        }
        min_ready = du.section(deployment, "spec").get("minReadySeconds")
        if min_ready is not None:
            new["spec"]["minReadySeconds"] = min_ready
        replicas = du.new_rs_new_replicas(deployment, [*old, new], new)
        new["spec"]["replicas"] = replicas
        du.set_new_replicaset_annotations(deployment, new, revision, exists=False)
        now = format_time(self.clock.now())
        try:
            created = await self.client.create(REPLICASETS, new, self._namespace(deployment))
        except ApiError as error:
            if error.code == 409:
                existing = await self.client.get(REPLICASETS, name, self._namespace(deployment))
                reference = controller_of(existing)
                if (
                    reference is not None
                    and reference.get("uid") == identity.uid
                    and du.equal_ignore_hash(
                        du.section(existing, "spec", "template"), du.section(deployment, "spec", "template")
                    )
                ):
                    await self.set_revision(deployment, str(revision), False)
                    return existing
                # A different template hashed to the same name: perturb the hash and try again.
                status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
                await self.client.replace_status(DEPLOYMENTS, deployment)
                raise
            message = f'Failed to create new replica set "{name}": {error.message}'
            if du.progress_deadline(deployment) is not None:
                du.set_condition(
                    status, du.new_condition("Progressing", "False", du.REASON_FAILED_RS_CREATE, message, now)
                )
                # The create failure is the error worth reporting; a failed status write is not.
                with contextlib.suppress(ApiError):
                    await self.client.replace_status(DEPLOYMENTS, deployment)
            self.recorder.event(deployment, "Warning", du.REASON_FAILED_RS_CREATE, message)
            raise
        if replicas > 0:
            self.recorder.event(
                deployment,
                "Normal",
                "ScalingReplicaSet",
                f"Scaled up replica set {name} from 0 to {replicas}",
            )
        status_changed = False
        if du.progress_deadline(deployment) is not None:
            du.set_condition(
                status,
                du.new_condition(
                    "Progressing", "True", du.REASON_NEW_RS_CREATED, f'Created new replica set "{name}"', now
                ),
            )
            status_changed = True
        await self.set_revision(deployment, str(revision), status_changed)
        return created

    async def apply(self, deployment: JSONObject, steps: Sequence[rollout.Scale]) -> bool:
        """Write each planned size (with the desired/max annotations); True if any size changed."""
        desired = du.spec_replicas(deployment)
        ceiling = desired + du.max_surge(deployment)
        scaled = False
        for step in steps:
            annotations_changed = du.set_replicas_annotations(step.replicaset, desired, ceiling)
            if step.size == step.previous and not annotations_changed:
                continue
            _refresh(step.replicaset, await self.client.replace(REPLICASETS, step.replicaset))
            if step.size != step.previous:
                scaled = True
                self.recorder.event(
                    deployment,
                    "Normal",
                    "ScalingReplicaSet",
                    f"Scaled {step.direction} replica set {du.name_of(step.replicaset)} "
                    f"from {step.previous} to {step.size}",
                )
        return scaled

    async def is_scaling_event(self, deployment: JSONObject, replicasets: list[JSONObject]) -> bool:
        new, old = await self.replicasets_and_revision(deployment, replicasets, create=False)
        desired = du.spec_replicas(deployment)
        for replicaset in du.active([*old, new]):
            annotated = du.desired_replicas_annotation(replicaset)
            if annotated is not None and annotated != desired:
                return True
        return False

    async def sync_scale(self, deployment: JSONObject, replicasets: list[JSONObject]) -> SyncOutcome:
        """sync(): proportional scaling while paused or when only the size changed."""
        new, old = await self.replicasets_and_revision(deployment, replicasets, create=False)
        await self.apply(deployment, rollout.plan_proportional(deployment, new, old))
        if du.section(deployment, "spec").get("paused"):
            await self.cleanup(deployment, old)
        status = rollout.deployment_status(deployment, [*old, new], new, self.clock.now())
        return await self.write_status(deployment, status)

    async def rollout_rolling(self, deployment: JSONObject, replicasets: list[JSONObject]) -> SyncOutcome:
        new, old = await self.replicasets_and_revision(deployment, replicasets, create=True)
        assert new is not None  # create=True either returns the new ReplicaSet or raises
        everything: list[JSONObject | None] = [*old, new]
        if await self.apply(deployment, rollout.plan_rolling_new(deployment, [*old, new], new)):
            return await self.sync_rollout_status(deployment, everything, new)
        if await self.apply(deployment, rollout.plan_rolling_old(deployment, old, new)):
            return await self.sync_rollout_status(deployment, everything, new)
        if du.deployment_complete(deployment, du.section(deployment, "status")):
            await self.cleanup(deployment, old)
        return await self.sync_rollout_status(deployment, everything, new)

    async def rollout_recreate(self, deployment: JSONObject, replicasets: list[JSONObject]) -> SyncOutcome:
        new, old = await self.replicasets_and_revision(deployment, replicasets, create=False)
        steps = [step for replicaset in du.active(old) for step in rollout.scale_to(replicaset, 0)]
        if await self.apply(deployment, steps):
            return await self.sync_rollout_status(deployment, [*old, new], new)
        pods_by_owner = {
            du.uid_of(rs): self.pod_lister.by_index(BY_OWNER_UID, du.uid_of(rs)) for rs in [*old, new] if rs
        }
        if rollout.old_pods_running(new, old, pods_by_owner):
            return await self.sync_rollout_status(deployment, [*old, new], new)
        if new is None:
            new, old = await self.replicasets_and_revision(deployment, replicasets, create=True)
        if new is not None:
            await self.apply(deployment, rollout.scale_to(new, du.spec_replicas(deployment)))
        if du.deployment_complete(deployment, du.section(deployment, "status")):
            await self.cleanup(deployment, old)
        return await self.sync_rollout_status(deployment, [*old, new], new)

    async def cleanup(self, deployment: JSONObject, old: Sequence[JSONObject]) -> None:
        for replicaset in rollout.history_to_delete(deployment, old):
            try:
                await self.client.delete(REPLICASETS, du.name_of(replicaset), self._namespace(replicaset))
            except ApiError as error:
                if error.code != 404:
                    raise

    async def check_paused_conditions(self, deployment: JSONObject) -> JSONObject:
        """Progressing=Unknown with DeploymentPaused / DeploymentResumed when pausing flips."""
        if du.progress_deadline(deployment) is None:
            return deployment
        status = deployment.setdefault("status", {})
        current = du.get_condition(status, "Progressing")
        if current is not None and current.get("reason") == du.REASON_TIMED_OUT:
            return deployment
        paused = bool(du.section(deployment, "spec").get("paused"))
        paused_recorded = current is not None and current.get("reason") == du.REASON_PAUSED
        now = format_time(self.clock.now())
        if paused and not paused_recorded:
            condition = du.new_condition(
                "Progressing", "Unknown", du.REASON_PAUSED, "Deployment is paused", now
            )
        elif not paused and paused_recorded:
            condition = du.new_condition(
                "Progressing", "Unknown", du.REASON_RESUMED, "Deployment is resumed", now
            )
        else:
            return deployment
        du.set_condition(status, condition)
        _refresh(deployment, await self.client.replace_status(DEPLOYMENTS, deployment))
        return deployment

    async def sync_rollout_status(
        self, deployment: JSONObject, everything: list[JSONObject | None], new: JSONObject | None
    ) -> SyncOutcome:
        now = self.clock.now()
        status = rollout.rollout_status(deployment, everything, new, now)
        if status == du.section(deployment, "status"):
            wait = rollout.seconds_until_deadline_check(deployment, status, now)
            return DONE if wait is None else requeue_after(wait)
        return await self.write_status(deployment, status)

    async def write_status(self, deployment: JSONObject, status: JSONObject) -> SyncOutcome:
        if status != du.section(deployment, "status"):
            deployment["status"] = status
            _refresh(deployment, await self.client.replace_status(DEPLOYMENTS, deployment))
        return DONE


def _refresh(target: JSONObject, written: Mapping[str, Any]) -> None:
    """Adopt what the server stored (new resourceVersion) so later writes in this sync do not conflict."""
    target.clear()
    target.update(copy.deepcopy(dict(written)))


def new_controller(context: ControllerContext) -> DeploymentController:
    """The controller-manager's constructor hook."""
    return DeploymentController(context.client, context.informers, context.clock, context.recorder)
