"""FGDBalance: FGD's gradient plus the change in GPUs stranded for want of CPU (worked by hand)."""

from __future__ import annotations

import numpy as np
import pytest

from kubelite.scheduler.gpu.demand import PodDemand
from kubelite.scheduler.gpu.fragmentation import PodShape, TargetWorkload
from kubelite.scheduler.gpu.policies import POLICIES, PolicyContext
from kubelite.scheduler.gpu.policies.fgd import FragmentationGradientDescent
from kubelite.scheduler.gpu.policies.fgd_balance import (
    BalancedFragmentationGradientDescent,
    constrained_demand_share,
    cpu_milli_per_gpu_milli,
    cpu_stranded_gpu_milli,
    model_shortfall,
    single_gpu_demand_share,
)
from kubelite.scheduler.gpu.state import GpuNodeTable, GpuNodeView

# Half 1-GPU pods needing 8 cores, half 500-milli shares needing 2 cores, plus CPU-only pods
# (which do not count towards rho): rho = (0.4*8000 + 0.4*2000) / (0.4*1000 + 0.4*500) = 6.67.
WORKLOAD = TargetWorkload(
    (
        PodShape(8000, 1000, 1, frozenset()),
        PodShape(2000, 500, 1, frozenset()),
        PodShape(32000, 0, 0, frozenset()),
    ),
    (0.4, 0.4, 0.2),
)
RHO = 4000 / 600
CPU_ONLY = PodDemand(cpu_milli=16000, memory_bytes=0, gpu_count=0, milli_per_gpu=0)
SHARE = PodDemand(cpu_milli=2000, memory_bytes=0, gpu_count=1, milli_per_gpu=500)
ONE_GPU_HEAVY = PodDemand(cpu_milli=24000, memory_bytes=0, gpu_count=1, milli_per_gpu=1000)


def table_of(*nodes: tuple[int, list[int]]) -> GpuNodeView:
    """Nodes given as (free cpu milli, free milli per GPU)."""
    table = GpuNodeTable(max_gpus_per_node=8, capacity=len(nodes))
    for i, (cpu, gpus) in enumerate(nodes):
        table.add_node(f"n{i}", 128000, 2**40, len(gpus), "G2")
        table.cpu_free[i] = cpu
        table.gpu_free[i, : len(gpus)] = gpus
    return table.view()


def test_rho_is_cpu_per_milli_gpu_of_the_gpu_shapes() -> None:
    assert cpu_milli_per_gpu_milli(WORKLOAD) == pytest.approx(RHO)
    assert cpu_milli_per_gpu_milli(TargetWorkload((PodShape(4000, 0, 0, frozenset()),), (1.0,))) == 0.0


@pytest.mark.parametrize(
    ("gpu_free", "cpu_free", "expected"),
    [
        pytest.param(2000, 104000, 0.0, id="cpu-rich"),
        pytest.param(8000, 40000, 8000 - 40000 / RHO, id="cpu-short"),
        pytest.param(0, 0, 0.0, id="no-gpu-left"),
    ],
)
def test_stranded_gpu_is_what_cpu_cannot_feed(gpu_free: int, cpu_free: int, expected: float) -> None:
    stranded = cpu_stranded_gpu_milli(np.array([gpu_free]), np.array([cpu_free]), RHO)
    assert stranded[0] == pytest.approx(expected)


def test_cpu_only_pod_goes_to_the_cpu_rich_node_where_fgd_ties() -> None:
    # n0: 2 GPUs, 104 cores; n1: 8 GPUs, 64 cores. After 16 cores both still fit every typical
    # pod, so FGD's gradient is 0 on both; n1 would strand 8000 - 48000/6.67 = 800 milli-GPU.
    view = table_of((104000, [1000] * 2), (64000, [1000] * 8))
    fgd = POLICIES["FGD"](PolicyContext(np.random.default_rng(0), WORKLOAD, 8)).score(view, CPU_ONLY)
    balanced = POLICIES["FGDBalance"](PolicyContext(np.random.default_rng(0), WORKLOAD, 8))
    assert fgd[0] == fgd[1]
    scores = balanced.score(view, CPU_ONLY)
    assert scores[0] == 50  # trunc(100 * sigmoid(0))
    assert scores[1] == int(100 / (1 + np.exp(0.8)))  # 31
    assert scores[0] > scores[1]


