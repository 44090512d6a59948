"""The agent against a real API server: registration, pod sync, lifecycle, logs and deletion.

Each test starts an API server on a free port and one agent with the process runtime, talking
HTTP exactly as `kubelite agent` would; pods are bound with the binding subresource (no scheduler).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from kubelite.agent.agent import NodeAgent
from kubelite.agent.settings import AgentSettings
from kubelite.api.resources import LEASES, NODES, PODS, RUNTIME_CLASSES
from kubelite.apiserver.server import ApiServer, ApiServerSettings
from kubelite.cli.kubeconfig import kubeconfig_document, write_kubeconfig
from kubelite.client import ApiClient, ApiError, HttpTransport
from kubelite.clock import RealClock
from kubelite.store import open_store

pytestmark = pytest.mark.timeout(60)
NODE = "node-under-test"


Scenario = Callable[[ApiClient, NodeAgent], Awaitable[None]]


def run_on_node(tmp_path: Path, cgroup_parent: str, scenario: Scenario) -> None:
    """Start an API server and one agent, run `scenario`, and always stop both."""

    async def main() -> None:
        store = open_store("memory://")
        server = ApiServer(store, ApiServerSettings(port=0))
        await server.start()
        client = ApiClient(HttpTransport(server.url))
        settings = AgentSettings(
            node_name=NODE,
            data_dir=tmp_path / "agent",
            port=0,
            cgroup_parent=cgroup_parent,
            stats_seconds=0.3,
            pod_resync_seconds=10.0,
            lease_renew_seconds=0.5,
        )
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


def test_registration_writes_node_lease_and_runtime_classes(tmp_path: Path, cgroup_parent: str) -> None:
    async def scenario(client: ApiClient, agent: NodeAgent) -> None:
        node = await client.get(NODES, NODE)
        labels = node["metadata"]["labels"]
        assert labels["kubernetes.io/hostname"] == NODE and labels["kubernetes.io/os"] == "linux"
        assert {"kubernetes.io/arch", "node.kubernetes.io/instance-type"} <= set(labels)
        status = node["status"]
        assert status["capacity"]["pods"] == "110" and {"cpu", "memory", "ephemeral-storage"} <= set(
            status["allocatable"]
        )
        assert {c["type"] for c in status["conditions"]} == {
            "Ready",
            "MemoryPressure",
            "DiskPressure",
            "PIDPressure",
        }
        assert status["daemonEndpoints"]["kubeletEndpoint"]["Port"] == agent.endpoint.port
        first = (await client.get(LEASES, NODE, "kube-node-lease"))["spec"]["renewTime"]
        await asyncio.sleep(1.2)
        assert (await client.get(LEASES, NODE, "kube-node-lease"))["spec"]["renewTime"] != first
        names = {item["metadata"]["name"] for item in (await client.list(RUNTIME_CLASSES))["items"]}
        assert names >= {"wasm", "oci", "process"}

    run_on_node(tmp_path, cgroup_parent, scenario)


def test_pod_runs_logs_and_succeeds(tmp_path: Path, cgroup_parent: str) -> None:
    async def scenario(client: ApiClient, agent: NodeAgent) -> None:
        manifest = pod_manifest("echo", ["sh", "-c", "echo hello $GREETING; exit 0"], restartPolicy="Never")
        manifest["spec"]["containers"][0]["env"] = [{"name": "GREETING", "value": "world"}]
        await create_bound(client, manifest)
        pod = await wait_pod(client, "echo", lambda p: phase(p) == "Succeeded")
        terminated = main_state(pod)["state"]["terminated"]
        assert terminated["exitCode"] == 0 and terminated["reason"] == "Completed"
        async with httpx.AsyncClient() as http:
            reply = await http.get(f"http://127.0.0.1:{agent.endpoint.port}/containerLogs/default/echo/main")
        assert reply.text == "hello world\n"

    run_on_node(tmp_path, cgroup_parent, scenario)


@pytest.mark.parametrize(
    ("policy", "code", "expected_phase"),
    [("Never", 3, "Failed"), ("OnFailure", 0, "Succeeded")],
    ids=["never-fails", "onfailure-succeeds"],
)
def test_restart_policy_decides_the_terminal_phase(
    tmp_path: Path, cgroup_parent: str, policy: str, code: int, expected_phase: str
) -> None:
    async def scenario(client: ApiClient, agent: NodeAgent) -> None:
        await create_bound(client, pod_manifest("exit", ["sh", "-c", f"exit {code}"], restartPolicy=policy))
        pod = await wait_pod(client, "exit", lambda p: phase(p) == expected_phase)
        assert main_state(pod)["state"]["terminated"]["exitCode"] == code

    run_on_node(tmp_path, cgroup_parent, scenario)


def test_crashing_container_backs_off(tmp_path: Path, cgroup_parent: str) -> None:
    async def scenario(client: ApiClient, agent: NodeAgent) -> None:
        await create_bound(client, pod_manifest("crash", ["sh", "-c", "exit 1"]))
        pod = await wait_pod(
            client,
            "crash",
            lambda p: main_state(p).get("state", {}).get("waiting", {}).get("reason") == "CrashLoopBackOff",
        )
        status = main_state(pod)
        assert status["lastState"]["terminated"]["exitCode"] == 1
        assert phase(pod) == "Running"  # Always: a container waiting to restart keeps the pod Running

    run_on_node(tmp_path, cgroup_parent, scenario)


def test_init_container_runs_first(tmp_path: Path, cgroup_parent: str) -> None:
    async def scenario(client: ApiClient, agent: NodeAgent) -> None:
        marker = tmp_path / "marker"
        manifest = pod_manifest("init", ["sh", "-c", f"cat {marker}; sleep 30"])
        manifest["spec"]["initContainers"] = [
            {"name": "setup", "image": "none", "command": ["sh", "-c", f"echo ready > {marker}"]}
        ]
        await create_bound(client, manifest)
        pod = await wait_pod(
            client, "init", lambda p: phase(p) == "Running" and main_state(p).get("ready") is True
        )
        assert pod["status"]["initContainerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"
        conditions = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
        assert conditions["Initialized"] == "True" and conditions["Ready"] == "True"

    run_on_node(tmp_path, cgroup_parent, scenario)


def test_deletion_respects_the_grace_period(tmp_path: Path, cgroup_parent: str) -> None:
    async def scenario(client: ApiClient, agent: NodeAgent) -> None:
        script = "trap 'echo term; sleep 0.5; exit 0' TERM; while true; do sleep 0.05; done"
        await create_bound(
            client, pod_manifest("grace", ["sh", "-c", script], terminationGracePeriodSeconds=5)
        )
        await wait_pod(client, "grace", lambda p: phase(p) == "Running")
        started = asyncio.get_running_loop().time()
        await client.delete(PODS, "grace", "default")
        deadline = started + 10
        while True:
            try:
                await client.get(PODS, "grace", "default")
            except ApiError as error:
                assert error.code == 404
                break
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)
        elapsed = asyncio.get_running_loop().time() - started
        assert 0.4 <= elapsed < 5.0  # the TERM handler ran to its end, well before the 5 s SIGKILL

    run_on_node(tmp_path, cgroup_parent, scenario)


def test_readiness_probe_unreadies_and_liveness_restarts(tmp_path: Path, cgroup_parent: str) -> None:
    async def scenario(client: ApiClient, agent: NodeAgent) -> None:
        flag = tmp_path / "ready"
        probe = {"periodSeconds": 1, "failureThreshold": 1}
        container = {
            "readinessProbe": {"exec": {"command": ["test", "-f", str(flag)]}, **probe},
            "livenessProbe": {"exec": {"command": ["sh", "-c", f"test ! -f {tmp_path}/dead"]}, **probe},
        }
        await create_bound(
            client,
            pod_manifest("probed", ["sleep", "60"], container=container, terminationGracePeriodSeconds=1),
        )
        pod = await wait_pod(client, "probed", lambda p: phase(p) == "Running")
        assert main_state(pod)["ready"] is False
        flag.touch()
        await wait_pod(client, "probed", lambda p: main_state(p).get("ready") is True)
        (tmp_path / "dead").touch()
        pod = await wait_pod(
            client,
            "probed",
            lambda p: (
                main_state(p).get("restartCount", 0) >= 1
                or ("lastState" in main_state(p) and bool(main_state(p)["lastState"]))
            ),
        )
        assert main_state(pod)["lastState"]["terminated"]["exitCode"] in (137, 143)

    run_on_node(tmp_path, cgroup_parent, scenario)


def test_kubectl_logs_and_top_go_through_the_api_server(tmp_path: Path, cgroup_parent: str) -> None:
    async def scenario(client: ApiClient, agent: NodeAgent) -> None:
        server_url = _server_url(client)
        kubeconfig = tmp_path / "kubeconfig"
        write_kubeconfig(kubeconfig, kubeconfig_document(server_url))

        async def kubectl(*arguments: str) -> str:
            process = await asyncio.create_subprocess_exec(
                "kubectl",
                "--kubeconfig",
                str(kubeconfig),
                *arguments,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await process.communicate()
            assert process.returncode == 0, err.decode()
            return out.decode()

        script = "echo first; i=0; while [ $i -lt 2000000 ]; do i=$((i+1)); done; echo second; sleep 30"
        await create_bound(client, pod_manifest("talker", ["sh", "-c", script]))
        await wait_pod(client, "talker", lambda p: phase(p) == "Running")
        await wait_for(lambda: bool(agent.find_logs("default", "talker", "main", False)), 5)
        assert (await kubectl("logs", "talker")).startswith("first\n")
        assert await kubectl("logs", "talker", "--tail=1", "-c", "main") in ("first\n", "second\n")
        await asyncio.sleep(1.0)  # two stats samples, 0.3 s apart
        top_pods = await kubectl("top", "pods", "--no-headers")
        assert top_pods.split()[0] == "talker"
        top_nodes = await kubectl("top", "nodes", "--no-headers")
        assert top_nodes.split()[0] == NODE

    run_on_node(tmp_path, cgroup_parent, scenario)


def _server_url(client: ApiClient) -> str:
    transport = client.transport
    assert isinstance(transport, HttpTransport)
    return str(transport._client.base_url).rstrip("/")
