"""End to end through kubectl against a real `kubelite up`: each cascade mode, and deleting a namespace."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

KUBECTL = os.environ.get("KUBECTL", "/usr/bin/kubectl")
pytestmark = pytest.mark.skipif(shutil.which(KUBECTL) is None, reason="kubectl is not installed")


class Cluster:
    """`kubelite up` in a subprocess, started and stopped the way a user does."""

    def __init__(self, data_dir: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        command = [
            sys.executable,
            "-m",
            "kubelite.cli.main",
            "up",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
        ]
        self.kubeconfig = data_dir / "kubeconfig"
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.output: list[str] = []
        ready = threading.Event()

        def drain() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                self.output.append(line)
                if "kubelite is ready" in line:
                    ready.set()
            ready.set()

        threading.Thread(target=drain, daemon=True).start()
        if not ready.wait(90) or self.process.poll() is not None:
            self.process.kill()
            raise RuntimeError("kubelite up did not become ready:\n" + "".join(self.output))

    def kubectl(
        self, *args: str, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, KUBECONFIG=str(self.kubeconfig))
        result = subprocess.run([KUBECTL, *args], capture_output=True, text=True, env=env, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {result.stdout}{result.stderr}")
        return result

    def names(self, kind: str, namespace: str = "default") -> list[str]:
        out = self.kubectl("get", kind, "-n", namespace, "-o", "json").stdout
        return sorted(item["metadata"]["name"] for item in json.loads(out)["items"])

    def until(self, condition: Callable[[], object], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "condition not reached:\n" + "".join(self.output[-30:])
            time.sleep(0.25)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    running = Cluster(tmp_path_factory.mktemp("kubelite"))
    yield running
    running.stop()


def _deployment_with_pods(cluster: Cluster, name: str, namespace: str = "default") -> None:
    cluster.kubectl("create", "deployment", name, "--image=busybox", "--replicas=2", "-n", namespace)
    cluster.until(lambda: len([p for p in cluster.names("pods", namespace) if p.startswith(name)]) == 2)


@pytest.mark.parametrize("cascade", ["background", "foreground"])
def test_delete_deployment_cascades(cluster: Cluster, cascade: str) -> None:
    name = f"web-{cascade}"
    _deployment_with_pods(cluster, name)
    cluster.kubectl("delete", "deployment", name, f"--cascade={cascade}", timeout=120)
    cluster.until(lambda: not [r for r in cluster.names("replicasets") if r.startswith(name)])
    cluster.until(lambda: not [p for p in cluster.names("pods") if p.startswith(name)], timeout=90)


def test_delete_with_orphan_keeps_the_replicaset(cluster: Cluster) -> None:
    _deployment_with_pods(cluster, "web-orphan")
    cluster.kubectl("delete", "deployment", "web-orphan", "--cascade=orphan")
    replicasets = [r for r in cluster.names("replicasets") if r.startswith("web-orphan")]
    assert len(replicasets) == 1
    cluster.until(
        lambda: (
            not json.loads(cluster.kubectl("get", "rs", replicasets[0], "-o", "json").stdout)["metadata"].get(
                "ownerReferences"
            )
        )
    )
    assert len([p for p in cluster.names("pods") if p.startswith("web-orphan")]) == 2
    cluster.kubectl("delete", "rs", replicasets[0])  # background: the pods follow
    cluster.until(lambda: not [p for p in cluster.names("pods") if p.startswith("web-orphan")], timeout=90)


def test_delete_namespace_deletes_its_content_then_itself(cluster: Cluster) -> None:
    cluster.kubectl("create", "namespace", "team")
    cluster.kubectl("create", "configmap", "settings", "--from-literal=a=b", "-n", "team")
    _deployment_with_pods(cluster, "api", "team")
    cluster.kubectl("delete", "namespace", "team", timeout=120)  # kubectl waits until it is gone
    result = cluster.kubectl("get", "namespace", "team", check=False)
    assert result.returncode != 0 and "NotFound" in result.stderr


def _lease_holder(cluster: Cluster) -> str:
    result = cluster.kubectl(
        "get", "lease", "kube-controller-manager", "-n", "kube-system", "-o", "json", check=False
    )
    if result.returncode != 0:
        return ""
    return str(json.loads(result.stdout)["spec"].get("holderIdentity") or "")


def test_two_controller_managers_elect_one_leader_and_fail_over(cluster: Cluster) -> None:
    def start() -> subprocess.Popen[str]:
        command = [
            sys.executable, "-m", "kubelite.cli.main", "controller-manager",
            "--kubeconfig", str(cluster.kubeconfig), "--leader-elect", "--controllers", "namespace",
        ]  # fmt: skip
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)

    first, second = start(), start()
    processes = [first, second]
    try:
        cluster.until(lambda: _lease_holder(cluster) != "", timeout=60)
        holder = _lease_holder(cluster)
        time.sleep(3)  # more than one retry period: the standby must not have taken over
        assert _lease_holder(cluster) == holder
        # Stop the first; if it led, the standby takes over; if not, start a new standby and
        # stop the second (the leader), so that a hand-over is always observed.
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=30)
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline and _lease_holder(cluster) == holder:
            time.sleep(0.25)
        if _lease_holder(cluster) == holder:
            third = start()
            processes.append(third)
            time.sleep(3)
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)
        cluster.until(lambda: _lease_holder(cluster) not in ("", holder), timeout=30)
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
