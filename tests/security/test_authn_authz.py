"""Identity x verb x resource through the real TLS server: 401 for bad credentials, RBAC and Node rules."""

from __future__ import annotations

import datetime
import json

import pytest

from kubelite.client.pq_transport import TlsClientSettings
from kubelite.security.pki import ClusterPki, Identity, create_root, generate_key, issue_certificate
from kubelite.security.tokens import bootstrap_token_secret, new_bootstrap_token

from .conftest import STATIC_TOKEN, SecureServer, request

NOW = datetime.datetime.now(datetime.UTC)


def _client(pki: ClusterPki, issuer: Identity, name: str, groups: tuple[str, ...] = (), *, algorithm: str = "mldsa65",
            validity: datetime.timedelta = datetime.timedelta(days=1), start: datetime.datetime = NOW) -> TlsClientSettings:
    key = generate_key(algorithm)  # type: ignore[arg-type]
    cert = issue_certificate(issuer, key.public_key(), common_name=name, organizations=groups, usage="client",
                             now=start, validity=validity)
    identity = Identity(key, cert)
    return TlsClientSettings(ca_pem=pki.ca_bundle_pem, client_cert_pem=identity.cert_pem, client_key_pem=identity.key_pem)


def _admin(pki: ClusterPki) -> TlsClientSettings:
    return TlsClientSettings(ca_pem=pki.ca_bundle_pem, client_cert_pem=pki.admin.cert_pem, client_key_pem=pki.admin.key_pem)


@pytest.fixture(scope="module")
def seeded(secure_server: SecureServer, pki: ClusterPki) -> dict[str, str]:
    admin = _admin(pki)

    def post(path: str, obj: dict[str, object]) -> dict[str, object]:
        response = request(secure_server.url, admin, "POST", path, body=json.dumps(obj).encode())
        assert response.status == 201, response.body
        return json.loads(response.body)  # type: ignore[no-any-return]

    post("/api/v1/namespaces/default/secrets", {"metadata": {"name": "used"}, "stringData": {"a": "b"}})
    post("/api/v1/namespaces/default/secrets", {"metadata": {"name": "unused"}, "stringData": {"a": "b"}})
    for pod, node in (("mine", "node-a"), ("theirs", "node-b")):
        post("/api/v1/namespaces/default/pods", {"metadata": {"name": pod}, "spec": {
            "nodeName": node, "containers": [{"name": "c", "image": "x", "env": [
                {"name": "S", "valueFrom": {"secretKeyRef": {"name": "used" if pod == "mine" else "other", "key": "a"}}}]}]}})
    for name in ("node-a", "node-b"):
        post("/api/v1/nodes", {"metadata": {"name": name}})
    post("/api/v1/namespaces/default/serviceaccounts", {"metadata": {"name": "robot"}})
    token = request(secure_server.url, admin, "POST", "/api/v1/namespaces/default/serviceaccounts/robot/token",
                    body=json.dumps({"spec": {}}).encode())
    assert token.status == 201, token.body
    live, expired = new_bootstrap_token(), new_bootstrap_token()
    post("/api/v1/namespaces/kube-system/secrets", bootstrap_token_secret(live, NOW + datetime.timedelta(hours=1)))
    post("/api/v1/namespaces/kube-system/secrets", bootstrap_token_secret(expired, NOW - datetime.timedelta(hours=1)))
    return {"sa": json.loads(token.body)["status"]["token"], "bootstrap": live.value, "expired_bootstrap": expired.value}


