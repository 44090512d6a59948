"""Each policy's scores and GPU choices on small states worked out by hand from the FGD paper."""

from __future__ import annotations

import numpy as np
import pytest

from kubelite.scheduler.gpu.demand import PodDemand
from kubelite.scheduler.gpu.fragmentation import FragmentationModel, PodShape, TargetWorkload
from kubelite.scheduler.gpu.policies import POLICIES, PolicyContext
from kubelite.scheduler.gpu.policies.base import best_fit_gpus, select_best
from kubelite.scheduler.gpu.state import GpuNodeTable, GpuNodeView, feasible_mask

SHARE = PodDemand(cpu_milli=4000, memory_bytes=0, gpu_count=1, milli_per_gpu=500)
WHOLE_TWO = PodDemand(cpu_milli=8000, memory_bytes=0, gpu_count=2, milli_per_gpu=1000)
CPU_ONLY = PodDemand(cpu_milli=16000, memory_bytes=0, gpu_count=0, milli_per_gpu=0)


def table_of(*nodes: tuple[int, list[int], str]) -> GpuNodeView:
    """Nodes given as (free cpu milli, free milli per GPU, model)."""
    table = GpuNodeTable(max_gpus_per_node=8, capacity=len(nodes))
    for i, (cpu, gpus, model) in enumerate(nodes):
        table.add_node(f"n{i}", 64000, 2**40, len(gpus), model)
        table.cpu_free[i] = cpu
        table.gpu_free[i, : len(gpus)] = gpus
    return table.view()


def context(workload: TargetWorkload | None = None) -> PolicyContext:
    return PolicyContext(np.random.default_rng(0), workload or TargetWorkload((), ()), 8)


@pytest.mark.parametrize(
    ("demand", "expected"),
    [
        # cpu 32000/128000 * 4000/128000 + 4000/8000 * 500/8000 = 0.0078125 + 0.03125
        pytest.param(SHARE, [98, 99], id="share"),
        pytest.param(WHOLE_TWO, [92, 96], id="two-whole"),
    ],
)
def test_dot_product_prefers_the_fuller_node(demand: PodDemand, expected: list[int]) -> None:
    view = table_of((32000, [1000, 1000, 1000, 1000], "T4"), (8000, [1000, 1000, 0, 0], "T4"))
    assert POLICIES["DotProd"](context()).score(view, demand).tolist() == expected


def test_best_fit_normalises_over_feasible_nodes() -> None:
    # leftover: n0 = 0.5*28000/128000 + 0.5*3500/8000 = 0.328 -> 67; n1 = 0.0156 + 0.0937 -> 89;
    # n2 = 0.5*60000/128000 + 0.5*7500/8000 = 0.703 -> 29; normalised (s-29)*100//60.
    view = table_of(
        (32000, [1000, 1000, 1000, 1000], "T4"), (8000, [1000, 1000, 0, 0], "T4"), (64000, [1000] * 8, "G2")
    )
    assert POLICIES["BestFit"](context()).score(view, SHARE).tolist() == [63, 100, 0]


def test_gpu_packing_bands() -> None:
    view = table_of(
        (32000, [1000, 1000], "T4"),  # idle node, 2 GPUs: max(33 - 2, 2) = 31
        (32000, [1000, 0], "T4"),  # used node, needs a free GPU: 50 - 1 = 49
        (32000, [600, 1000], "T4"),  # shared GPU with 60% free: 100 - 60 // 10 = 94
        (32000, [1000] * 8, "G2"),  # idle 8-GPU node: max(33 - 8, 8) = 25
    )
    policy = POLICIES["GpuPacking"](context())
    assert policy.score(view, SHARE).tolist() == [31, 49, 94, 25]
    assert policy.score(view, CPU_ONLY).tolist() == [0, 0, 0, 0]


def test_gpu_clustering_bands() -> None:
    table = GpuNodeTable(8, 4)
    for i in range(4):
        table.add_node(f"n{i}", 64000, 2**40, 8, "G2")
    table.assume(0, SHARE, (0,))  # only share-gpu pods: 75 + 25*500//8000 = 76
    table.assume(1, SHARE, (0,))
    table.assume(1, WHOLE_TWO, (1, 2))  # share among others: 50 + 25*2500//8000 = 57
    table.assume(2, WHOLE_TWO, (0, 1))  # other classes only: 0 + 25*2000//8000 = 6
    scores = POLICIES["GpuClustering"](context()).score(table.view(), SHARE)  # n3 idle: 25
    assert scores.tolist() == [76, 57, 6, 25]


