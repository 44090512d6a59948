"""The node agent: registers its Node, heartbeats, syncs its pods and serves logs and stats.

Entry point: `run_agent(client, settings, clock, stop)`. Data flow:
- `NodeHeartbeat` registers the Node, Lease and RuntimeClasses, then two loops renew the Lease and
  report measured node status;
- the pod loop lists and watches pods with `fieldSelector=spec.nodeName=<node>` (relisting on 410),
  admits each new pod against allocatable as the kubelet does (cpu, memory and pod count of the
  pods it already runs; a rejected pod goes Failed with reason `OutOf<resource>`), picks the
  runtime by `runtimeClassName` (default `process`) and runs a `PodWorker` for it;
- a pod with a deletionTimestamp has its worker stop the containers within the grace period; then
  the agent deletes the object with grace 0 (uid precondition), which removes it from the API;
- a sampler feeds `StatsSampler`, and `AgentEndpoint` serves logs, stats and metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import subprocess
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import httpx
import msgspec

from kubelite.agent.cgroups import detect_layout
from kubelite.agent.endpoint import AgentEndpoint, LogTarget, ProtocolWrapper
from kubelite.agent.images import ImageStore, default_store_root
from kubelite.agent.lifecycle import CrashLoopBackoff
from kubelite.agent.metrics import AgentMetrics
from kubelite.agent.node_status import measure_host
from kubelite.agent.pod_status import ContainerRecord
from kubelite.agent.pod_worker import PodWorker
from kubelite.agent.probes import ExecInContainer
from kubelite.agent.registration import NodeHeartbeat
from kubelite.agent.runtime.interface import ContainerHandle, ContainerRuntime
from kubelite.agent.runtime.oci import OciRuntime
from kubelite.agent.runtime.process import ProcessRuntime
from kubelite.agent.runtime.wasm import WasmRuntime
from kubelite.agent.settings import AgentSettings
from kubelite.agent.stats import PodRef, StatsSampler
from kubelite.agent.status_writer import StatusWriter
from kubelite.agent.worker_context import WorkerContext
from kubelite.api.models.pod import PodSpec
from kubelite.api.pod_resources import pod_requests
from kubelite.api.resources import PODS
from kubelite.client import ApiClient, ApiError, TransportError
from kubelite.client.events import EventRecorder
from kubelite.clock import Clock

log = logging.getLogger(__name__)
Object = dict[str, Any]
T = TypeVar("T")
DEFAULT_RUNTIME_CLASS = "process"
RELIST_PAUSE_SECONDS = 0.5


def default_runtimes(settings: AgentSettings, clock: Clock) -> dict[str, ContainerRuntime]:
    """process always; wasm (wasmtime is a dependency); oci when runc is installed."""
    layout = detect_layout()
    images = ImageStore(settings.image_root or default_store_root())

    def resolve_module(reference: str) -> Any:
        return images.content_path(reference, "wasm")

    runtimes: dict[str, ContainerRuntime] = {
        "process": ProcessRuntime(clock, layout, settings.cgroup_parent),
        "wasm": WasmRuntime(
            clock, layout, settings.data_dir / "wasm-cache", resolve_module, settings.cgroup_parent
        ),
    }
    runc = shutil.which("runc")
    if runc is not None:
        runtimes["oci"] = OciRuntime(
            clock, layout, images, settings.data_dir / "runc", runc, settings.cgroup_parent
        )
    return runtimes


@dataclass(frozen=True)
class Rejection:
    reason: str
    message: str


def admit(
    wanted: dict[str, int], allocatable: dict[str, int], running: list[dict[str, int]]
) -> Rejection | None:
    """The kubelet's resource admission (predicates' fit check) against allocatable.

    `wanted` and each of `running` are `pod_requests` results, computed once per pod: parsing every
    running pod's quantities again on each admission made a burst of N pods cost O(N^2)."""
    if len(running) + 1 > allocatable.get("pods", 110):
        return Rejection("OutOfpods", "Node didn't have enough resource: pods")
    used: dict[str, int] = {}
    for requests in running:
        for name, value in requests.items():
            used[name] = used.get(name, 0) + value
    for name in ("cpu", "memory", "ephemeral-storage"):
        request = wanted.get(name, 0)
        if request and used.get(name, 0) + request > allocatable.get(name, 0):
            return Rejection(
                f"Out{name}",
                f"Node didn't have enough resource: {name}, requested: {request}, used: "
                f"{used.get(name, 0)}, capacity: {allocatable.get(name, 0)}",
            )
    return None