@pytest.mark.parametrize(("credential", "method", "path", "expected"), [
    ("anonymous", "GET", "/version", 200),
    ("anonymous", "GET", "/livez", 200),
    ("anonymous", "GET", "/api/v1/namespaces", 401),
    ("admin", "GET", "/api/v1/namespaces", 200),
    ("wrong-ca", "GET", "/api/v1/namespaces", 401),
    ("expired-cert", "GET", "/api/v1/namespaces", 401),
    ("garbage-header", "GET", "/api/v1/namespaces", 401),
    ("basic-header", "GET", "/api/v1/namespaces", 401),
    ("unknown-bearer", "GET", "/api/v1/namespaces", 401),
    ("forged-jwt", "GET", "/api/v1/namespaces", 401),
    ("static", "GET", "/api", 200),
    ("static", "GET", "/api/v1/namespaces", 403),
    ("sa", "GET", "/api/v1/namespaces/default/pods", 403),
    ("sa", "GET", "/apis", 200),
    ("bootstrap", "GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests", 200),
    ("bootstrap", "GET", "/api/v1/namespaces/default/secrets", 403),
    ("expired-bootstrap", "GET", "/api", 401),
    ("node-a", "GET", "/api/v1/nodes/node-a", 200),
    ("node-a", "PATCH", "/api/v1/nodes/node-a/status", 200),
    ("node-a", "PATCH", "/api/v1/nodes/node-b/status", 403),
    ("node-a", "DELETE", "/api/v1/nodes/node-b", 403),
    ("node-a", "PATCH", "/api/v1/namespaces/default/pods/mine/status", 200),
    ("node-a", "PATCH", "/api/v1/namespaces/default/pods/theirs/status", 403),
    ("node-a", "DELETE", "/api/v1/namespaces/default/pods/theirs", 403),
    ("node-a", "GET", "/api/v1/namespaces/default/secrets/used", 200),
    ("node-a", "GET", "/api/v1/namespaces/default/secrets/unused", 403),
    ("node-a", "GET", "/api/v1/namespaces/default/secrets", 403),
    ("node-a", "GET", "/api/v1/pods", 200),
    ("node-a", "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", 201),
    ("node-a-steals-lease", "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", 403),
    ("scheduler", "POST", "/api/v1/namespaces/default/pods/mine/binding", 409),
    ("scheduler", "DELETE", "/api/v1/namespaces/default/secrets/used", 403),
    ("ecdsa-user-in-view-group", "GET", "/api/v1/namespaces/default/pods", 403),
])
def test_identity_verb_resource(secure_server: SecureServer, pki: ClusterPki, seeded: dict[str, str],
                                credential: str, method: str, path: str, expected: int) -> None:
    headers: dict[str, str] = {}
    tls = TlsClientSettings(ca_pem=pki.ca_bundle_pem)
    body = b""
    if credential == "admin":
        tls = _admin(pki)
    elif credential == "wrong-ca":
        tls = _client(pki, create_root("impostor", "mldsa65", NOW), "system:node:node-a", ("system:nodes",))
    elif credential == "expired-cert":
        tls = _client(pki, pki.ca_mldsa, "kubelite-admin", ("system:masters",), start=NOW - datetime.timedelta(days=3))
    elif credential.startswith("node-a"):
        tls = _client(pki, pki.ca_mldsa, "system:node:node-a", ("system:nodes",))
    elif credential == "scheduler":
        tls = _client(pki, pki.ca_mldsa, "system:kube-scheduler")
    elif credential == "ecdsa-user-in-view-group":
        tls = _client(pki, pki.ca, "alice", ("developers",), algorithm="ecdsa-p256")
    elif credential in ("sa", "bootstrap", "expired_bootstrap", "expired-bootstrap"):
        headers["authorization"] = f"Bearer {seeded[credential.replace('-', '_')]}"
    elif credential == "static":
        headers["authorization"] = f"Bearer {STATIC_TOKEN}"
    elif credential == "garbage-header":
        headers["authorization"] = "%%%garbage{}[]=== Bearer"
    elif credential == "basic-header":
        headers["authorization"] = "Basic YWRtaW46YWRtaW4="
    elif credential == "unknown-bearer":
        headers["authorization"] = "Bearer abcdef.0123456789abcdef"
    elif credential == "forged-jwt":
        headers["authorization"] = "Bearer " + seeded["sa"][:-10] + "AAAAAAAAAA"
    if method == "PATCH":
        headers["content-type"] = "application/merge-patch+json"
        body = b'{"metadata":{"annotations":{"touched":"yes"}}}'
    elif method == "POST":
        name = "node-a" if credential == "node-a" else "node-b" if "steals" in credential else "x"
        body = json.dumps({"metadata": {"name": name}, "target": {"kind": "Node", "name": "node-a"}}).encode()
    response = request(secure_server.url, tls, method, path, body=body, headers=headers)
    assert response.status == expected, response.body[:300]
    if expected in (401, 403):
        assert json.loads(response.body)["reason"] in ("Unauthorized", "Forbidden")


