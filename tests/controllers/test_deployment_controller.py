"""The Deployment and ReplicaSet controllers together, against an in-process API server.

A fake kubelet binds every new pod, reports it Running and Ready, and finishes graceful
deletions, so rollouts run end to end; deadlines and minReadySeconds move on the FakeClock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from kubelite.api.resources import DEPLOYMENTS, PODS, REPLICASETS
from kubelite.client import ApiError
from kubelite.client.events import format_time
from kubelite.controllers import deployment, replicaset
from kubelite.controllers import deployment_util as du

try:
    from .test_replicaset_controller import Cluster, cluster, eventually
except ImportError:  # collected as a top-level module (no package __init__)
    from test_replicaset_controller import Cluster, cluster, eventually  # type: ignore[no-redef]

pytestmark = pytest.mark.timeout(60)


async def fake_kubelet(c: Cluster, stop: asyncio.Event, ready: Callable[[dict[str, Any]], bool]) -> None:
    """Bind, start and ready pods; remove pods whose graceful deletion began."""
    while not stop.is_set():
        items, _ = await c.client.list_all(PODS, "default")
        for pod in items:
            name = pod["metadata"]["name"]
            try:
                if pod["metadata"].get("deletionTimestamp"):
                    await c.client.delete(PODS, name, "default", grace_period_seconds=0)
                elif pod.get("status", {}).get("phase") != "Running" and ready(pod):
                    await c.mark_ready(pod)
            except ApiError as error:
                # The controllers changed or removed the pod meanwhile; look again next round.
                assert error.code in (404, 409), error
        await asyncio.sleep(0.01)


def deployment_object(name: str, replicas: int, image: str = "nginx:1", **spec: Any) -> dict[str, Any]:
    labels = {"app": name}
    body: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "main", "image": image}]}},
    }
    body.update(spec)
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": body}


@asynccontextmanager
async def rollout_cluster(ready: Callable[[dict[str, Any]], bool] = lambda _: True) -> AsyncIterator[Cluster]:
    constructors = {"replicaset": replicaset.new_controller, "deployment": deployment.new_controller}
    async with cluster(constructors) as c:
        stop = asyncio.Event()
        kubelet = asyncio.create_task(fake_kubelet(c, stop, ready))
        try:
            yield c
        finally:
            stop.set()
            await kubelet


def run(test: Callable[[Cluster], Awaitable[None]], **options: Any) -> Callable[[], None]:
    def wrapper() -> None:
        async def body() -> None:
            async with rollout_cluster(**options) as running:
                await test(running)

        asyncio.run(body())

    wrapper.__name__ = test.__name__
    return wrapper


async def get_deployment(c: Cluster, name: str = "web") -> dict[str, Any]:
    return await c.client.get(DEPLOYMENTS, name, "default")


async def replicasets(c: Cluster) -> list[dict[str, Any]]:
    """Oldest revision first (the virtual clock gives them all one creation time)."""
    items, _ = await c.client.list_all(REPLICASETS, "default")
    return sorted(items, key=du.revision)


def complete(d: dict[str, Any]) -> bool:
    status = d.get("status", {})
    progressing = du.get_condition(status, "Progressing") or {}
    return bool(
        du.deployment_complete(d, status) and progressing.get("reason") == du.REASON_NEW_RS_AVAILABLE
    )


async def wait_complete(c: Cluster, name: str = "web") -> dict[str, Any]:
    async def done() -> bool:
        return complete(await get_deployment(c, name))

    await eventually(done)
    return await get_deployment(c, name)


@run
async def test_rollout_creates_hashed_replicaset_and_completes(c: Cluster) -> None:
    await c.client.create(DEPLOYMENTS, deployment_object("web", 3), "default")
    d = await wait_complete(c)
    [rs] = await replicasets(c)
    pod_hash = rs["metadata"]["labels"][du.POD_TEMPLATE_HASH_LABEL]
    assert rs["metadata"]["name"] == f"web-{pod_hash}"
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": pod_hash}
    annotations = rs["metadata"]["annotations"]
    assert annotations[du.REVISION_ANNOTATION] == "1"
    assert annotations[du.DESIRED_REPLICAS_ANNOTATION] == "3"
    assert annotations[du.MAX_REPLICAS_ANNOTATION] == "4"
    assert d["metadata"]["annotations"][du.REVISION_ANNOTATION] == "1"
    available = du.get_condition(d["status"], "Available") or {}
    assert (available.get("status"), available.get("reason")) == ("True", du.REASON_MIN_AVAILABLE)
    assert d["status"]["observedGeneration"] == d["metadata"]["generation"]
    pods, _ = await c.client.list_all(PODS, "default")
    assert len(pods) == 3 and all(p["metadata"]["labels"]["pod-template-hash"] == pod_hash for p in pods)


@run
async def test_set_image_rolls_out_a_new_revision_and_scales_the_old_to_zero(c: Cluster) -> None:
    await c.client.create(DEPLOYMENTS, deployment_object("web", 4), "default")
    await wait_complete(c)
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "nginx:2"}]}}}}
    await c.client.patch(DEPLOYMENTS, "web", patch, "default", patch_type="strategic")

    async def rolled() -> bool:
        d = await get_deployment(c)
        return complete(d) and d["metadata"]["annotations"].get(du.REVISION_ANNOTATION) == "2"

    await eventually(rolled)
    old, new = await replicasets(c)
    assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (0, 4)
    assert new["metadata"]["annotations"][du.REVISION_ANNOTATION] == "2"

    async def only_new_pods() -> bool:
        # The old ReplicaSet's last pods are deleted by its own controller, a moment after the
        # Deployment reports completion from the ReplicaSets' statuses.
        pods, _ = await c.client.list_all(PODS, "default")
        return {p["spec"]["containers"][0]["image"] for p in pods} == {"nginx:2"}

    await eventually(only_new_pods)


@run
async def test_rollback_to_an_old_template_reuses_its_replicaset(c: Cluster) -> None:
    await c.client.create(DEPLOYMENTS, deployment_object("web", 2), "default")
    await wait_complete(c)
    first = (await replicasets(c))[0]
    for image in ("nginx:2", "nginx:1"):
        patch = {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": image}]}}}}
        await c.client.patch(DEPLOYMENTS, "web", patch, "default", patch_type="strategic")

        async def settled(expected: str = image) -> bool:
            d = await get_deployment(c)
            return complete(d) and d["spec"]["template"]["spec"]["containers"][0]["image"] == expected

        await eventually(settled)
    sets = {rs["metadata"]["name"]: rs for rs in await replicasets(c)}
    assert len(sets) == 2
    reused = sets[first["metadata"]["name"]]
    assert reused["spec"]["replicas"] == 2
    assert reused["metadata"]["annotations"][du.REVISION_ANNOTATION] == "3"
    assert reused["metadata"]["annotations"][du.REVISION_HISTORY_ANNOTATION] == "1"


@run
async def test_recreate_scales_old_pods_away_before_new_ones_start(c: Cluster) -> None:
    body = deployment_object("web", 2, strategy={"type": "Recreate"})
    await c.client.create(DEPLOYMENTS, body, "default")
    await wait_complete(c)
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "nginx:2"}]}}}}
    await c.client.patch(DEPLOYMENTS, "web", patch, "default", patch_type="strategic")

    async def done() -> bool:
        d = await get_deployment(c)
        return complete(d) and d["metadata"]["annotations"].get(du.REVISION_ANNOTATION) == "2"

    await eventually(done)
    old, new = await replicasets(c)
    assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (0, 2)


@run
async def test_scale_while_paused_and_resume_conditions(c: Cluster) -> None:
    await c.client.create(DEPLOYMENTS, deployment_object("web", 2), "default")
    await wait_complete(c)
    await c.client.patch(DEPLOYMENTS, "web", {"spec": {"paused": True}}, "default")

    async def paused() -> bool:
        condition = du.get_condition((await get_deployment(c)).get("status", {}), "Progressing") or {}
        return condition.get("reason") == du.REASON_PAUSED and condition.get("status") == "Unknown"

    await eventually(paused)
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "nginx:2"}]}}}}
    await c.client.patch(DEPLOYMENTS, "web", patch, "default", patch_type="strategic")
    await c.client.set_scale(DEPLOYMENTS, "web", 5, "default")

    async def scaled() -> bool:
        sets = await replicasets(c)
        return len(sets) == 1 and sets[0]["spec"]["replicas"] == 5

    await eventually(scaled)
    await c.client.patch(DEPLOYMENTS, "web", {"spec": {"paused": False}}, "default")

    async def resumed() -> bool:
        d = await get_deployment(c)
        return complete(d) and d["metadata"]["annotations"].get(du.REVISION_ANNOTATION) == "2"

    await eventually(resumed)


def _only_first_revision_ready(pod: dict[str, Any]) -> bool:
    return pod["spec"]["containers"][0]["image"] == "nginx:1"


async def _stuck_rollout(c: Cluster) -> None:
    body = deployment_object("web", 2, progressDeadlineSeconds=60)
    await c.client.create(DEPLOYMENTS, body, "default")
    await wait_complete(c)
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "nginx:2"}]}}}}
    await c.client.patch(DEPLOYMENTS, "web", patch, "default", patch_type="strategic")

    async def progressing() -> bool:
        condition = du.get_condition((await get_deployment(c)).get("status", {}), "Progressing") or {}
        return condition.get("reason") == du.REASON_RS_UPDATED

    await eventually(progressing)
    c.clock.advance(30)
    await asyncio.sleep(0.1)
    condition = du.get_condition((await get_deployment(c))["status"], "Progressing") or {}
    assert condition.get("reason") != du.REASON_TIMED_OUT
    c.clock.advance(40)

    async def timed_out() -> bool:
        condition = du.get_condition((await get_deployment(c)).get("status", {}), "Progressing") or {}
        return condition.get("reason") == du.REASON_TIMED_OUT and condition.get("status") == "False"

    await eventually(timed_out)
    # The old pods stay: maxUnavailable 25% of 2 rounds down to 0, so nothing old may go.
    old = (await replicasets(c))[0]
    assert old["spec"]["replicas"] == 2


test_progress_deadline_exceeded_on_virtual_time = run(_stuck_rollout, ready=_only_first_revision_ready)


@run
async def test_history_is_pruned_to_revision_history_limit(c: Cluster) -> None:
    await c.client.create(DEPLOYMENTS, deployment_object("web", 1, revisionHistoryLimit=1), "default")
    await wait_complete(c)
    for version in (2, 3, 4):
        patch = {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": f"nginx:{version}"}]}}}}
        await c.client.patch(DEPLOYMENTS, "web", patch, "default", patch_type="strategic")

        async def done(expected: str = str(version)) -> bool:
            d = await get_deployment(c)
            return complete(d) and d["metadata"]["annotations"].get(du.REVISION_ANNOTATION) == expected

        await eventually(done)

    async def pruned() -> bool:
        return len(await replicasets(c)) == 2

    await eventually(pruned)
    revisions = sorted(du.revision(rs) for rs in await replicasets(c))
    assert revisions == [3, 4]


@run
async def test_delete_with_format_time_sanity(c: Cluster) -> None:
    # Timestamps the controllers write are RFC 3339 on the injected clock.
    await c.client.create(DEPLOYMENTS, deployment_object("web", 1), "default")
    d = await wait_complete(c)
    stamps = {condition["lastUpdateTime"] for condition in d["status"]["conditions"]}
    assert stamps <= {format_time(c.clock.now())}
