"""From a Pod to what the runtimes need: environment, volumes and one `ContainerSpec` per attempt.

Data flow: `fetch_references` reads the ConfigMaps and Secrets a pod names (env `valueFrom`,
`envFrom`, and configMap/secret volumes) through the API, once per pod start; `prepare_volumes`
materialises volumes under the pod's directory (emptyDir: a directory; configMap/secret: one file
per key, as the kubelet's atomic writer lays them out, minus the symlink dance; downwardAPI: one
file per item; projected: configMap, secret and downwardAPI sources in one directory; hostPath: the
host path itself; other sources are not mounted); `container_spec` then builds the runtime record: argv with `$(VAR)` references
expanded as Kubernetes does (`$$` escapes), env in declaration order (envFrom first, then env),
mounts, and limits parsed once by `kubelite.api.pod_resources`. A missing reference is a value
(`ConfigError`), shown by the pod worker as `CreateContainerConfigError`.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubelite.agent.runtime.interface import ContainerSpec, Mount, ResourceLimits
from kubelite.agent.security_context import RunAs
from kubelite.api.models.container import Container
from kubelite.api.models.pod import PodSpec
from kubelite.api.pod_resources import container_limits, container_requests
from kubelite.api.resources import CONFIGMAPS, SECRETS
from kubelite.client import ApiClient
from kubelite.client.errors import ApiError

Object = dict[str, Any]
_REFERENCE = re.compile(r"\$\$|\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)")


@dataclass(frozen=True)
class ConfigError:
    """A pod's configuration cannot be satisfied yet (a missing ConfigMap, Secret or key)."""

    message: str


@dataclass
class References:
    """The ConfigMaps and Secrets a pod uses, as key -> bytes."""

    config_maps: dict[str, dict[str, bytes]] = field(default_factory=dict)
    secrets: dict[str, dict[str, bytes]] = field(default_factory=dict)


def _referenced_names(spec: PodSpec) -> tuple[set[str], set[str]]:
    config_maps: set[str] = set()
    secrets: set[str] = set()
    for container in [*(spec.init_containers or []), *spec.containers]:
        for source in container.env_from or []:
            if source.config_map_ref is not None and source.config_map_ref.name:
                config_maps.add(source.config_map_ref.name)
            if source.secret_ref is not None and source.secret_ref.name:
                secrets.add(source.secret_ref.name)
        for variable in container.env or []:
            value_from = variable.value_from or {}
            if "configMapKeyRef" in value_from:
                config_maps.add(str(value_from["configMapKeyRef"].get("name", "")))
            if "secretKeyRef" in value_from:
                secrets.add(str(value_from["secretKeyRef"].get("name", "")))
    for volume in spec.volumes or []:
        if volume.config_map is not None and volume.config_map.name:
            config_maps.add(volume.config_map.name)
        if volume.secret is not None and volume.secret.secret_name:
            secrets.add(volume.secret.secret_name)
        for source in (volume.projected or {}).get("sources") or []:
            if isinstance(source.get("configMap"), dict) and source["configMap"].get("name"):
                config_maps.add(str(source["configMap"]["name"]))
            if isinstance(source.get("secret"), dict) and source["secret"].get("name"):
                secrets.add(str(source["secret"]["name"]))
    return config_maps, secrets


def _decoded(obj: Object, secret: bool) -> dict[str, bytes]:
    data: dict[str, bytes] = {}
    for key, value in (obj.get("data") or {}).items():
        data[key] = base64.b64decode(value) if secret else str(value).encode()
    for key, value in (obj.get("binaryData") or {}).items():
        data[key] = base64.b64decode(value)
    return data


