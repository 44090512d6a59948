"""Hand-built protobuf bodies decode to the JSON Kubernetes would have: one row per special type.

Field numbers come from the generated tables (e.g. Secret: data = 2, type = 3, immutable = 5);
the expected JSON is what Go's encoding/json writes for the same Kubernetes object.
"""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.apiserver.protobuf import ProtobufError, decode_protobuf_object

from .encoding import (
    MAGIC,
    bool_field,
    bytes_field,
    envelope,
    int_field,
    map_entry,
    metadata,
    msg_field,
    str_field,
    tag,
    varint,
)


def quantity(number: int, text: str) -> bytes:
    return msg_field(number, str_field(1, text))


def time_field(number: int, seconds: int, nanos: int = 0) -> bytes:
    return msg_field(number, int_field(1, seconds), int_field(2, nanos))


CASES: list[tuple[str, bytes, dict[str, Any]]] = [
    (
        "secret-bytes-map-as-base64-and-present-false-pointer",
        envelope(
            "v1", "Secret",
            metadata("s")
            + map_entry(2, str_field(1, "k"), bytes_field(2, b"\x00\xffv"))
            + str_field(3, "Opaque")
            + bool_field(5, False),
        ),
        {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "s", "creationTimestamp": None},
         "data": {"k": "AP92"}, "type": "Opaque", "immutable": False},
    ),
    (
        "configmap-string-and-binary-maps",
        envelope(
            "v1", "ConfigMap",
            metadata("c")
            + map_entry(2, str_field(1, "a"), str_field(2, "b"))
            + map_entry(2, str_field(1, "c"), str_field(2, ""))
            + map_entry(3, str_field(1, "bin"), bytes_field(2, b"hello")),
        ),
        {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "c", "creationTimestamp": None},
         "data": {"a": "b", "c": ""}, "binaryData": {"bin": "aGVsbG8="}},
    ),
    (
        "service-int-or-string-both-forms-and-omitempty-zero",
        envelope(
            "v1", "Service",
            metadata("svc")
            + msg_field(
                2,
                msg_field(1, str_field(1, "http"), int_field(3, 80),
                          msg_field(4, int_field(1, 0), int_field(2, 8080), str_field(3, "")),
                          int_field(5, 0)),
                msg_field(1, str_field(1, "named"), int_field(3, 81),
                          msg_field(4, int_field(1, 1), int_field(2, 0), str_field(3, "web"))),
                str_field(3, "10.0.0.1"),
                str_field(4, "ClusterIP"),
            ),
            msg_field(3),
        ),
        {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "svc", "creationTimestamp": None},
         "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080},
                            {"name": "named", "port": 81, "targetPort": "web"}],
                  "clusterIP": "10.0.0.1", "type": "ClusterIP"},
         "status": {"loadBalancer": {}}},
    ),
    (
        "pod-quantities-inline-volume-packed-and-unpacked-int64-negative-int32",
        envelope(
            "v1", "Pod",
            metadata("p", str_field(3, "ns"), int_field(7, 0))
            + msg_field(
                2,
                # Volume {name = 1, inline VolumeSource = 2 {configMap = 19 {inline LocalObjectReference}}}
                msg_field(1, str_field(1, "cfg"),
                          msg_field(2, msg_field(19, msg_field(1, str_field(1, "settings")),
                                                 int_field(3, 420)))),
                msg_field(2, str_field(1, "app"), str_field(2, "img"),
                          msg_field(8, map_entry(1, str_field(1, "cpu"), quantity(2, "500m")),
                                    map_entry(2, str_field(1, "memory"), quantity(2, "64Mi")))),
                bool_field(11, False),  # hostNetwork: a value bool, omitted when false
                bool_field(21, False),  # automountServiceAccountToken: a pointer, kept
                # PodSecurityContext: supplementalGroups = 4 both packed and unpacked; runAsUser = 2
                msg_field(14, int_field(2, 0), bytes_field(4, varint(1) + varint(2)), int_field(4, 3)),
                int_field(25, -5),  # priority: int32 sent as a 10-byte varint
            ),
        ),
        {"kind": "Pod", "apiVersion": "v1",
         "metadata": {"name": "p", "namespace": "ns", "creationTimestamp": None},
         "spec": {"volumes": [{"name": "cfg", "configMap": {"name": "settings", "defaultMode": 420}}],
                  "containers": [{"name": "app", "image": "img",
                                  "resources": {"limits": {"cpu": "500m"}, "requests": {"memory": "64Mi"}}}],
                  "automountServiceAccountToken": False,
                  "securityContext": {"runAsUser": 0, "supplementalGroups": [1, 2, 3]},
                  "priority": -5},
         "status": {}},
    ),
    (
        "event-time-microtime-and-struct-zero-values",
        envelope(
            "v1", "Event",
            metadata("e")
            + time_field(6, 1_700_000_000, 999_999_999)  # Time keeps whole seconds
            + msg_field(10, int_field(1, 1_700_000_000), int_field(2, 123_456_789))
            + int_field(8, 2),
        ),
        {"kind": "Event", "apiVersion": "v1", "metadata": {"name": "e", "creationTimestamp": None},
         "involvedObject": {}, "source": {}, "firstTimestamp": "2023-11-14T22:13:20Z",
         "lastTimestamp": None, "count": 2, "eventTime": "2023-11-14T22:13:20.123456Z",
         "reportingComponent": "", "reportingInstance": ""},
    ),
    (
        "lease-microtimes",
        envelope(
            "coordination.k8s.io/v1", "Lease",
            metadata("node-a", str_field(3, "kube-node-lease"))
            + msg_field(2, str_field(1, "node-a"), int_field(2, 40), msg_field(4, int_field(1, 0))),
        ),
        {"kind": "Lease", "apiVersion": "coordination.k8s.io/v1",
         "metadata": {"name": "node-a", "namespace": "kube-node-lease", "creationTimestamp": None},
         "spec": {"holderIdentity": "node-a", "leaseDurationSeconds": 40,
                  "renewTime": "1970-01-01T00:00:00.000000Z"}},
    ),
    (
        "csr-bytes-and-extra-string-lists",
        envelope(
            "certificates.k8s.io/v1", "CertificateSigningRequest",
            metadata("csr")
            + msg_field(
                2,
                bytes_field(1, b"-----BEGIN"),
                str_field(7, "kubernetes.io/kube-apiserver-client"),
                str_field(5, "client auth"),
                str_field(5, "digital signature"),
                map_entry(6, str_field(1, "scopes"), msg_field(2, str_field(1, "a"), str_field(1, "b"))),
            ),
        ),
        {"kind": "CertificateSigningRequest", "apiVersion": "certificates.k8s.io/v1",
         "metadata": {"name": "csr", "creationTimestamp": None},
         "spec": {"request": "LS0tLS1CRUdJTg==", "signerName": "kubernetes.io/kube-apiserver-client",
                  "usages": ["client auth", "digital signature"], "extra": {"scopes": ["a", "b"]}},
         "status": {}},
    ),
    (
        "controller-revision-raw-extension-json",
        envelope(
            "apps/v1", "ControllerRevision",
            metadata("rev") + msg_field(2, bytes_field(1, b'{"spec": {"replicas": 2}}')) + int_field(3, 7),
        ),
        {"kind": "ControllerRevision", "apiVersion": "apps/v1",
         "metadata": {"name": "rev", "creationTimestamp": None},
         "data": {"spec": {"replicas": 2}}, "revision": 7},
    ),
    (
        "raw-extension-holding-a-protobuf-object",
        envelope(
            "apps/v1", "ControllerRevision",
            metadata("rev") + msg_field(2, bytes_field(1, envelope("v1", "Namespace", metadata("inner")))),
        ),
        {"kind": "ControllerRevision", "apiVersion": "apps/v1",
         "metadata": {"name": "rev", "creationTimestamp": None},
         "data": {"kind": "Namespace", "apiVersion": "v1",
                  "metadata": {"name": "inner", "creationTimestamp": None}, "spec": {}, "status": {}},
         "revision": 0},
    ),
    (
        "managed-fields-fieldsv1-and-time",
        envelope(
            "v1", "Namespace",
            msg_field(1, str_field(1, "x"), msg_field(8, int_field(1, 86_400)),
                      msg_field(17, str_field(1, "kubectl"), str_field(2, "Update"), time_field(4, 60),
                                str_field(6, "FieldsV1"),
                                msg_field(7, bytes_field(1, b'{"f:metadata":{}}')))),
        ),
        {"kind": "Namespace", "apiVersion": "v1",
         "metadata": {"name": "x", "creationTimestamp": "1970-01-02T00:00:00Z",
                      "managedFields": [{"manager": "kubectl", "operation": "Update",
                                         "time": "1970-01-01T00:01:00Z", "fieldsType": "FieldsV1",
                                         "fieldsV1": {"f:metadata": {}}}]},
         "spec": {}, "status": {}},
    ),
    (
        "clusterrole-non-omitempty-list-absent-is-null",
        envelope(
            "rbac.authorization.k8s.io/v1", "ClusterRole",
            metadata("cr") + msg_field(2, str_field(3, "pods")),
        ),
        {"kind": "ClusterRole", "apiVersion": "rbac.authorization.k8s.io/v1",
         "metadata": {"name": "cr", "creationTimestamp": None},
         "rules": [{"verbs": None, "resources": ["pods"]}]},
    ),
    (
        "eviction-with-delete-options",
        envelope(
            "policy/v1", "Eviction",
            metadata("p", str_field(3, "default"))
            + msg_field(2, int_field(1, 0), msg_field(2, str_field(1, "uid-1")), str_field(5, "All")),
        ),
        {"kind": "Eviction", "apiVersion": "policy/v1",
         "metadata": {"name": "p", "namespace": "default", "creationTimestamp": None},
         "deleteOptions": {"gracePeriodSeconds": 0, "preconditions": {"uid": "uid-1"}, "dryRun": ["All"]}},
    ),
    (
        "delete-options-under-any-group-version",
        envelope("apps/v1", "DeleteOptions", str_field(4, "Foreground")),
        {"kind": "DeleteOptions", "apiVersion": "apps/v1", "propagationPolicy": "Foreground"},
    ),
    (
        "unknown-fields-of-every-wire-type-are-skipped",
        envelope(
            "v1", "Namespace",
            metadata("x")
            + int_field(99, 5)
            + tag(100, 1) + bytes(8)
            + bytes_field(101, b"junk")
            + tag(102, 5) + bytes(4),
        ),
        {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "x", "creationTimestamp": None},
         "spec": {}, "status": {}},
    ),
    (
        "token-request-audiences-and-pointer-int64",
        envelope(
            "authentication.k8s.io/v1", "TokenRequest",
            metadata("sa") + msg_field(2, str_field(1, "api"), int_field(4, 3600)),
        ),
        {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
         "metadata": {"name": "sa", "creationTimestamp": None},
         # status is a value struct, so Go writes it even when absent; `token` shares its protobuf
         # tag with omitempty fields elsewhere, so its empty value is left out.
         "spec": {"audiences": ["api"], "expirationSeconds": 3600}, "status": {"expirationTimestamp": None}},
    ),
]