@pytest.mark.parametrize("demand", [SHARE, ONE_GPU_HEAVY, CPU_ONLY], ids=["share", "one-gpu", "cpu-only"])
def test_gradient_is_fgd_plus_stranded_change(demand: PodDemand) -> None:
    view = table_of((30000, [1000, 500, 1000, 1000]), (90000, [1000, 1000]), (24000, [300, 1000]))
    context = PolicyContext(np.random.default_rng(0), WORKLOAD, 8)
    fgd, balanced = FragmentationGradientDescent(context), BalancedFragmentationGradientDescent(context)
    gpu, cpu = view.gpu_free_total, view.cpu_free
    stranded_change = cpu_stranded_gpu_milli(
        gpu - demand.total_gpu_milli, cpu - demand.cpu_milli, RHO
    ) - cpu_stranded_gpu_milli(gpu, cpu, RHO)
    expected = fgd.fragmentation_increase(view, demand) + stranded_change[:, None]
    np.testing.assert_allclose(balanced.fragmentation_increase(view, demand), expected)


def test_share_gpu_choice_inside_a_node_is_fgds() -> None:
    view = table_of((30000, [1000, 500, 1000, 1000]))
    context = PolicyContext(np.random.default_rng(0), WORKLOAD, 8)
    assert POLICIES["FGDBalance"](context).choose_gpus(view, 0, SHARE) == (1,)
    assert POLICIES["FGD"](context).choose_gpus(view, 0, SHARE) == (1,)


def test_rho_counts_only_the_pods_that_may_use_the_model() -> None:
    # A10-only pods are CPU-heavy (32 cores per GPU); unconstrained pods need 8 cores per GPU.
    workload = TargetWorkload(
        (PodShape(8000, 1000, 1, frozenset()), PodShape(32000, 1000, 1, frozenset({"A10"}))), (0.5, 0.5)
    )
    assert cpu_milli_per_gpu_milli(workload, "T4") == pytest.approx(8.0)
    assert cpu_milli_per_gpu_milli(workload, "A10") == pytest.approx(20.0)
    assert cpu_milli_per_gpu_milli(workload) == pytest.approx(20.0)
    balanced = BalancedFragmentationGradientDescent(PolicyContext(np.random.default_rng(0), workload, 8))
    table = GpuNodeTable(max_gpus_per_node=8, capacity=2)
    table.add_node("t4", 64000, 2**40, 4, "T4")
    table.add_node("a10", 64000, 2**40, 4, "A10")
    view = table.view()
    assert balanced.cpu_per_gpu(view).tolist() == pytest.approx([8.0, 20.0])
    # 64 cores feed 4000 milli-GPU at 8 cores per GPU, but only 3200 at 20.
    assert balanced.stranded_increase(view, PodDemand(0, 0, 0, 0)).tolist() == [0.0, 0.0]
    assert cpu_stranded_gpu_milli(
        view.gpu_free_total, view.cpu_free, balanced.cpu_per_gpu(view)
    ).tolist() == (pytest.approx([0.0, 800.0]))


def test_nothing_is_stranded_by_cpu_where_no_typical_pod_may_run() -> None:
    stranded = cpu_stranded_gpu_milli(np.array([2000, 2000]), np.array([0, 0]), np.array([0.0, 10.0]))
    assert stranded.tolist() == [0.0, 2000.0]


