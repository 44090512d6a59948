"""The rollout workflow with kubectl on a full `kubelite up`: real pods on the local agent."""

from __future__ import annotations

import json
import time

from apiserver.cluster import RunningCluster


def _wait(check, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError("condition not reached in time")


def test_deployment_rollout_workflow(cluster: RunningCluster) -> None:
    cluster.kubectl("create", "deployment", "web", "--image=sleeper", "--replicas=2", "--", "sleep", "3600")
    cluster.kubectl("rollout", "status", "deploy/web", "--timeout=90s", timeout=120)
    pods = json.loads(cluster.kubectl("get", "pods", "-l", "app=web", "-o", "json").stdout)["items"]
    assert len(pods) == 2 and all(p["status"]["phase"] == "Running" for p in pods)
    assert all(p["spec"]["nodeName"] for p in pods)

    cluster.kubectl("set", "image", "deploy/web", "sleeper=sleeper:2")
    cluster.kubectl("rollout", "status", "deploy/web", "--timeout=90s", timeout=120)
    history = cluster.kubectl("rollout", "history", "deploy/web").stdout
    assert "1" in history and "2" in history
    replica_sets = json.loads(cluster.kubectl("get", "rs", "-l", "app=web", "-o", "json").stdout)["items"]
    assert sorted(rs["spec"]["replicas"] for rs in replica_sets) == [0, 2]

    cluster.kubectl("rollout", "undo", "deploy/web")
    cluster.kubectl("rollout", "status", "deploy/web", "--timeout=90s", timeout=120)
    image = cluster.kubectl(
        "get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"
    ).stdout
    assert image == "sleeper"

    cluster.kubectl("scale", "deploy/web", "--replicas=3")
    _wait(
        lambda: (
            cluster.kubectl("get", "deploy", "web", "-o", "jsonpath={.status.readyReplicas}").stdout == "3"
        )
    )

    cluster.kubectl("rollout", "pause", "deploy/web")
    cluster.kubectl("set", "image", "deploy/web", "sleeper=sleeper:3")
    time.sleep(1.0)
    paused = json.loads(cluster.kubectl("get", "rs", "-l", "app=web", "-o", "json").stdout)["items"]
    assert len(paused) == 2, "a paused Deployment must not roll out"
    cluster.kubectl("rollout", "resume", "deploy/web")
    cluster.kubectl("rollout", "status", "deploy/web", "--timeout=90s", timeout=120)
    cluster.kubectl("rollout", "restart", "deploy/web")
    cluster.kubectl("rollout", "status", "deploy/web", "--timeout=90s", timeout=120)


def test_self_healing_replaces_a_deleted_pod(cluster: RunningCluster) -> None:
    cluster.kubectl("create", "deployment", "heal", "--image=sleeper", "--replicas=2", "--", "sleep", "3600")
    cluster.kubectl("rollout", "status", "deploy/heal", "--timeout=90s", timeout=120)
    victim = cluster.kubectl(
        "get", "pods", "-l", "app=heal", "-o", "jsonpath={.items[0].metadata.name}"
    ).stdout
    cluster.kubectl("delete", "pod", victim, "--wait=false")

    def healed() -> bool:
        pods = json.loads(cluster.kubectl("get", "pods", "-l", "app=heal", "-o", "json").stdout)["items"]
        running = [
            p
            for p in pods
            if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
        ]
        return len(running) == 2 and victim not in {p["metadata"]["name"] for p in running}

    _wait(healed)


def test_delete_cascades(cluster: RunningCluster) -> None:
    for name in ("orphaned", "background", "foreground"):
        cluster.kubectl(
            "create", "deployment", name, "--image=sleeper", "--replicas=1", "--", "sleep", "3600"
        )
        cluster.kubectl("rollout", "status", f"deploy/{name}", "--timeout=90s", timeout=120)
    cluster.kubectl("delete", "deploy", "orphaned", "--cascade=orphan")
    cluster.kubectl("delete", "deploy", "background", "--cascade=background")
    cluster.kubectl("delete", "deploy", "foreground", "--cascade=foreground", timeout=120)

    def owned_by(app: str) -> list[dict[str, object]]:
        return json.loads(cluster.kubectl("get", "rs", "-l", f"app={app}", "-o", "json").stdout)["items"]  # type: ignore[no-any-return]

    _wait(lambda: not owned_by("background") and not owned_by("foreground"))
    orphans = owned_by("orphaned")
    assert len(orphans) == 1 and not orphans[0]["metadata"].get("ownerReferences")  # type: ignore[index]


def test_deleting_a_namespace_deletes_its_content(cluster: RunningCluster) -> None:
    cluster.kubectl("create", "namespace", "doomed")
    cluster.kubectl(
        "create", "deployment", "inside", "--image=sleeper", "-n", "doomed", "--", "sleep", "3600"
    )
    cluster.kubectl("create", "configmap", "settings", "-n", "doomed", "--from-literal=a=b")
    cluster.kubectl("rollout", "status", "deploy/inside", "-n", "doomed", "--timeout=90s", timeout=120)
    cluster.kubectl("delete", "namespace", "doomed", "--timeout=90s", timeout=120)
    assert cluster.kubectl("get", "namespace", "doomed", check=False).returncode != 0
    assert "doomed" not in cluster.kubectl("get", "pods", "-A").stdout


def test_pod_logs_through_the_api(cluster: RunningCluster) -> None:
    cluster.kubectl(
        "run",
        "talker",
        "--image=sh",
        "--restart=Never",
        "--command",
        "--",
        "sh",
        "-c",
        "echo hello from kubelite; echo second line",
    )
    _wait(
        lambda: (
            cluster.kubectl("get", "pod", "talker", "-o", "jsonpath={.status.phase}").stdout == "Succeeded"
        )
    )
    assert cluster.kubectl("logs", "talker").stdout.split("\n")[:2] == ["hello from kubelite", "second line"]


def test_kubectl_autoscale_creates_an_hpa_that_scales_to_its_minimum(cluster: RunningCluster) -> None:
    cluster.kubectl("create", "deployment", "auto", "--image=sleeper", "--replicas=1", "--", "sleep", "3600")
    # kubectl autoscale posts autoscaling/v1 (served by conversion from the stored v2 object).
    cluster.kubectl("autoscale", "deployment", "auto", "--min=2", "--max=5", "--cpu-percent=70")
    v1 = json.loads(
        cluster.kubectl(
            "get", "--raw", "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/auto"
        ).stdout
    )
    assert v1["apiVersion"] == "autoscaling/v1" and v1["spec"]["targetCPUUtilizationPercentage"] == 70
    v2 = json.loads(cluster.kubectl("get", "hpa", "auto", "-o", "json").stdout)
    assert v2["spec"]["metrics"][0]["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}
    _wait(
        lambda: cluster.kubectl("get", "deploy", "auto", "-o", "jsonpath={.spec.replicas}").stdout == "2",
        timeout=60,
    )
    assert "auto" in cluster.kubectl("get", "hpa").stdout
