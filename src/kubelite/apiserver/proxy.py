"""`pods/log`: the API server proxies a pod's log request to the agent of the pod's node.

Data flow: the pod (and its node) are read from the registry; the container defaults to the pod's
only container (several containers without `container=` is a 400, with kubectl's wording); the
node's agent is addressed by its InternalIP and `status.daemonEndpoints.kubeletEndpoint.Port`, and
`GET /containerLogs/{ns}/{pod}/{container}?follow=&previous=&tailLines=&limitBytes=` is streamed back with
httpx, chunk by chunk, so `kubectl logs -f` follows the container live.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from kubelite.api.resources import NODES, PODS

from . import errors
from .http import Response, StreamResponse
from .registry import Registry

AGENT_TIMEOUT_SECONDS = 10.0


def agent_base_url(node: dict[str, Any]) -> str | None:
    """http://InternalIP:port of a node's agent, or None when the node advertises none."""
    status = node.get("status") or {}
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port") or 0
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    address = addresses.get("InternalIP") or addresses.get("Hostname")
    if not port or not address:
        return None
    return f"http://{address}:{int(port)}"


async def proxy_pod_log(
    registry: Registry, namespace: str | None, name: str, query: dict[str, str]
) -> Response | StreamResponse:
    pod = (await registry.get(PODS, namespace, name)).obj
    spec = pod.get("spec") or {}
    names = [c.get("name") for c in spec.get("containers") or []]
    every = names + [c.get("name") for c in spec.get("initContainers") or []]
    container = query.get("container") or (names[0] if len(names) == 1 else "")
    if not container:
        raise errors.bad_request(
            f"a container name must be specified for pod {name}, choose one of: [{' '.join(map(str, names))}]"
        )
    if container not in every:
        raise errors.bad_request(f"container {container} is not valid for pod {name}")
    node_name = spec.get("nodeName")
    if not node_name:
        raise errors.bad_request(f'pod "{name}" is not scheduled to a node yet')
    base = agent_base_url((await registry.get(NODES, None, str(node_name))).obj)
    if base is None:
        raise errors.service_unavailable(f'node "{node_name}" has no agent endpoint able to serve logs')
    forwarded = ("follow", "previous", "tailLines", "limitBytes")
    options: dict[str, str] = {key: query[key] for key in forwarded if key in query}
    url = f"{base}/containerLogs/{quote(str(namespace))}/{quote(name)}/{quote(container)}"
    if options:
        url += "?" + urlencode(options)
    client = httpx.AsyncClient(timeout=httpx.Timeout(AGENT_TIMEOUT_SECONDS, read=None))
    try:
        request = client.build_request("GET", url)
        upstream = await client.send(request, stream=True)
    except httpx.HTTPError as error:
        await client.aclose()
        raise errors.service_unavailable(f"the agent of node {node_name} did not answer: {error}") from error
    if upstream.status_code != 200:
        body = (await upstream.aread()).decode(errors="replace")
        await upstream.aclose()
        await client.aclose()
        if upstream.status_code == 404:
            raise errors.bad_request(body)
        raise errors.service_unavailable(body)

    async def chunks() -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.aiter_raw():
                yield chunk
        finally:
            await upstream.aclose()
            await client.aclose()

    return StreamResponse(200, chunks(), "text/plain")