def test_constrained_demand_share_splits_over_the_allowed_models() -> None:
    workload = TargetWorkload(
        (
            PodShape(1000, 1000, 1, frozenset()),
            PodShape(1000, 1000, 1, frozenset({"A10"})),
            PodShape(1000, 500, 1, frozenset({"A10", "T4"})),
        ),
        (0.5, 0.25, 0.25),
    )
    shares = constrained_demand_share(workload, ("", "T4", "A10"))
    assert shares.tolist() == pytest.approx([0.0, 62.5 / 875, 312.5 / 875])


# Half the GPU demand may only use T4; one 1-GPU T4 node and one 3-GPU A10 node are idle.
T4_BOUND = TargetWorkload(
    (PodShape(1000, 1000, 1, frozenset({"T4"})), PodShape(1000, 1000, 1, frozenset())), (0.5, 0.5)
)


def test_model_shortfall_is_constrained_demand_the_model_cannot_serve() -> None:
    # F = 4000 free; T4 pods will want 0.5 * 4000 = 2000 but T4 has 1000.
    free = np.array([0.0, 1000.0, 3000.0])
    assert model_shortfall(free, np.array([0.0, 0.5, 0.0])) == pytest.approx(1000.0)
    assert model_shortfall(np.vstack([free, free]), np.array([0.0, 0.5, 0.0])).tolist() == [1000.0, 1000.0]


def test_unconstrained_pod_leaves_the_scarce_model_to_the_pods_that_need_it() -> None:
    table = GpuNodeTable(max_gpus_per_node=8, capacity=2)
    table.add_node("t4", 64000, 2**40, 1, "T4")
    table.add_node("a10", 64000, 2**40, 3, "A10")
    view = table.view()
    balanced = BalancedFragmentationGradientDescent(PolicyContext(np.random.default_rng(0), T4_BOUND, 8))
    whole = PodDemand(1000, 0, 1, 1000)
    # On T4: shortfall max(0, 0.5*3000 - 0) = 1500, up 500; on A10: 0.5*3000 - 1000 = 500, down 500.
    assert balanced.shortfall_increase(view, whole).tolist() == pytest.approx([500.0, -500.0])
    assert balanced.shortfall_increase(view, PodDemand(8000, 0, 0, 0)).tolist() == [0.0, 0.0]
    scores = balanced.score(view, whole)
    assert scores[1] > scores[0]


def test_no_model_constraints_means_no_shortfall_term() -> None:
    view = table_of((30000, [1000, 500]), (90000, [1000, 1000]))
    balanced = BalancedFragmentationGradientDescent(PolicyContext(np.random.default_rng(0), WORKLOAD, 8))
    assert balanced.shortfall_increase(view, SHARE).tolist() == [0.0, 0.0]


def test_cpu_stranding_is_weighted_by_the_single_gpu_share_of_demand() -> None:
    # 8-GPU pods (half the pods, 8000 of 8500 milli-GPU of demand) need whole free GPUs on one
    # node, which F already counts; S speaks only for the single-GPU share.
    workload = TargetWorkload(
        (PodShape(8000, 1000, 8, frozenset()), PodShape(2000, 500, 1, frozenset())), (0.5, 0.5)
    )
    assert single_gpu_demand_share(workload) == pytest.approx(500 / 8500)
    assert single_gpu_demand_share(WORKLOAD) == 1.0
    view = table_of((10000, [1000] * 4))
    context = PolicyContext(np.random.default_rng(0), workload, 8)
    balanced = BalancedFragmentationGradientDescent(context)
    rho = balanced.cpu_per_gpu(view)
    stranded_change = cpu_stranded_gpu_milli(
        view.gpu_free_total, view.cpu_free - CPU_ONLY.cpu_milli, rho
    ) - cpu_stranded_gpu_milli(view.gpu_free_total, view.cpu_free, rho)
    assert balanced.stranded_increase(view, CPU_ONLY).tolist() == pytest.approx(
        (stranded_change * 500 / 8500).tolist()
    )