async def fetch_references(client: ApiClient, namespace: str, spec: PodSpec) -> References:
    """Fetch every ConfigMap and Secret the pod names; absent ones are simply left out."""
    config_map_names, secret_names = _referenced_names(spec)
    references = References()
    for names, resource, target, secret in (
        (config_map_names, CONFIGMAPS, references.config_maps, False),
        (secret_names, SECRETS, references.secrets, True),
    ):
        for name in sorted(names):
            try:
                target[name] = _decoded(await client.get(resource, name, namespace), secret)
            except ApiError as error:
                if error.code != 404:
                    raise
    return references


def _field_value(pod: Object, path: str) -> str | None:
    metadata = pod.get("metadata") or {}
    match = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
    if match:
        return str((metadata.get(match.group(1)) or {}).get(match.group(2), ""))
    simple = {
        "metadata.name": metadata.get("name"),
        "metadata.namespace": metadata.get("namespace"),
        "metadata.uid": metadata.get("uid"),
        "spec.nodeName": (pod.get("spec") or {}).get("nodeName"),
        "spec.serviceAccountName": (pod.get("spec") or {}).get("serviceAccountName"),
        "status.hostIP": (pod.get("status") or {}).get("hostIP"),
        "status.podIP": (pod.get("status") or {}).get("podIP"),
    }
    value = simple.get(path)
    return None if value is None else str(value)


def expand(text: str, environment: dict[str, str]) -> str:
    """Kubernetes' `$(VAR)` expansion: known names are replaced, unknown ones kept, `$$` is `$`."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return environment.get(match.group(1), match.group(0))

    return _REFERENCE.sub(replace, text)


def _key_ref(
    references: dict[str, dict[str, bytes]], reference: Object, kind: str
) -> str | ConfigError | None:
    name, key = str(reference.get("name", "")), str(reference.get("key", ""))
    optional = bool(reference.get("optional", False))
    data = references.get(name)
    if data is None:
        return None if optional else ConfigError(f'{kind} "{name}" not found')
    if key not in data:
        return None if optional else ConfigError(f"couldn't find key {key} in {kind} {name}")
    return data[key].decode(errors="replace")


def container_env(
    pod: Object, container: Container, references: References
) -> list[tuple[str, str]] | ConfigError:
    """The container's environment in Kubernetes order: envFrom sources, then env (later wins)."""
    environment: dict[str, str] = {}
    for source in container.env_from or []:
        prefix = source.prefix or ""
        if source.config_map_ref is not None:
            found = references.config_maps.get(source.config_map_ref.name or "")
            if found is None and not source.config_map_ref.optional:
                return ConfigError(f'configmap "{source.config_map_ref.name}" not found')
        elif source.secret_ref is not None:
            found = references.secrets.get(source.secret_ref.name or "")
            if found is None and not source.secret_ref.optional:
                return ConfigError(f'secret "{source.secret_ref.name}" not found')
        else:
            found = None
        for key, value in (found or {}).items():
            environment[prefix + key] = value.decode(errors="replace")
    for variable in container.env or []:
        value_from = variable.value_from
        if value_from is None:
            environment[variable.name] = expand(variable.value or "", environment)
            continue
        resolved: str | ConfigError | None = None
        if "configMapKeyRef" in value_from:
            resolved = _key_ref(references.config_maps, value_from["configMapKeyRef"], "configmap")
        elif "secretKeyRef" in value_from:
            resolved = _key_ref(references.secrets, value_from["secretKeyRef"], "secret")
        elif "fieldRef" in value_from:
            resolved = _field_value(pod, str(value_from["fieldRef"].get("fieldPath", "")))
        elif "resourceFieldRef" in value_from:
            resolved = _resource_field(container, value_from["resourceFieldRef"])
        if isinstance(resolved, ConfigError):
            return resolved
        if resolved is not None:
            environment[variable.name] = resolved
    return list(environment.items())


