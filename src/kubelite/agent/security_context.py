"""Who a container runs as: the pod's and container's securityContext, resolved as the kubelet does.

`run_as(pod_spec, container)` merges `runAsUser`, `runAsGroup` and `runAsNonRoot` (the container's
value wins over the pod's). `non_root_refusal` is the kubelet's check: a container that must not
run as root, but would (no user, or user 0, since images here carry no USER), is not started; the
pod worker shows it as `CreateContainerConfigError` and retries with back-off, as the kubelet does.
The runtimes apply the user: oci in the bundle's `process.user`, process through `setpriv` after
the cgroup step; wasm workers run as the agent (WASI has no users).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubelite.api.models.container import Container
from kubelite.api.models.pod import PodSpec


@dataclass(frozen=True)
class RunAs:
    """The user and group ids a container runs with (None: the runtime's default, root)."""

    uid: int | None = None
    gid: int | None = None
    non_root: bool = False


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def run_as(pod_spec: PodSpec, container: Container) -> RunAs:
    pod_context = pod_spec.security_context or {}
    own = container.security_context or {}

    def pick(key: str) -> Any:
        return own.get(key) if own.get(key) is not None else pod_context.get(key)

    return RunAs(_int(pick("runAsUser")), _int(pick("runAsGroup")), pick("runAsNonRoot") is True)


def non_root_refusal(identity: RunAs, pod_name: str, container_name: str) -> str | None:
    """The kubelet's message when runAsNonRoot cannot hold, else None."""
    if not identity.non_root or (identity.uid is not None and identity.uid != 0):
        return None
    if identity.uid == 0:
        return f"container's runAsUser breaks non-root policy (pod: {pod_name!r}, container: {container_name})"
    return f"container has runAsNonRoot and image will run as root (pod: {pod_name!r}, container: {container_name})"
