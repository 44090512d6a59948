"""The examples stay usable: manifests parse and pick their runtime, and the WAT app compiles.

The app itself runs under the wasm runtime in tests/agent/runtime/test_wasm.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import wasmtime
import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("runtime", ["wasm", "oci", "process"])
@pytest.mark.parametrize("manifest", ["pod.yaml", "deployment.yaml"])
def test_manifests_parse_and_choose_their_runtime(runtime: str, manifest: str) -> None:
    document = yaml.safe_load((EXAMPLES / runtime / manifest).read_text())
    pod_spec = document["spec"] if document["kind"] == "Pod" else document["spec"]["template"]["spec"]
    assert pod_spec.get("runtimeClassName", "process") == runtime
    assert all("limits" in container["resources"] for container in pod_spec["containers"])


def test_wasm_example_compiles() -> None:
    engine = wasmtime.Engine()
    module = wasmtime.Module(engine, (EXAMPLES / "wasm" / "hello.wat").read_text())
    assert {export.name for export in module.exports} == {"memory", "_start"}
    assert {imported.name for imported in module.imports} >= {"fd_write", "poll_oneoff", "args_get"}
