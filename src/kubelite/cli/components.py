"""The components `kubelite up` runs beside the API server, each as an API client in-process.

Every component talks to the server through the in-process transport, exactly as it would over
HTTP from another process, so `kubelite up` is the distributed system folded into one process.
A component that fails is logged and restarted after a pause; it never takes the server down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry

from kubelite.agent.agent import run_agent
from kubelite.agent.registration import ensure_runtime_classes
from kubelite.agent.settings import AgentSettings
from kubelite.apiserver.inprocess import InProcessTransport
from kubelite.apiserver.server import ApiServer
from kubelite.autoscaling.controller import HPAControllerSettings, run_hpa_controller
from kubelite.client import ApiClient
from kubelite.clock import Clock, RealClock
from kubelite.controllers.manager import run_controller_manager
from kubelite.controllers.settings import ControllerManagerSettings
from kubelite.observability.anomaly_component import AnomalyDetectorComponent, AnomalyDetectorSettings
from kubelite.scheduler.live import run_scheduler
from kubelite.scheduler.profiles import load_configuration
from kubelite.security.pki import ClusterPki
from kubelite.security.policy import (
    ANOMALY_DETECTOR_USER,
    AUTOSCALER_USER,
    CONTROLLER_MANAGER_USER,
    NODE_USER_PREFIX,
    NODES_GROUP,
    SCHEDULER_USER,
)

from .agent_tls import local_endpoint_tls

log = logging.getLogger(__name__)

Runner = Callable[[ApiClient, asyncio.Event], Awaitable[object]]
RESTART_PAUSE_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class ComponentOptions:
    data_dir: Path
    scheduler: bool = True
    controller_manager: bool = True
    hpa_controller: bool = True
    anomaly_detector: bool = True
    #: Local node agents (real workloads on this host); 0 for none.
    agents: int = 1
    #: The cluster PKI: local agents then serve their endpoint over post-quantum TLS with a
    #: certificate it issues (None: plain HTTP, for an API server without security).
    pki: ClusterPki | None = None


async def _controller_manager(client: ApiClient, stop: asyncio.Event) -> None:
    await run_controller_manager(client, RealClock(), ControllerManagerSettings(), stop)


def _hpa_controller(clock: Clock) -> Runner:
    async def run(client: ApiClient, stop: asyncio.Event) -> None:
        await run_hpa_controller(client, clock, HPAControllerSettings(), stop)

    return run


def _agent(settings: AgentSettings, clock: Clock, pki: ClusterPki | None) -> Runner:
    tls = local_endpoint_tls(pki, settings) if pki is not None else None

    async def run(client: ApiClient, stop: asyncio.Event) -> None:
        await run_agent(client, settings, clock, stop, endpoint_wrap=tls.wrap if tls is not None else None)

    return run


def agent_settings(options: ComponentOptions, index: int) -> AgentSettings:
    """The settings of local agent `index`: the host name for the first, numbered names after it."""
    name = socket.gethostname().lower() if index == 0 else f"{socket.gethostname().lower()}-{index}"
    return AgentSettings(node_name=name, data_dir=options.data_dir / "agents" / name, port=0)


async def _scheduler(client: ApiClient, stop: asyncio.Event) -> None:
    await run_scheduler(client, load_configuration(None), stop)


def _anomaly_detector(clock: Clock) -> Runner:
    async def run(client: ApiClient, stop: asyncio.Event) -> None:
        component = AnomalyDetectorComponent(client, CollectorRegistry(), clock, settings=AnomalyDetectorSettings())
        try:
            await component.run(stop)
        finally:
            await component.close()

    return run


Identity = tuple[str, tuple[str, ...]]


def identity_of(component: str) -> Identity:
    """The user each component acts as, bound to its least-privilege role (security/policy.py)."""
    if component.startswith("agent/"):
        return (f"{NODE_USER_PREFIX}{component.removeprefix('agent/')}", (NODES_GROUP,))
    return {
        "scheduler": (SCHEDULER_USER, ()),
        "controller-manager": (CONTROLLER_MANAGER_USER, ()),
        "horizontal-pod-autoscaler": (AUTOSCALER_USER, ()),
        "anomaly-detector": (ANOMALY_DETECTOR_USER, ()),
    }[component]


async def _supervise(name: str, runner: Runner, server: ApiServer, stop: asyncio.Event) -> None:
    """Run a component until `stop`, restarting it after a pause if it fails."""
    while not stop.is_set():
        client = ApiClient(InProcessTransport(server.handle, identity_of(name)))
        try:
            await runner(client, stop)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("component %s failed; restarting in %.0f s", name, RESTART_PAUSE_SECONDS)
        finally:
            await client.close()
        if not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RESTART_PAUSE_SECONDS)


async def provide_runtime_classes(server: ApiServer) -> None:
    """The RuntimeClasses `process`, `wasm` and `oci` exist in every cluster, so that pods naming
    them validate even before (or without) a local agent; joining nodes may not create them."""
    client = ApiClient(InProcessTransport(server.handle))
    try:
        await ensure_runtime_classes(client)
    finally:
        await client.close()


def start_components(server: ApiServer, clock: Clock, stop: asyncio.Event, options: ComponentOptions) -> list[asyncio.Task[None]]:
    """Start every enabled component as a supervised task."""
    runners: dict[str, Runner] = {}
    if options.scheduler:
        runners["scheduler"] = _scheduler
    if options.controller_manager:
        runners["controller-manager"] = _controller_manager
    if options.hpa_controller:
        runners["horizontal-pod-autoscaler"] = _hpa_controller(clock)
    if options.anomaly_detector:
        runners["anomaly-detector"] = _anomaly_detector(clock)
    for index in range(options.agents):
        settings = agent_settings(options, index)
        runners[f"agent/{settings.node_name}"] = _agent(settings, clock, options.pki)
    return [asyncio.create_task(_supervise(name, runner, server, stop), name=name) for name, runner in runners.items()]


async def stop_components(tasks: list[asyncio.Task[None]], timeout: float = 3.0) -> None:
    """Wait for components to finish after `stop` was set; cancel the stragglers."""
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
