"""Hollow nodes against a real API server: registration, leases, pods marked Running and deleted."""

from __future__ import annotations

import asyncio

import pytest

from kubelite.agent.hollow import HollowNodes, run_hollow_nodes
from kubelite.agent.settings import AgentSettings
from kubelite.api.resources import LEASES, NODES, PODS
from kubelite.apiserver.server import ApiServer, ApiServerSettings
from kubelite.client import ApiClient, ApiError, HttpTransport
from kubelite.clock import RealClock
from kubelite.store import open_store

pytestmark = pytest.mark.timeout(60)


def test_hollow_nodes_register_run_and_delete_pods() -> None:
    async def main() -> None:
        store = open_store("memory://")
        server = ApiServer(store, ApiServerSettings(port=0))
        await server.start()
        client = ApiClient(HttpTransport(server.url))
        stop = asyncio.Event()
        settings = AgentSettings(node_name="hollow", lease_renew_seconds=0.3)
        task = asyncio.create_task(run_hollow_nodes(client, 20, settings, RealClock(), stop))
        try:
            while len((await client.list(LEASES, "kube-node-lease"))["items"]) < 20:
                await asyncio.sleep(0.05)
            nodes = (await client.list(NODES))["items"]
            assert len(nodes) == 20
            first = (await client.get(LEASES, "hollow-19", "kube-node-lease"))["spec"]["renewTime"]
            for _ in range(100):  # one heartbeat round renews every Lease, the last one included
                if (await client.get(LEASES, "hollow-19", "kube-node-lease"))["spec"]["renewTime"] != first:
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the hollow nodes' Leases were not renewed")
            assert all(n["status"]["allocatable"]["pods"] == "110" for n in nodes)
            pod = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "p"},
                "spec": {"containers": [{"name": "c", "image": "x"}]},
            }
            await client.create(PODS, pod, "default")
            await client.bind("default", "p", "hollow-7")
            while (await client.get(PODS, "p", "default")).get("status", {}).get("phase") != "Running":
                await asyncio.sleep(0.05)
            await client.delete(PODS, "p", "default")
            for _ in range(100):
                try:
                    await client.get(PODS, "p", "default")
                except ApiError as error:
                    assert error.code == 404
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the hollow node did not delete its terminating pod")
        finally:
            stop.set()
            await task
            await client.close()
            await server.stop()
            await store.close()

    asyncio.run(main())


def test_hollow_nodes_ignore_pods_of_other_nodes() -> None:
    nodes = HollowNodes(
        ApiClient(HttpTransport("http://127.0.0.1:1")), 3, AgentSettings(node_name="h"), RealClock()
    )
    spawned: list[object] = []

    def spawn(work: object) -> None:
        spawned.append(work)
        work.close()

    nodes.on_pod({"metadata": {"uid": "1"}, "spec": {"nodeName": "elsewhere"}}, spawn)
    nodes.on_pod({"metadata": {"uid": "2"}, "spec": {"nodeName": "h-1"}}, spawn)
    nodes.on_pod({"metadata": {"uid": "2"}, "spec": {"nodeName": "h-1"}}, spawn)
    assert len(spawned) == 1
