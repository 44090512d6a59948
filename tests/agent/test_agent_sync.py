"""The agent against a real API server: registration, pod sync, lifecycle, logs and deletion.

Each test starts an API server on a free port and one agent with the process runtime, talking
HTTP exactly as `kubelite agent` would; pods are bound with the binding subresource (no scheduler).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from kubelite.agent.agent import NodeAgent
from kubelite.api.resources import EVENTS, LEASES, NODES, PODS, RUNTIME_CLASSES
from kubelite.client import ApiClient, ApiError

from .node_harness import (
    NODE,
    create_bound,
    kubectl,
    main_state,
    phase,
    pod_manifest,
    run_on_node,
    wait_for,
    wait_pod,
)

pytestmark = pytest.mark.timeout(60)


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
        script = "echo hello $GREETING; echo oops >&2; echo bye; exit 0"
        manifest = pod_manifest("echo", ["sh", "-c", script], restartPolicy="Never")
        manifest["spec"]["containers"][0]["env"] = [{"name": "GREETING", "value": "world"}]
        await create_bound(client, manifest)
        pod = await wait_pod(client, "echo", lambda p: phase(p) == "Succeeded")
        terminated = main_state(pod)["state"]["terminated"]
        assert terminated["exitCode"] == 0 and terminated["reason"] == "Completed"
        async with httpx.AsyncClient() as http:
            reply = await http.get(f"http://127.0.0.1:{agent.endpoint.port}/containerLogs/default/echo/main")
        assert reply.text == "hello world\noops\nbye\n"  # both streams, in the order written

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
        events = (await client.list(EVENTS, "default", field_selector="involvedObject.name=probed"))["items"]
        messages = {(e["reason"], e["message"]) for e in events}
        assert ("Killing", "Container main failed liveness probe, will be restarted") in messages
        assert any(reason == "Unhealthy" and m.startswith("Readiness probe failed") for reason, m in messages)
        assert any(reason == "Unhealthy" and m.startswith("Liveness probe failed") for reason, m in messages)

    run_on_node(tmp_path, cgroup_parent, scenario)


def test_kubectl_logs_and_top_go_through_the_api_server(tmp_path: Path, cgroup_parent: str) -> None:
    async def scenario(client: ApiClient, agent: NodeAgent) -> None:
        script = "echo first; i=0; while [ $i -lt 2000000 ]; do i=$((i+1)); done; echo second; sleep 30"
        await create_bound(client, pod_manifest("talker", ["sh", "-c", script]))
        await wait_pod(client, "talker", lambda p: phase(p) == "Running")
        await wait_for(lambda: bool(agent.find_logs("default", "talker", "main", False)), 5)
        assert (await kubectl(client, tmp_path, "logs", "talker")).startswith("first\n")
        assert await kubectl(client, tmp_path, "logs", "talker", "--tail=1", "-c", "main") in ("first\n", "second\n")
        assert await kubectl(client, tmp_path, "logs", "talker", "--limit-bytes=3") == "fir"
        # -f stops at the byte limit too, although the container keeps running.
        assert await asyncio.wait_for(kubectl(client, tmp_path, "logs", "-f", "talker", "--limit-bytes=4"), 10) == "firs"
        await asyncio.sleep(1.0)  # two stats samples, 0.3 s apart
        top_pods = await kubectl(client, tmp_path, "top", "pods", "--no-headers")
        assert top_pods.split()[0] == "talker"
        top_nodes = await kubectl(client, tmp_path, "top", "nodes", "--no-headers")
        assert top_nodes.split()[0] == NODE

    run_on_node(tmp_path, cgroup_parent, scenario)


def test_sidecar_runs_through_init_and_beside_the_app_then_stops(tmp_path: Path, cgroup_parent: str) -> None:
    """An init container with restartPolicy Always (a sidecar): started before the next init
    container, running beside the app, and ended once the app has finished (restartPolicy Never)."""

    async def scenario(client: ApiClient, agent: NodeAgent) -> None:
        shared = tmp_path / "shared"
        shared.mkdir()
        manifest = pod_manifest("with-sidecar", ["sh", "-c", f"sleep 0.5; cat {shared}/sidecar"], restartPolicy="Never")
        manifest["spec"]["initContainers"] = [
            {
                "name": "sidecar",
                "image": "none",
                "restartPolicy": "Always",
                "command": ["sh", "-c", f"echo up > {shared}/sidecar; exec sleep 60"],
            },
            # Runs only once the sidecar has started, and sees its work.
            {"name": "check", "image": "none", "command": ["sh", "-c", f"sleep 0.2; test -f {shared}/sidecar"]},
        ]
        await create_bound(client, manifest)
        running = await wait_pod(client, "with-sidecar", lambda p: phase(p) == "Running")
        sidecar = running["status"]["initContainerStatuses"][0]
        assert "running" in sidecar["state"] and sidecar["started"] is True
        pod = await wait_pod(client, "with-sidecar", lambda p: phase(p) == "Succeeded")
        assert main_state(pod)["state"]["terminated"]["exitCode"] == 0
        sidecar, check = pod["status"]["initContainerStatuses"]
        assert check["state"]["terminated"]["exitCode"] == 0
        assert "terminated" in sidecar["state"]  # stopped with the pod, not left running
        conditions = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
        assert conditions["Initialized"] == "True"

    run_on_node(tmp_path, cgroup_parent, scenario)


@pytest.mark.parametrize(
    ("hook", "expect_file"),
    [("exec", True), ("sleep", False)],
    ids=["exec-hook-runs-before-sigterm", "sleep-hook-delays-sigterm"],
)
def test_pre_stop_hook_runs_within_the_grace_period(
    tmp_path: Path, cgroup_parent: str, hook: str, expect_file: bool
) -> None:
    async def scenario(client: ApiClient, agent: NodeAgent) -> None:
        marker, seen_term = tmp_path / "pre-stop", tmp_path / "term"
        handler = (
            {"exec": {"command": ["sh", "-c", f"echo hook > {marker}"]}}
            if hook == "exec"
            else {"sleep": {"seconds": 1}}
        )
        # The app records whether the hook had run when SIGTERM arrived.
        script = f"trap 'test -f {marker} && echo yes > {seen_term}; echo no >> {seen_term}; exit 0' TERM; while :; do sleep 0.05; done"
        await create_bound(
            client,
            pod_manifest(
                "hooked",
                ["sh", "-c", script],
                container={"lifecycle": {"preStop": handler}},
                terminationGracePeriodSeconds=10,
            ),
        )
        await wait_pod(client, "hooked", lambda p: phase(p) == "Running")
        began = asyncio.get_running_loop().time()
        await client.delete(PODS, "hooked", "default")
        await wait_for(lambda: seen_term.exists() and seen_term.read_text().endswith("no\n"), 10)
        elapsed = asyncio.get_running_loop().time() - began
        assert seen_term.read_text().startswith("yes") == expect_file
        if hook == "sleep":
            assert 0.9 <= elapsed < 5  # SIGTERM only after the hook's second
        assert "Killing" in {e["reason"] for e in (await client.list(EVENTS, "default"))["items"]}

    run_on_node(tmp_path, cgroup_parent, scenario)


def test_post_start_hook_runs_before_running_and_its_failure_kills(tmp_path: Path, cgroup_parent: str) -> None:
    async def scenario(client: ApiClient, agent: NodeAgent) -> None:
        marker = tmp_path / "post-start"
        ok_hook = {"postStart": {"exec": {"command": ["sh", "-c", f"sleep 0.2; echo hook > {marker}"]}}}
        await create_bound(client, pod_manifest("hooked", ["sleep", "30"], container={"lifecycle": ok_hook}))
        await wait_pod(client, "hooked", lambda p: phase(p) == "Running" and main_state(p).get("ready") is True)
        assert marker.read_text() == "hook\n"  # Running only once the hook had finished
        bad_hook = {"postStart": {"exec": {"command": ["sh", "-c", "exit 1"]}}}
        await create_bound(
            client,
            pod_manifest(
                "doomed",
                ["sleep", "30"],
                container={"lifecycle": bad_hook},
                restartPolicy="Never",
                terminationGracePeriodSeconds=1,
            ),
        )
        pod = await wait_pod(client, "doomed", lambda p: phase(p) == "Failed")
        assert main_state(pod)["state"]["terminated"]["exitCode"] in (137, 143)
        reasons = {e["reason"] for e in (await client.list(EVENTS, "default", field_selector="involvedObject.name=doomed"))["items"]}
        assert "FailedPostStartHook" in reasons

    run_on_node(tmp_path, cgroup_parent, scenario)
