"""Every runtime through the agent under a real API server, as users see it through kubectl.

wasm and oci pods run through the pod-sync layer (not just the runtime); OOM kills surface as the
container's `OOMKilled` state at pod level; a CPU limit shows in `kubectl top`; a crash loop shows in
`kubectl get pods`, `kubectl logs -f` follows a container to its end and `--previous` reads the
attempt before; the agent's Events (Pulled, Created, Started, BackOff, Killing) are listed by kubectl.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from kubelite.agent.agent import NodeAgent
from kubelite.agent.images import ImageStore
from kubelite.api.resources import EVENTS, PODS
from kubelite.apiserver.server import ApiServer, ApiServerSettings
from kubelite.client import ApiClient, ApiError, HttpTransport
from kubelite.clock import RealClock
from kubelite.store import open_store

from .conftest import MODULES
from .node_harness import (
    agent_settings,
    create_bound,
    kubectl,
    main_state,
    phase,
    pod_manifest,
    run_on_node,
    wait_pod,
)

pytestmark = pytest.mark.timeout(60)
EXAMPLE_MODULE = Path(__file__).resolve().parents[2] / "examples" / "wasm" / "hello.wat"
LIMITS = {"cpu": "200m", "memory": "32Mi"}


def needs_runc(runtime: str) -> None:
    if runtime == "oci" and shutil.which("runc") is None:
        pytest.skip("runc is not installed")


def runtime_pod(name: str, runtime: str, container: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "runtimeClassName": runtime,
            "containers": [{"name": "main", "resources": {"limits": LIMITS}, **container}],
            **spec,
        },
    }


async def gone(client: ApiClient, name: str, timeout: float) -> float:
    """Seconds until the pod object is deleted."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while True:
        try:
            await client.get(PODS, name, "default")
        except ApiError as error:
            assert error.code == 404
            return loop.time() - started
        assert loop.time() - started < timeout, f"pod {name} was not deleted"
        await asyncio.sleep(0.05)


async def event_reasons(client: ApiClient, name: str) -> set[str]:
    listed = await client.list(EVENTS, "default", field_selector=f"involvedObject.name={name}")
    return {str(event.get("reason")) for event in listed["items"]}


RUNNING_CASES = {
    "wasm": ({"image": EXAMPLE_MODULE.as_uri(), "args": ["from", "the", "agent"]}, "hello from kubelite wasm"),
    # PID 1 of a container ignores SIGTERM unless it handles it (as in Kubernetes), hence the trap.
    "oci": (
        {"image": "busybox:latest", "command": ["sh", "-c", "trap 'exit 0' TERM; echo hi from runc; while :; do sleep 0.1; done"]},
        "hi from runc",
    ),
}


@pytest.mark.parametrize("runtime", sorted(RUNNING_CASES), ids=sorted(RUNNING_CASES))
def test_pod_runs_logs_and_is_deleted_gracefully(
    tmp_path: Path, cgroup_parent: str, busybox_store: ImageStore, runtime: str
) -> None:
    needs_runc(runtime)
    container, greeting = RUNNING_CASES[runtime]

    async def scenario(client: ApiClient, agent: NodeAgent) -> None:
        await create_bound(client, runtime_pod("app", runtime, container, terminationGracePeriodSeconds=5))
        pod = await wait_pod(client, "app", lambda p: phase(p) == "Running" and main_state(p).get("ready") is True)
        assert main_state(pod)["containerID"].startswith(f"{runtime}://")
        for _ in range(100):
            logs = await kubectl(client, tmp_path, "logs", "app")
            if greeting in logs:
                break
            await asyncio.sleep(0.05)
        assert greeting in logs
        assert {"Pulled", "Created", "Started"} <= await event_reasons(client, "app")
        await client.delete(PODS, "app", "default")
        # SIGTERM ends both workloads at once: far inside the 5 s grace period.
        assert await gone(client, "app", 10) < 4.0
        assert "Killing" in await event_reasons(client, "app")

    run_on_node(tmp_path, cgroup_parent, scenario, image_root=busybox_store.root)


OOM_CASES = {
    "process": {"image": "none", "command": ["tail", "/dev/zero"]},
    "oci": {"image": "busybox:latest", "command": ["tail", "/dev/zero"]},
    "wasm": {"image": (MODULES / "hog.wat").as_uri()},
}