@pytest.mark.parametrize(("body", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_decodes_to_kubernetes_json(body: bytes, expected: dict[str, Any]) -> None:
    assert decode_protobuf_object(body) == expected


ERRORS: list[tuple[str, bytes, str]] = [
    ("no-magic", b'{"kind": "Pod"}', "magic"),
    ("empty", b"", "magic"),
    ("unknown-kind", envelope("batch/v1", "Job", b""), "kind Job of batch/v1 is not served"),
    ("no-type-meta", MAGIC + bytes_field(2, b""), "names no apiVersion and kind"),
    ("truncated-raw", envelope("v1", "Namespace", metadata("x"))[:-3], "runs past the end"),
    ("truncated-varint", envelope("v1", "Namespace", b"\x80"), "truncated varint"),
    ("wrong-wire-type-for-message", envelope("v1", "Namespace", int_field(1, 3)), "wire type 0"),
    ("wrong-wire-type-for-string", envelope("v1", "Namespace", msg_field(1, int_field(1, 3))), "wire type 0"),
    ("invalid-utf8", envelope("v1", "Namespace", msg_field(1, bytes_field(1, b"\xff"))), "UTF-8"),
    ("content-encoding", envelope("v1", "Namespace", b"", str_field(3, "gzip")), "contentEncoding"),
    ("bad-raw-json", envelope("apps/v1", "ControllerRevision", msg_field(2, bytes_field(1, b"{"))), "JSON"),
    ("time-out-of-range", envelope("v1", "Namespace", msg_field(1, time_field(8, 2**62))), "years"),
    ("bad-nanos", envelope("v1", "Event", time_field(10, 1, -1)), "nanos"),
]


@pytest.mark.parametrize(("body", "message"), [case[1:] for case in ERRORS], ids=[case[0] for case in ERRORS])
def test_malformed_bodies_are_protobuf_errors(body: bytes, message: str) -> None:
    with pytest.raises(ProtobufError, match=message):
        decode_protobuf_object(body)


def test_protobuf_error_is_a_value_error() -> None:
    assert issubclass(ProtobufError, ValueError)


def test_deeply_nested_raw_protobuf_is_refused() -> None:
    body = envelope("v1", "Namespace", metadata("x"))
    for _ in range(12):
        body = envelope("apps/v1", "ControllerRevision", msg_field(2, bytes_field(1, body)))
    with pytest.raises(ProtobufError, match="embedded more than"):
        decode_protobuf_object(body)
