"""Validation: valid objects pass; each invalid object yields the expected cause on the expected field."""

from __future__ import annotations

import base64
import copy
import random
from collections.abc import Callable
from typing import Any

import pytest

from kubelite.api.defaults import default_object
from kubelite.api.resources import (
    CONFIGMAPS,
    DEPLOYMENTS,
    ENDPOINTS,
    EVENTS,
    HORIZONTAL_POD_AUTOSCALERS,
    LEASES,
    NAMESPACES,
    NODES,
    PODS,
    PRIORITY_CLASSES,
    RESOURCE_TYPES,
    RUNTIME_CLASSES,
    SECRETS,
    SERVICE_ACCOUNTS,
    SERVICES,
    ResourceType,
)
from kubelite.api.validation import invalid_status_message, validate_object

Obj = dict[str, Any]
TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
VALID: dict[str, Obj] = {
    "pods": {
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80, "name": "http"}]}]
        },
    },
    "deployments.apps": {
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE},
    },
    "replicasets.apps": {
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE},
    },
    "services": {
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    },
    "namespaces": {"metadata": {"name": "team-a"}},
    "nodes": {"metadata": {"name": "node-1"}, "spec": {"taints": [{"key": "gpu", "effect": "NoSchedule"}]}},
    "configmaps": {"metadata": {"name": "cfg", "namespace": "default"}, "data": {"a.conf": "x"}},
    "secrets": {"metadata": {"name": "s", "namespace": "default"}, "data": {"k": "dmFsdWU="}},
    "endpoints": {
        "metadata": {"name": "web", "namespace": "default"},
        "subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}],
    },
    "events": {
        "metadata": {"name": "e", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
    },
    "serviceaccounts": {"metadata": {"name": "default", "namespace": "default"}},
    "leases.coordination.k8s.io": {
        "metadata": {"name": "node-1", "namespace": "kube-node-lease"},
        "spec": {"holderIdentity": "node-1", "leaseDurationSeconds": 40},
    },
    "horizontalpodautoscalers.autoscaling": {
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "maxReplicas": 5,
        },
    },
    "priorityclasses.scheduling.k8s.io": {"metadata": {"name": "high"}, "value": 1000},
    "runtimeclasses.node.k8s.io": {"metadata": {"name": "wasm"}, "handler": "wasm"},
}


# --- security kinds ---
def _csr_request() -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "system:node:n1")])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return base64.b64encode(csr.public_bytes(serialization.Encoding.PEM)).decode()


_RULE = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}
_ROLE_REF = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:node"}
VALID.update(
    {
        "roles.rbac.authorization.k8s.io": {"metadata": {"name": "reader", "namespace": "default"}, "rules": [_RULE]},
        "clusterroles.rbac.authorization.k8s.io": {
            "metadata": {"name": "system:reader"},
            "rules": [_RULE, {"nonResourceURLs": ["/healthz"], "verbs": ["get"]}],
        },
        "rolebindings.rbac.authorization.k8s.io": {
            "metadata": {"name": "r", "namespace": "default"},
            "roleRef": _ROLE_REF,
            "subjects": [{"kind": "User", "name": "alice"}, {"kind": "ServiceAccount", "name": "default"}],
        },
        "clusterrolebindings.rbac.authorization.k8s.io": {
            "metadata": {"name": "system:r"},
            "roleRef": _ROLE_REF,
            "subjects": [{"kind": "Group", "name": "system:nodes"}],
        },
        "certificatesigningrequests.certificates.k8s.io": {
            "metadata": {"name": "node-csr-1"},
            "spec": {
                "request": _csr_request(),
                "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
                "usages": ["digital signature", "client auth"],
                "expirationSeconds": 3600,
            },
        },
        "selfsubjectaccessreviews.authorization.k8s.io": {
            "spec": {"resourceAttributes": {"verb": "get", "resource": "pods", "namespace": "default"}}
        },
        "selfsubjectreviews.authentication.k8s.io": {},
    }
)
# --- end security kinds ---


def _admitted(resource: ResourceType, obj: Obj) -> Obj:
    result = copy.deepcopy(obj)
    default_object(resource, result)
    return result


