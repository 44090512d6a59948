"""Per-plugin behaviour against Kubernetes' documented semantics, as tables of cases."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from kubelite.scheduler.framework.cycle_state import CycleState
from kubelite.scheduler.framework.interface import FilterResult
from kubelite.scheduler.nodetable import NodeTable
from kubelite.scheduler.plugins.inter_pod_affinity import InterPodAffinity
from kubelite.scheduler.plugins.node_affinity import NodeAffinity
from kubelite.scheduler.plugins.node_name import NodeName
from kubelite.scheduler.plugins.node_resources import NodeResourcesBalancedAllocation, NodeResourcesFit
from kubelite.scheduler.plugins.node_unschedulable import NodeUnschedulable
from kubelite.scheduler.plugins.taint_toleration import TaintToleration
from kubelite.scheduler.plugins.topology_spread import PodTopologySpread
from kubelite.scheduler.records import NodeInfo, PodInfo

from .conftest import make_node, make_pod, table_of


def feasible_names(result: FilterResult, table: NodeTable) -> set[str]:
    mask = table.present if result.feasible is None else result.feasible & table.present
    return {table.node_at(int(row)).name for row in np.flatnonzero(mask)}


def reasons(result: FilterResult) -> dict[str, int]:
    return {r.reason: int(r.nodes.sum()) for r in result.all_rejections() if r.nodes.any()}


def run_filter(plugin: Any, pod: PodInfo, table: NodeTable) -> FilterResult:
    state = CycleState()
    if hasattr(plugin, "pre_filter"):
        plugin.pre_filter(state, pod, table)
    result: FilterResult = plugin.filter(state, pod, table)
    return result


FIT_CASES = [
    pytest.param(make_node("n", cpu="1"), (), make_pod("p", cpu="500m"), True, {}, id="fits"),
    pytest.param(
        make_node("n", cpu="1"), (), make_pod("p", cpu="1500m"), False, {"Insufficient cpu": 1}, id="cpu"
    ),
    pytest.param(
        make_node("n", cpu="1", memory="1Gi"),
        (make_pod("old", cpu="800m", memory="900Mi", node_name="n"),),
        make_pod("p", cpu="300m", memory="200Mi"),
        False,
        {"Insufficient cpu": 1, "Insufficient memory": 1},
        id="both-counted",
    ),
    pytest.param(
        make_node("n", pods="1"),
        (make_pod("old", node_name="n"),),
        make_pod("p"),
        False,
        {"Too many pods": 1},
        id="pod-slots",
    ),
    pytest.param(
        make_node("n"),
        (),
        make_pod("p", extra_requests={"example.com/foo": "1"}),
        False,
        {"Insufficient example.com/foo": 1},
        id="extended-missing",
    ),
    pytest.param(
        make_node("n", extra={"nvidia.com/gpu": "2"}),
        (),
        make_pod("p", extra_requests={"nvidia.com/gpu": "2"}),
        True,
        {},
        id="extended-fits",
    ),
]


@pytest.mark.parametrize(("node", "existing", "pod", "fits", "expected_reasons"), FIT_CASES)
def test_node_resources_fit_filter(
    node: NodeInfo, existing: tuple[PodInfo, ...], pod: PodInfo, fits: bool, expected_reasons: dict[str, int]
) -> None:
    table = table_of(node, pods=existing)
    result = run_filter(NodeResourcesFit(), pod, table)
    assert (feasible_names(result, table) == {"n"}) is fits
    if not fits:
        assert reasons(result) == expected_reasons


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        # node: 4 cpu / 8Gi; existing 1 cpu / 2Gi; pod 1 cpu / 2Gi -> requested 2 cpu (50%), 4Gi (50%).
        pytest.param("LeastAllocated", 50, id="least"),
        pytest.param("MostAllocated", 50, id="most"),
        pytest.param("RequestedToCapacityRatio", 50, id="ratio-default-shape"),
    ],
)
def test_fit_scoring_strategies(strategy: Any, expected: int) -> None:
    table = table_of(
        make_node("n", cpu="4", memory="8Gi"), pods=(make_pod("old", cpu="1", memory="2Gi", node_name="n"),)
    )
    pod = make_pod("p", cpu="1", memory="2Gi")
    scores = NodeResourcesFit(strategy).score(CycleState(), pod, table, table.present)
    assert int(scores[0]) == expected


def test_least_and_most_allocated_prefer_opposite_nodes() -> None:
    table = table_of(
        make_node("empty"),
        make_node("busy"),
        pods=(make_pod("old", cpu="3", memory="6Gi", node_name="busy"),),
    )
    pod = make_pod("p", cpu="500m", memory="512Mi")
    least = NodeResourcesFit("LeastAllocated").score(CycleState(), pod, table, table.present)
    most = NodeResourcesFit("MostAllocated").score(CycleState(), pod, table, table.present)
    assert least[0] > least[1] and most[1] > most[0]


def test_score_cache_follows_assumed_pods() -> None:
    table = table_of(make_node("a"), make_node("b"))
    plugin = NodeResourcesFit()
    pod = make_pod("p", cpu="1", memory="1Gi")
    first = plugin.score(CycleState(), pod, table, table.present).copy()
    table.assume_pod(make_pod("x", cpu="2", memory="2Gi").placed("a"), 0)
    second = plugin.score(CycleState(), pod, table, table.present)
    assert second[0] < first[0] and second[1] == first[1]
    fresh = NodeResourcesFit().score(CycleState(), pod, table, table.present)
    assert np.array_equal(second, fresh)


def test_balanced_allocation_prefers_balanced_node() -> None:
    table = table_of(
        make_node("cpu-heavy"),
        make_node("even"),
        pods=(make_pod("old", cpu="3", memory="1Gi", node_name="cpu-heavy"),),
    )
    scores = NodeResourcesBalancedAllocation().score(
        CycleState(), make_pod("p", cpu="1", memory="2Gi"), table, table.present
    )
    # cpu-heavy: cpu 4/4=1.0, mem 3/8=0.375 -> std 0.3125 -> 68; even: 0.25 vs 0.25 -> 100.
    assert scores.tolist() == [68, 100]


TAINT_GPU = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
TAINT_CASES = [
    pytest.param([TAINT_GPU], [], False, id="untolerated-noschedule"),
    pytest.param(
        [TAINT_GPU],
        [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}],
        True,
        id="tolerated-equal",
    ),
    pytest.param(
        [TAINT_GPU], [{"key": "dedicated", "operator": "Exists"}], True, id="tolerated-exists-any-effect"
    ),
    pytest.param([TAINT_GPU], [{"operator": "Exists"}], True, id="empty-key-exists-tolerates-all"),
    pytest.param(
        [TAINT_GPU], [{"key": "dedicated", "value": "cpu", "effect": "NoSchedule"}], False, id="wrong-value"
    ),
    pytest.param([{**TAINT_GPU, "effect": "PreferNoSchedule"}], [], True, id="prefer-does-not-filter"),
    pytest.param([{**TAINT_GPU, "effect": "NoExecute"}], [], False, id="noexecute-filters"),
]


@pytest.mark.parametrize(("taints", "tolerations", "fits"), TAINT_CASES)
def test_taint_toleration_filter(
    taints: list[dict[str, str]], tolerations: list[dict[str, str]], fits: bool
) -> None:
    table = table_of(make_node("n", taints=taints))
    result = run_filter(TaintToleration(), make_pod("p", tolerations=tolerations), table)
    assert (feasible_names(result, table) == {"n"}) is fits
    if not fits:
        assert list(reasons(result)) == [f"node(s) had untolerated taint {{dedicated: {taints[0]['value']}}}"]


def test_taint_toleration_score_prefers_fewer_prefer_no_schedule_taints() -> None:
    soft = {"key": "a", "value": "1", "effect": "PreferNoSchedule"}
    table = table_of(
        make_node("clean"),
        make_node("one", taints=[soft]),
        make_node("two", taints=[soft, {**soft, "key": "b"}]),
    )
    plugin = TaintToleration()
    pod = make_pod("p")
    scores = plugin.normalize_scores(
        CycleState(), pod, plugin.score(CycleState(), pod, table, table.present), table.present
    )
    assert scores.tolist() == [100, 50, 0]


def expr(key: str, operator: str, *values: str) -> dict[str, Any]:
    return {"key": key, "operator": operator, "values": list(values)}


def required(*terms: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": term} for term in terms]
            }
        }
    }


AFFINITY_CASES = [
    pytest.param({"nodeSelector": {"disk": "ssd"}}, {"a"}, id="node-selector"),
    pytest.param({"affinity": required([expr("disk", "In", "ssd", "nvme")])}, {"a", "c"}, id="in"),
    pytest.param(
        {"affinity": required([expr("disk", "NotIn", "ssd")])}, {"b", "c", "d"}, id="notin-includes-missing"
    ),
    pytest.param({"affinity": required([expr("disk", "Exists")])}, {"a", "b", "c"}, id="exists"),
    pytest.param({"affinity": required([expr("disk", "DoesNotExist")])}, {"d"}, id="does-not-exist"),
    pytest.param({"affinity": required([expr("cores", "Gt", "8")])}, {"c"}, id="gt"),
    pytest.param({"affinity": required([expr("cores", "Lt", "8")])}, {"a"}, id="lt"),
    pytest.param(
        {"affinity": required([expr("disk", "In", "hdd")], [expr("cores", "Gt", "8")])},
        {"b", "c"},
        id="terms-are-ored",
    ),
    pytest.param(
        {"affinity": required([expr("disk", "In", "ssd"), expr("cores", "Gt", "8")])},
        set(),
        id="expressions-are-anded",
    ),
    pytest.param(
        {
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [{"matchFields": [expr("metadata.name", "In", "d")]}]
                    }
                }
            }
        },
        {"d"},
        id="match-fields",
    ),
    pytest.param(
        {"affinity": required([expr("kubernetes.io/hostname", "In", "b")])}, {"b"}, id="hostname-per-node"
    ),
]


@pytest.mark.parametrize(("spec", "expected"), AFFINITY_CASES)
def test_node_affinity_filter(spec: dict[str, Any], expected: set[str]) -> None:
    table = table_of(
        make_node("a", labels={"disk": "ssd", "cores": "4"}),
        make_node("b", labels={"disk": "hdd", "cores": "8"}),
        make_node("c", labels={"disk": "nvme", "cores": "16"}),
        make_node("d"),
    )
    result = run_filter(NodeAffinity(), make_pod("p", **spec), table)
    assert feasible_names(result, table) == expected
    if len(expected) < 4:
        assert reasons(result) == {"node(s) didn't match Pod's node affinity/selector": 4 - len(expected)}


def test_node_affinity_preferred_score() -> None:
    table = table_of(make_node("a", labels={"zone": "x"}), make_node("b", labels={"zone": "y"}))
    pod = make_pod(
        "p",
        affinity={
            "nodeAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 80, "preference": {"matchExpressions": [expr("zone", "In", "y")]}},
                    {"weight": 20, "preference": {"matchExpressions": [expr("zone", "In", "x")]}},
                ]
            }
        },
    )
    plugin = NodeAffinity()
    raw = plugin.score(CycleState(), pod, table, table.present)
    assert plugin.normalize_scores(CycleState(), pod, raw, table.present).tolist() == [25, 100]


@pytest.mark.parametrize(
    ("unschedulable", "tolerations", "fits"),
    [
        pytest.param(False, [], True, id="schedulable"),
        pytest.param(True, [], False, id="cordoned"),
        pytest.param(
            True,
            [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}],
            True,
            id="tolerates-cordon",
        ),
    ],
)
def test_node_unschedulable(unschedulable: bool, tolerations: list[dict[str, str]], fits: bool) -> None:
    table = table_of(make_node("n", unschedulable=unschedulable))
    result = run_filter(NodeUnschedulable(), make_pod("p", tolerations=tolerations), table)
    assert (feasible_names(result, table) == {"n"}) is fits


def test_node_name_filter() -> None:
    table = table_of(make_node("a"), make_node("b"))
    pod = make_pod("p")
    named = PodInfo(**{**{f: getattr(pod, f) for f in pod.__dataclass_fields__}, "node_name": "b"})
    assert feasible_names(run_filter(NodeName(), named, table), table) == {"b"}


def zone_nodes() -> list[NodeInfo]:
    return [make_node(f"{zone}{i}", labels={"zone": zone}) for zone in ("a", "b", "c") for i in (1, 2)]


def spread_pod(
    name: str, max_skew: int = 1, when: str = "DoNotSchedule", min_domains: int | None = None, **extra: Any
) -> PodInfo:
    constraint: dict[str, Any] = {
        "maxSkew": max_skew,
        "topologyKey": "zone",
        "whenUnsatisfiable": when,
        "labelSelector": {"matchLabels": {"app": "web"}},
    }
    if min_domains is not None:
        constraint["minDomains"] = min_domains
    return make_pod(name, labels={"app": "web"}, topologySpreadConstraints=[constraint], **extra)


SPREAD_CASES = [
    # zone a holds 2 matching pods, zone b 1, zone c 0.
    pytest.param(1, None, {"c1", "c2"}, id="max-skew-1"),
    pytest.param(2, None, {"b1", "b2", "c1", "c2"}, id="max-skew-2"),
    pytest.param(3, None, {"a1", "a2", "b1", "b2", "c1", "c2"}, id="max-skew-3"),
]


@pytest.mark.parametrize(("max_skew", "min_domains", "expected"), SPREAD_CASES)
def test_topology_spread_filter(max_skew: int, min_domains: int | None, expected: set[str]) -> None:
    existing = (
        make_pod("w1", labels={"app": "web"}, node_name="a1"),
        make_pod("w2", labels={"app": "web"}, node_name="a2"),
        make_pod("w3", labels={"app": "web"}, node_name="b1"),
        make_pod("other", labels={"app": "db"}, node_name="c1"),
    )
    table = table_of(*zone_nodes(), pods=existing)
    result = run_filter(PodTopologySpread(), spread_pod("p", max_skew, min_domains=min_domains), table)
    assert feasible_names(result, table) == expected


def test_topology_spread_min_domains_treats_global_min_as_zero() -> None:
    nodes = [make_node("a1", labels={"zone": "a"}), make_node("b1", labels={"zone": "b"})]
    existing = (
        make_pod("w1", labels={"app": "web"}, node_name="a1"),
        make_pod("w2", labels={"app": "web"}, node_name="b1"),
    )
    table = table_of(*nodes, pods=existing)
    without = run_filter(PodTopologySpread(), spread_pod("p", 1), table)
    with_min = run_filter(PodTopologySpread(), spread_pod("p", 1, min_domains=3), table)
    assert feasible_names(without, table) == {"a1", "b1"}
    assert feasible_names(with_min, table) == set()
    assert reasons(with_min) == {"node(s) didn't match pod topology spread constraints": 2}


def test_topology_spread_missing_label_is_reported() -> None:
    table = table_of(make_node("a1", labels={"zone": "a"}), make_node("nolabel"))
    result = run_filter(PodTopologySpread(), spread_pod("p"), table)
    assert feasible_names(result, table) == {"a1"}
    assert reasons(result) == {
        "node(s) didn't match pod topology spread constraints (missing required label)": 1
    }


def test_topology_spread_honours_node_affinity_when_counting() -> None:
    # Zone c is excluded by the pod's node selector, so its zero count does not pin the global minimum.
    nodes = [make_node(f"{z}1", labels={"zone": z, "ok": "yes" if z != "c" else "no"}) for z in "abc"]
    existing = (make_pod("w1", labels={"app": "web"}, node_name="a1"),)
    table = table_of(*nodes, pods=existing)
    result = run_filter(PodTopologySpread(), spread_pod("p", 1, nodeSelector={"ok": "yes"}), table)
    assert feasible_names(result, table) == {"b1", "c1"}


def test_topology_spread_soft_score_prefers_emptier_zone() -> None:
    existing = (
        make_pod("w1", labels={"app": "web"}, node_name="a1"),
        make_pod("w2", labels={"app": "web"}, node_name="a2"),
    )
    table = table_of(*zone_nodes(), pods=existing)
    plugin = PodTopologySpread()
    pod = spread_pod("p", when="ScheduleAnyway")
    raw = plugin.score(CycleState(), pod, table, table.present)
    scores = plugin.normalize_scores(CycleState(), pod, raw, table.present)
    assert scores[0] == scores[1] < scores[2] == scores[3] == scores[4] == scores[5] == 100


def anti(topology: str, **labels: str) -> dict[str, Any]:
    return {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": labels}, "topologyKey": topology}
            ]
        }
    }


def affinity(topology: str, **labels: str) -> dict[str, Any]:
    return {
        "podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": labels}, "topologyKey": topology}
            ]
        }
    }


INTER_POD_CASES = [
    pytest.param(
        make_pod("p", affinity=affinity("zone", app="db")),
        {"b1", "b2"},
        {"node(s) didn't match pod affinity rules": 4},
        id="affinity-zone",
    ),
    pytest.param(
        make_pod("p", affinity=anti("zone", app="db")),
        {"a1", "a2", "c1", "c2"},
        {"node(s) didn't match pod anti-affinity rules": 2},
        id="anti-affinity-zone",
    ),
    pytest.param(
        make_pod("p", affinity=anti("kubernetes.io/hostname", app="db")),
        {"a1", "a2", "b2", "c1", "c2"},
        {"node(s) didn't match pod anti-affinity rules": 1},
        id="anti-affinity-host",
    ),
    pytest.param(
        make_pod("p", labels={"app": "cache"}, affinity=affinity("zone", app="cache")),
        {"a1", "a2", "b1", "b2", "c1", "c2"},
        {},
        id="first-of-group-matches-itself",
    ),
    pytest.param(
        make_pod("p", affinity=affinity("zone", app="cache")),
        set(),
        {"node(s) didn't match pod affinity rules": 6},
        id="no-match-and-not-self",
    ),
    pytest.param(
        make_pod("p", labels={"role": "noisy"}),
        {"b1", "b2", "c1", "c2"},
        {"node(s) didn't satisfy existing pods anti-affinity rules": 2},
        id="existing-anti-affinity-symmetry",
    ),
]


@pytest.mark.parametrize(("pod", "expected", "expected_reasons"), INTER_POD_CASES)
def test_inter_pod_affinity_filter(
    pod: PodInfo, expected: set[str], expected_reasons: dict[str, int]
) -> None:
    existing = (
        make_pod("db", labels={"app": "db"}, node_name="b1"),
        make_pod("quiet", labels={"app": "quiet"}, node_name="a1", affinity=anti("zone", role="noisy")),
    )
    table = table_of(*zone_nodes(), pods=existing)
    result = run_filter(InterPodAffinity(), pod, table)
    assert feasible_names(result, table) == expected
    assert reasons(result) == expected_reasons


def test_inter_pod_preferred_affinity_score() -> None:
    existing = (make_pod("db", labels={"app": "db"}, node_name="b1"),)
    table = table_of(*zone_nodes(), pods=existing)
    pod = make_pod(
        "p",
        affinity={
            "podAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 50,
                        "podAffinityTerm": {
                            "labelSelector": {"matchLabels": {"app": "db"}},
                            "topologyKey": "zone",
                        },
                    }
                ]
            }
        },
    )
    plugin = InterPodAffinity()
    raw = plugin.score(CycleState(), pod, table, table.present)
    assert plugin.normalize_scores(CycleState(), pod, raw, table.present).tolist() == [0, 0, 100, 100, 0, 0]


@pytest.mark.parametrize(
    "make_plugin",
    [
        pytest.param(lambda: NodeResourcesFit("LeastAllocated"), id="least"),
        pytest.param(lambda: NodeResourcesFit("MostAllocated"), id="most"),
        pytest.param(
            lambda: NodeResourcesFit("RequestedToCapacityRatio", shape=((0, 0), (60, 10), (100, 2))),
            id="ratio",
        ),
        pytest.param(NodeResourcesBalancedAllocation, id="balanced"),
    ],
)
def test_patched_score_cache_matches_a_fresh_computation(make_plugin: Any) -> None:
    rng = np.random.default_rng(7)
    nodes = [
        make_node(f"n{i}", cpu=f"{int(rng.integers(1, 16))}", memory=f"{int(rng.integers(1, 64))}Gi")
        for i in range(40)
    ]
    table = table_of(*nodes)
    cached = make_plugin()
    pod = make_pod("probe", cpu="300m", memory="700Mi")
    for index in range(60):
        scores = cached.score(CycleState(), pod, table, table.present)
        assert np.array_equal(scores, make_plugin().score(CycleState(), pod, table, table.present))
        row = int(rng.integers(len(nodes)))
        extra = make_pod(
            f"x{index}", cpu=f"{int(rng.integers(50, 900))}m", memory=f"{int(rng.integers(10, 900))}Mi"
        )
        table.assume_pod(extra.placed(nodes[row].name), row)


def owned_pod(name: str, node_name: str = "", kind: str = "ReplicaSet") -> PodInfo:
    from kubelite.scheduler.adapter import pod_info

    body: dict[str, Any] = {"containers": [{"name": "c", "image": "x"}]}
    if node_name:
        body["nodeName"] = node_name
    return pod_info(
        {
            "metadata": {
                "name": name,
                "namespace": "default",
                "labels": {"app": "web", "pod-template-hash": "abc"},
                "ownerReferences": [{"kind": kind, "name": "web-abc", "controller": True, "uid": "u"}],
            },
            "spec": body,
        }
    )


@pytest.mark.parametrize(
    ("kind", "spreads"),
    [pytest.param("ReplicaSet", True, id="replicaset"), pytest.param("Job", False, id="job-not-defaulted")],
)
def test_system_default_spreading_for_controller_owned_pods(kind: str, spreads: bool) -> None:
    nodes = [make_node(f"n{i}") for i in range(3)]  # no zone label: only the hostname default applies
    existing = (owned_pod("w1", "n0", kind), owned_pod("w2", "n0", kind), owned_pod("w3", "n1", kind))
    table = table_of(*nodes, pods=existing)
    plugin = PodTopologySpread()
    pod = owned_pod("new", kind=kind)
    skipped = plugin.pre_score(CycleState(), pod, table, table.present).code.name == "SKIP"
    assert skipped is not spreads
    if spreads:
        raw = plugin.score(CycleState(), pod, table, table.present)
        scores = plugin.normalize_scores(CycleState(), pod, raw, table.present)
        assert scores[2] > scores[1] > scores[0]


@pytest.mark.parametrize(
    ("max_skew", "min_domains", "expected"),
    [
        pytest.param(1, None, {"h2", "h3"}, id="skew-1"),
        pytest.param(2, None, {"h1", "h2", "h3"}, id="skew-2"),
        pytest.param(1, 4, set(), id="min-domains-above-node-count"),
    ],
)
def test_topology_spread_on_hostname(max_skew: int, min_domains: int | None, expected: set[str]) -> None:
    existing = (
        make_pod("w1", labels={"app": "web"}, node_name="h1"),
        make_pod("w2", labels={"app": "web"}, node_name="h1"),
        make_pod("w3", labels={"app": "web"}, node_name="h2"),
        make_pod("w4", labels={"app": "web"}, node_name="h3"),
    )
    table = table_of(make_node("h1"), make_node("h2"), make_node("h3"), pods=existing)
    constraint: dict[str, Any] = {
        "maxSkew": max_skew,
        "topologyKey": "kubernetes.io/hostname",
        "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": {"app": "web"}},
    }
    if min_domains is not None:
        constraint["minDomains"] = min_domains
    pod = make_pod("p", labels={"app": "web"}, topologySpreadConstraints=[constraint])
    assert feasible_names(run_filter(PodTopologySpread(), pod, table), table) == expected
