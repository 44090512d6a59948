"""`pods/log`: the API server proxies a pod's log request to the agent of the pod's node.

Data flow: the pod (and its node) are read from the registry; the container defaults to the pod's
only container (several containers without `container=` is a 400, with kubectl's wording); the
node's agent is reached through `AgentClient` (post-quantum TLS with the API server's kubelet-client
certificate in a secure cluster), and
`GET /containerLogs/{ns}/{pod}/{container}?follow=&previous=&tailLines=&limitBytes=` is streamed
back chunk by chunk, so `kubectl logs -f` follows the container live.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote, urlencode

from kubelite.api.resources import NODES, PODS
from kubelite.client.errors import TransportError

from . import errors
from .agent_client import AgentClient, AgentUnreachable
from .http import Response, StreamResponse
from .registry import Registry

AGENT_TIMEOUT_SECONDS = 10.0


async def proxy_pod_log(
    registry: Registry, agents: AgentClient, namespace: str | None, name: str, query: dict[str, str]
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
    base = agents.base_url((await registry.get(NODES, None, str(node_name))).obj)
    if base is None:
        raise errors.service_unavailable(f'node "{node_name}" has no agent endpoint able to serve logs')
    forwarded = ("follow", "previous", "tailLines", "limitBytes")
    options: dict[str, str] = {key: query[key] for key in forwarded if key in query}
    target = f"/containerLogs/{quote(str(namespace))}/{quote(name)}/{quote(container)}"
    if options:
        target += "?" + urlencode(options)
    try:
        upstream = await agents.open(base, target, AGENT_TIMEOUT_SECONDS)
    except AgentUnreachable as error:
        raise errors.service_unavailable(f"the agent of node {node_name} did not answer: {error}") from error
    if upstream.status != 200:
        try:
            body = (await upstream.read()).decode(errors="replace")
        except TransportError as error:
            raise errors.service_unavailable(f"the agent of node {node_name} failed: {error}") from error
        if upstream.status == 404:
            raise errors.bad_request(body)
        raise errors.service_unavailable(body)

    async def chunks() -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.chunks():
                yield chunk
        except TransportError:
            return  # the agent went away mid-stream: end the log where it stopped
        finally:
            upstream.close()

    return StreamResponse(200, chunks(), "text/plain")