@pytest.mark.parametrize("resource", RESOURCE_TYPES, ids=[r.key for r in RESOURCE_TYPES])
def test_valid_objects_pass(resource: ResourceType) -> None:
    assert validate_object(resource, _admitted(resource, VALID[resource.key]), None) == []


def _pod_container(obj: Obj) -> Obj:
    container: Obj = obj["spec"]["containers"][0]
    return container


Mutation = Callable[[Obj], None]
CASES: list[tuple[str, ResourceType, Mutation, str, str]] = [
    (
        "name-uppercase",
        PODS,
        lambda o: o["metadata"].update(name="Web"),
        "FieldValueInvalid",
        "metadata.name",
    ),
    ("name-missing", PODS, lambda o: o["metadata"].pop("name"), "FieldValueRequired", "metadata.name"),
    (
        "namespace-missing",
        PODS,
        lambda o: o["metadata"].pop("namespace"),
        "FieldValueRequired",
        "metadata.namespace",
    ),
    (
        "namespace-on-cluster-scoped",
        NODES,
        lambda o: o["metadata"].update(namespace="x"),
        "FieldValueForbidden",
        "metadata.namespace",
    ),
    (
        "generate-name-bad",
        PODS,
        lambda o: o["metadata"].update(name=None, generateName="Web-"),
        "FieldValueInvalid",
        "metadata.generateName",
    ),
    (
        "label-key",
        PODS,
        lambda o: o["metadata"].update(labels={"a b": "x"}),
        "FieldValueInvalid",
        "metadata.labels",
    ),
    (
        "label-value-long",
        PODS,
        lambda o: o["metadata"].update(labels={"a": "v" * 64}),
        "FieldValueInvalid",
        "metadata.labels",
    ),
    (
        "annotations-too-big",
        PODS,
        lambda o: o["metadata"].update(annotations={"a": "x" * 262_144}),
        "FieldValueTooLong",
        "metadata.annotations",
    ),
    (
        "finalizer-unqualified",
        PODS,
        lambda o: o["metadata"].update(finalizers=["custom"]),
        "FieldValueInvalid",
        "metadata.finalizers[0]",
    ),
    (
        "owner-reference-uid",
        PODS,
        lambda o: o["metadata"].update(
            ownerReferences=[{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "r"}]
        ),
        "FieldValueInvalid",
        "metadata.ownerReferences.uid",
    ),
    (
        "wrong-type-name",
        PODS,
        lambda o: o["metadata"].update(name=5),
        "FieldValueTypeInvalid",
        "metadata.name",
    ),
    (
        "wrong-type-label-value",
        PODS,
        lambda o: o["metadata"].update(labels={"a": 1}),
        "FieldValueTypeInvalid",
        "metadata.labels[a]",
    ),
    ("spec-not-object", PODS, lambda o: o.update(spec=[]), "FieldValueTypeInvalid", "spec"),
    (
        "no-containers",
        PODS,
        lambda o: o["spec"].update(containers=[]),
        "FieldValueRequired",
        "spec.containers",
    ),
    (
        "image-missing",
        PODS,
        lambda o: _pod_container(o).pop("image"),
        "FieldValueRequired",
        "spec.containers[0].image",
    ),
    (
        "container-name-invalid",
        PODS,
        lambda o: _pod_container(o).update(name="C_1"),
        "FieldValueInvalid",
        "spec.containers[0].name",
    ),
    (
        "container-name-duplicate",
        PODS,
        lambda o: o["spec"]["containers"].append({"name": "c", "image": "x"}),
        "FieldValueDuplicate",
        "spec.containers[1].name",
    ),
    (
        "init-container-name-duplicate",
        PODS,
        lambda o: o["spec"].update(initContainers=[{"name": "c", "image": "x"}]),
        "FieldValueDuplicate",
        "spec.containers[0].name",
    ),
    (
        "container-port-range",
        PODS,
        lambda o: _pod_container(o)["ports"][0].update(containerPort=70000),
        "FieldValueInvalid",
        "spec.containers[0].ports[0].containerPort",
    ),
    (
        "container-port-missing",
        PODS,
        lambda o: _pod_container(o)["ports"][0].pop("containerPort"),
        "FieldValueRequired",
        "spec.containers[0].ports[0].containerPort",
    ),
    (
        "container-port-name-duplicate",
        PODS,
        lambda o: _pod_container(o)["ports"].append({"containerPort": 81, "name": "http", "protocol": "TCP"}),
        "FieldValueDuplicate",
        "spec.containers[0].ports[1].name",
    ),
    (
        "port-protocol",
        PODS,
        lambda o: _pod_container(o)["ports"][0].update(protocol="HTTP"),
        "FieldValueNotSupported",
        "spec.containers[0].ports[0].protocol",
    ),
    (
        "bad-quantity",
        PODS,
        lambda o: _pod_container(o).update(resources={"requests": {"cpu": "lots"}}),
        "FieldValueInvalid",
        "spec.containers[0].resources.requests[cpu]",
    ),
    (
        "request-over-limit",
        PODS,
        lambda o: _pod_container(o).update(
            resources={"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}}
        ),
        "FieldValueInvalid",
        "spec.containers[0].resources.requests[memory]",
    ),
    (
        "negative-quantity",
        PODS,
        lambda o: _pod_container(o).update(resources={"requests": {"cpu": "-1"}}),
        "FieldValueInvalid",
        "spec.containers[0].resources.requests[cpu]",
    ),
    (
        "unqualified-extended-resource",
        PODS,
        lambda o: _pod_container(o).update(resources={"limits": {"gpu": "1"}}),
        "FieldValueInvalid",
        "spec.containers[0].resources.limits[gpu]",
    ),
    (
        "restart-policy",
        PODS,
        lambda o: o["spec"].update(restartPolicy="Sometimes"),
        "FieldValueNotSupported",
        "spec.restartPolicy",
    ),
    (
        "dns-policy",
        PODS,
        lambda o: o["spec"].update(dnsPolicy="Google"),
        "FieldValueNotSupported",
        "spec.dnsPolicy",
    ),
    (
        "pull-policy",
        PODS,
        lambda o: _pod_container(o).update(imagePullPolicy="Sometimes"),
        "FieldValueNotSupported",
        "spec.containers[0].imagePullPolicy",
    ),
    (
        "env-name",
        PODS,
        lambda o: _pod_container(o).update(env=[{"name": "1BAD", "value": "x"}]),
        "FieldValueInvalid",
        "spec.containers[0].env[0].name",
    ),
    (
        "mount-unknown-volume",
        PODS,
        lambda o: _pod_container(o).update(volumeMounts=[{"name": "data", "mountPath": "/data"}]),
        "FieldValueNotFound",
        "spec.containers[0].volumeMounts[0].name",
    ),
    (
        "volume-without-source",
        PODS,
        lambda o: o["spec"].update(volumes=[{"name": "data"}]),
        "FieldValueRequired",
        "spec.volumes[0]",
    ),
    (
        "volume-duplicate",
        PODS,
        lambda o: o["spec"].update(volumes=[{"name": "d", "emptyDir": {}}, {"name": "d", "emptyDir": {}}]),
        "FieldValueDuplicate",
        "spec.volumes[1].name",
    ),
    (
        "probe-without-handler",
        PODS,
        lambda o: _pod_container(o).update(livenessProbe={"periodSeconds": 5}),
        "FieldValueRequired",
        "spec.containers[0].livenessProbe",
    ),
    (
        "liveness-success-threshold",
        PODS,
        lambda o: _pod_container(o).update(livenessProbe={"tcpSocket": {"port": 80}, "successThreshold": 2}),
        "FieldValueInvalid",
        "spec.containers[0].livenessProbe.successThreshold",
    ),
    (
        "toleration-effect",
        PODS,
        lambda o: o["spec"].update(tolerations=[{"key": "a", "operator": "Exists", "effect": "Never"}]),
        "FieldValueNotSupported",
        "spec.tolerations[0].effect",
    ),
    (
        "node-affinity-operator",
        PODS,
        lambda o: o["spec"].update(
            affinity={
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "Near"}]}]
                    }
                }
            }
        ),
        "FieldValueNotSupported",
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
        ".matchExpressions[0].operator",
    ),
    (
        "spread-max-skew",
        PODS,
        lambda o: o["spec"].update(
            topologySpreadConstraints=[
                {"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}
            ]
        ),
        "FieldValueInvalid",
        "spec.topologySpreadConstraints[0].maxSkew",
    ),
    (
        "deployment-no-selector",
        DEPLOYMENTS,
        lambda o: o["spec"].pop("selector"),
        "FieldValueRequired",
        "spec.selector",
    ),
    (
        "deployment-empty-selector",
        DEPLOYMENTS,
        lambda o: o["spec"].update(selector={}),
        "FieldValueInvalid",
        "spec.selector",
    ),
    (
        "deployment-selector-mismatch",
        DEPLOYMENTS,
        lambda o: o["spec"].update(selector={"matchLabels": {"app": "db"}}),
        "FieldValueInvalid",
        "spec.template.metadata.labels",
    ),
    (
        "deployment-negative-replicas",
        DEPLOYMENTS,
        lambda o: o["spec"].update(replicas=-1),
        "FieldValueInvalid",
        "spec.replicas",
    ),
    (
        "deployment-replicas-string",
        DEPLOYMENTS,
        lambda o: o["spec"].update(replicas="3"),
        "FieldValueTypeInvalid",
        "spec.replicas",
    ),
    (
        "deployment-template-restart",
        DEPLOYMENTS,
        lambda o: o["spec"]["template"]["spec"].update(restartPolicy="Never"),
        "FieldValueNotSupported",
        "spec.template.spec.restartPolicy",
    ),
    (
        "deployment-template-container",
        DEPLOYMENTS,
        lambda o: o["spec"]["template"]["spec"]["containers"][0].pop("image"),
        "FieldValueRequired",
        "spec.template.spec.containers[0].image",
    ),
    (
        "deployment-strategy",
        DEPLOYMENTS,
        lambda o: o["spec"].update(strategy={"type": "BlueGreen"}),
        "FieldValueNotSupported",
        "spec.strategy.type",
    ),
    (
        "deployment-both-zero",
        DEPLOYMENTS,
        lambda o: o["spec"].update(
            strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}
        ),
        "FieldValueInvalid",
        "spec.strategy.rollingUpdate.maxUnavailable",
    ),
    (
        "deployment-bad-percent",
        DEPLOYMENTS,
        lambda o: o["spec"].update(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "lots"}}),
        "FieldValueInvalid",
        "spec.strategy.rollingUpdate.maxSurge",
    ),
    (
        "service-name-dns1035",
        SERVICES,
        lambda o: o["metadata"].update(name="1web"),
        "FieldValueInvalid",
        "metadata.name",
    ),
    ("service-no-ports", SERVICES, lambda o: o["spec"].update(ports=[]), "FieldValueRequired", "spec.ports"),
    (
        "service-type",
        SERVICES,
        lambda o: o["spec"].update(type="Magic"),
        "FieldValueNotSupported",
        "spec.type",
    ),
    (
        "service-port-names-required",
        SERVICES,
        lambda o: o["spec"].update(ports=[{"port": 80, "name": "a"}, {"port": 81}]),
        "FieldValueRequired",
        "spec.ports[1].name",
    ),
    (
        "service-node-port-on-cluster-ip",
        SERVICES,
        lambda o: o["spec"]["ports"][0].update(nodePort=30080),
        "FieldValueForbidden",
        "spec.ports[0].nodePort",
    ),
    (
        "service-external-name",
        SERVICES,
        lambda o: o["spec"].update(type="ExternalName", ports=[]),
        "FieldValueRequired",
        "spec.externalName",
    ),
    (
        "namespace-name-dots",
        NAMESPACES,
        lambda o: o["metadata"].update(name="a.b"),
        "FieldValueInvalid",
        "metadata.name",
    ),
    (
        "node-taint-effect",
        NODES,
        lambda o: o["spec"]["taints"][0].update(effect="Sometimes"),
        "FieldValueNotSupported",
        "spec.taints[0].effect",
    ),
    ("configmap-key", CONFIGMAPS, lambda o: o.update(data={"a/b": "x"}), "FieldValueInvalid", "data[a/b]"),
    (
        "configmap-too-big",
        CONFIGMAPS,
        lambda o: o.update(data={"a": "x" * (1024 * 1024 + 1)}),
        "FieldValueTooLong",
        "",
    ),
    ("secret-base64", SECRETS, lambda o: o.update(data={"k": "not base64!"}), "FieldValueInvalid", "data[k]"),
    (
        "secret-tls-keys",
        SECRETS,
        lambda o: o.update(type="kubernetes.io/tls"),
        "FieldValueRequired",
        "data[tls.crt]",
    ),
    (
        "endpoints-ip",
        ENDPOINTS,
        lambda o: o["subsets"][0]["addresses"][0].update(ip="nope"),
        "FieldValueInvalid",
        "subsets[0].addresses[0].ip",
    ),
    (
        "event-namespace-mismatch",
        EVENTS,
        lambda o: o["involvedObject"].update(namespace="other"),
        "FieldValueInvalid",
        "involvedObject.namespace",
    ),
    (
        "lease-duration",
        LEASES,
        lambda o: o["spec"].update(leaseDurationSeconds=0),
        "FieldValueInvalid",
        "spec.leaseDurationSeconds",
    ),
    (
        "hpa-min-replicas",
        HORIZONTAL_POD_AUTOSCALERS,
        lambda o: o["spec"].update(minReplicas=0),
        "FieldValueInvalid",
        "spec.minReplicas",
    ),
    (
        "hpa-max-below-min",
        HORIZONTAL_POD_AUTOSCALERS,
        lambda o: o["spec"].update(minReplicas=6),
        "FieldValueInvalid",
        "spec.maxReplicas",
    ),
    (
        "hpa-target-name",
        HORIZONTAL_POD_AUTOSCALERS,
        lambda o: o["spec"]["scaleTargetRef"].pop("name"),
        "FieldValueRequired",
        "spec.scaleTargetRef.name",
    ),
    (
        "hpa-policy-period",
        HORIZONTAL_POD_AUTOSCALERS,
        lambda o: o["spec"].update(
            behavior={"scaleUp": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 4000}]}}
        ),
        "FieldValueInvalid",
        "spec.behavior.scaleUp.policies[0].periodSeconds",
    ),
    (
        "priority-reserved-prefix",
        PRIORITY_CLASSES,
        lambda o: o["metadata"].update(name="system-mine"),
        "FieldValueForbidden",
        "metadata.name",
    ),
    (
        "priority-too-high",
        PRIORITY_CLASSES,
        lambda o: o.update(value=2_000_000_000),
        "FieldValueForbidden",
        "value",
    ),
    ("priority-missing-value", PRIORITY_CLASSES, lambda o: o.pop("value"), "FieldValueRequired", "value"),
    ("runtime-handler", RUNTIME_CLASSES, lambda o: o.update(handler="Wasm"), "FieldValueInvalid", "handler"),
    (
        "service-account-name",
        SERVICE_ACCOUNTS,
        lambda o: o["metadata"].update(name="-sa"),
        "FieldValueInvalid",
        "metadata.name",
    ),
]


