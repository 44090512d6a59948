"""The one boundary between API objects and the scheduler's records.

`pod_info` and `node_info` accept a typed model from `kubelite.api.models` or its wire form (a
camelCase dict, as the Kubernetes API serves it), and compile it into an immutable `PodInfo` /
`NodeInfo`: quantities become ints through `kubelite.api.quantity`, the pod's effective requests
are computed the Kubernetes way (sum of containers, at least each init container, plus overhead;
a limit without a request counts as the request), and selectors become `Selector` records.

Known simplification: a non-empty `namespaceSelector` in a pod affinity term is read as "the listed
namespaces", since the scheduler does not watch namespaces yet; an empty one means all namespaces.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import msgspec

from kubelite.api.labels import Requirement, Selector, SelectorError, selector_from_object
from kubelite.api.models.pod import PodSpec
from kubelite.api.pod_resources import container_requests, pod_requests
from kubelite.api.printers.common import parse_timestamp
from kubelite.api.quantity import parse_resource
from kubelite.scheduler.records import (
    CPU,
    GPU,
    GPU_INDICES_ANNOTATION,
    GPU_MILLI,
    MATCH_NOTHING,
    MEMORY,
    AffinityTerm,
    GpuRequest,
    InclusionPolicy,
    NodeInfo,
    PodInfo,
    SpreadConstraint,
    Taint,
    TaintEffect,
    Toleration,
    WhenUnsatisfiable,
    node_requirement,
)

Json = Mapping[str, Any]

DEFAULT_NONZERO_CPU = 100
DEFAULT_NONZERO_MEMORY = 200 * 1024 * 1024


def wire(obj: object) -> Json:
    """The wire form (camelCase dict) of a typed model, or the mapping itself."""
    if isinstance(obj, Mapping):
        return cast(Json, obj)
    return cast(Json, msgspec.to_builtins(obj))


def label_selector(raw: Json | None) -> Selector:
    """A metav1.LabelSelector: nil matches nothing, empty matches everything (the API validated it)."""
    try:
        return selector_from_object(raw)
    except SelectorError:
        return MATCH_NOTHING


def _node_requirement(raw: Json) -> Requirement:
    operator = str(raw.get("operator") or "In")
    return node_requirement(str(raw.get("key", "")), operator, tuple(str(v) for v in raw.get("values") or ()))


def node_selector_term(raw: Json) -> Selector:
    """A NodeSelectorTerm; matchFields (only metadata.name exists) read the pseudo-label of that name."""
    requirements = [_node_requirement(e) for e in raw.get("matchExpressions") or ()]
    requirements += [_node_requirement(e) for e in raw.get("matchFields") or ()]
    # An empty term matches no node in Kubernetes ("a null or empty term matches no objects").
    return Selector(tuple(requirements)) if requirements else MATCH_NOTHING


def _container_key(container: Json) -> tuple[object, ...]:
    resources = container.get("resources") or {}
    return (
        tuple(sorted((resources.get("requests") or {}).items())),
        tuple(sorted((resources.get("limits") or {}).items())),
        container.get("restartPolicy"),
    )


def _effective_requests(spec: Json) -> tuple[dict[str, int], int, int]:
    """(requests by `kubelite.api.pod_resources.pod_requests`, non-zero cpu, non-zero memory).

    Pods of one workload share their resource stanzas, so the result is memoised on them: parsing
    quantities is most of the cost of compiling a pod."""
    key = (
        tuple(_container_key(c) for c in spec.get("containers") or ()),
        tuple(_container_key(c) for c in spec.get("initContainers") or ()),
        tuple(sorted((spec.get("overhead") or {}).items())),
    )
    cached = _REQUESTS_MEMO.get(key)
    if cached is None:
        if len(_REQUESTS_MEMO) >= 4096:
            _REQUESTS_MEMO.clear()
        cached = _REQUESTS_MEMO[key] = _compute_requests(spec)
    totals, nonzero_cpu, nonzero_memory = cached
    return dict(totals), nonzero_cpu, nonzero_memory


_REQUESTS_MEMO: dict[tuple[object, ...], tuple[dict[str, int], int, int]] = {}


def _compute_requests(spec: Json) -> tuple[dict[str, int], int, int]:
    typed = msgspec.convert(spec, PodSpec)
    totals = {name: amount for name, amount in pod_requests(typed).items() if amount}
    nonzero_cpu = nonzero_memory = 0
    for container in typed.containers:
        requests = container_requests(container)
        nonzero_cpu += requests.get(CPU) or DEFAULT_NONZERO_CPU
        nonzero_memory += requests.get(MEMORY) or DEFAULT_NONZERO_MEMORY
    return totals, nonzero_cpu, nonzero_memory


def _gpu_request(requests: dict[str, int]) -> GpuRequest | None:
    whole = requests.get(GPU, 0)
    share = requests.pop(GPU_MILLI, 0)
    if whole >= 1:
        return GpuRequest(whole, 1000)
    if 1 <= share < 1000:
        return GpuRequest(1, share)
    return None


def _gpu_indices(annotations: Mapping[str, str]) -> tuple[int, ...]:
    text = annotations.get(GPU_INDICES_ANNOTATION, "")
    return tuple(int(part) for part in text.split(",") if part.strip().isdigit())


def _affinity_term(raw: Json, own_namespace: str) -> AffinityTerm:
    namespaces: frozenset[str] | None = frozenset(raw.get("namespaces") or ())
    if not namespaces:
        namespace_selector = raw.get("namespaceSelector")
        namespaces = None if namespace_selector is not None else frozenset({own_namespace})
    return AffinityTerm(label_selector(raw.get("labelSelector")), str(raw.get("topologyKey", "")), namespaces)


def _weighted_terms(raw: list[Json] | None, namespace: str) -> tuple[tuple[int, AffinityTerm], ...]:
    return tuple(
        (int(t.get("weight", 0)), _affinity_term(t.get("podAffinityTerm") or {}, namespace))
        for t in raw or ()
    )


def _spread_constraint(raw: Json, labels: Mapping[str, str]) -> SpreadConstraint:
    selector = label_selector(raw.get("labelSelector"))
    extra = tuple(
        Requirement(key, "in", (labels[key],)) for key in raw.get("matchLabelKeys") or () if key in labels
    )
    if extra and not selector.matches_nothing:
        selector = Selector(selector.requirements + extra)
    return SpreadConstraint(
        max_skew=int(raw.get("maxSkew", 1)),
        topology_key=str(raw.get("topologyKey", "")),
        when_unsatisfiable=cast(WhenUnsatisfiable, raw.get("whenUnsatisfiable", "DoNotSchedule")),
        selector=selector,
        min_domains=int(raw.get("minDomains") or 1),
        node_affinity_policy=cast(InclusionPolicy, raw.get("nodeAffinityPolicy") or "Honor"),
        node_taints_policy=cast(InclusionPolicy, raw.get("nodeTaintsPolicy") or "Ignore"),
    )


def pod_info(obj: object, priority_classes: Mapping[str, int] | None = None) -> PodInfo:
    """Compile a Pod. `priority_classes` resolves `priorityClassName` when admission left no priority."""
    raw = wire(obj)
    metadata: Json = raw.get("metadata") or {}
    spec: Json = raw.get("spec") or {}
    status: Json = raw.get("status") or {}
    namespace = str(metadata.get("namespace") or "default")
    labels = {str(k): str(v) for k, v in (metadata.get("labels") or {}).items()}
    requests, nonzero_cpu, nonzero_memory = _effective_requests(spec)
    gpu = _gpu_request(requests)
    priority = spec.get("priority")
    if priority is None:
        priority = (priority_classes or {}).get(str(spec.get("priorityClassName") or ""), 0)
    affinity: Json = spec.get("affinity") or {}
    node_affinity: Json = affinity.get("nodeAffinity") or {}
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    pod_affinity: Json = affinity.get("podAffinity") or {}
    pod_anti_affinity: Json = affinity.get("podAntiAffinity") or {}
    required_key = "requiredDuringSchedulingIgnoredDuringExecution"
    preferred_key = "preferredDuringSchedulingIgnoredDuringExecution"
    return PodInfo(
        uid=str(metadata.get("uid") or ""),
        namespace=namespace,
        name=str(metadata.get("name") or ""),
        labels=labels,
        priority=int(priority),
        creation=parse_timestamp(metadata.get("creationTimestamp")) or 0.0,
        scheduler_name=str(spec.get("schedulerName") or "default-scheduler"),
        node_name=str(spec.get("nodeName") or ""),
        nominated_node_name=str(status.get("nominatedNodeName") or ""),
        requests=requests,
        nonzero_cpu=nonzero_cpu or DEFAULT_NONZERO_CPU,
        nonzero_memory=nonzero_memory or DEFAULT_NONZERO_MEMORY,
        gpu=gpu,
        gpu_indices=_gpu_indices(metadata.get("annotations") or {}),
        tolerations=tuple(
            Toleration(
                str(t.get("key") or ""),
                "Exists" if t.get("operator") == "Exists" else "Equal",
                str(t.get("value") or ""),
                str(t.get("effect") or ""),
            )
            for t in spec.get("tolerations") or ()
        ),
        node_selector=Selector(
            tuple(Requirement(str(k), "=", (str(v),)) for k, v in (spec.get("nodeSelector") or {}).items())
        ),
        required_node_affinity=None
        if required is None
        else tuple(node_selector_term(term) for term in required.get("nodeSelectorTerms") or ()),
        preferred_node_affinity=tuple(
            (int(term.get("weight", 0)), node_selector_term(term.get("preference") or {}))
            for term in node_affinity.get(preferred_key) or ()
        ),
        spread_constraints=tuple(
            _spread_constraint(c, labels) for c in spec.get("topologySpreadConstraints") or ()
        ),
        required_affinity=tuple(_affinity_term(t, namespace) for t in pod_affinity.get(required_key) or ()),
        required_anti_affinity=tuple(
            _affinity_term(t, namespace) for t in pod_anti_affinity.get(required_key) or ()
        ),
        preferred_affinity=_weighted_terms(pod_affinity.get(preferred_key), namespace),
        preferred_anti_affinity=_weighted_terms(pod_anti_affinity.get(preferred_key), namespace),
        preempt_never=spec.get("preemptionPolicy") == "Never",
        terminating=status.get("phase") in ("Succeeded", "Failed"),
        deleting=metadata.get("deletionTimestamp") is not None,
        controller_kind=next(
            (str(o.get("kind", "")) for o in metadata.get("ownerReferences") or () if o.get("controller")), ""
        ),
    )


def node_info(obj: object) -> NodeInfo:
    raw = wire(obj)
    metadata: Json = raw.get("metadata") or {}
    spec: Json = raw.get("spec") or {}
    status: Json = raw.get("status") or {}
    quantities = status.get("allocatable") or status.get("capacity") or {}
    return NodeInfo(
        name=str(metadata.get("name") or ""),
        uid=str(metadata.get("uid") or ""),
        labels={str(k): str(v) for k, v in (metadata.get("labels") or {}).items()},
        taints=tuple(
            Taint(str(t.get("key") or ""), str(t.get("value") or ""), cast(TaintEffect, t.get("effect")))
            for t in spec.get("taints") or ()
        ),
        unschedulable=bool(spec.get("unschedulable")),
        allocatable={str(name): parse_resource(str(name), q) for name, q in quantities.items()},
    )
