"""Cascading deletion driven by the official `kubernetes` Python client over HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

import kubernetes

from kubelite.apiserver.server import ApiServer, ApiServerSettings
from kubelite.client import ApiClient, HttpTransport
from kubelite.clock import RealClock
from kubelite.controllers import garbagecollector
from kubelite.controllers.manager import ControllerManager
from kubelite.controllers.settings import ControllerManagerSettings
from kubelite.store import open_store


def core_api(url: str) -> kubernetes.client.CoreV1Api:
    configuration = kubernetes.client.Configuration()
    configuration.host = url
    return kubernetes.client.CoreV1Api(kubernetes.client.ApiClient(configuration))


def owned_pod(name: str, owner: Any) -> kubernetes.client.V1Pod:
    reference = kubernetes.client.V1OwnerReference(
        api_version="v1",
        kind="ConfigMap",
        name=owner.metadata.name,
        uid=owner.metadata.uid,
        block_owner_deletion=True,
    )
    return kubernetes.client.V1Pod(
        metadata=kubernetes.client.V1ObjectMeta(name=name, owner_references=[reference]),
        spec=kubernetes.client.V1PodSpec(
            containers=[kubernetes.client.V1Container(name="c", image="busybox")]
        ),
    )


def test_foreground_and_orphan_deletes_from_the_python_client() -> None:
    async def scenario() -> None:
        server = ApiServer(open_store("memory://"), ApiServerSettings(port=0))
        await server.start()
        client = ApiClient(HttpTransport(server.url))
        manager = ControllerManager(
            client,
            RealClock(),
            ControllerManagerSettings(),
            {"garbagecollector": garbagecollector.new_controller},
        )
        stop = asyncio.Event()
        running = asyncio.create_task(manager.run(stop))
        api = core_api(server.url)
        try:
            for policy in ("Foreground", "Orphan"):
                owner: Any = await asyncio.to_thread(
                    api.create_namespaced_config_map,
                    "default",
                    kubernetes.client.V1ConfigMap(
                        metadata=kubernetes.client.V1ObjectMeta(name=f"owner-{policy.lower()}")
                    ),
                )
                for i in range(2):
                    await asyncio.to_thread(
                        api.create_namespaced_pod, "default", owned_pod(f"{policy.lower()}-{i}", owner)
                    )
                options = kubernetes.client.V1DeleteOptions(propagation_policy=policy)
                await asyncio.to_thread(
                    api.delete_namespaced_config_map, owner.metadata.name, "default", body=options
                )
                expected_pods = 0 if policy == "Foreground" else 2
                for _ in range(500):
                    pods: Any = await asyncio.to_thread(api.list_namespaced_pod, "default")
                    mine = [p for p in pods.items if p.metadata.name.startswith(policy.lower())]
                    owners_left: Any = await asyncio.to_thread(api.list_namespaced_config_map, "default")
                    owner_gone = all(c.metadata.name != owner.metadata.name for c in owners_left.items)
                    unowned = all(not p.metadata.owner_references for p in mine)
                    if owner_gone and len(mine) == expected_pods and unowned:
                        break
                    await asyncio.sleep(0.02)
                else:
                    raise AssertionError(f"{policy}: owner or dependents not collected as expected")
        finally:
            stop.set()
            await running
            await client.close()
            await server.stop()

    asyncio.run(scenario())
