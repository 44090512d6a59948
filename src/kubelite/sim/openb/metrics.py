"""The FGD paper's quality figure: unallocated GPU % as arrived GPU demand grows.

After each arrival (placed or not) the simulator records the cumulative GPU demand that has
arrived and the GPU milli allocated. For a checkpoint X% the paper's analysis averages the
allocated share over every arrival whose arrived demand rounds to X% of capacity (falling back
to X +/- 1% when none does); the figure is 100 minus that average.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

CHECKPOINTS: tuple[int, ...] = (90, 100, 110, 120, 130)


def unallocated_gpu_percent(
    arrived_milli: NDArray[np.int64],
    allocated_milli: NDArray[np.int64],
    capacity_milli: int,
    checkpoints: Sequence[int] = CHECKPOINTS,
) -> dict[int, float]:
    """Unallocated GPU % at each checkpoint that the arrivals reach."""
    arrived_percent = np.round(arrived_milli / capacity_milli * 100)
    allocated_percent = allocated_milli / capacity_milli * 100
    result: dict[int, float] = {}
    for checkpoint in checkpoints:
        near = arrived_percent == checkpoint
        if not near.any():
            near = np.abs(arrived_percent - checkpoint) <= 1
        if near.any():
            result[checkpoint] = round(100.0 - float(allocated_percent[near].mean()), 3)
    return result
