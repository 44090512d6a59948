"""The node table: incremental columns, stable rows, extension notifications, the GPU matrix."""

from __future__ import annotations

import numpy as np

from kubelite.scheduler.nodetable import NodeTable
from kubelite.scheduler.records import NodeInfo, PodInfo

from .conftest import make_node, make_pod, table_of


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, int, str]] = []
        self.capacity = 0

    def on_resize(self, capacity: int) -> None:
        self.capacity = capacity

    def on_node_added(self, row: int, node: NodeInfo) -> None:
        self.events.append(("node+", row, node.name))

    def on_node_updated(self, row: int, old: NodeInfo, new: NodeInfo) -> None:
        self.events.append(("node~", row, new.name))

    def on_node_removed(self, row: int, node: NodeInfo) -> None:
        self.events.append(("node-", row, node.name))

    def on_pod_added(self, row: int, pod: PodInfo) -> None:
        self.events.append(("pod+", row, pod.name))

    def on_pod_removed(self, row: int, pod: PodInfo) -> None:
        self.events.append(("pod-", row, pod.name))


def test_extensions_hear_every_change_with_row_indices() -> None:
    table = table_of(make_node("a"))
    recorder = Recorder()
    table.register(recorder)
    table.add_node(make_node("b"))
    table.assume_pod(make_pod("p").placed("b"), 1)
    table.forget_pod("default/p")
    table.add_node(make_node("b", cpu="8"))
    table.remove_node("a")
    table.add_node(make_node("c"))  # reuses row 0
    assert recorder.events == [
        ("node+", 0, "a"),
        ("node+", 1, "b"),
        ("pod+", 1, "p"),
        ("pod-", 1, "p"),
        ("node~", 1, "b"),
        ("node-", 0, "a"),
        ("node+", 0, "c"),
    ]
    assert recorder.capacity == table.capacity


def test_columns_track_requests_incrementally() -> None:
    table = table_of(make_node("a", cpu="4", memory="8Gi"))
    cpu, memory, pods = (table.resource_column(name) for name in ("cpu", "memory", "pods"))
    table.add_pod(make_pod("p", cpu="1500m", memory="1Gi", node_name="a"))
    assert int(table.free(cpu)[0]) == 2500 and int(table.free(memory)[0]) == 7 * 2**30
    assert int(table.requested(pods)[0]) == 1
    table.remove_pod("default/p")
    assert int(table.free(cpu)[0]) == 4000 and int(table.requested(pods)[0]) == 0


def test_pod_seen_before_its_node_is_booked_when_the_node_arrives() -> None:
    table = NodeTable()
    table.add_pod(make_pod("early", cpu="1", node_name="late"))
    row = table.add_node(make_node("late"))
    assert int(table.requested(table.resource_column("cpu"))[row]) == 1000


def test_table_grows_past_its_initial_capacity() -> None:
    table = NodeTable(capacity=16)
    for index in range(40):
        table.add_node(make_node(f"n{index}", labels={"zone": f"z{index % 3}"}))
    domains, count = table.domain_column("zone")
    assert table.size == 40 and count == 3 and domains.tolist()[:4] == [0, 1, 2, 0]
    assert table.class_count == 3  # hostname is unique and kept out of the class


def test_gpu_matrix_marks_absent_gpus_and_follows_pods() -> None:
    table = table_of(
        make_node("two", extra={"nvidia.com/gpu": "2"}), make_node("four", extra={"nvidia.com/gpu": "4"})
    )
    assert table.gpu_free_milli.tolist() == [[1000, 1000, -1, -1], [1000, 1000, 1000, 1000]]
    table.add_pod(
        make_pod(
            "s",
            node_name="four",
            extra_requests={"kubelite.io/gpu-milli": "250"},
            annotations={"kubelite.io/gpu-indices": "3"},
        )
    )
    table.add_pod(
        make_pod("w", node_name="two", extra_requests={"nvidia.com/gpu": "1"})
    )  # no indices: best fit
    assert table.gpu_free_milli.tolist() == [[0, 1000, -1, -1], [1000, 1000, 1000, 750]]
    table.remove_pod("default/s")
    assert int(table.gpu_free_milli[1, 3]) == 1000
    assert np.array_equal(table.free(table.resource_column("nvidia.com/gpu")), [1, 4])


def test_relabelled_or_deleting_bound_pod_is_rebooked_for_extensions() -> None:
    table = table_of(make_node("a"))
    recorder = Recorder()
    table.register(recorder)
    table.add_pod(make_pod("p", node_name="a", labels={"v": "1"}))
    table.add_pod(make_pod("p", node_name="a", labels={"v": "1"}))  # unchanged: nothing happens
    table.add_pod(make_pod("p", node_name="a", labels={"v": "2"}))
    assert [e for e in recorder.events if e[0].startswith("pod")] == [
        ("pod+", 0, "p"),
        ("pod-", 0, "p"),
        ("pod+", 0, "p"),
    ]
    pod = table.pod("default/p")
    assert pod is not None and pod.labels == {"v": "2"}


def test_pod_index_forgets_terms_nobody_carries_any_more() -> None:
    from kubelite.scheduler.pod_index import PodCountIndex

    anti = {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "kubernetes.io/hostname"}
            ]
        }
    }
    table = table_of(make_node("a"), make_node("b"))
    index = PodCountIndex.of(table)
    table.add_pod(make_pod("p1", node_name="a", affinity=anti))
    table.add_pod(make_pod("p2", node_name="b", affinity=anti))
    (carriers,) = index.carried_terms().values()
    assert carriers.tolist() == [1, 1]
    table.remove_pod("default/p1")
    table.remove_node("b")
    assert index.carried_terms() == {}


def test_per_domain_counts_stay_equal_to_a_recount() -> None:
    from kubelite.api.labels import selector_from_object
    from kubelite.scheduler.pod_index import PodCountIndex

    rng = np.random.default_rng(3)
    nodes = [make_node(f"n{i}", labels={"zone": f"z{i % 4}"}) for i in range(12)]
    table = table_of(*nodes)
    index = PodCountIndex.of(table)
    selector = selector_from_object({"matchLabels": {"app": "web"}})
    namespaces = frozenset({"default"})
    placed: list[str] = []
    for step in range(80):
        if placed and rng.random() < 0.3:
            table.remove_pod(placed.pop(int(rng.integers(len(placed)))))
        else:
            row = int(rng.integers(len(nodes)))
            app = "web" if rng.random() < 0.7 else "db"
            table.add_pod(make_pod(f"p{step}", labels={"app": app}, node_name=nodes[row].name))
            placed.append(f"default/p{step}")
        if step == 40:
            table.remove_node("n5")  # rows and domains change: the totals are rebuilt
        totals = index.matching_per_domain(namespaces, selector, "zone")
        domains, count = table.domain_column("zone")
        per_node = np.array(
            [
                sum(1 for p in table.pods_on(r) if p.labels.get("app") == "web") if table.present[r] else 0
                for r in range(table.size)
            ]
        )
        assert index.matching(namespaces, selector).tolist() == per_node.tolist()
        labelled = domains >= 0
        recount = np.bincount(domains[labelled], weights=per_node[labelled], minlength=max(count, 1))
        assert totals.tolist() == recount.astype(np.int64).tolist()
