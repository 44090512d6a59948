"""The framework runtime: one profile's plugins run over the node table for one pod at a time.

`Framework.schedule(pod, table)` is the pure scheduling cycle (Nomad's snapshot in, plan out): it
reads the table, runs PreFilter, Filter, PostFilter (only when nothing fits), PreScore and Score,
and returns a `ScheduleResult` naming the chosen row, without changing anything. `reserve` and
`assume` then commit the choice to the table (Reserve plugins first, so a GPU plugin sees the row
without this pod), and `bind` is the asynchronous binding cycle: Permit, PreBind, Bind, PostBind,
rolling the assumption back with Unreserve + forget when any of them fails.

Filter masks are ANDed; the per-node reasons for a FailedScheduling message are attributed only
when nothing fits, to the first Filter (in profile order) that rejected each node, as
kube-scheduler does. Scores are normalised per plugin, multiplied by the plugin's weight and
summed; ties between the best rows are broken with the framework's seeded RNG.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from kubelite.scheduler.framework.cycle_state import CycleState
from kubelite.scheduler.framework.interface import (
    BindPlugin,
    BoolArray,
    Diagnosis,
    FilterPlugin,
    FilterResult,
    PermitPlugin,
    PostBindPlugin,
    PostFilterPlugin,
    PostFilterResult,
    PreBindPlugin,
    PreFilterPlugin,
    PreScorePlugin,
    QueueSortPlugin,
    ReservePlugin,
    ScoreArray,
    ScoreNormalizer,
    ScorePlugin,
)
from kubelite.scheduler.framework.status import SUCCESS, Code, Status
from kubelite.scheduler.framework.waiting import WaitingPod, WaitingPods
from kubelite.scheduler.nodetable import NodeTable
from kubelite.scheduler.records import PodInfo


@dataclass(slots=True)
class ScheduleResult:
    """The plan for one pod: a row (>= 0) or the status and diagnosis of why there is none."""

    pod: PodInfo
    state: CycleState
    row: int = -1
    node_name: str = ""
    status: Status = SUCCESS
    feasible_count: int = 0
    diagnosis: Diagnosis | None = None
    post_filter: PostFilterResult | None = None
    rejecting_plugins: frozenset[str] = field(default_factory=frozenset)

    @property
    def scheduled(self) -> bool:
        return self.row >= 0


class Framework:
    """The plugins of one scheduling profile, sorted by extension point once, at construction."""

    def __init__(
        self,
        plugins: Sequence[object],
        score_weights: Mapping[str, int] | None = None,
        profile_name: str = "default-scheduler",
        seed: int = 0,
    ) -> None:
        self.profile_name = profile_name
        self.plugins = tuple(plugins)
        self.queue_sort = next((p for p in plugins if isinstance(p, QueueSortPlugin)), None)
        self.pre_filter_plugins = [p for p in plugins if isinstance(p, PreFilterPlugin)]
        self.filter_plugins = [p for p in plugins if isinstance(p, FilterPlugin)]
        self.post_filter_plugins = [p for p in plugins if isinstance(p, PostFilterPlugin)]
        self.pre_score_plugins = [p for p in plugins if isinstance(p, PreScorePlugin)]
        weights = dict(score_weights or {})
        self.score_plugins = [
            (p, weights.get(p.name, 1), p if isinstance(p, ScoreNormalizer) else None)
            for p in plugins
            if isinstance(p, ScorePlugin)
        ]
        self.reserve_plugins = [p for p in plugins if isinstance(p, ReservePlugin)]
        self.permit_plugins = [p for p in plugins if isinstance(p, PermitPlugin)]
        self.pre_bind_plugins = [p for p in plugins if isinstance(p, PreBindPlugin)]
        self.bind_plugins = [p for p in plugins if isinstance(p, BindPlugin)]
        self.post_bind_plugins = [p for p in plugins if isinstance(p, PostBindPlugin)]
        self.rng = np.random.default_rng(seed)
        self.waiting_pods = WaitingPods()

    def plugin(self, name: str) -> object | None:
        return next((p for p in self.plugins if getattr(p, "name", None) == name), None)

    # -- the scheduling cycle ---------------------------------------------------------------
    def schedule(self, pod: PodInfo, table: NodeTable, *, run_post_filter: bool = True) -> ScheduleResult:
        state = CycleState()
        result = ScheduleResult(pod, state)
        if table.node_count == 0:
            result.status = Status.unschedulable("no nodes available to schedule pods", resolvable=False)
            result.diagnosis = Diagnosis({}, np.zeros(0, dtype=np.bool_), 0)
            return result
        for pre_filter in self.pre_filter_plugins:
            status = pre_filter.pre_filter(state, pod, table)
            if status.code is Code.SKIP:
                state.skip_filter.add(pre_filter.name)
            elif not status.is_success:
                return self._reject_before_filter(result, table, status.with_plugin(pre_filter.name))
        feasible = table.present.copy()
        outcomes: list[tuple[str, FilterResult]] = []
        for plugin in self.filter_plugins:
            if plugin.name in state.skip_filter:
                continue
            outcome = plugin.filter(state, pod, table)
            if outcome.feasible is not None:
                outcomes.append((plugin.name, outcome))
                feasible &= outcome.feasible
        feasible_rows = np.flatnonzero(feasible)
        result.feasible_count = int(feasible_rows.size)
        if feasible_rows.size == 0:
            return self._reject_after_filter(result, table, outcomes, run_post_filter)
        if feasible_rows.size == 1:
            row = int(feasible_rows[0])
        else:
            row = self._best_row(state, pod, table, feasible)
        result.row = row
        result.node_name = table.node_at(row).name
        return result

    def _best_row(self, state: CycleState, pod: PodInfo, table: NodeTable, feasible: BoolArray) -> int:
        for pre_score in self.pre_score_plugins:
            status = pre_score.pre_score(state, pod, table, feasible)
            if status.code is Code.SKIP:
                state.skip_score.add(pre_score.name)
        total: ScoreArray = np.zeros(table.size, dtype=np.int64)
        for plugin, weight, normalizer in self.score_plugins:
            if plugin.name in state.skip_score or weight == 0:
                continue
            scores = plugin.score(state, pod, table, feasible)
            if normalizer is not None:
                scores = normalizer.normalize_scores(state, pod, scores, feasible)
            total += scores * weight if weight != 1 else scores
        masked = np.where(feasible, total, np.iinfo(np.int64).min)
        best = np.flatnonzero(masked == masked.max())
        return int(best[0] if best.size == 1 else best[self.rng.integers(best.size)])

    def _reject_before_filter(
        self, result: ScheduleResult, table: NodeTable, status: Status
    ) -> ScheduleResult:
        node_count = table.node_count
        result.status = status
        result.rejecting_plugins = frozenset({status.plugin})
        result.diagnosis = Diagnosis(
            {reason: node_count for reason in status.reasons},
            table.present.copy()
            if status.code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE
            else np.zeros(table.size, dtype=np.bool_),
            node_count,
            status,
        )
        return result

    def _reject_after_filter(
        self,
        result: ScheduleResult,
        table: NodeTable,
        outcomes: list[tuple[str, FilterResult]],
        run_post_filter: bool,
    ) -> ScheduleResult:
        counts: dict[str, int] = {}
        still_in = table.present.copy()
        unresolvable = np.zeros(table.size, dtype=np.bool_)
        rejecting: set[str] = set()
        for plugin_name, outcome in outcomes:
            newly_rejected = (
                still_in & ~outcome.feasible if outcome.feasible is not None else still_in & False
            )
            if not newly_rejected.any():
                continue
            rejecting.add(plugin_name)
            for rejection in outcome.all_rejections():
                hit = rejection.nodes & newly_rejected
                count = int(np.count_nonzero(hit))
                if count:
                    counts[rejection.reason] = counts.get(rejection.reason, 0) + count
                    if not rejection.resolvable:
                        unresolvable |= hit
            still_in &= ~newly_rejected
        present = table.present
        rejected_by = {
            name: present & ~outcome.feasible for name, outcome in outcomes if outcome.feasible is not None
        }
        diagnosis = Diagnosis(
            counts,
            unresolvable,
            table.node_count,
            rejected_by=rejected_by,
            passes_filters=lambda row: self.passes_filters(result.pod, table, row),
        )
        result.diagnosis = diagnosis
        result.rejecting_plugins = frozenset(rejecting)
        result.status = Status(Code.UNSCHEDULABLE, tuple(sorted(counts)))
        if run_post_filter:
            for plugin in self.post_filter_plugins:
                post = plugin.post_filter(result.state, result.pod, table, diagnosis)
                result.post_filter = post
                if post.status.is_success:
                    break
        return result

    def passes_filters(self, pod: PodInfo, table: NodeTable, row: int) -> bool:
        """Run PreFilter and Filter afresh and report whether `row` is feasible for `pod`."""
        state = CycleState()
        for pre_filter in self.pre_filter_plugins:
            status = pre_filter.pre_filter(state, pod, table)
            if status.code is Code.SKIP:
                state.skip_filter.add(pre_filter.name)
            elif not status.is_success:
                return False
        if not table.present[row]:
            return False
        for plugin in self.filter_plugins:
            if plugin.name in state.skip_filter:
                continue
            outcome = plugin.filter(state, pod, table)
            if outcome.feasible is not None and not outcome.feasible[row]:
                return False
        return True

    # -- committing the choice ---------------------------------------------------------------
    def reserve(self, state: CycleState, pod: PodInfo, table: NodeTable, row: int) -> Status:
        """Run Reserve plugins in order; on a failure, Unreserve the ones that ran, in reverse."""
        for index, plugin in enumerate(self.reserve_plugins):
            status = plugin.reserve(state, pod, table, row)
            if not status.is_success:
                for earlier in reversed(self.reserve_plugins[: index + 1]):
                    earlier.unreserve(state, pod, table, row)
                return status.with_plugin(plugin.name)
        return SUCCESS

    def unreserve(self, state: CycleState, pod: PodInfo, table: NodeTable, row: int) -> None:
        for plugin in reversed(self.reserve_plugins):
            plugin.unreserve(state, pod, table, row)

    def assume(self, result: ScheduleResult, table: NodeTable) -> tuple[Status, PodInfo]:
        """Reserve, then count the pod on its row before the binding is persisted."""
        status = self.reserve(result.state, result.pod, table, result.row)
        if not status.is_success:
            return status, result.pod
        assumed = result.pod.placed(result.node_name, result.state.gpu_indices)
        table.assume_pod(assumed, result.row)
        return SUCCESS, assumed

    def permit(self, state: CycleState, pod: PodInfo, node_name: str) -> tuple[Status, float]:
        """Permit: the first rejection wins; otherwise WAIT (the pod is registered in `waiting_pods`)
        with the longest timeout asked for."""
        wait = 0.0
        waiting_plugins: set[str] = set()
        for plugin in self.permit_plugins:
            status, timeout = plugin.permit(state, pod, node_name)
            if status.is_rejected or status.code is Code.ERROR:
                return status.with_plugin(plugin.name), 0.0
            if status.code is Code.WAIT:
                wait = max(wait, timeout)
                waiting_plugins.add(plugin.name)
        if not waiting_plugins:
            return SUCCESS, 0.0
        self.waiting_pods.add(WaitingPod(pod, node_name, waiting_plugins))
        return Status(Code.WAIT), wait

    async def bind(self, state: CycleState, pod: PodInfo, table: NodeTable, row: int) -> Status:
        """PreBind, Bind, PostBind; any failure unreserves and forgets the assumed pod."""
        node_name = pod.node_name
        status = SUCCESS
        for pre_bind in self.pre_bind_plugins:
            status = (await pre_bind.pre_bind(state, pod, node_name)).with_plugin(pre_bind.name)
            if not status.is_success:
                break
        else:
            status = Status(Code.SKIP)
            for binder in self.bind_plugins:
                status = (await binder.bind(state, pod, node_name)).with_plugin(binder.name)
                if status.code is not Code.SKIP:
                    break
        if status.is_success:
            for post_bind in self.post_bind_plugins:
                post_bind.post_bind(state, pod, node_name)
            return status
        self.unreserve(state, pod, table, row)
        table.forget_pod(pod.key)
        return status if status.code is not Code.SKIP else Status.error("no Bind plugin bound the pod")
