"""User-facing text of a scheduling failure, worded as kube-scheduler words it (FitError.Error()).

`0/N nodes are available: <count> <reason>, ...` with one entry per distinct reason, counted over
the nodes that the first rejecting Filter turned down, entries sorted as strings (Go's
`sort.Strings` on "count reason"), then ` preemption: ...` when DefaultPreemption ran and failed.
A PreFilter rejection gives its own reason for all N nodes.
"""

from __future__ import annotations

from kubelite.scheduler.framework.runtime import ScheduleResult


def failed_scheduling_message(result: ScheduleResult) -> str:
    diagnosis = result.diagnosis
    if diagnosis is None:
        return result.status.message
    if diagnosis.node_count == 0:
        return "no nodes available to schedule pods"
    entries = sorted(f"{count} {reason}" for reason, count in diagnosis.reason_counts.items())
    message = f"0/{diagnosis.node_count} nodes are available"
    message += f": {', '.join(entries)}." if entries else "."
    post = result.post_filter
    if post is not None and not post.status.is_success and post.status.message:
        message += f" preemption: {post.status.message}"
    return message
