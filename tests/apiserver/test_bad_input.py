"""Bad input gets the right Kubernetes Status, never a 500, and leaves no partial state."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from .cluster import RunningCluster


def _client(cluster: RunningCluster) -> httpx.Client:
    return cluster.http_client(timeout=10)


def _pod(name: str = "p", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox"}], **spec},
    }


CASES = [
    pytest.param(
        "POST",
        "/api/v1/namespaces/default/pods",
        b"{not json",
        "application/json",
        400,
        "BadRequest",
        "",
        id="malformed-json",
    ),
    pytest.param(
        "POST",
        "/api/v1/namespaces/default/pods",
        b"a: [unclosed",
        "application/yaml",
        400,
        "BadRequest",
        "",
        id="malformed-yaml",
    ),
    pytest.param(
        "POST",
        "/api/v1/namespaces/default/pods",
        b"[1,2]",
        "application/json",
        400,
        "BadRequest",
        "",
        id="not-an-object",
    ),
    pytest.param(
        "POST",
        "/api/v1/namespaces/default/pods",
        json.dumps({**_pod(), "apiVersion": "apps/v1"}).encode(),
        "application/json",
        400,
        "BadRequest",
        "",
        id="wrong-apiversion",
    ),
    pytest.param(
        "POST",
        "/api/v1/namespaces/default/pods",
        json.dumps({**_pod(), "kind": "Service"}).encode(),
        "application/json",
        400,
        "BadRequest",
        "",
        id="wrong-kind",
    ),
    pytest.param(
        "POST",
        "/api/v1/namespaces/default/pods",
        json.dumps(_pod("Bad_Name")).encode(),
        "application/json",
        422,
        "Invalid",
        "metadata.name",
        id="invalid-name",
    ),
    pytest.param(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        json.dumps(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "labels": {"bad key!": "v"}}}
        ).encode(),
        "application/json",
        422,
        "Invalid",
        "metadata.labels",
        id="invalid-label",
    ),
    pytest.param(
        "POST",
        "/api/v1/namespaces/nowhere/configmaps",
        json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}).encode(),
        "application/json",
        404,
        "NotFound",
        "",
        id="missing-namespace",
    ),
    pytest.param(
        "POST",
        "/api/v1/namespaces/default/pods",
        json.dumps(
            _pod("q", containers=[{"name": "c", "image": "i", "resources": {"requests": {"cpu": "lots"}}}])
        ).encode(),
        "application/json",
        422,
        "Invalid",
        "spec.containers[0].resources.requests[cpu]",
        id="bad-quantity",
    ),
    pytest.param(
        "POST",
        "/api/v1/namespaces/default/pods",
        json.dumps(_pod("r", containers=[{"name": "c", "image": "i"}, {"name": "c", "image": "j"}])).encode(),
        "application/json",
        422,
        "Invalid",
        "spec.containers[1].name",
        id="duplicate-container",
    ),
    pytest.param(
        "POST",
        "/api/v1/namespaces/default/pods",
        json.dumps(_pod("s", containers=[])).encode(),
        "application/json",
        422,
        "Invalid",
        "spec.containers",
        id="no-containers",
    ),
    pytest.param(
        "POST",
        "/api/v1/namespaces/default/pods",
        json.dumps(_pod("t", restartPolicy="Sometimes")).encode(),
        "application/json",
        422,
        "Invalid",
        "spec.restartPolicy",
        id="bad-restart-policy",
    ),
    pytest.param(
        "POST",
        "/api/v1/namespaces/default/pods",
        json.dumps({**_pod("u"), "spec": {"containers": "nope"}}).encode(),
        "application/json",
        422,
        "Invalid",
        "spec.containers",
        id="wrong-type",
    ),
    pytest.param(
        "PUT",
        "/api/v1/namespaces/default/configmaps/other",
        json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "mismatch"}}).encode(),
        "application/json",
        400,
        "BadRequest",
        "",
        id="name-mismatch",
    ),
    pytest.param(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        b"{" + b'"a":' * 2 + b"}",
        "application/json",
        400,
        "BadRequest",
        "",
        id="garbage",
    ),
    pytest.param(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        b"x" * (4 * 1024 * 1024),
        "application/json",
        413,
        "RequestEntityTooLarge",
        "",
        id="oversized-body",
    ),
    pytest.param(
        "POST",
        "/api/v1/namespaces/default/pods",
        b"{}",
        "text/csv",
        415,
        "UnsupportedMediaType",
        "",
        id="unknown-media-type",
    ),
    pytest.param(
        "GET",
        "/api/v1/namespaces/default/widgets",
        b"",
        "application/json",
        404,
        "NotFound",
        "",
        id="unknown-resource",
    ),
    pytest.param(
        "GET",
        "/api/v1/namespaces/default/pods?labelSelector=a%20in%20(",
        b"",
        "application/json",
        400,
        "BadRequest",
        "",
        id="bad-label-selector",
    ),
    pytest.param(
        "GET",
        "/api/v1/namespaces/default/pods?fieldSelector=spec.color%3Dred",
        b"",
        "application/json",
        400,
        "BadRequest",
        "",
        id="unsupported-field-selector",
    ),
    pytest.param(
        "GET",
        "/api/v1/namespaces/default/pods?limit=2&continue=garbage",
        b"",
        "application/json",
        400,
        "BadRequest",
        "",
        id="bad-continue-token",
    ),
    pytest.param(
        "GET",
        "/api/v1/namespaces/default/pods?watch=true&resourceVersion=abc",
        b"",
        "application/json",
        400,
        "BadRequest",
        "",
        id="bad-watch-version",
    ),
    pytest.param(
        "DELETE",
        "/api/v1/namespaces/default/configmaps/absent",
        b"",
        "application/json",
        404,
        "NotFound",
        "",
        id="delete-missing",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "content_type", "code", "reason", "field"), CASES)
def test_bad_input_gets_status(
    cluster: RunningCluster,
    method: str,
    path: str,
    body: bytes,
    content_type: str,
    code: int,
    reason: str,
    field: str,
) -> None:
    with _client(cluster) as client:
        before = client.get("/api/v1/namespaces/default/pods").json()["items"]
        response = client.request(method, path, content=body or None, headers={"content-type": content_type})
        assert response.status_code == code, response.text
        status = response.json()
        assert status["kind"] == "Status" and status["status"] == "Failure"
        assert status["reason"] == reason and status["code"] == code
        if field:
            fields = [cause.get("field", "") for cause in status["details"]["causes"]]
            assert any(f.startswith(field) for f in fields), fields
        after = client.get("/api/v1/namespaces/default/pods").json()["items"]
        assert [p["metadata"]["name"] for p in after] == [p["metadata"]["name"] for p in before]


def test_stale_resource_version_conflicts(cluster: RunningCluster) -> None:
    with _client(cluster) as client:
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cas"}, "data": {"v": "1"}}
        created = client.post("/api/v1/namespaces/default/configmaps", json=body).json()
        stale = dict(created, data={"v": "2"})
        assert client.put("/api/v1/namespaces/default/configmaps/cas", json=stale).status_code == 200
        again = client.put("/api/v1/namespaces/default/configmaps/cas", json=dict(created, data={"v": "3"}))
        assert again.status_code == 409 and again.json()["reason"] == "Conflict"
        duplicate = client.post("/api/v1/namespaces/default/configmaps", json=body)
        assert duplicate.status_code == 409 and duplicate.json()["reason"] == "AlreadyExists"
        assert client.get("/api/v1/namespaces/default/configmaps/cas").json()["data"] == {"v": "2"}


def test_dry_run_writes_nothing(cluster: RunningCluster) -> None:
    with _client(cluster) as client:
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dry"}}
        response = client.post("/api/v1/namespaces/default/configmaps?dryRun=All", json=body)
        assert response.status_code == 201 and response.json()["metadata"]["uid"]
        assert client.get("/api/v1/namespaces/default/configmaps/dry").status_code == 404
