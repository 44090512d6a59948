"""The three PATCH formats on hand-made cases."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.apiserver.patch import PatchError, json_merge_patch, json_patch, strategic_merge_patch

POD = {
    "metadata": {"name": "p", "labels": {"a": "1"}, "finalizers": ["x"]},
    "spec": {
        "containers": [
            {
                "name": "app",
                "image": "app:1",
                "env": [{"name": "A", "value": "1"}],
                "ports": [{"containerPort": 80}],
            },
            {"name": "side", "image": "side:1"},
        ],
        "tolerations": [{"key": "k", "operator": "Exists"}],
    },
}


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        pytest.param({"metadata": {"labels": {"b": "2"}}}, {"a": "1", "b": "2"}, id="adds-key"),
        pytest.param({"metadata": {"labels": {"a": None}}}, {}, id="null-deletes"),
        pytest.param({"metadata": {"labels": {"a": "9"}}}, {"a": "9"}, id="replaces-value"),
    ],
)
def test_merge_patch_maps(patch: dict[str, Any], expected: dict[str, str]) -> None:
    assert json_merge_patch(POD, patch)["metadata"]["labels"] == expected


def test_merge_patch_replaces_lists() -> None:
    patched = json_merge_patch(POD, {"spec": {"containers": [{"name": "only", "image": "x"}]}})
    assert patched["spec"]["containers"] == [{"name": "only", "image": "x"}]
    assert POD["spec"]["containers"][0]["name"] == "app"  # the input is not mutated


def test_strategic_merge_merges_containers_by_name() -> None:
    patched = strategic_merge_patch(POD, {"spec": {"containers": [{"name": "app", "image": "app:2"}]}})
    containers = patched["spec"]["containers"]
    assert [c["name"] for c in containers] == ["app", "side"]
    assert containers[0]["image"] == "app:2" and containers[0]["env"] == [{"name": "A", "value": "1"}]


@pytest.mark.parametrize(
    ("patch", "check"),
    [
        pytest.param(
            {"spec": {"containers": [{"name": "side", "$patch": "delete"}]}},
            lambda p: [c["name"] for c in p["spec"]["containers"]] == ["app"],
            id="delete-directive",
        ),
        pytest.param(
            {"spec": {"containers": [{"name": "new", "image": "n"}]}},
            lambda p: [c["name"] for c in p["spec"]["containers"]] == ["app", "side", "new"],
            id="appends-new-key",
        ),
        pytest.param(
            {"spec": {"containers": [{"name": "app", "env": [{"name": "B", "value": "2"}]}]}},
            lambda p: [e["name"] for e in p["spec"]["containers"][0]["env"]] == ["A", "B"],
            id="nested-env-by-name",
        ),
        pytest.param(
            {"metadata": {"finalizers": ["y"]}},
            lambda p: p["metadata"]["finalizers"] == ["x", "y"],
            id="finalizers-merge-as-set",
        ),
        pytest.param(
            {"metadata": {"$deleteFromPrimitiveList/finalizers": ["x"]}},
            lambda p: p["metadata"]["finalizers"] == [],
            id="delete-from-primitive-list",
        ),
        pytest.param(
            {"spec": {"tolerations": [{"key": "z", "operator": "Exists"}]}},
            lambda p: p["spec"]["tolerations"] == [{"key": "z", "operator": "Exists"}],
            id="tolerations-replace",
        ),
        pytest.param(
            {"spec": {"$setElementOrder/containers": [{"name": "side"}, {"name": "app"}]}},
            lambda p: len(p["spec"]["containers"]) == 2,
            id="set-element-order-tolerated",
        ),
        pytest.param(
            {"spec": {"containers": [{"name": "x", "image": "x"}, {"$patch": "replace"}]}},
            lambda p: p["spec"]["containers"] == [{"name": "x", "image": "x"}],
            id="replace-list",
        ),
    ],
)
def test_strategic_merge_directives(patch: dict[str, Any], check: Any) -> None:
    assert check(strategic_merge_patch(POD, patch))


def test_strategic_retain_keys_clears_other_strategy_fields() -> None:
    deployment = {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}
    patched = strategic_merge_patch(
        deployment, {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    )
    assert patched["spec"]["strategy"] == {"type": "Recreate"}


@pytest.mark.parametrize(
    ("operations", "check"),
    [
        pytest.param(
            [{"op": "add", "path": "/metadata/labels/b", "value": "2"}],
            lambda p: p["metadata"]["labels"]["b"] == "2",
            id="add",
        ),
        pytest.param(
            [{"op": "remove", "path": "/spec/containers/1"}],
            lambda p: len(p["spec"]["containers"]) == 1,
            id="remove-index",
        ),
        pytest.param(
            [{"op": "replace", "path": "/spec/containers/0/image", "value": "z"}],
            lambda p: p["spec"]["containers"][0]["image"] == "z",
            id="replace",
        ),
        pytest.param(
            [{"op": "add", "path": "/spec/containers/-", "value": {"name": "t"}}],
            lambda p: p["spec"]["containers"][-1] == {"name": "t"},
            id="append",
        ),
        pytest.param(
            [{"op": "copy", "from": "/metadata/labels", "path": "/metadata/annotations"}],
            lambda p: p["metadata"]["annotations"] == {"a": "1"},
            id="copy",
        ),
        pytest.param(
            [{"op": "move", "from": "/metadata/labels/a", "path": "/metadata/labels/c"}],
            lambda p: p["metadata"]["labels"] == {"c": "1"},
            id="move",
        ),
        pytest.param(
            [{"op": "test", "path": "/metadata/name", "value": "p"}, {"op": "add", "path": "/x", "value": 1}],
            lambda p: p["x"] == 1,
            id="test-passes",
        ),
        pytest.param(
            [{"op": "add", "path": "/metadata/labels/a~1b", "value": "s"}],
            lambda p: p["metadata"]["labels"]["a/b"] == "s",
            id="escaped-slash",
        ),
    ],
)
def test_json_patch_operations(operations: list[dict[str, Any]], check: Any) -> None:
    assert check(json_patch(POD, operations))


@pytest.mark.parametrize(
    ("operations", "code"),
    [
        pytest.param([{"op": "test", "path": "/metadata/name", "value": "q"}], 422, id="failed-test"),
        pytest.param([{"op": "remove", "path": "/nope"}], 400, id="missing-path"),
        pytest.param([{"op": "launch", "path": "/x"}], 400, id="unknown-op"),
        pytest.param({"op": "add"}, 400, id="not-a-list"),
        pytest.param([{"op": "add", "path": "/spec/containers/9", "value": 1}], 400, id="index-out-of-range"),
        pytest.param([{"op": "add", "path": "no-slash", "value": 1}], 400, id="bad-pointer"),
    ],
)
def test_json_patch_errors(operations: Any, code: int) -> None:
    with pytest.raises(PatchError) as error:
        json_patch(POD, operations)
    assert error.value.code == code
