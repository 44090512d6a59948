"""`kubelite up`: the whole control plane in one process, on a data directory.

It opens the SQLite store under DIR, starts the API server, writes DIR/kubeconfig, prints one line
when ready, and shuts down cleanly on SIGINT or SIGTERM. Restarting on the same DIR keeps every
object, because every acknowledged write is durable.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from pathlib import Path

import typer

from kubelite.apiserver.auth_encryption import EncryptionConfigReloader
from kubelite.apiserver.auth_setup import (
    ENCRYPTION_CONFIG,
    csr_signer_settings,
    encrypt_secrets_at_rest,
    install_security,
    load_static_tokens,
    tls_settings,
)
from kubelite.apiserver.inprocess import InProcessTransport
from kubelite.apiserver.server import ApiServer, ApiServerSettings
from kubelite.client import ApiClient
from kubelite.security.csr import run_csr_controller
from kubelite.security.pki import ensure_pki
from kubelite.store import open_store

from .components import ComponentOptions, provide_runtime_classes, start_components, stop_components
from .kubeconfig import write_kubeconfig
from .token import SecurityOptions, admin_kubeconfig, publish_cluster_info

DEFAULT_DATA_DIR = Path.home() / ".local" / "share" / "kubelite"


def tune_garbage_collector() -> None:
    """Keep the cyclic garbage collector from stalling requests.

    The watch cache holds every object as nested dicts, so a full collection walks the whole
    cluster state and can pause the event loop for tens of milliseconds. Objects loaded at start-up
    are frozen out of the collector's view, and young collections run ten times less often.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(7_000, 20, 20)


async def run_control_plane(
    data_dir: Path,
    host: str,
    port: int,
    agents: int,
    store_url: str | None,
    security: SecurityOptions | None = None,
) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    # Secrets are AES-GCM sealed at rest under DIR/pki/encryption-config.yaml (docs/security.md).
    raw_store = open_store(store_url or f"sqlite:///{(data_dir / 'state.db').resolve()}")
    store = encrypt_secrets_at_rest(raw_store, data_dir / "pki")
    # Security: PKI under DIR/pki, HTTPS only, authentication and RBAC (see docs/security.md).
    options = security or SecurityOptions()
    pki = ensure_pki(data_dir / "pki", options.advertise_addresses)
    server = ApiServer(
        store, ApiServerSettings(host=host, port=port, tls=tls_settings(pki, require_pq=options.require_pq))
    )
    gate = install_security(server, pki, load_static_tokens(options.token_auth_file))
    await server.start()
    await gate.bootstrap_policy()
    await publish_cluster_info(server, pki)
    kubeconfig_path = data_dir / "kubeconfig"
    write_kubeconfig(kubeconfig_path, admin_kubeconfig(server.url, pki))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await provide_runtime_classes(server)
    components = start_components(server, server.clock, stop, ComponentOptions(data_dir=data_dir, agents=agents, pki=pki))
    # Node join: approve and sign ML-DSA-65 node client CSRs (docs/security.md).
    csr_controller = loop.create_task(
        run_csr_controller(ApiClient(InProcessTransport(server.handle)), server.clock, csr_signer_settings(pki, gate), stop)
    )
    # Secrets' key file is followed while running: `kubelite secrets rotate-key --kubeconfig` rotates online.
    reloader = EncryptionConfigReloader(store, data_dir / "pki" / ENCRYPTION_CONFIG, server.metrics.registry)
    reload_task = loop.create_task(reloader.run(stop))
    tune_garbage_collector()
    print(f"kubelite is ready at {server.url}; export KUBECONFIG={kubeconfig_path.resolve()}", flush=True)
    try:
        await stop.wait()
    finally:
        await stop_components(components)
        await csr_controller
        await reload_task
        await server.stop()
        await store.close()
        print("kubelite stopped", flush=True)


def up(
    data_dir: Path = typer.Option(
        DEFAULT_DATA_DIR, "--data-dir", help="Where the store, kubeconfig and certificates live."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address the API server listens on."),
    port: int = typer.Option(6443, "--port", help="Port the API server listens on (0 picks a free one)."),
    agents: int = typer.Option(1, "--agents", help="Local node agents to start (0 for none)."),
    store: str | None = typer.Option(
        None, "--store", help="Store URL (default: sqlite:///DIR/state.db; or memory://)."
    ),
    log_level: str = typer.Option("WARNING", "--log-level", help="Python logging level."),
    require_pq: bool = typer.Option(
        False, "--require-pq", help="Refuse TLS clients that offer no post-quantum hybrid group."
    ),
    advertise_address: list[str] = typer.Option(
        [], "--advertise-address", help="Extra address (IP or DNS) for the serving certificate."
    ),
    token_auth_file: Path | None = typer.Option(
        None, "--token-auth-file", help="Static bearer tokens: token,user,uid,\"group1,group2\"."
    ),
) -> None:
    """Start a cluster: API server and control plane on a local data directory."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is a pinned dependency
        pass
    security = SecurityOptions(require_pq, tuple(advertise_address), token_auth_file)
    asyncio.run(run_control_plane(data_dir, host, port, agents, store, security))
