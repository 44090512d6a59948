"""GPU placement policies: the six of the FGD paper plus kubelite's own, one module each.

Every policy scores the feasible nodes for one pod (vectorised, higher is better; the node with
the highest score wins, ties broken uniformly at random as kube-scheduler does) and then picks
the GPU indices on the winning node. `POLICIES` maps each policy's NAME to its constructor.
"""

from __future__ import annotations

from kubelite.scheduler.gpu.policies.base import PlacementPolicy, PolicyContext
from kubelite.scheduler.gpu.policies.best_fit import BestFit
from kubelite.scheduler.gpu.policies.dot_product import DotProduct
from kubelite.scheduler.gpu.policies.fgd import FragmentationGradientDescent
from kubelite.scheduler.gpu.policies.fgd_balance import BalancedFragmentationGradientDescent
from kubelite.scheduler.gpu.policies.fgd_packing import PackedFragmentationGradientDescent
from kubelite.scheduler.gpu.policies.gpu_clustering import GpuClustering
from kubelite.scheduler.gpu.policies.gpu_packing import GpuPacking
from kubelite.scheduler.gpu.policies.random_fit import RandomFit

POLICIES: dict[str, type[PlacementPolicy]] = {
    policy.NAME: policy
    for policy in (
        RandomFit,
        DotProduct,
        GpuClustering,
        GpuPacking,
        BestFit,
        FragmentationGradientDescent,
        PackedFragmentationGradientDescent,
        BalancedFragmentationGradientDescent,
    )
}

__all__ = ["POLICIES", "PlacementPolicy", "PolicyContext"]