# Target workload: half 1-GPU pods needing 8 cores, half 500-milli shares needing 2 cores.
WORKLOAD = TargetWorkload(
    (PodShape(8000, 1000, 1, frozenset()), PodShape(2000, 500, 1, frozenset())), (0.5, 0.5)
)


@pytest.mark.parametrize(
    ("cpu", "gpus", "expected"),
    [
        pytest.param(32000, [1000, 1000], 0.0, id="idle-node-no-fragment"),
        # both pods fit on GPU 1, and neither can use GPU 0's 300 milli
        pytest.param(32000, [300, 1000], 0.5 * 300 + 0.5 * 300, id="small-remainder"),
        pytest.param(32000, [300, 400], 0.5 * 700 + 0.5 * 700, id="nothing-fits"),
        # 4 cores: the 1-GPU pod lacks CPU (all 1600 fragmented), the share pod fits (100 fragmented)
        pytest.param(4000, [100, 500, 1000], 0.5 * 1600 + 0.5 * 100, id="lacks-cpu"),
    ],
)
def test_node_fragmentation_matches_the_definition(cpu: int, gpus: list[int], expected: float) -> None:
    model = FragmentationModel(WORKLOAD, 8)
    assert model.node_fragmentation(table_of((cpu, gpus, "T4")))[0] == pytest.approx(expected)


def test_gpu_model_constraint_makes_all_free_gpus_fragment() -> None:
    workload = TargetWorkload((PodShape(1000, 1000, 1, frozenset({"A10"})),), (1.0,))
    model = FragmentationModel(workload, 8)
    frag = model.node_fragmentation(table_of((32000, [1000, 1000], "T4"), (32000, [1000, 1000], "A10")))
    assert frag.tolist() == [2000.0, 0.0]


def test_fgd_places_a_share_where_fragmentation_grows_least() -> None:
    # n0: [500, 1000] -> share on GPU 0 leaves [0, 1000]: fragment 0, before 0.5*500 = 250.
    # n1: idle [1000, 1000] -> share leaves [500, 1000]: fragment 250 (it was 0).
    view = table_of((32000, [500, 1000], "T4"), (32000, [1000, 1000], "T4"))
    policy = POLICIES["FGD"](context(WORKLOAD))
    scores = policy.score(view, SHARE)
    # trunc(100 * sigmoid(+0.25)) = 56 and trunc(100 * sigmoid(-0.25)) = 43
    assert scores.tolist() == [56, 43]
    assert policy.choose_gpus(view, 0, SHARE) == (0,)


def test_fgd_pack_breaks_fgd_ties_by_best_fit() -> None:
    view = table_of((32000, [1000, 1000], "T4"), (8000, [1000, 1000], "T4"))
    fgd = POLICIES["FGD"](context(WORKLOAD)).score(view, WHOLE_TWO)
    packed = POLICIES["FGDPack"](context(WORKLOAD)).score(view, WHOLE_TWO)
    assert fgd[0] == fgd[1]
    assert packed[1] > packed[0]


def test_best_fit_gpu_choice_and_random_ties() -> None:
    free = np.array([700, 500, 1000, 500])
    assert best_fit_gpus(free, SHARE) == (1,)
    assert best_fit_gpus(free, PodDemand(0, 0, 1, 1000)) == (2,)
    assert select_best(np.array([1.0, 3.0, 3.0]), np.random.default_rng(0), np.array([5.0, 2.0, 1.0])) == 2


@pytest.mark.parametrize("demand", [SHARE, WHOLE_TWO, CPU_ONLY], ids=["share", "whole", "cpu"])
def test_feasibility_respects_per_gpu_free_milli(demand: PodDemand) -> None:
    view = table_of((32000, [400, 400, 400], "T4"), (32000, [1000, 1000], "T4"), (2000, [1000, 1000], "T4"))
    expected = {SHARE: [False, True, False], WHOLE_TWO: [False, True, False], CPU_ONLY: [True, True, False]}
    assert feasible_mask(view, demand).tolist() == expected[demand]
