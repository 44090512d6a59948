"""Volumes laid out for a pod: configMap, secret, downwardAPI and projected (pure file work)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from kubelite.agent.pod_spec import ConfigError, References, prepare_volumes
from kubelite.api.models.pod import PodSpec

POD: dict[str, Any] = {
    "metadata": {"name": "web", "namespace": "shop", "uid": "u-1", "labels": {"app": "web", "tier": "front"}},
    "spec": {
        "containers": [{"name": "main", "image": "x", "resources": {"limits": {"cpu": "500m", "memory": "64Mi"}}}],
    },
}
REFERENCES = References(config_maps={"settings": {"mode": b"fast", "level": b"3"}}, secrets={"creds": {"token": b"s3cret"}})


def layout(volume: dict[str, Any], tmp_path: Path) -> dict[str, str] | ConfigError:
    pod = {**POD, "spec": {**POD["spec"], "volumes": [{"name": "v", **volume}]}}
    spec = msgspec.convert(pod["spec"], PodSpec)
    result = prepare_volumes(spec, REFERENCES, tmp_path, pod)
    if isinstance(result, ConfigError):
        return result
    root, _read_only = result["v"]
    return {str(path.relative_to(root)): path.read_text() for path in sorted(root.rglob("*")) if path.is_file()}


CASES = {
    "configmap-all-keys": ({"configMap": {"name": "settings"}}, {"level": "3", "mode": "fast"}),
    "configmap-items": (
        {"configMap": {"name": "settings", "items": [{"key": "mode", "path": "conf/mode.txt"}]}},
        {"conf/mode.txt": "fast"},
    ),
    "secret": ({"secret": {"secretName": "creds"}}, {"token": "s3cret"}),
    "downward-api": (
        {
            "downwardAPI": {
                "items": [
                    {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                    {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
                    {"path": "cpu", "resourceFieldRef": {"containerName": "main", "resource": "limits.cpu"}},
                ]
            }
        },
        {"cpu": "1", "labels": 'app="web"\ntier="front"\n', "name": "web"},
    ),
    "projected": (
        {
            "projected": {
                "sources": [
                    {"configMap": {"name": "settings", "items": [{"key": "level", "path": "level"}]}},
                    {"secret": {"name": "creds"}},
                    {"downwardAPI": {"items": [{"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
                    {"serviceAccountToken": {"path": "token-sa"}},
                ]
            }
        },
        {"level": "3", "ns": "shop", "token": "s3cret"},
    ),
    "optional-missing-configmap": ({"configMap": {"name": "absent", "optional": True}}, {}),
}


@pytest.mark.parametrize(("volume", "files"), list(CASES.values()), ids=list(CASES))
def test_volume_files(tmp_path: Path, volume: dict[str, Any], files: dict[str, str]) -> None:
    assert layout(volume, tmp_path) == files


@pytest.mark.parametrize(
    "volume",
    [
        {"configMap": {"name": "absent"}},
        {"projected": {"sources": [{"secret": {"name": "absent"}}]}},
        {"downwardAPI": {"items": [{"path": "x", "resourceFieldRef": {"containerName": "nope", "resource": "limits.cpu"}}]}},
    ],
    ids=["missing-configmap", "missing-projected-secret", "unknown-container"],
)
def test_unsatisfiable_volume_is_a_config_error(tmp_path: Path, volume: dict[str, Any]) -> None:
    assert isinstance(layout(volume, tmp_path), ConfigError)
