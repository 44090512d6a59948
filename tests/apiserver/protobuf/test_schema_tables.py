"""The generated tables are complete and agree with Kubernetes' published field numbers."""

from __future__ import annotations

import pytest

from kubelite.apiserver.protobuf.schema import SCALAR_TYPES, SERVED_KINDS, SPECIAL_MESSAGES
from kubelite.apiserver.protobuf.schema_tables import MESSAGES


def test_every_served_kind_and_every_referenced_message_has_a_table() -> None:
    assert set(SERVED_KINDS.values()) <= MESSAGES.keys()
    for name, rows in MESSAGES.items():
        numbers = [row[0] for row in rows]
        assert len(numbers) == len(set(numbers)), f"{name} repeats a field number"
        for number, json_name, cardinality, key_type, value_type, _ in rows:
            assert value_type in SCALAR_TYPES or value_type in SPECIAL_MESSAGES or value_type in MESSAGES
            assert (cardinality == "map") == bool(key_type), f"{name}.{json_name}"
            assert (cardinality == "inline") == (json_name == ""), f"{name} field {number}"


# Spot checks against k8s.io/api core/v1 and apps/v1 generated.proto, including JSON names that a
# naive lowerCamelCase of the Go name would get wrong and the JSON-inline embedded structs.
KNOWN_FIELDS = [
    ("k8s.io.api.core.v1.PodStatus", 5, "hostIP", "single"),
    ("k8s.io.api.core.v1.PodStatus", 6, "podIP", "single"),
    ("k8s.io.api.core.v1.ServiceSpec", 3, "clusterIP", "single"),
    ("k8s.io.api.core.v1.ServiceSpec", 5, "externalIPs", "repeated"),
    ("k8s.io.api.core.v1.PodSpec", 10, "nodeName", "single"),
    ("k8s.io.api.core.v1.Secret", 2, "data", "map"),
    ("k8s.io.api.core.v1.ConfigMap", 3, "binaryData", "map"),
    ("k8s.io.api.core.v1.Volume", 2, "", "inline"),
    ("k8s.io.api.core.v1.Probe", 1, "", "inline"),
    ("k8s.io.api.core.v1.EphemeralContainer", 1, "", "inline"),
    ("k8s.io.api.core.v1.SecretKeySelector", 1, "", "inline"),
    ("k8s.io.api.apps.v1.ReplicaSetStatus", 3, "observedGeneration", "single"),
    ("k8s.io.api.apps.v1.DeploymentSpec", 9, "progressDeadlineSeconds", "single"),
    ("k8s.io.api.authorization.v1.ResourceAttributes", 8, "fieldSelector", "single"),
]


@pytest.mark.parametrize(("message", "number", "json_name", "cardinality"), KNOWN_FIELDS,
                         ids=[f"{case[0].rsplit('.', 1)[1]}.{case[2] or case[1]}" for case in KNOWN_FIELDS])
def test_known_fields(message: str, number: int, json_name: str, cardinality: str) -> None:
    row = next(row for row in MESSAGES[message] if row[0] == number)
    assert (row[1], row[2]) == (json_name, cardinality)