class NodeAgent:
    """One node: see the module docstring."""

    def __init__(
        self,
        client: ApiClient,
        settings: AgentSettings,
        clock: Clock,
        runtimes: dict[str, ContainerRuntime] | None = None,
        endpoint_wrap: ProtocolWrapper | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        self.clock = clock
        self.runtimes = runtimes if runtimes is not None else default_runtimes(settings, clock)
        self.metrics = AgentMetrics(settings.node_name)
        self.sampler = StatsSampler(settings.node_name)
        self.endpoint = AgentEndpoint(
            self, lambda: self.sampler.summary.as_json(), self.metrics.exposition, clock, endpoint_wrap
        )
        self.heartbeat = NodeHeartbeat(
            client, settings, clock, partial(measure_host, settings.data_dir), self._port
        )
        self.status_writer = StatusWriter(client, clock)
        # Events carry the kubelet's source, so `kubectl describe` reads "From: kubelet" as usual.
        self.events = EventRecorder(client, clock, "kubelet", host=settings.node_name)
        self.workers: dict[str, PodWorker] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._executor = ThreadPoolExecutor(max_workers=64, thread_name_prefix="agent")
        self._http = httpx.Client()
        self.context = WorkerContext(
            client,
            clock,
            self.status_writer,
            CrashLoopBackoff(clock),
            self._run_blocking,
            self._http,
            settings.data_dir / "pods",
            settings.address,
            settings.pod_resync_seconds,
            self._exec_for,
            self.metrics.pod_start_seconds.labels(settings.node_name).observe,
            self.events.event,
        )

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` in the background, holding a reference until it is done."""
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _port(self) -> int:
        return self.endpoint.port

    async def _run_blocking(self, function: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function)

    def _exec_for(
        self, runtime: str, container_id: str, env: list[tuple[str, str]]
    ) -> ExecInContainer | None:
        oci = self.runtimes.get("oci")
        if runtime == "oci" and isinstance(oci, OciRuntime):
            prefix: Callable[[list[str]], list[str]] = partial(oci.exec_command, container_id)
        elif runtime == "process":
            prefix = list
        else:
            return None

        def execute(argv: list[str], timeout: float) -> int | None:
            try:
                return subprocess.run(
                    prefix(argv), env=dict(env) or None, capture_output=True, timeout=timeout, check=False
                ).returncode
            except subprocess.TimeoutExpired:
                return None
            except OSError:
                return 126

        return execute

    # ---- LogSource for the endpoint
    def find_logs(self, namespace: str, pod: str, container: str, previous: bool) -> LogTarget | str:
        for worker in self.workers.values():
            if worker.namespace == namespace and worker.name == pod:
                paths = worker.log_paths(container, previous)
                if paths is None:
                    kind = "previous terminated container" if previous else "container"
                    return f'{kind} "{container}" in pod "{pod}" not found'
                record = next(r for r in worker.records() if r.name == container)
                return LogTarget(paths, partial(_attempt_running, record, len(record.attempt_dirs), previous))
        return f'pod "{pod}" is not running on node {self.settings.node_name}'

    # ---- loops
    async def run(self, stop: asyncio.Event) -> None:
        await self.endpoint.start(self.settings.address, self.settings.port)
        warm = getattr(self.runtimes.get("wasm"), "warm_up", None)
        if callable(warm):
            await self._run_blocking(warm)
        await self.heartbeat.register()
        writer = asyncio.create_task(self.status_writer.run())
        events_stop = asyncio.Event()
        events = asyncio.create_task(self.events.run(events_stop))
        loops = [
            asyncio.create_task(
                self._every(self.settings.lease_renew_seconds, self.heartbeat.renew_lease, stop)
            ),
            asyncio.create_task(self._every(self.settings.node_status_seconds, self._report_status, stop)),
            asyncio.create_task(self._every(self.settings.stats_seconds, self._sample, stop)),
            asyncio.create_task(self._sync_pods(stop)),
        ]
        try:
            await stop.wait()
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            for worker in self.workers.values():
                worker.request_termination(self.settings.shutdown_grace_seconds, "node-shutdown")
            await asyncio.gather(*self._tasks.values(), *self._background, return_exceptions=True)
            writer.cancel()
            events_stop.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(events, return_exceptions=True), 5.0)
            await asyncio.gather(writer, return_exceptions=True)
            await self.endpoint.stop()
            self._http.close()
            self._executor.shutdown(wait=False)

    async def _every(self, seconds: float, action: Callable[[], Any], stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.clock.sleep(seconds)
            try:
                await action()
            except (ApiError, TransportError, OSError) as error:
                log.warning("%s: %s", getattr(action, "__name__", "periodic action"), error)
            except Exception:
                # A bug in one periodic duty must show in the log, not silently end heartbeats or stats.
                log.exception("%s failed", getattr(action, "__name__", "periodic action"))

    async def _report_status(self) -> None:
        await self.heartbeat.report_status()

    async def _sample(self) -> None:
        pods = []
        for worker in self.workers.values():
            if worker.finished:
                continue
            running: list[tuple[str, str, ContainerHandle]] = [
                (r.name, r.runtime_id, r.handle) for r in worker.records() if r.handle is not None
            ]
            pods.append((PodRef(worker.name, worker.namespace, worker.uid), running))
        summary = await self._run_blocking(partial(self.sampler.sample, self.clock.now(), pods))
        node = self.metrics.node
        if "usageNanoCores" in summary.node["cpu"]:
            self.metrics.node_cpu_nanocores.labels(node).set(float(summary.node["cpu"]["usageNanoCores"]))
        self.metrics.node_memory_bytes.labels(node).set(float(summary.node["memory"]["workingSetBytes"]))
        self.metrics.running_pods.labels(node).set(len(pods))
        self.metrics.running_containers.labels(node).set(sum(len(c) for _, c in pods))

    async def _sync_pods(self, stop: asyncio.Event) -> None:
        selector = f"spec.nodeName={self.settings.node_name}"
        while not stop.is_set():
            try:
                items, version = await self.client.list_all(
                    PODS, all_namespaces=True, field_selector=selector
                )
                present = {str(p["metadata"].get("uid")) for p in items}
                for uid in [u for u in self.workers if u not in present]:
                    self._forget(uid)
                for pod in items:
                    self.on_pod("ADDED", pod)
                async for event_type, pod in self.client.watch(
                    PODS, all_namespaces=True, field_selector=selector, resource_version=version
                ):
                    if event_type in ("ADDED", "MODIFIED", "DELETED"):
                        self.on_pod(event_type, pod)
                    if stop.is_set():
                        return
            except (ApiError, TransportError) as error:
                log.info("relisting pods after %s", error)
            await self.clock.sleep(RELIST_PAUSE_SECONDS)

    def on_pod(self, event_type: str, pod: Object) -> None:
        metadata = pod.get("metadata") or {}
        uid = str(metadata.get("uid", ""))
        worker = self.workers.get(uid)
        if event_type == "DELETED":
            if worker is not None:
                self._forget(uid)
            return
        deleting = metadata.get("deletionTimestamp") is not None
        if worker is None:
            phase = (pod.get("status") or {}).get("phase")
            if phase in ("Succeeded", "Failed"):
                if deleting:
                    self._spawn(self._delete(pod))
                return
            if deleting:
                self._spawn(self._delete(pod))
                return
            self._start_worker(pod)
        elif deleting:
            grace = metadata.get("deletionGracePeriodSeconds")
            worker.request_termination(float(grace) if grace is not None else None)
            if worker.finished and uid in self._tasks and self._tasks[uid].done():
                self._spawn(self._delete(pod))

    def _start_worker(self, pod: Object) -> None:
        metadata = pod["metadata"]
        uid = str(metadata.get("uid", ""))
        spec = msgspec.convert(pod.get("spec") or {}, PodSpec)
        active = [w.requests for w in self.workers.values() if not w.finished]
        requests = pod_requests(spec)
        rejection = admit(requests, self.heartbeat.allocatable, active)
        runtime_name = spec.runtime_class_name or DEFAULT_RUNTIME_CLASS
        runtime = self.runtimes.get(runtime_name)
        if rejection is None and runtime is None:
            rejection = Rejection(
                "RuntimeClassUnavailable", f"runtime {runtime_name!r} is not available on this node"
            )
        key = (str(metadata.get("namespace", "default")), str(metadata["name"]))
        if rejection is not None or runtime is None:
            assert rejection is not None
            self.metrics.admission_rejections.labels(self.metrics.node).inc()
            self.status_writer.offer(
                key,
                {
                    "phase": "Failed",
                    "reason": rejection.reason,
                    "message": f"Pod was rejected: {rejection.message}",
                },
            )
            return
        worker = PodWorker(pod, runtime, self.context, spec, requests)
        self.workers[uid] = worker
        task = asyncio.create_task(self._run_worker(worker, pod))
        self._tasks[uid] = task

    async def _run_worker(self, worker: PodWorker, pod: Object) -> None:
        await worker.run()
        if worker.cause == "deleted" and worker.uid in self.workers:
            await self._delete(pod)

    async def _delete(self, pod: Object) -> None:
        metadata = pod["metadata"]
        try:
            await self.client.delete(
                PODS,
                str(metadata["name"]),
                str(metadata.get("namespace", "default")),
                grace_period_seconds=0,
                precondition_uid=str(metadata.get("uid", "")),
            )
        except ApiError as error:
            if error.code not in (404, 409):
                log.warning("deleting pod %s: %s", metadata.get("name"), error)

    def _forget(self, uid: str) -> None:
        worker = self.workers.pop(uid, None)
        if worker is None:
            return
        worker.request_termination(0, "vanished")
        self.status_writer.forget(worker.key)
        pod_dir = worker.pod_dir

        async def cleanup() -> None:
            task = self._tasks.pop(uid, None)
            if task is not None:
                await asyncio.gather(task, return_exceptions=True)
            await self._run_blocking(partial(shutil.rmtree, pod_dir, True))

        self._spawn(cleanup())


def _attempt_running(record: ContainerRecord, attempt: int, previous: bool) -> bool:
    """Whether the attempt whose logs are being followed can still write more."""
    return not previous and record.state == "running" and len(record.attempt_dirs) == attempt


async def run_agent(
    client: ApiClient,
    settings: AgentSettings,
    clock: Clock,
    stop: asyncio.Event,
    endpoint_wrap: ProtocolWrapper | None = None,
) -> None:
    """Run one node agent until `stop` is set. Its containers are then stopped (within
    `settings.shutdown_grace_seconds`) but their pods keep their status: the next agent for the same
    node starts them again, as a kubelet does after a reboot. `endpoint_wrap` secures its endpoint."""
    agent = NodeAgent(client, settings, clock, endpoint_wrap=endpoint_wrap)
    with contextlib.suppress(asyncio.CancelledError):
        await agent.run(stop)