def test_self_subject_access_review_answers_for_the_caller(secure_server: SecureServer, pki: ClusterPki) -> None:
    node = _client(pki, pki.ca_mldsa, "system:node:node-a", ("system:nodes",))
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
              "spec": {"resourceAttributes": {"verb": "list", "resource": "secrets", "namespace": "default"}}}
    response = request(secure_server.url, node, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                       body=json.dumps(review).encode())
    assert response.status == 201
    assert json.loads(response.body)["status"]["allowed"] is False
    response = request(secure_server.url, _admin(pki), "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                       body=json.dumps(review).encode())
    assert json.loads(response.body)["status"]["allowed"] is True


def test_deleting_a_service_account_revokes_its_tokens(secure_server: SecureServer, pki: ClusterPki) -> None:
    admin = _admin(pki)
    assert request(secure_server.url, admin, "POST", "/api/v1/namespaces/default/serviceaccounts",
                   body=b'{"metadata":{"name":"short-lived"}}').status == 201
    issued = request(secure_server.url, admin, "POST", "/api/v1/namespaces/default/serviceaccounts/short-lived/token",
                     body=b'{"spec":{"audiences":["https://kubernetes.default.svc.cluster.local"]}}')
    token = json.loads(issued.body)["status"]["token"]
    bearer = {"authorization": f"Bearer {token}"}
    plain = TlsClientSettings(ca_pem=pki.ca_bundle_pem)
    assert request(secure_server.url, plain, "GET", "/api", headers=bearer).status == 200
    assert request(secure_server.url, admin, "DELETE", "/api/v1/namespaces/default/serviceaccounts/short-lived").status == 200
    assert request(secure_server.url, plain, "GET", "/api", headers=bearer).status == 401


@pytest.mark.parametrize(
    ("identity", "path", "allowed"),
    [
        pytest.param(None, "/api/v1/namespaces/kube-system/secrets", True, id="loopback-reads-secrets"),
        pytest.param(("system:kube-scheduler", ()), "/api/v1/nodes", True, id="scheduler-lists-nodes"),
        pytest.param(("system:kube-scheduler", ()), "/api/v1/namespaces/kube-system/secrets", False, id="scheduler-no-secrets"),
        pytest.param(("system:kubelite-anomaly-detector", ()), "/apis/metrics.k8s.io/v1beta1/nodes", True, id="detector-reads-metrics"),
        pytest.param(("system:kubelite-anomaly-detector", ()), "/api/v1/namespaces/default/secrets", False, id="detector-no-secrets"),
    ],
)
def test_in_process_components_act_as_their_own_identity(
    secure_server: SecureServer, identity: tuple[str, tuple[str, ...]] | None, path: str, allowed: bool
) -> None:
    """`kubelite up` runs components in-process, each under its own least-privilege user."""
    from kubelite.apiserver.inprocess import InProcessTransport
    from kubelite.client.core import HttpRequest

    transport = InProcessTransport(secure_server.server.handle, identity)
    response = secure_server.call(transport.send(HttpRequest("GET", path)))
    assert (response.status == 200) is allowed, (response.status, response.body[:200])
    if not allowed:
        assert response.status == 403
