"""Acknowledged writes survive `kill -9` of the server, and a restart keeps every object."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from .cluster import start_cluster

WRITER = textwrap.dedent(
    """
    import sys, threading, httpx
    from kubelite.client.kubeconfig import load_kubeconfig
    access = load_kubeconfig(sys.argv[1])
    lock = threading.Lock()
    def write(worker):
        with httpx.Client(base_url=access.server, verify=access.ssl_context(), headers=access.headers(), timeout=5) as client:
            for i in range(100000):
                name = f"w{worker}-{i}"
                body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"i": str(i)}}
                try:
                    response = client.post("/api/v1/namespaces/default/configmaps", json=body)
                except Exception:
                    return
                if response.status_code != 201:
                    return
                with lock:
                    print(name, flush=True)
    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    """
)


def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    cluster = start_cluster(tmp_path, "--agents", "0")
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(cluster.kubeconfig)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None
    acknowledged: set[str] = set()
    reader = threading.Thread(target=lambda: acknowledged.update(line.strip() for line in writer.stdout or []))
    reader.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 200 and time.monotonic() < deadline:
        time.sleep(0.05)  # kill only once the write load is in full swing
    cluster.process.send_signal(signal.SIGKILL)
    cluster.process.wait()
    writer.wait(timeout=30)
    reader.join(timeout=30)
    assert len(acknowledged) > 100, "the write load did not get going"

    restarted = start_cluster(tmp_path, "--agents", "0", port=cluster.port)
    try:
        with restarted.http_client() as client:
            items = client.get("/api/v1/namespaces/default/configmaps").json()["items"]
            present = {item["metadata"]["name"] for item in items}
            assert acknowledged <= present, f"lost {len(acknowledged - present)} acknowledged writes"
            # History from before the restart is gone from the watch cache: watching from it is 410.
            with client.stream(
                "GET", "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1"
            ) as response:
                event = json.loads(next(response.iter_lines()))
            assert event["type"] == "ERROR" and event["object"]["code"] == 410
    finally:
        restarted.stop()


def test_restart_keeps_objects_and_revisions(tmp_path: Path) -> None:
    cluster = start_cluster(tmp_path, "--agents", "0")
    cluster.kubectl("create", "namespace", "keep")
    cluster.kubectl("create", "configmap", "kept", "-n", "keep", "--from-literal=a=b")
    before = json.loads(cluster.kubectl("get", "cm", "kept", "-n", "keep", "-o", "json").stdout)
    assert cluster.stop() == 0
    again = start_cluster(tmp_path, "--agents", "0", port=cluster.port)
    try:
        after = json.loads(again.kubectl("get", "cm", "kept", "-n", "keep", "-o", "json").stdout)
        assert after["metadata"]["uid"] == before["metadata"]["uid"]
        assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
        again.kubectl("create", "configmap", "newer", "-n", "keep")
        newer = json.loads(again.kubectl("get", "cm", "newer", "-n", "keep", "-o", "json").stdout)
        assert int(newer["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])
    finally:
        again.stop()
