"""kubectl, the client nobody here wrote, against a real `kubelite up`."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from .cluster import RunningCluster

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: frontend}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
"""


def test_api_resources_lists_every_served_kind(cluster: RunningCluster) -> None:
    out = cluster.kubectl("api-resources", "-o", "name").stdout.split()
    for name in (
        "pods",
        "nodes",
        "namespaces",
        "deployments.apps",
        "replicasets.apps",
        "leases.coordination.k8s.io",
        "horizontalpodautoscalers.autoscaling",
    ):
        assert name in out


def test_system_namespaces_exist(cluster: RunningCluster) -> None:
    names = cluster.kubectl("get", "ns", "-o", "name").stdout.split()
    assert {
        "namespace/default",
        "namespace/kube-system",
        "namespace/kube-public",
        "namespace/kube-node-lease",
    } <= set(names)


def test_apply_get_label_annotate_patch_scale_delete(cluster: RunningCluster) -> None:
    assert "created" in cluster.kubectl("apply", "-f", "-", input=DEPLOYMENT).stdout
    assert "unchanged" in cluster.kubectl("apply", "-f", "-", input=DEPLOYMENT).stdout
    table = cluster.kubectl("get", "deploy", "web", "-o", "wide").stdout
    header = table.splitlines()[0].split()
    assert header[:5] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"] and "IMAGES" in header
    assert "nginx:1.27" in table
    cluster.kubectl("label", "deploy", "web", "team=blue")
    cluster.kubectl("annotate", "deploy", "web", "owner=ops")
    assert (
        cluster.kubectl("get", "deploy", "-l", "team=blue", "-o", "name").stdout.strip()
        == "deployment.apps/web"
    )
    assert cluster.kubectl("get", "deploy", "-l", "team=red", "-o", "name").stdout.strip() == ""
    cluster.kubectl("patch", "deploy", "web", "--type=merge", "-p", '{"spec":{"replicas":3}}')
    cluster.kubectl(
        "patch", "deploy", "web", "--type=json", "-p", '[{"op":"replace","path":"/spec/replicas","value":4}]'
    )
    cluster.kubectl(
        "patch",
        "deploy",
        "web",
        "-p",
        '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.28"}]}}}}',
    )
    obj = json.loads(cluster.kubectl("get", "deploy", "web", "-o", "json").stdout)
    assert obj["spec"]["replicas"] == 4
    assert obj["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    assert obj["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] == 80
    assert obj["metadata"]["labels"]["team"] == "blue" and obj["metadata"]["annotations"]["owner"] == "ops"
    assert obj["metadata"]["generation"] == 4  # three spec changes after creation; labels do not count
    cluster.kubectl("scale", "deploy", "web", "--replicas=6")
    assert cluster.kubectl("get", "deploy", "web", "-o", "jsonpath={.spec.replicas}").stdout == "6"
    cluster.kubectl("delete", "deploy", "web", "--cascade=background")
    assert cluster.kubectl("get", "deploy", "web", check=False).returncode != 0


def test_server_side_apply_creates_then_updates(cluster: RunningCluster) -> None:
    manifest = DEPLOYMENT.replace("name: web", "name: ssa")
    cluster.kubectl("apply", "--server-side", "-f", "-", input=manifest)
    cluster.kubectl("apply", "--server-side", "-f", "-", input=manifest.replace("replicas: 2", "replicas: 5"))
    assert cluster.kubectl("get", "deploy", "ssa", "-o", "jsonpath={.spec.replicas}").stdout == "5"


@pytest.mark.parametrize("cascade", ["background", "orphan", "foreground"])
def test_delete_accepts_every_cascade_mode(cluster: RunningCluster, cascade: str) -> None:
    name = f"cascade-{cascade}"
    cluster.kubectl("create", "configmap", name, "--from-literal=a=b")
    result = cluster.kubectl("delete", "configmap", name, f"--cascade={cascade}", "--wait=false")
    assert "deleted" in result.stdout


