"""`kubelite bench tls --json`: TLS handshake latency (PQ hybrid vs classical) and GET throughput over TLS vs plaintext.

One server process serves the same in-memory store twice: an HTTPS listener (post-quantum TLS,
as `kubelite up` serves it) and a plain-HTTP listener, both behind the same authentication and
RBAC gate with the same static bearer token, so the ratio isolates the cost of TLS. The server
runs as `kubelite up` does (uvloop, tuned garbage collector). The client runs in this process,
so client and server do not share one core.

Measured, in one run:
- handshakes: sequential fresh connections (TCP connect + TLS 1.3 handshake, client wall time)
  for `pq` (X25519MLKEM768 + ML-DSA-65 certificate), `pq-resumed` (the same with a session
  ticket, kubelite's transport default for repeat connections) and `classical` (X25519 + ECDSA);
  p50/p99 in ms, plus the server's CPU per handshake from its
  `kubelite_tls_handshake_cpu_seconds` counter;
- GET: one ConfigMap fetched by N keep-alive connections for a fixed time, over TLS and over
  plaintext; requests/s each and the ratio.
Targets (from the issue): PQ handshake p99 <= 5 ms; TLS GET >= 70% of plaintext.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import typer

from kubelite.client.core import HttpRequest
from kubelite.client.pq_transport import PqTransport, TlsClientSettings

TOKEN = "bench-tls-static-token-0123456789"
_SERVER = """
import asyncio, sys
from pathlib import Path
import uvloop
from kubelite.apiserver.auth_setup import install_security, tls_settings
from kubelite.apiserver.server import ApiServer, ApiServerSettings
from kubelite.cli.up import tune_garbage_collector
from kubelite.security.pki import ensure_pki
from kubelite.security.tokens import UserInfo
from kubelite.store import open_store

async def main() -> None:
    pki = ensure_pki(Path(sys.argv[1]))
    store = open_store("memory://")
    users = {sys.argv[2]: UserInfo("bench", ("system:masters",), "1")}
    secure = ApiServer(store, ApiServerSettings(port=0, tls=tls_settings(pki)))
    plain = ApiServer(store, ApiServerSettings(port=0))
    for server in (secure, plain):
        gate = install_security(server, pki, users)
        await server.start()
    await gate.bootstrap_policy()
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bench"}, "data": {"k": "v" * 512}}
    from kubelite.api.resources import CONFIGMAPS
    await secure.registry.create(CONFIGMAPS, "default", body)
    tune_garbage_collector()  # as `kubelite up` runs
    print(secure.url, plain.url, flush=True)
    await asyncio.Event().wait()