@pytest.mark.parametrize(
    ("resource", "mutate", "error_type", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_invalid_objects(resource: ResourceType, mutate: Mutation, error_type: str, field: str) -> None:
    obj = copy.deepcopy(VALID[resource.key])
    mutate(obj)
    errors = validate_object(resource, _admitted(resource, obj), None)
    assert (error_type, field) in [(error.type, error.field) for error in errors], errors


def test_messages_use_kubernetes_wording() -> None:
    obj = copy.deepcopy(VALID["pods"])
    obj["metadata"]["name"] = "Foo"
    (error,) = validate_object(PODS, _admitted(PODS, obj), None)
    assert error.message.startswith(
        'Invalid value: "Foo": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric'
    )
    assert invalid_status_message("Pod", "Foo", [error]).startswith(
        'Pod "Foo" is invalid: metadata.name: Invalid'
    )


UPDATE_CASES: list[tuple[str, ResourceType, Mutation, str | None]] = [
    ("pod-image-change-allowed", PODS, lambda o: _pod_container(o).update(image="nginx:2"), None),
    ("pod-restart-policy-change", PODS, lambda o: o["spec"].update(restartPolicy="Never"), "spec"),
    ("pod-label-change-allowed", PODS, lambda o: o["metadata"].update(labels={"app": "x"}), None),
    ("pod-name-change", PODS, lambda o: o["metadata"].update(name="other"), "metadata.name"),
    (
        "pod-add-toleration-allowed",
        PODS,
        lambda o: o["spec"]["tolerations"].append({"key": "a", "operator": "Exists"}),
        None,
    ),
    ("pod-remove-toleration", PODS, lambda o: o["spec"]["tolerations"].pop(), "spec.tolerations"),
    (
        "deployment-selector-immutable",
        DEPLOYMENTS,
        lambda o: (
            o["spec"].update(selector={"matchLabels": {"app": "web", "x": "y"}}),
            o["spec"]["template"]["metadata"]["labels"].update(x="y"),
        ),
        "spec.selector",
    ),
    ("deployment-scale-allowed", DEPLOYMENTS, lambda o: o["spec"].update(replicas=5), None),
    ("secret-type-immutable", SECRETS, lambda o: o.update(type="custom/type"), "type"),
    ("priority-value-immutable", PRIORITY_CLASSES, lambda o: o.update(value=7), "value"),
    ("runtime-handler-immutable", RUNTIME_CLASSES, lambda o: o.update(handler="oci"), "handler"),
]


@pytest.mark.parametrize(
    ("resource", "mutate", "field"), [c[1:] for c in UPDATE_CASES], ids=[c[0] for c in UPDATE_CASES]
)
def test_updates(resource: ResourceType, mutate: Mutation, field: str | None) -> None:
    old = _admitted(resource, VALID[resource.key])
    new = copy.deepcopy(old)
    mutate(new)
    fields = [error.field for error in validate_object(resource, new, old)]
    assert (field in fields) if field is not None else fields == []


@pytest.mark.parametrize(
    ("old_data", "new_data", "immutable", "field"),
    [
        ({"a": "1"}, {"a": "2"}, True, "data"),
        ({"a": "1"}, {"a": "1"}, None, "immutable"),
        ({"a": "1"}, {"a": "2"}, False, None),
    ],
    ids=["data-frozen", "cannot-unset", "mutable"],
)
def test_immutable_config_maps(
    old_data: Obj, new_data: Obj, immutable: bool | None, field: str | None
) -> None:
    old = {**VALID["configmaps"], "data": old_data, "immutable": immutable is not False}
    new = {**VALID["configmaps"], "data": new_data}
    if immutable is not None:
        new["immutable"] = immutable
    if immutable is False:
        old["immutable"] = False
    fields = [error.field for error in validate_object(CONFIGMAPS, new, old)]
    assert (field in fields) if field is not None else fields == []


def _scramble(value: Any, rng: random.Random) -> Any:
    """Replace a random subtree by a value of a random JSON type."""
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(sorted(value))
        return {**value, key: _scramble(value[key], rng)}
    if isinstance(value, list) and value and rng.random() < 0.8:
        index = rng.randrange(len(value))
        return [*value[:index], _scramble(value[index], rng), *value[index + 1 :]]
    return rng.choice([None, True, -1, 3.5, "", "x y", [], [1], {}, {"a": 1}, "9" * 70])


@pytest.mark.parametrize("resource", RESOURCE_TYPES, ids=[r.key for r in RESOURCE_TYPES])
def test_validation_and_defaulting_never_raise(resource: ResourceType) -> None:
    rng = random.Random(resource.key)
    base = _admitted(resource, VALID[resource.key])
    for _ in range(150):
        obj = _scramble(base, rng)
        if isinstance(obj, dict):
            default_object(resource, obj)
        validate_object(resource, obj, None)
        validate_object(resource, obj, base)