def _resource_field(container: Container, reference: Object) -> str:
    """limits.cpu / requests.memory etc., with the divisor defaulting to 1 (cores rounded up)."""
    source, _, resource = str(reference.get("resource", "")).partition(".")
    values = container_limits(container) if source == "limits" else container_requests(container)
    value = values.get(resource, 0)
    if resource == "cpu":
        return str(max(1, -(-value // 1000)))
    return str(value)


def _downward_files(pod: Object, spec: PodSpec, items: list[Object]) -> dict[str, bytes] | ConfigError:
    """downwardAPI items: fieldRef (whole label/annotation maps as key="value" lines, as the
    kubelet writes them) and resourceFieldRef of a named container."""
    files: dict[str, bytes] = {}
    metadata = pod.get("metadata") or {}
    containers = {c.name: c for c in [*(spec.init_containers or []), *spec.containers]}
    for item in items:
        path = str(item.get("path", ""))
        field_path = str((item.get("fieldRef") or {}).get("fieldPath", ""))
        if field_path in ("metadata.labels", "metadata.annotations"):
            entries = metadata.get(field_path.partition(".")[2]) or {}
            files[path] = "".join(f'{key}="{value}"\n' for key, value in sorted(entries.items())).encode()
        elif field_path:
            value = _field_value(pod, field_path)
            if value is None:
                return ConfigError(f"unsupported fieldPath {field_path!r} in a downwardAPI volume")
            files[path] = value.encode()
        elif isinstance(item.get("resourceFieldRef"), dict):
            reference = item["resourceFieldRef"]
            container = containers.get(str(reference.get("containerName", "")))
            if container is None:
                return ConfigError(f"downwardAPI volume: no container {reference.get('containerName')!r}")
            files[path] = _resource_field(container, reference).encode()
    return files


def _keyed_files(
    data: dict[str, bytes] | None, items: list[tuple[str, str]] | None, optional: bool, kind: str, name: str
) -> dict[str, bytes] | ConfigError:
    """configMap/secret keys as files: the chosen (key, path) items, or every key as its own path."""
    if data is None:
        return {} if optional else ConfigError(f'{kind} "{name}" not found')
    chosen = items if items else [(key, key) for key in data]
    return {path: data[key] for key, path in chosen if key in data}


def _projected_files(pod: Object, spec: PodSpec, projected: Object, references: References) -> dict[str, bytes] | ConfigError:
    """A projected volume: configMap, secret and downwardAPI sources merged into one directory.
    serviceAccountToken sources are skipped (no TokenRequest here)."""
    files: dict[str, bytes] = {}
    for source in projected.get("sources") or []:
        found: dict[str, bytes] | ConfigError = {}
        for kind, store in (("configMap", references.config_maps), ("secret", references.secrets)):
            if isinstance(source.get(kind), dict):
                entry = source[kind]
                name = str(entry.get("name", ""))
                pairs = [(str(i.get("key")), str(i.get("path"))) for i in entry.get("items") or []]
                found = _keyed_files(store.get(name), pairs, bool(entry.get("optional")), kind.lower(), name)
        if isinstance(source.get("downwardAPI"), dict):
            found = _downward_files(pod, spec, source["downwardAPI"].get("items") or [])
        if isinstance(found, ConfigError):
            return found
        files.update(found)
    return files


def _write_files(target: Path, files: dict[str, bytes]) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for relative, content in files.items():
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(content)


def prepare_volumes(
    spec: PodSpec, references: References, pod_dir: Path, pod: Object | None = None
) -> dict[str, tuple[Path, bool]] | ConfigError:
    """Materialise each volume; returns name -> (host path, read-only by nature)."""
    volumes: dict[str, tuple[Path, bool]] = {}
    for volume in spec.volumes or []:
        target = pod_dir / "volumes" / volume.name
        if volume.downward_api is not None or volume.projected is not None:
            files = (
                _downward_files(pod or {}, spec, volume.downward_api.get("items") or [])
                if volume.downward_api is not None
                else _projected_files(pod or {}, spec, volume.projected or {}, references)
            )
            if isinstance(files, ConfigError):
                return files
            _write_files(target, files)
            volumes[volume.name] = (target, True)
        elif volume.empty_dir is not None:
            target.mkdir(parents=True, exist_ok=True)
            volumes[volume.name] = (target, False)
        elif volume.host_path is not None:
            host = Path(volume.host_path.path)
            if volume.host_path.type in ("DirectoryOrCreate",) and not host.exists():
                host.mkdir(parents=True, exist_ok=True)
            volumes[volume.name] = (host, False)
        elif volume.config_map is not None or volume.secret is not None:
            if volume.config_map is not None:
                name, items, optional = (
                    volume.config_map.name or "",
                    volume.config_map.items,
                    volume.config_map.optional,
                )
                data, kind = references.config_maps.get(name), "configmap"
            else:
                assert volume.secret is not None
                name, items, optional = (
                    volume.secret.secret_name or "",
                    volume.secret.items,
                    volume.secret.optional,
                )
                data, kind = references.secrets.get(name), "secret"
            pairs = [(item.key, item.path) for item in items] if items else None
            keyed = _keyed_files(data, pairs, bool(optional), kind, name)
            if isinstance(keyed, ConfigError):
                return keyed
            _write_files(target, keyed)
            volumes[volume.name] = (target, True)
    return volumes


def container_mounts(container: Container, volumes: dict[str, tuple[Path, bool]]) -> tuple[Mount, ...]:
    mounts = []
    for mount in container.volume_mounts or []:
        found = volumes.get(mount.name)
        if found is None:
            continue
        host, read_only = found
        if mount.sub_path:
            host = host / mount.sub_path
        mounts.append(Mount(host, mount.mount_path, read_only or bool(mount.read_only)))
    return tuple(mounts)


def container_spec(
    pod: Object,
    container: Container,
    container_id: str,
    state_dir: Path,
    env: list[tuple[str, str]],
    volumes: dict[str, tuple[Path, bool]],
    identity: RunAs | None = None,
) -> ContainerSpec:
    environment = dict(env)
    identity = identity or RunAs()
    limits = container_limits(container)
    requests = container_requests(container)
    return ContainerSpec(
        container_id=container_id,
        name=container.name,
        image=container.image or "",
        state_dir=state_dir,
        command=tuple(expand(part, environment) for part in container.command or []),
        args=tuple(expand(part, environment) for part in container.args or []),
        env=tuple(env),
        working_dir=container.working_dir,
        mounts=container_mounts(container, volumes),
        limits=ResourceLimits(
            cpu_limit_millicores=limits.get("cpu"),
            cpu_request_millicores=requests.get("cpu"),
            memory_limit_bytes=limits.get("memory"),
        ),
        user_id=identity.uid,
        group_id=identity.gid,
    )


@dataclass(frozen=True)
class PodInputs:
    """What the containers of a pod are started with: env per container, and the volumes."""

    env: dict[str, list[tuple[str, str]]]
    volumes: dict[str, tuple[Path, bool]]


async def resolve_pod_inputs(
    client: ApiClient,
    pod: Object,
    spec: PodSpec,
    pod_dir: Path,
    run_blocking: Callable[[Callable[[], Any]], Awaitable[Any]],
) -> PodInputs | ConfigError:
    """Fetch the ConfigMaps and Secrets the pod names, render every container's env and lay out
    the volumes; the first problem (a missing key, an absent ConfigMap) as a `ConfigError`."""
    namespace = str((pod.get("metadata") or {}).get("namespace", "default"))
    references = await fetch_references(client, namespace, spec)
    env: dict[str, list[tuple[str, str]]] = {}
    for container in [*(spec.init_containers or []), *spec.containers]:
        rendered = container_env(pod, container, references)
        if isinstance(rendered, ConfigError):
            return rendered
        env[container.name] = rendered
    if not spec.volumes:
        return PodInputs(env, {})  # no file system work: no thread hop on the common path
    volumes = await run_blocking(functools.partial(prepare_volumes, spec, references, pod_dir, pod))
    return volumes if isinstance(volumes, ConfigError) else PodInputs(env, volumes)
