"""A host joins the way kubeadm does: bootstrap token, pinned CA, ML-DSA-65 client certificate by CSR."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cryptography import x509

from apiserver.cluster import start_cluster


def test_node_joins_with_a_bootstrap_token_and_runs_pods(tmp_path: Path) -> None:
    cluster = start_cluster(tmp_path / "server", "--agents", "0")
    agent: subprocess.Popen[str] | None = None
    try:
        env = dict(os.environ, KUBECONFIG=str(cluster.kubeconfig))
        created = subprocess.run(
            [sys.executable, "-m", "kubelite.cli.main", "token", "create"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        join = created.stdout.strip().splitlines()[-1].split()
        assert join[:2] == ["kubelite", "agent"] and "--ca-cert-hash" in join
        node_dir = tmp_path / "node"
        agent = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kubelite.cli.main",
                *join[1:],
                "--name",
                "joiner",
                "--data-dir",
                str(node_dir),
                "--port",
                "0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready = cluster.kubectl(
                "get",
                "node",
                "joiner",
                "-o",
                "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
                check=False,
            )
            if ready.stdout == "True":
                break
            time.sleep(0.5)
        else:
            raise AssertionError("the joined node never became Ready")

        certificate = x509.load_pem_x509_certificate((node_dir / "pki" / "node.crt").read_bytes())
        assert certificate.signature_algorithm_oid.dotted_string == "2.16.840.1.101.3.4.3.18"  # ML-DSA-65
        assert certificate.subject.rfc4514_string() == "CN=system:node:joiner,O=system:nodes"
        csrs = json.loads(cluster.kubectl("get", "csr", "-o", "json").stdout)["items"]
        assert any(
            c["spec"]["username"].startswith("system:bootstrap:") and c["status"].get("certificate")
            for c in csrs
        )
        # The agent's endpoint serves post-quantum TLS with a kubelet-serving certificate it asked for.
        deadline = time.monotonic() + 30
        while True:
            csrs = json.loads(cluster.kubectl("get", "csr", "-o", "json").stdout)["items"]
            serving = [
                c for c in csrs
                if c["spec"]["signerName"] == "kubernetes.io/kubelet-serving" and c["status"].get("certificate")
            ]  # fmt: skip
            if serving or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert serving and serving[0]["spec"]["username"] == "system:node:joiner"
        served = x509.load_pem_x509_certificate(base64.b64decode(serving[0]["status"]["certificate"]))
        assert served.signature_algorithm_oid.dotted_string == "2.16.840.1.101.3.4.3.18"  # ML-DSA-65
        sans = served.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]

        cluster.kubectl(
            "run",
            "hello",
            "--image=sh",
            "--restart=Never",
            "--command",
            "--",
            "sh",
            "-c",
            "echo from the joined node",
        )
        deadline = time.monotonic() + 60
        while cluster.kubectl("get", "pod", "hello", "-o", "jsonpath={.status.phase}").stdout != "Succeeded":
            assert time.monotonic() < deadline, "the pod did not run on the joined node"
            time.sleep(0.5)
        assert cluster.kubectl("get", "pod", "hello", "-o", "jsonpath={.spec.nodeName}").stdout == "joiner"
        assert cluster.kubectl("logs", "hello").stdout.strip() == "from the joined node"
    finally:
        if agent is not None:
            agent.send_signal(signal.SIGTERM)
            agent.wait(timeout=30)
        cluster.stop()
