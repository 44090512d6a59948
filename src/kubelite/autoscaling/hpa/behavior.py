"""Turning the metrics' raw recommendation into the replica count the HPA writes.

A reimplementation of the normalisation in kubernetes/pkg/controller/podautoscaler/horizontal.go:
- with `spec.behavior` (autoscaling/v2): stabilisation windows per direction (the lowest recent
  recommendation bounds a scale-up, the highest bounds a scale-down), then the rate limits of the
  Pods and Percent policies, measured from the replica count at the start of each policy's period
  and combined by selectPolicy (Max, Min or Disabled), then min/max replicas;
- without it: the 5-minute downscale stabilisation, a scale-up limit of max(2 x current, 4), and
  min/max replicas.
The controller's memory (recent recommendations and scale events) is an immutable `ScalingHistory`
that goes in and comes back out, so each decision is a pure function of its inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kubelite.autoscaling.hpa.spec import Behavior, ScalingRules

SCALE_UP_LIMIT_FACTOR = 2
SCALE_UP_LIMIT_MINIMUM = 4


@dataclass(frozen=True, slots=True)
class TimedValue:
    """A recommendation (replicas) or a scale event (replica change) at a time."""

    value: int
    timestamp: float


@dataclass(frozen=True, slots=True)
class ScalingHistory:
    """What the HPA controller remembers between syncs for one HPA."""

    recommendations: tuple[TimedValue, ...] = ()
    scale_up_events: tuple[TimedValue, ...] = ()
    scale_down_events: tuple[TimedValue, ...] = ()


@dataclass(frozen=True, slots=True)
class Normalized:
    """The normalised replica count and the conditions it implies."""

    replicas: int
    able_to_scale_reason: str
    able_to_scale_message: str
    limited: bool
    limited_reason: str
    limited_message: str
    history: ScalingHistory


_READY = ("ReadyForNewScale", "recommended size matches current size")
_SCALE_DOWN_STABILIZED = (
    "ScaleDownStabilized",
    "recent recommendations were higher than current one, applying the highest recent recommendation",
)
_SCALE_UP_STABILIZED = (
    "ScaleUpStabilized",
    "recent recommendations were lower than current one, applying the lowest recent recommendation",
)
_WITHIN_RANGE = ("DesiredWithinRange", "the desired count is within the acceptable range")
_TOO_FEW = ("TooFewReplicas", "the desired replica count is less than the minimum replica count")
_TOO_MANY = ("TooManyReplicas", "the desired replica count is more than the maximum replica count")
_SCALE_UP_LIMIT = (
    "ScaleUpLimit",
    "the desired replica count is increasing faster than the maximum scale rate",
)
_SCALE_DOWN_LIMIT = (
    "ScaleDownLimit",
    "the desired replica count is decreasing faster than the maximum scale rate",
)


def normalize_without_behavior(
    history: ScalingHistory,
    current: int,
    desired: int,
    min_replicas: int,
    max_replicas: int,
    downscale_window_seconds: float,
    now: float,
) -> Normalized:
    """normalizeDesiredReplicas: the algorithm used when `spec.behavior` is unset."""
    cutoff = now - downscale_window_seconds
    # Samples older than the window no longer count; a sample exactly at the cutoff still does.
    recent = tuple(rec for rec in history.recommendations if rec.timestamp >= cutoff)
    stabilized = max((rec.value for rec in recent), default=desired)
    stabilized = max(stabilized, desired)
    history = ScalingHistory(
        (*recent, TimedValue(desired, now)), history.scale_up_events, history.scale_down_events
    )
    able_reason, able_message = _SCALE_DOWN_STABILIZED if stabilized != desired else _READY
    scale_up_limit = max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM)
    if max_replicas > scale_up_limit:
        maximum, limit_condition = scale_up_limit, _SCALE_UP_LIMIT
    else:
        maximum, limit_condition = max_replicas, _TOO_MANY
    if stabilized < min_replicas:
        replicas, condition = min_replicas, _TOO_FEW
    elif stabilized > maximum:
        replicas, condition = maximum, limit_condition
    else:
        replicas, condition = stabilized, _WITHIN_RANGE
    return Normalized(replicas, able_reason, able_message, replicas != stabilized, *condition, history)


def normalize_with_behavior(
    history: ScalingHistory,
    behavior: Behavior,
    current: int,
    desired: int,
    min_replicas: int,
    max_replicas: int,
    downscale_window_seconds: int,
    now: float,
) -> Normalized:
    """normalizeDesiredReplicasWithBehaviors: stabilise, then apply the rate policies."""
    up_window = behavior.scale_up.stabilization_window_seconds or 0
    down_window = behavior.scale_down.stabilization_window_seconds
    if down_window is None:
        down_window = downscale_window_seconds
    up_cutoff = now - up_window
    down_cutoff = now - down_window
    up_recommendation = down_recommendation = desired
    kept: list[TimedValue] = []
    for rec in history.recommendations:
        if rec.timestamp > up_cutoff:
            up_recommendation = min(up_recommendation, rec.value)
        if rec.timestamp > down_cutoff:
            down_recommendation = max(down_recommendation, rec.value)
        if rec.timestamp >= up_cutoff or rec.timestamp >= down_cutoff:
            kept.append(rec)
    stabilized = min(max(current, up_recommendation), down_recommendation)
    history = ScalingHistory(
        (*kept, TimedValue(desired, now)), history.scale_up_events, history.scale_down_events
    )
    if stabilized == desired:
        able_reason, able_message = _READY
    else:
        able_reason, able_message = _SCALE_UP_STABILIZED if desired >= current else _SCALE_DOWN_STABILIZED
    replicas, condition = _apply_rate_limits(
        history, behavior, current, stabilized, min_replicas, max_replicas, now
    )
    return Normalized(replicas, able_reason, able_message, replicas != stabilized, *condition, history)


def _apply_rate_limits(
    history: ScalingHistory,
    behavior: Behavior,
    current: int,
    desired: int,
    min_replicas: int,
    max_replicas: int,
    now: float,
) -> tuple[int, tuple[str, str]]:
    """convertDesiredReplicasWithBehaviorRate."""
    if desired > current:
        limit = max(scale_up_limit(current, history, behavior.scale_up, now), current)
        if max_replicas > limit:
            maximum, condition = limit, _SCALE_UP_LIMIT
        else:
            maximum, condition = max_replicas, _TOO_MANY
        if desired > maximum:
            return maximum, condition
    elif desired < current:
        limit = min(scale_down_limit(current, history, behavior.scale_down, now), current)
        if min_replicas < limit:
            minimum, condition = limit, _SCALE_DOWN_LIMIT
        else:
            minimum, condition = min_replicas, _TOO_FEW
        if desired < minimum:
            return minimum, condition
    return desired, _WITHIN_RANGE


def _change_in_period(events: tuple[TimedValue, ...], period_seconds: int, now: float) -> int:
    cutoff = now - period_seconds
    return sum(event.value for event in events if event.timestamp > cutoff)


def scale_up_limit(current: int, history: ScalingHistory, rules: ScalingRules, now: float) -> int:
    """calculateScaleUpLimitWithScalingRules: the most replicas the policies allow now."""
    if rules.select_policy == "Disabled":
        return current
    proposals: list[int] = []
    for policy in rules.policies:
        added = _change_in_period(history.scale_up_events, policy.period_seconds, now)
        deleted = _change_in_period(history.scale_down_events, policy.period_seconds, now)
        period_start = current - added + deleted
        if policy.type == "Pods":
            proposals.append(period_start + policy.value)
        else:
            # Rounded up so that a small percentage of a small deployment still allows one pod. The
            # float product is kept on purpose: Kubernetes computes it in float64 too.
            proposals.append(math.ceil(period_start * (1 + policy.value / 100)))
    if not proposals:
        return current
    return min(proposals) if rules.select_policy == "Min" else max(proposals)


def scale_down_limit(current: int, history: ScalingHistory, rules: ScalingRules, now: float) -> int:
    """calculateScaleDownLimitWithBehaviors: the fewest replicas the policies allow now."""
    if rules.select_policy == "Disabled":
        return current
    proposals: list[int] = []
    for policy in rules.policies:
        added = _change_in_period(history.scale_up_events, policy.period_seconds, now)
        deleted = _change_in_period(history.scale_down_events, policy.period_seconds, now)
        period_start = current - added + deleted
        if policy.type == "Pods":
            proposals.append(period_start - policy.value)
        else:
            proposals.append(int(period_start * (1 - policy.value / 100)))
    if not proposals:
        return current
    # "Min" selects the policy that changes the least, which for a scale-down is the highest floor.
    return max(proposals) if rules.select_policy == "Min" else min(proposals)


def record_scale_event(
    history: ScalingHistory, behavior: Behavior | None, previous: int, new: int, now: float
) -> ScalingHistory:
    """storeScaleEvent: remember a rescale for the rate policies (only when behavior is set)."""
    if behavior is None or previous == new:
        return history
    if new > previous:
        cutoff = now - behavior.scale_up.longest_period_seconds
        kept = tuple(event for event in history.scale_up_events if event.timestamp >= cutoff)
        return ScalingHistory(
            history.recommendations, (*kept, TimedValue(new - previous, now)), history.scale_down_events
        )
    cutoff = now - behavior.scale_down.longest_period_seconds
    kept = tuple(event for event in history.scale_down_events if event.timestamp >= cutoff)
    return ScalingHistory(
        history.recommendations, history.scale_up_events, (*kept, TimedValue(previous - new, now))
    )
