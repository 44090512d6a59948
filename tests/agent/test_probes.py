"""Probe checks against real local servers, and probe thresholds on virtual time."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from kubelite.agent.probes import (
    ProbeKind,
    ProbeOutcome,
    ProbeSettings,
    ProbeTracker,
    exec_probe,
    http_get_probe,
    tcp_socket_probe,
)
from kubelite.clock import FakeClock


class _StatusByPath(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(int(self.path.strip("/")))
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def http_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StatusByPath)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


@pytest.mark.parametrize(
    ("status", "result"),
    [(200, "Success"), (302, "Success"), (399, "Success"), (404, "Failure"), (500, "Failure")],
    ids=["ok", "redirect", "upper-bound", "not-found", "server-error"],
)
def test_http_get_probe_status_ranges(http_port: int, status: int, result: str) -> None:
    with httpx.Client() as client:
        outcome = http_get_probe(client, f"http://127.0.0.1:{http_port}/{status}", 1.0)
    assert outcome.result == result


def test_http_get_probe_fails_on_a_closed_port() -> None:
    with httpx.Client() as client:
        assert http_get_probe(client, f"http://127.0.0.1:{_closed_port()}/", 0.5).result == "Failure"


def test_tcp_socket_probe() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert tcp_socket_probe("127.0.0.1", listener.getsockname()[1], 1.0).result == "Success"
    assert tcp_socket_probe("127.0.0.1", _closed_port(), 0.5).result == "Failure"


@pytest.mark.parametrize(
    ("exit_code", "result"),
    [(0, "Success"), (1, "Failure"), (None, "Failure")],
    ids=["zero", "non-zero", "timed-out"],
)
def test_exec_probe(exit_code: int | None, result: str) -> None:
    calls: list[list[str]] = []

    def execute(command: list[str], timeout: float) -> int | None:
        calls.append(command)
        return exit_code

    assert exec_probe(execute, ["cat", "/tmp/healthy"], 1.0).result == result
    assert calls == [["cat", "/tmp/healthy"]]


def _closed_port() -> int:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        return int(probe_socket.getsockname()[1])


SUCCESS = ProbeOutcome("Success")
FAILURE = ProbeOutcome("Failure")


def test_tracker_waits_for_the_initial_delay_then_the_period() -> None:
    clock = FakeClock()
    tracker = ProbeTracker(
        "liveness", ProbeSettings(initial_delay_seconds=5, period_seconds=2), clock, 0.0
    )
    assert not tracker.due()
    clock.advance(5)
    assert tracker.due()
    tracker.observe(SUCCESS)
    assert tracker.seconds_until_due() == 2


@pytest.mark.parametrize(
    ("kind", "outcomes", "wants_restart", "ready"),
    [
        ("liveness", [FAILURE, FAILURE], False, False),
        ("liveness", [FAILURE, FAILURE, FAILURE], True, False),
        ("liveness", [FAILURE, FAILURE, SUCCESS, FAILURE, FAILURE], False, True),
        ("readiness", [SUCCESS], False, True),
        ("readiness", [SUCCESS, FAILURE, FAILURE, FAILURE], False, False),
        ("startup", [FAILURE, FAILURE, FAILURE], True, False),
    ],
    ids=[
        "below-threshold",
        "liveness-restarts",
        "success-resets-count",
        "readiness-ready",
        "readiness-unready-no-restart",
        "startup-restarts",
    ],
)
def test_thresholds(
    kind: ProbeKind, outcomes: list[ProbeOutcome], wants_restart: bool, ready: bool
) -> None:
    tracker = ProbeTracker(kind, ProbeSettings(), FakeClock(), 0.0)
    for outcome in outcomes:
        tracker.observe(outcome)
    assert tracker.wants_restart is wants_restart
    assert tracker.ready is ready
