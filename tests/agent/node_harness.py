"""A real API server and one node agent for end-to-end tests, plus kubectl and polling helpers.

`run_on_node` starts an API server on a free port and one agent (process, wasm and, with runc, oci
runtimes) talking HTTP exactly as `kubelite agent` would; pods are bound with the binding
subresource (no scheduler). `kubectl` runs the real kubectl against it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from kubelite.agent.agent import NodeAgent
from kubelite.agent.settings import AgentSettings
from kubelite.api.resources import PODS
from kubelite.apiserver.server import ApiServer, ApiServerSettings
from kubelite.cli.kubeconfig import kubeconfig_document, write_kubeconfig
from kubelite.client import ApiClient, HttpTransport
from kubelite.clock import RealClock
from kubelite.store import open_store

NODE = "node-under-test"
Scenario = Callable[[ApiClient, NodeAgent], Awaitable[None]]


def agent_settings(tmp_path: Path, cgroup_parent: str, image_root: Path | None = None) -> AgentSettings:
    """Fast intervals for tests; every agent built from the same arguments is the same node."""
    return AgentSettings(
        node_name=NODE,
        data_dir=tmp_path / "agent",
        image_root=image_root,
        port=0,
        cgroup_parent=cgroup_parent,
        stats_seconds=0.3,
        pod_resync_seconds=10.0,
        lease_renew_seconds=0.5,
    )


def run_on_node(
    tmp_path: Path, cgroup_parent: str, scenario: Scenario, image_root: Path | None = None
) -> None:
    """Start an API server and one agent, run `scenario`, and always stop both."""

    async def main() -> None:
        store = open_store("memory://")
        server = ApiServer(store, ApiServerSettings(port=0))
        await server.start()
        client = ApiClient(HttpTransport(server.url))
        settings = agent_settings(tmp_path, cgroup_parent, image_root)
        agent = NodeAgent(client, settings, RealClock())
        stop = asyncio.Event()
        task = asyncio.create_task(agent.run(stop))
        try:
            await wait_for(lambda: agent.heartbeat.node_uid != "" or task.done())
            assert not task.done(), task.exception()
            await asyncio.wait_for(scenario(client, agent), 45)
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)
            await client.close()
            await server.stop()
            await store.close()

    asyncio.run(main())


async def wait_for(condition: Callable[[], Any], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def wait_pod(
    client: ApiClient, name: str, check: Callable[[dict[str, Any]], bool], timeout: float = 20
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        pod = await client.get(PODS, name, "default")
        if check(pod):
            return pod
        assert asyncio.get_running_loop().time() < deadline, f"pod {name} stuck: {pod.get('status')}"
        await asyncio.sleep(0.05)


def pod_manifest(name: str, command: list[str], **spec: Any) -> dict[str, Any]:
    container = {
        "name": "main",
        "image": "none",
        "command": command,
        "resources": {"limits": {"cpu": "200m", "memory": "64Mi"}},
    }
    container.update(spec.pop("container", {}))
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [container], **spec},
    }


async def create_bound(client: ApiClient, manifest: dict[str, Any]) -> None:
    await client.create(PODS, manifest, "default")
    await client.bind("default", manifest["metadata"]["name"], NODE)


def phase(pod: dict[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase"))


def main_state(pod: dict[str, Any]) -> dict[str, Any]:
    statuses = (pod.get("status") or {}).get("containerStatuses") or [{}]
    return dict(statuses[0])


def _server_url(client: ApiClient) -> str:
    transport = client.transport
    assert isinstance(transport, HttpTransport)
    return str(transport._client.base_url).rstrip("/")


async def kubectl(client: ApiClient, tmp_path: Path, *arguments: str, check: bool = True) -> str:
    """Run the real kubectl against the test's API server; its standard output."""
    kubeconfig = tmp_path / "kubeconfig"
    if not kubeconfig.exists():
        write_kubeconfig(kubeconfig, kubeconfig_document(_server_url(client)))
    process = await asyncio.create_subprocess_exec(
        "kubectl",
        "--kubeconfig",
        str(kubeconfig),
        *arguments,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert not check or process.returncode == 0, err.decode()
    return out.decode()
