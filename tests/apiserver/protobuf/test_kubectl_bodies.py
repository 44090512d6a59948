"""Real kubectl protobuf bodies decode to exactly the JSON kubectl prints for the same object.

A stdlib HTTP server on 127.0.0.1 answers kubectl's version probe with 404, records the first
POST body and answers it with 415, so kubectl gives up right after sending its protobuf. The same
command with `--dry-run=client -o json` prints the object as JSON, which is what the decoded body
must equal.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubelite.apiserver.protobuf import CONTENT_TYPE, decode_protobuf_object

KUBECTL = Path("/usr/bin/kubectl")
pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl is not installed")


class _RecordingServer(http.server.ThreadingHTTPServer):
    posts: list[tuple[str, str, bytes]]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _RecordingServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep the test output quiet

    def _status(self, code: int, reason: str) -> None:
        body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code,
                           "reason": reason, "message": reason}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._status(404, "NotFound")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.posts.append((self.path, self.headers.get("Content-Type", ""), body))
        self._status(415, "UnsupportedMediaType")


@pytest.fixture(scope="module")
def recording_server() -> Iterator[_RecordingServer]:
    server = _RecordingServer(("127.0.0.1", 0), _Handler)
    server.posts = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _kubectl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(KUBECTL), *args], capture_output=True, text=True, timeout=60, check=False)


COMMANDS = [
    ("deployment", "create deployment web --image=nginx --replicas=3",
     "/apis/apps/v1/namespaces/default/deployments"),
    ("namespace", "create namespace x", "/api/v1/namespaces"),
    ("configmap", "create configmap c --from-literal=a=b", "/api/v1/namespaces/default/configmaps"),
    ("secret", "create secret generic s --from-literal=k=v", "/api/v1/namespaces/default/secrets"),
    ("service", "create service clusterip svc --tcp=80:8080", "/api/v1/namespaces/default/services"),
    ("priorityclass", "create priorityclass hi --value=1000", "/apis/scheduling.k8s.io/v1/priorityclasses"),
    ("serviceaccount", "create serviceaccount sa", "/api/v1/namespaces/default/serviceaccounts"),
    ("rolebinding", "create rolebinding rb --clusterrole=view --serviceaccount=default:sa",
     "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings"),
]


@pytest.mark.parametrize(
    ("command", "path"), [case[1:] for case in COMMANDS], ids=[case[0] for case in COMMANDS]
)
def test_kubectl_create_body_decodes_to_its_json(
    recording_server: _RecordingServer, command: str, path: str
) -> None:
    recording_server.posts.clear()
    server_url = f"http://127.0.0.1:{recording_server.server_address[1]}"
    sent = _kubectl("--server", server_url, *command.split(), "--dry-run=server")
    assert sent.returncode != 0  # the server refused the body on purpose
    assert len(recording_server.posts) == 1, sent.stderr
    post_path, content_type, body = recording_server.posts[0]
    assert post_path.split("?", 1)[0] == path
    assert content_type == CONTENT_TYPE
    printed = _kubectl(*command.split(), "--dry-run=client", "-o", "json")
    assert printed.returncode == 0, printed.stderr
    assert decode_protobuf_object(body) == json.loads(printed.stdout)