def test_typed_create_commands_send_protobuf_and_work(cluster: RunningCluster) -> None:
    cluster.kubectl("create", "namespace", "typed")
    cluster.kubectl("create", "deployment", "api", "--image=busybox", "--replicas=3", "-n", "typed")
    cluster.kubectl("create", "secret", "generic", "creds", "--from-literal=user=admin", "-n", "typed")
    cluster.kubectl("create", "service", "clusterip", "api", "--tcp=80:8080", "-n", "typed")
    secret = json.loads(cluster.kubectl("get", "secret", "creds", "-n", "typed", "-o", "json").stdout)
    assert secret["data"] == {"user": "YWRtaW4="} and secret["type"] == "Opaque"
    service = json.loads(cluster.kubectl("get", "svc", "api", "-n", "typed", "-o", "json").stdout)
    assert service["spec"]["clusterIP"].startswith("10.")
    assert (
        json.loads(cluster.kubectl("get", "deploy", "api", "-n", "typed", "-o", "json").stdout)["spec"][
            "replicas"
        ]
        == 3
    )


def test_get_output_formats_and_selectors(cluster: RunningCluster) -> None:
    cluster.kubectl("create", "configmap", "fmt", "--from-literal=k=v")
    cluster.kubectl("label", "configmap", "fmt", "kind=demo")
    assert "kind: ConfigMap" in cluster.kubectl("get", "cm", "fmt", "-o", "yaml").stdout
    assert json.loads(cluster.kubectl("get", "cm", "fmt", "-o", "json").stdout)["data"] == {"k": "v"}
    assert (
        cluster.kubectl("get", "cm", "--field-selector", "metadata.name=fmt", "-o", "name").stdout.strip()
        == "configmap/fmt"
    )
    assert (
        cluster.kubectl("get", "cm", "-l", "kind in (demo,other)", "-o", "name").stdout.strip()
        == "configmap/fmt"
    )
    describe = cluster.kubectl("describe", "cm", "fmt").stdout
    assert "Name:" in describe and "fmt" in describe
    raw = json.loads(cluster.kubectl("get", "--raw", "/api/v1/namespaces/default/configmaps/fmt").stdout)
    assert raw["metadata"]["name"] == "fmt"
    assert json.loads(cluster.kubectl("get", "--raw", "/version").stdout)["major"] == "1"


def test_get_watch_streams_changes(cluster: RunningCluster) -> None:
    cluster.kubectl("create", "configmap", "watched", "--from-literal=a=1")
    env_kubeconfig = str(cluster.kubeconfig)
    watcher = subprocess.Popen(
        [
            "/usr/bin/kubectl",
            "--kubeconfig",
            env_kubeconfig,
            "get",
            "cm",
            "watched",
            "-w",
            "-o",
            'jsonpath={.data.a}{"\\n"}',
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.0)
        cluster.kubectl("patch", "cm", "watched", "-p", '{"data":{"a":"2"}}')
        cluster.kubectl("patch", "cm", "watched", "-p", '{"data":{"a":"3"}}')
        time.sleep(1.0)
    finally:
        watcher.terminate()
        out, _ = watcher.communicate(timeout=10)
    assert out.split() == ["1", "2", "3"]


def test_unknown_fields_are_rejected_like_kubernetes(cluster: RunningCluster) -> None:
    typo = DEPLOYMENT.replace("name: web", "name: typo").replace("containers:", "contianers:")
    result = cluster.kubectl("apply", "-f", "-", input=typo, check=False)
    assert result.returncode != 0
    assert 'unknown field "spec.template.spec.contianers"' in result.stderr
    assert cluster.kubectl("get", "deploy", "typo", check=False).returncode != 0
    # --validate=false asks the server to ignore unknown fields, which it then drops.
    cluster.kubectl(
        "apply",
        "--validate=false",
        "-f",
        "-",
        input=DEPLOYMENT.replace("name: web", "name: lenient").replace(
            "replicas: 2", "replicas: 2\n  bogus: 1"
        ),
    )
    assert "bogus" not in json.loads(cluster.kubectl("get", "deploy", "lenient", "-o", "json").stdout)["spec"]
