"""A real API server over a memory store, reached through the in-process transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from kubelite.apiserver.inprocess import InProcessTransport
from kubelite.apiserver.server import ApiServer, ApiServerSettings
from kubelite.client import ApiClient
from kubelite.store import open_store


@asynccontextmanager
async def in_process_cluster() -> AsyncIterator[ApiClient]:
    """An API server without sockets and a client talking to it."""
    server = ApiServer(open_store("memory://"), ApiServerSettings(port=0))
    await server.start()
    client = ApiClient(InProcessTransport(server.handle))
    try:
        yield client
    finally:
        await server.stop()