@pytest.mark.parametrize("runtime", sorted(OOM_CASES), ids=sorted(OOM_CASES))
def test_memory_limit_ends_in_oom_killed(
    tmp_path: Path, cgroup_parent: str, busybox_store: ImageStore, runtime: str
) -> None:
    needs_runc(runtime)

    async def scenario(client: ApiClient, agent: NodeAgent) -> None:
        await create_bound(client, runtime_pod("hog", runtime, OOM_CASES[runtime], restartPolicy="Never"))
        pod = await wait_pod(client, "hog", lambda p: phase(p) == "Failed")
        terminated = main_state(pod)["state"]["terminated"]
        assert (terminated["reason"], terminated["exitCode"]) == ("OOMKilled", 137)
        assert "OOMKilled" in await kubectl(client, tmp_path, "get", "pod", "hog", "--no-headers")

    run_on_node(tmp_path, cgroup_parent, scenario, image_root=busybox_store.root)


def test_cpu_limit_holds_as_kubectl_top_reports(tmp_path: Path, cgroup_parent: str) -> None:
    async def scenario(client: ApiClient, agent: NodeAgent) -> None:
        manifest = pod_manifest("spin", ["sh", "-c", "while :; do :; done"])
        manifest["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "100m"
        await create_bound(client, manifest)
        await wait_pod(client, "spin", lambda p: phase(p) == "Running")
        await asyncio.sleep(1.5)  # several 0.3 s samples
        name, cpu, _memory = (await kubectl(client, tmp_path, "top", "pod", "spin", "--no-headers")).split()
        assert name == "spin" and cpu.endswith("m")
        assert 50 <= int(cpu[:-1]) <= 150  # the CFS quota: 100m, never the whole core a busy loop wants

    run_on_node(tmp_path, cgroup_parent, scenario)


def test_crash_loop_in_kubectl_with_follow_previous_and_events(tmp_path: Path, cgroup_parent: str) -> None:
    async def scenario(client: ApiClient, agent: NodeAgent) -> None:
        script = "echo start; sleep 0.5; echo tick; sleep 0.5; echo tock; exit 1"
        await create_bound(client, pod_manifest("crashy", ["sh", "-c", script]))
        await wait_pod(client, "crashy", lambda p: phase(p) == "Running")
        # -f streams the attempt to its end: the command returns when the container exits.
        followed = await asyncio.wait_for(kubectl(client, tmp_path, "logs", "-f", "crashy"), 10)
        assert followed == "start\ntick\ntock\n"
        await wait_pod(
            client, "crashy", lambda p: main_state(p).get("state", {}).get("waiting", {}).get("reason") == "CrashLoopBackOff"
        )
        name, ready, status, restarts, *_ = (await kubectl(client, tmp_path, "get", "pod", "crashy", "--no-headers")).split()
        assert (name, ready, status, restarts) == ("crashy", "0/1", "CrashLoopBackOff", "0")
        assert "BackOff" in await kubectl(client, tmp_path, "get", "events", "--field-selector", "involvedObject.name=crashy")
        # The first restart comes after the kubelet's 10 s back-off; then --previous reads attempt 0.
        await wait_pod(client, "crashy", lambda p: main_state(p).get("restartCount", 0) >= 1, timeout=20)
        assert await kubectl(client, tmp_path, "logs", "--previous", "crashy") == "start\ntick\ntock\n"

    run_on_node(tmp_path, cgroup_parent, scenario)


def test_agent_restart_keeps_pods_and_restarts_their_containers(tmp_path: Path, cgroup_parent: str) -> None:
    """Stopping the agent stops containers but neither deletes nor fails their pods; the next agent
    for the node starts them again, counting a restart (a kubelet after a reboot)."""

    async def main() -> None:
        store = open_store("memory://")
        server = ApiServer(store, ApiServerSettings(port=0))
        await server.start()
        client = ApiClient(HttpTransport(server.url))
        try:
            marker = tmp_path / "pid"
            # "$$$$": Kubernetes turns "$$" into "$" in commands, so the shell sees "$$", its pid.
            script = f"echo $$$$ > {marker}.tmp; mv {marker}.tmp {marker}; exec sleep 60"
            await create_bound(client, pod_manifest("survivor", ["sh", "-c", script]))
            start_times = []
            for _round in range(2):
                stop = asyncio.Event()
                agent = asyncio.create_task(NodeAgent(client, agent_settings(tmp_path, cgroup_parent), RealClock()).run(stop))
                pod = await wait_pod(client, "survivor", lambda p: phase(p) == "Running" and marker.exists())
                start_times.append(pod["status"]["startTime"])
                pid = int(marker.read_text())
                marker.unlink()
                stop.set()
                await asyncio.wait_for(agent, 20)
                with pytest.raises(ProcessLookupError):
                    os.kill(pid, 0)  # the container went with its agent
                after = await client.get(PODS, "survivor", "default")
                assert phase(after) == "Running" and after["metadata"]["uid"] == pod["metadata"]["uid"]
            assert main_state(pod)["restartCount"] == 1  # as seen by the second agent
            assert start_times[0] == start_times[1]
        finally:
            await client.close()
            await server.stop()
            await store.close()

    asyncio.run(main())


@pytest.mark.parametrize("runtime", ["process", "oci"], ids=["process", "oci"])
def test_security_context_user_and_non_root_policy(
    tmp_path: Path, cgroup_parent: str, busybox_store: ImageStore, runtime: str
) -> None:
    needs_runc(runtime)
    image = "busybox:latest" if runtime == "oci" else "none"

    async def scenario(client: ApiClient, agent: NodeAgent) -> None:
        # The container's runAsUser wins over the pod's; runAsGroup comes from the pod.
        await create_bound(
            client,
            runtime_pod(
                "ids",
                runtime,
                {"image": image, "command": ["sh", "-c", "id -u; id -g"], "securityContext": {"runAsUser": 1234}},
                restartPolicy="Never",
                securityContext={"runAsUser": 999, "runAsGroup": 4321},
            ),
        )
        await wait_pod(client, "ids", lambda p: phase(p) == "Succeeded")
        assert await kubectl(client, tmp_path, "logs", "ids") == "1234\n4321\n"
        # runAsNonRoot with no user: the kubelet refuses to start it, and keeps the pod Pending.
        await create_bound(
            client,
            runtime_pod("rooty", runtime, {"image": image, "command": ["true"]}, securityContext={"runAsNonRoot": True}),
        )
        pod = await wait_pod(
            client, "rooty", lambda p: main_state(p).get("state", {}).get("waiting", {}).get("reason") == "CreateContainerConfigError"
        )
        assert "runAsNonRoot and image will run as root" in main_state(pod)["state"]["waiting"]["message"]
        assert phase(pod) == "Pending"

    run_on_node(tmp_path, cgroup_parent, scenario, image_root=busybox_store.root)


TERMINATION_CASES = {
    # The container writes its own message to terminationMessagePath (bind-mounted by the agent).
    "oci-file": (
        "oci",
        {"image": "busybox:latest", "command": ["sh", "-c", "echo bad config > /dev/termination-log; exit 2"]},
        "bad config\n",
    ),
    # No message written: FallbackToLogsOnError takes the log's tail.
    "process-fallback-to-logs": (
        "process",
        {
            "image": "none",
            "command": ["sh", "-c", "echo starting; echo boom >&2; exit 3"],
            "terminationMessagePolicy": "FallbackToLogsOnError",
        },
        "starting\nboom\n",
    ),
}


@pytest.mark.parametrize("case", sorted(TERMINATION_CASES), ids=sorted(TERMINATION_CASES))
def test_termination_message(tmp_path: Path, cgroup_parent: str, busybox_store: ImageStore, case: str) -> None:
    runtime, container, message = TERMINATION_CASES[case]
    needs_runc(runtime)

    async def scenario(client: ApiClient, agent: NodeAgent) -> None:
        await create_bound(client, runtime_pod("ending", runtime, container, restartPolicy="Never"))
        pod = await wait_pod(client, "ending", lambda p: phase(p) == "Failed")
        assert main_state(pod)["state"]["terminated"]["message"] == message

    run_on_node(tmp_path, cgroup_parent, scenario, image_root=busybox_store.root)