uvloop.install()  # as `kubelite up` runs
asyncio.run(main())
"""
GET_PATH = "/api/v1/namespaces/default/configmaps/bench"


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _handshakes(url: str, tls: TlsClientSettings, count: int, resume: bool) -> list[float]:
    transport = PqTransport(url, tls, session_resumption=resume)
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        connection = await transport.connect()
        samples.append(time.perf_counter() - started)
        if resume:
            await transport.remember_session(connection)
        connection.close()
    return samples


async def _metric(url: str, tls: TlsClientSettings, names: tuple[str, ...]) -> dict[str, float]:
    transport = PqTransport(url, tls, headers={"authorization": f"Bearer {TOKEN}"})
    try:
        response = await transport.send(HttpRequest("GET", "/metrics"))
    finally:
        await transport.close()
    values = dict.fromkeys(names, 0.0)
    for line in response.body.decode().splitlines():
        if line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        base = name.split("{", 1)[0]
        if base in values:
            values[base] += float(value)
    return values


async def _get_rate(url: str, tls: TlsClientSettings | None, connections: int, seconds: float) -> float:
    transports = [PqTransport(url, tls, headers={"authorization": f"Bearer {TOKEN}"}) for _ in range(connections)]
    request = HttpRequest("GET", GET_PATH)
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker(transport: PqTransport) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            response = await transport.send(request)
            assert response.status == 200, response.body[:200]
            done += 1

    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker(transport) for transport in transports))
    finally:
        for transport in transports:
            await transport.close()
    return done / (time.perf_counter() - started)


async def run_tls_benchmark(
    secure_url: str, plain_url: str, ca_pem: bytes, *, handshakes: int, connections: int, seconds: float
) -> dict[str, Any]:
    results: dict[str, Any] = {"handshakes": {}}
    clients = {
        "pq": (TlsClientSettings(ca_pem=ca_pem), False),
        "pq-resumed": (TlsClientSettings(ca_pem=ca_pem), True),
        "classical": (TlsClientSettings(ca_pem=ca_pem, groups="X25519", signature_algorithms="ECDSA+SHA256"), False),
    }
    counters = ("kubelite_tls_handshake_cpu_seconds_total", "kubelite_tls_handshakes_total")
    for name, (tls, resume) in clients.items():
        await _handshakes(secure_url, tls, 20, resume)  # warm-up
        before = await _metric(secure_url, tls, counters)
        samples = await _handshakes(secure_url, tls, handshakes, resume)
        after = await _metric(secure_url, tls, counters)
        completed = after[counters[1]] - before[counters[1]] - 1  # the /metrics request's own handshake
        cpu = after[counters[0]] - before[counters[0]]
        results["handshakes"][name] = {
            "count": handshakes,
            "p50_ms": round(_percentile(samples, 0.5) * 1000, 3),
            "p99_ms": round(_percentile(samples, 0.99) * 1000, 3),
            "server_cpu_ms_per_handshake": round(cpu / max(completed, 1) * 1000, 3),
        }
    tls_client = TlsClientSettings(ca_pem=ca_pem)
    await _get_rate(secure_url, tls_client, connections, 0.5)  # warm-up both
    await _get_rate(plain_url, None, connections, 0.5)
    tls_rate = await _get_rate(secure_url, tls_client, connections, seconds)
    plain_rate = await _get_rate(plain_url, None, connections, seconds)
    results["get"] = {
        "connections": connections,
        "seconds": seconds,
        "tls_requests_per_second": round(tls_rate),
        "plaintext_requests_per_second": round(plain_rate),
        "tls_to_plaintext_ratio": round(tls_rate / plain_rate, 3),
    }
    pq = results["handshakes"]["pq"]
    results["targets"] = {
        "pq_handshake_p99_ms<=5": pq["p99_ms"] <= 5.0,
        "tls_get_ratio>=0.7": results["get"]["tls_to_plaintext_ratio"] >= 0.7,
    }
    return results


def bench_tls(
    handshakes: int = typer.Option(
        1000, "--handshakes", help="Fresh connections per client kind (p99 is the 10th worst of 1000)."
    ),
    connections: int = typer.Option(8, "--connections", help="Keep-alive connections for the GET phase."),
    seconds: float = typer.Option(3.0, "--seconds", help="Duration of each GET phase."),
    json_output: bool = typer.Option(True, "--json/--no-json", help="Print JSON (the only format)."),
) -> None:
    """TLS: PQ vs classical handshake p50/p99, and GET requests/s over TLS as a ratio to plaintext."""
    with tempfile.TemporaryDirectory() as folder:
        server = subprocess.Popen(
            [sys.executable, "-c", _SERVER, folder, TOKEN], stdout=subprocess.PIPE, text=True, env={**os.environ}
        )
        try:
            assert server.stdout is not None
            secure_url, plain_url = server.stdout.readline().split()
            pki = Path(folder)
            ca_pem = (pki / "ca.crt").read_bytes() + (pki / "ca-mldsa.crt").read_bytes()
            results = asyncio.run(
                run_tls_benchmark(secure_url, plain_url, ca_pem, handshakes=handshakes, connections=connections, seconds=seconds)
            )
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    print(json.dumps(results, indent=2))
