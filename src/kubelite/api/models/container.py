"""core/v1 container types: Container, its ports, environment, resources, probes and status.

The agent reads these to start and probe processes; the scheduler reads `resources`. Deep
sub-objects nobody here interprets (securityContext, lifecycle hooks, env valueFrom) stay raw
dicts so that they round-trip untouched.
"""

from __future__ import annotations

import msgspec

from kubelite.api.models.base import IntOrString, Model, RawObject, ResourceList, Timestamp


class ContainerPort(Model, kw_only=True):
    """A port the container listens on."""

    container_port: int
    name: str | None = None
    host_port: int | None = None
    protocol: str | None = None
    host_ip: str | None = msgspec.field(default=None, name="hostIP")


class EnvVar(Model, kw_only=True):
    """One environment variable: a literal value or a reference (valueFrom, kept raw)."""

    name: str = ""
    value: str | None = None
    value_from: RawObject | None = None


class LocalObjectReference(Model, kw_only=True):
    """A reference to an object in the same namespace, by name."""

    name: str | None = None


class ConfigMapEnvSource(Model, kw_only=True):
    name: str | None = None
    optional: bool | None = None


class SecretEnvSource(Model, kw_only=True):
    name: str | None = None
    optional: bool | None = None


class EnvFromSource(Model, kw_only=True):
    """Import every key of a ConfigMap or Secret as environment variables."""

    prefix: str | None = None
    config_map_ref: ConfigMapEnvSource | None = None
    secret_ref: SecretEnvSource | None = None


class ResourceRequirements(Model, kw_only=True):
    """Requests and limits as quantity strings; see `kubelite.api.requests` for the parsed form."""

    limits: ResourceList | None = None
    requests: ResourceList | None = None
    claims: list[RawObject] | None = None


class VolumeMount(Model, kw_only=True):
    name: str = ""
    mount_path: str = ""
    read_only: bool | None = None
    recursive_read_only: str | None = None
    sub_path: str | None = None
    sub_path_expr: str | None = None
    mount_propagation: str | None = None


class ExecAction(Model, kw_only=True):
    command: list[str] | None = None


class HTTPHeader(Model, kw_only=True):
    name: str = ""
    value: str = ""


class HTTPGetAction(Model, kw_only=True):
    port: IntOrString = 0
    path: str | None = None
    host: str | None = None
    scheme: str | None = None
    http_headers: list[HTTPHeader] | None = None


class TCPSocketAction(Model, kw_only=True):
    port: IntOrString = 0
    host: str | None = None


class GRPCAction(Model, kw_only=True):
    port: int = 0
    service: str | None = None


class Probe(Model, kw_only=True):
    """A liveness, readiness or startup check and its timing."""

    exec: ExecAction | None = None
    http_get: HTTPGetAction | None = None
    tcp_socket: TCPSocketAction | None = None
    grpc: GRPCAction | None = None
    initial_delay_seconds: int | None = None
    timeout_seconds: int | None = None
    period_seconds: int | None = None
    success_threshold: int | None = None
    failure_threshold: int | None = None
    termination_grace_period_seconds: int | None = None


class Container(Model, kw_only=True):
    """One container (or init/ephemeral container) of a pod."""

    name: str = ""
    image: str | None = None
    command: list[str] | None = None
    args: list[str] | None = None
    working_dir: str | None = None
    ports: list[ContainerPort] | None = None
    env_from: list[EnvFromSource] | None = None
    env: list[EnvVar] | None = None
    resources: ResourceRequirements | None = None
    resize_policy: list[RawObject] | None = None
    restart_policy: str | None = None
    volume_mounts: list[VolumeMount] | None = None
    volume_devices: list[RawObject] | None = None
    liveness_probe: Probe | None = None
    readiness_probe: Probe | None = None
    startup_probe: Probe | None = None
    lifecycle: RawObject | None = None
    termination_message_path: str | None = None
    termination_message_policy: str | None = None
    image_pull_policy: str | None = None
    security_context: RawObject | None = None
    stdin: bool | None = None
    stdin_once: bool | None = None
    tty: bool | None = None
    target_container_name: str | None = None


class ContainerStateWaiting(Model, kw_only=True):
    reason: str | None = None
    message: str | None = None


class ContainerStateRunning(Model, kw_only=True):
    started_at: Timestamp | None = None


class ContainerStateTerminated(Model, kw_only=True):
    exit_code: int
    signal: int | None = None
    reason: str | None = None
    message: str | None = None
    started_at: Timestamp | None = None
    finished_at: Timestamp | None = None
    container_id: str | None = msgspec.field(default=None, name="containerID")


class ContainerState(Model, kw_only=True):
    """Exactly one of waiting, running or terminated is set."""

    waiting: ContainerStateWaiting | None = None
    running: ContainerStateRunning | None = None
    terminated: ContainerStateTerminated | None = None


class ContainerStatus(Model, kw_only=True):
    """What the agent observes about one container.

    The fields Kubernetes always writes (even as false, 0 or "") have no default, so that they are
    always encoded: the official clients reject a status without them.
    """

    name: str
    ready: bool
    restart_count: int
    image: str
    image_id: str = msgspec.field(name="imageID")
    state: ContainerState | None = None
    last_state: ContainerState | None = None
    container_id: str | None = msgspec.field(default=None, name="containerID")
    started: bool | None = None
    allocated_resources: ResourceList | None = None
    resources: ResourceRequirements | None = None
    volume_mounts: list[RawObject] | None = None
    user: RawObject | None = None
    allocated_resources_status: list[RawObject] | None = None
    stop_signal: str | None = None
