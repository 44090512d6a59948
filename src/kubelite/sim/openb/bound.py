"""A lower bound on the unallocated GPU % that ANY placement policy can reach on a pod list.

GPU-sharing pods (a share of one GPU) pack into GPUs like items into bins of 1000 milli, so when
the arrived GPU demand equals the cluster's capacity, some capacity is lost whatever the policy:
an 810-milli pod leaves 190 milli that only a pod of at most 190 milli can use. The bound is a
linear programme over packing patterns (Gilmore and Gomory's cutting-stock formulation, "A
Linear Programming Approach to the Cutting-Stock Problem", Operations Research 1961), relaxed
from integers to reals and ignoring CPU, memory and GPU models, so it can only be lower than
the truth:

- a pattern p is a multiset of share sizes that fits one GPU (sum <= 1000); x_p >= 0 GPUs use it;
- no more pods of each size are placed than arrive: sum_p count_p(size) * x_p <= arrived(size);
- at the checkpoint the unallocated capacity is both the demand that failed and the free
  capacity, so it is at least max(share demand not placed, milli left over in the GPUs used by
  shares). Minimising that maximum gives `any_policy_milli`, a bound for every policy.
- A policy that places every share pod that arrives (what a work-conserving scheduler does
  while whole GPUs remain) loses at least the least leftover of a packing that covers every
  arrived share: `all_shares_placed_milli`. This is the tighter, practical bound; the first one
  is reached only by leaving share pods unplaced so that whole-GPU pods can use their GPUs.

Arrivals are the trace plus random copies, so at 100% of capacity each share size has arrived,
in expectation, capacity / trace GPU demand times its trace count; the bound is reported as a
percentage of the capacity, which makes that factor cancel (only the trace's own mix matters).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linprog

from kubelite.scheduler.gpu.demand import MILLI_PER_GPU, PodDemand


@dataclass(frozen=True, slots=True)
class PackingBound:
    """The LPs' answers, in milli-GPU per trace; percentages are of the trace's GPU demand."""

    share_sizes: tuple[int, ...]
    patterns: int
    trace_gpu_milli: int
    any_policy_milli: float
    all_shares_placed_milli: float

    def percent(self, milli: float) -> float:
        """`milli` lost per trace as unallocated GPU % when arrivals reach 100% of capacity."""
        return 100.0 * milli / self.trace_gpu_milli if self.trace_gpu_milli else 0.0


def packing_patterns(sizes: Sequence[int], capacity: int = MILLI_PER_GPU) -> NDArray[np.int64]:
    """Every non-empty multiset of `sizes` fitting `capacity`: shape (len(sizes), patterns)."""
    patterns: list[list[int]] = []

    def extend(index: int, room: int, counts: list[int]) -> None:
        if index == len(sizes):
            if any(counts):
                patterns.append(list(counts))
            return
        for count in range(room // sizes[index] + 1):
            counts.append(count)
            extend(index + 1, room - count * sizes[index], counts)
            counts.pop()

    extend(0, capacity, [])
    return np.array(patterns, dtype=np.int64).reshape(-1, len(sizes)).T


def _solve(
    objective: NDArray[np.float64],
    upper: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
    equal: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
) -> float:
    solution = linprog(
        objective,
        A_ub=upper[0] if upper else None,
        b_ub=upper[1] if upper else None,
        A_eq=equal[0] if equal else None,
        b_eq=equal[1] if equal else None,
        bounds=(0, None),
        method="highs",
    )
    if not solution.success:
        raise RuntimeError(f"packing LP failed: {solution.message}")
    return float(solution.fun)


def share_packing_bound(demands: Sequence[PodDemand]) -> PackingBound:
    """Solve both LPs of the module docstring for the share pods of `demands`."""
    shares = Counter(d.milli_per_gpu for d in demands if d.is_shared)
    trace_gpu = sum(d.total_gpu_milli for d in demands)
    sizes = tuple(sorted(shares))
    if not sizes:
        return PackingBound((), 0, trace_gpu, 0.0, 0.0)
    arrived = np.array([shares[size] for size in sizes], dtype=np.float64)
    size_milli = np.asarray(sizes, dtype=np.float64)
    patterns = packing_patterns(sizes).astype(np.float64)
    mass = size_milli @ patterns
    leftover = MILLI_PER_GPU - mass
    count = patterns.shape[1]
    # Every policy: variables x (patterns) and t; minimise t.
    epigraph = np.zeros(count + 1)
    epigraph[-1] = 1.0
    rows = np.vstack(
        [
            np.hstack([patterns, np.zeros((len(sizes), 1))]),
            np.hstack([-mass, [-1.0]]),  # share demand - placed mass <= t
            np.hstack([leftover, [-1.0]]),  # leftover in share GPUs <= t
        ]
    )
    limits = np.concatenate([arrived, [-float(arrived @ size_milli), 0.0]])
    any_policy = _solve(epigraph, upper=(rows, limits))
    # Every arrived share placed exactly once (patterns include every sub-multiset, so equality
    # loses nothing), minimising the leftover.
    all_placed = _solve(leftover, equal=(patterns, arrived))
    return PackingBound(sizes, count, trace_gpu, any_policy, all_placed)
