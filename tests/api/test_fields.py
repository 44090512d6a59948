"""Field selectors: parsing, per-kind supported fields, and matching against stored objects."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.api.fields import compile_field_selector, parse_field_selector
from kubelite.api.labels import SelectorError
from kubelite.api.resources import EVENTS, NODES, PODS, SECRETS, ResourceType

POD = {
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"nodeName": "n1", "schedulerName": "default-scheduler", "restartPolicy": "Always"},
    "status": {"phase": "Running", "podIP": "10.0.0.1"},
}
EVENT = {
    "metadata": {"name": "e", "namespace": "default"},
    "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
    "reason": "Scheduled",
    "type": "Normal",
    "source": {"component": "default-scheduler"},
}

CASES: list[tuple[str, ResourceType, dict[str, Any], str, bool]] = [
    ("empty", PODS, POD, "", True),
    ("name", PODS, POD, "metadata.name=web", True),
    ("namespace-double-equals", PODS, POD, "metadata.namespace==default", True),
    ("node", PODS, POD, "spec.nodeName=n1", True),
    ("unscheduled", PODS, POD, "spec.nodeName=", False),
    ("phase-not", PODS, POD, "status.phase!=Running", False),
    ("anded", PODS, POD, "spec.nodeName=n1,status.phase=Running", True),
    ("pod-ip", PODS, POD, "status.podIP=10.0.0.1", True),
    ("event-involved", EVENTS, EVENT, "involvedObject.name=web,involvedObject.kind=Pod", True),
    ("event-source", EVENTS, EVENT, "source=default-scheduler", True),
    ("event-reason", EVENTS, EVENT, "reason=Killing", False),
    ("node-unschedulable-default", NODES, {"metadata": {"name": "n"}}, "spec.unschedulable=false", True),
    ("secret-type", SECRETS, {"type": "Opaque"}, "type=Opaque", True),
]


@pytest.mark.parametrize(
    ("resource", "obj", "text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_field_selector_matching(
    resource: ResourceType, obj: dict[str, Any], text: str, expected: bool
) -> None:
    assert compile_field_selector(resource, text).matches(obj) is expected


@pytest.mark.parametrize(
    ("resource", "text", "message"),
    [
        (PODS, "spec.foo=x", "field label not supported: spec.foo"),
        (NODES, "status.phase=Running", "field label not supported: status.phase"),
        (PODS, "nonsense", "invalid selector"),
    ],
    ids=["pod-unknown", "node-unknown", "no-operator"],
)
def test_unsupported_or_malformed_field_selectors(resource: ResourceType, text: str, message: str) -> None:
    with pytest.raises(SelectorError, match=message):
        compile_field_selector(resource, text)


def test_escaped_values_and_exact_value_lookup() -> None:
    (requirement,) = parse_field_selector(r"metadata.name=a\,b\=c")
    assert requirement.value == "a,b=c"
    selector = compile_field_selector(PODS, "spec.nodeName=n1,status.phase!=Failed")
    assert selector.exact_value("spec.nodeName") == "n1"
    assert selector.exact_value("status.phase") is None
