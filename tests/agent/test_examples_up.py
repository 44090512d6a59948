"""The examples work as the docs say: `kubelite up`, `kubelite image import`, `kubectl apply`.

One real `kubelite up` (HTTPS, scheduler, controller-manager and a local agent in-process) with HOME
pointed at the test's directory, so the image store is the default one the docs use. The process,
wasm and oci pods and the wasm Deployment are applied with kubectl; each pod must run and print its
greeting through `kubectl logs`, and `kubectl delete` must finish well inside the grace period.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(90)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GREETINGS = {
    "hello-process": "hello from a process",
    "hello-wasm": "hello from kubelite wasm",
    "hello-oci": "hello from runc",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def cluster(tmp_path: Path, busybox_tarball: Path) -> Iterator[dict[str, str]]:
    """A running `kubelite up`; yields the environment for kubectl (KUBECONFIG, HOME)."""
    environment = {**os.environ, "HOME": str(tmp_path / "home")}
    for source, name in ((EXAMPLES / "wasm" / "hello.wat", "hello-wasm:v1"), (busybox_tarball, "busybox:latest")):
        subprocess.run(["kubelite", "image", "import", str(source), name], env=environment, check=True, capture_output=True)
    data_dir = tmp_path / "data"
    log = (tmp_path / "up.log").open("w")
    up = subprocess.Popen(
        ["kubelite", "up", "--data-dir", str(data_dir), "--port", str(free_port())],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while "is ready at" not in (tmp_path / "up.log").read_text():
            assert up.poll() is None and time.monotonic() < deadline, (tmp_path / "up.log").read_text()
            time.sleep(0.1)
        yield {**environment, "KUBECONFIG": str(data_dir / "kubeconfig")}
    finally:
        up.terminate()
        up.wait(30)
        log.close()


def kubectl(environment: dict[str, str], *arguments: str) -> str:
    done = subprocess.run(["kubectl", *arguments], env=environment, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


def eventually(check: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not callable(check) or not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.2)


@pytest.mark.skipif(shutil.which("runc") is None, reason="runc is not installed")
def test_examples_run_under_kubelite_up(cluster: dict[str, str]) -> None:
    for manifest in ("process/pod.yaml", "wasm/pod.yaml", "oci/pod.yaml", "wasm/deployment.yaml"):
        kubectl(cluster, "apply", "-f", str(EXAMPLES / manifest))

    def all_running() -> bool:
        rows = [line.split() for line in kubectl(cluster, "get", "pods", "--no-headers").splitlines()]
        return len(rows) == 6 and all(row[1] == "1/1" and row[2] == "Running" for row in rows)

    eventually(all_running)
    for pod, greeting in GREETINGS.items():
        eventually(lambda pod=pod, greeting=greeting: greeting in kubectl(cluster, "logs", pod))
    assert "Started container hello" in kubectl(cluster, "describe", "pod", "hello-wasm")
    began = time.monotonic()
    kubectl(cluster, "delete", "pod", "hello-process", "hello-wasm", "hello-oci")  # waits until they are gone
    assert time.monotonic() - began < 10  # each example ends on SIGTERM, not after the 30 s grace period
