"""Starting a real `kubelite up` in a subprocess, the way a user does, for integration tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from kubelite.client.kubeconfig import load_kubeconfig

KUBECTL = os.environ.get("KUBECTL", "/usr/bin/kubectl")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningCluster:
    data_dir: Path
    port: int
    process: subprocess.Popen[str]
    ready_line: str
    output: list[str] = field(default_factory=list)

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "kubeconfig"

    def kubectl(
        self, *args: str, check: bool = True, input: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, KUBECONFIG=str(self.kubeconfig))
        result = subprocess.run(
            [KUBECTL, *args], capture_output=True, text=True, env=env, input=input, timeout=timeout
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
            )
        return result

    @property
    def server(self) -> str:
        return load_kubeconfig(self.kubeconfig).server

    def http_client(self, timeout: float = 30) -> httpx.Client:
        """An HTTP client with the kubeconfig's server, trust and credentials."""
        access = load_kubeconfig(self.kubeconfig)
        return httpx.Client(
            base_url=access.server, verify=access.ssl_context(), headers=access.headers(), timeout=timeout
        )

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                return self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                return self.process.wait()
        return int(self.process.returncode)


def start_cluster(
    data_dir: Path, *extra: str, port: int | None = None, timeout: float = 60
) -> RunningCluster:
    """Run `kubelite up`, wait for its ready line, and keep draining its output in the background."""
    port = port or free_port()
    command = [
        sys.executable,
        "-m",
        "kubelite.cli.main",
        "up",
        "--data-dir",
        str(data_dir),
        "--port",
        str(port),
        *extra,
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    ready = threading.Event()

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "kubelite is ready" in line:
                ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    if not ready.wait(timeout) or process.poll() is not None:
        process.kill()
        raise RuntimeError("kubelite up did not become ready:\n" + "".join(lines))
    cluster = RunningCluster(
        data_dir, port, process, next(line for line in lines if "kubelite is ready" in line)
    )
    cluster.output = lines
    return cluster
