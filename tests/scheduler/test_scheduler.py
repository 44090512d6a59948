"""The scheduler loop end to end in-process: placement, failure reporting, recovery, preemption, rollback."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from kubelite.clock import FakeClock
from kubelite.scheduler.framework.runtime import Framework
from kubelite.scheduler.framework.status import SUCCESS, Code, Status
from kubelite.scheduler.profiles import DEFAULT_WEIGHTS, Profile, build_framework
from kubelite.scheduler.records import GPU_INDICES_ANNOTATION, PodInfo
from kubelite.scheduler.scheduler import Scheduler

from .conftest import make_node, make_pod


class RecordingWriter:
    def __init__(self, fail_bindings: int = 0) -> None:
        self.scheduler: Scheduler | None = None
        self.bound: dict[str, str] = {}
        self.annotations: dict[str, Mapping[str, str]] = {}
        self.failed: dict[str, tuple[str, str]] = {}
        self.evicted: list[str] = []
        self.fail_bindings = fail_bindings

    async def bind(self, pod: PodInfo, node_name: str, annotations: Mapping[str, str]) -> Status:
        if self.fail_bindings:
            self.fail_bindings -= 1
            return Status.error("conflict")
        self.bound[pod.name] = node_name
        self.annotations[pod.name] = dict(annotations)
        assert self.scheduler is not None
        self.scheduler.on_pod("MODIFIED", pod.placed(node_name))
        return SUCCESS

    async def mark_unschedulable(self, pod: PodInfo, message: str, nominated_node: str) -> None:
        self.failed[pod.name] = (message, nominated_node)

    async def evict(self, victim: PodInfo, preemptor: PodInfo) -> None:
        self.evicted.append(victim.name)
        assert self.scheduler is not None
        self.scheduler.on_pod("DELETED", victim)


def make_scheduler(writer: RecordingWriter, clock: FakeClock | None = None) -> Scheduler:
    framework = build_framework(Profile(), writer.bind)
    scheduler = Scheduler({framework.profile_name: framework}, writer, clock or FakeClock())
    writer.scheduler = scheduler
    return scheduler


async def settle(scheduler: Scheduler) -> None:
    while scheduler.schedule_one():
        pass
    await scheduler.drain_bindings()


def test_failed_scheduling_message_is_worded_like_kubernetes() -> None:
    async def scenario() -> None:
        writer = RecordingWriter()
        scheduler = make_scheduler(writer)
        for index in range(3):
            scheduler.on_node("ADDED", make_node(f"small-{index}", cpu="1"))
        for index in range(2):
            taint = [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
            scheduler.on_node("ADDED", make_node(f"gpu-{index}", cpu="8", taints=taint))
        scheduler.on_pod("ADDED", make_pod("big", cpu="2"))
        await settle(scheduler)
        message, nominated = writer.failed["big"]
        assert message == (
            "0/5 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}, 3 Insufficient cpu. "
            "preemption: 0/5 nodes are available: 3 No preemption victims found for incoming pod, "
            "2 Preemption is not helpful for scheduling."
        )
        assert nominated == ""

    asyncio.run(scenario())


def test_unschedulable_pod_is_scheduled_once_a_fitting_node_appears() -> None:
    async def scenario() -> None:
        writer = RecordingWriter()
        clock = FakeClock()
        scheduler = make_scheduler(writer, clock)
        scheduler.on_node("ADDED", make_node("small", cpu="1"))
        scheduler.on_pod("ADDED", make_pod("big", cpu="2"))
        await settle(scheduler)
        assert "big" in writer.failed and scheduler.queue.sizes()["unschedulable"] == 1
        scheduler.on_node("ADDED", make_node("large", cpu="4"))
        clock.advance(1.0)  # the first backoff
        await settle(scheduler)
        assert writer.bound == {"big": "large"}

    asyncio.run(scenario())


def test_placement_honours_requests_across_many_pods() -> None:
    async def scenario() -> None:
        writer = RecordingWriter()
        scheduler = make_scheduler(writer)
        for index in range(4):
            scheduler.on_node("ADDED", make_node(f"n{index}", cpu="2", memory="4Gi"))
        for index in range(10):
            scheduler.on_pod("ADDED", make_pod(f"p{index}", cpu="700m", memory="1Gi"))
        await settle(scheduler)
        per_node: dict[str, int] = {}
        for node in writer.bound.values():
            per_node[node] = per_node.get(node, 0) + 1
        assert len(writer.bound) == 8 and max(per_node.values()) == 2  # 2 x 700m fit in 2 cpu, 3 do not
        assert set(writer.failed) == {"p8", "p9"}

    asyncio.run(scenario())


def test_preemption_nominates_a_node_and_evicts_lower_priority_pods() -> None:
    async def scenario() -> None:
        writer = RecordingWriter()
        clock = FakeClock()
        scheduler = make_scheduler(writer, clock)
        scheduler.on_node("ADDED", make_node("n", cpu="2"))
        scheduler.on_pod("ADDED", make_pod("low-a", cpu="1", priority=0, node_name="n"))
        scheduler.on_pod("ADDED", make_pod("low-b", cpu="1", priority=10, node_name="n"))
        scheduler.on_pod("ADDED", make_pod("high", cpu="1", priority=100))
        await settle(scheduler)
        assert writer.failed["high"][1] == "n"
        assert writer.evicted == ["low-a"]  # one victim is enough, and the lowest priority goes
        clock.advance(1.0)
        await settle(scheduler)
        assert writer.bound == {"high": "n"}

    asyncio.run(scenario())


def test_preemption_never_policy_does_not_evict() -> None:
    async def scenario() -> None:
        writer = RecordingWriter()
        scheduler = make_scheduler(writer)
        scheduler.on_node("ADDED", make_node("n", cpu="1"))
        scheduler.on_pod("ADDED", make_pod("low", cpu="1", priority=0, node_name="n"))
        scheduler.on_pod("ADDED", make_pod("high", cpu="1", priority=100, preemptionPolicy="Never"))
        await settle(scheduler)
        assert writer.evicted == [] and writer.failed["high"][1] == ""

    asyncio.run(scenario())


def test_failed_binding_is_rolled_back_and_retried() -> None:
    async def scenario() -> None:
        writer = RecordingWriter(fail_bindings=1)
        clock = FakeClock()
        scheduler = make_scheduler(writer, clock)
        scheduler.on_node("ADDED", make_node("n", cpu="1"))
        scheduler.on_pod("ADDED", make_pod("p", cpu="600m"))
        await settle(scheduler)
        row = scheduler.table.row_of("n")
        assert row is not None
        assert writer.bound == {} and scheduler.table.pod_row("default/p") is None
        assert int(scheduler.table.requested(scheduler.table.resource_column("cpu"))[row]) == 0
        clock.advance(1.0)
        await settle(scheduler)
        assert writer.bound == {"p": "n"}

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("request_milli", "expected_indices"),
    [pytest.param("300", "1", id="share-best-fit"), pytest.param(None, "0,2", id="two-whole")],
)
def test_gpu_indices_are_chosen_and_annotated(request_milli: str | None, expected_indices: str) -> None:
    async def scenario() -> None:
        writer = RecordingWriter()
        scheduler = make_scheduler(writer)
        scheduler.on_node("ADDED", make_node("g", extra={"nvidia.com/gpu": "3"}))
        # GPU 1 is already 600 milli used by a bound sharing pod.
        scheduler.on_pod(
            "ADDED",
            make_pod(
                "sharer",
                node_name="g",
                extra_requests={"kubelite.io/gpu-milli": "600"},
                annotations={GPU_INDICES_ANNOTATION: "1"},
            ),
        )
        extra = {"kubelite.io/gpu-milli": request_milli} if request_milli else {"nvidia.com/gpu": "2"}
        scheduler.on_pod("ADDED", make_pod("p", extra_requests=extra))
        await settle(scheduler)
        assert writer.annotations["p"][GPU_INDICES_ANNOTATION] == expected_indices

    asyncio.run(scenario())


def test_node_heartbeat_does_not_wake_unschedulable_pods_but_a_real_change_does() -> None:
    async def scenario() -> None:
        writer = RecordingWriter()
        scheduler = make_scheduler(writer)
        scheduler.on_node("ADDED", make_node("n", cpu="1"))
        scheduler.on_pod("ADDED", make_pod("big", cpu="2"))
        await settle(scheduler)
        assert scheduler.queue.sizes()["unschedulable"] == 1
        scheduler.on_node("MODIFIED", make_node("n", cpu="1"))  # same attributes: a heartbeat
        assert scheduler.queue.sizes()["unschedulable"] == 1
        scheduler.on_node("MODIFIED", make_node("n", cpu="4"))
        assert scheduler.queue.sizes()["unschedulable"] == 0

    asyncio.run(scenario())


def test_metrics_count_attempts_and_queue_sizes() -> None:
    async def scenario() -> None:
        writer = RecordingWriter()
        scheduler = make_scheduler(writer)
        scheduler.on_node("ADDED", make_node("n", cpu="1"))
        scheduler.on_pod("ADDED", make_pod("fits", cpu="500m"))
        scheduler.on_pod("ADDED", make_pod("big", cpu="2"))
        await settle(scheduler)
        scheduler.metrics.queue_sizes(scheduler.queue.sizes())
        registry = scheduler.metrics.registry
        attempts = {
            result: registry.get_sample_value(
                "scheduler_schedule_attempts_total", {"result": result, "profile": "default-scheduler"}
            )
            for result in ("scheduled", "unschedulable")
        }
        assert attempts == {"scheduled": 1.0, "unschedulable": 1.0}
        assert registry.get_sample_value("scheduler_pending_pods", {"queue": "unschedulable"}) == 1.0
        assert (
            registry.get_sample_value(
                "scheduler_e2e_scheduling_duration_seconds_count", {"profile": "default-scheduler"}
            )
            == 1.0
        )

    asyncio.run(scenario())


class GatePermit:
    """A Permit plugin that holds every pod until the test allows or the timeout passes."""

    name = "Gate"

    def permit(self, state: object, pod: PodInfo, node_name: str) -> tuple[Status, float]:
        return Status(Code.WAIT), 30.0


def make_gated_scheduler(writer: RecordingWriter, clock: FakeClock) -> Scheduler:
    framework = build_framework(Profile(), writer.bind)
    gated = Framework([*framework.plugins, GatePermit()], dict(DEFAULT_WEIGHTS), framework.profile_name)
    scheduler = Scheduler({gated.profile_name: gated}, writer, clock)
    writer.scheduler = scheduler
    return scheduler


def test_permit_wait_binds_once_allowed() -> None:
    async def scenario() -> None:
        writer = RecordingWriter()
        scheduler = make_gated_scheduler(writer, FakeClock())
        scheduler.on_node("ADDED", make_node("n"))
        scheduler.on_pod("ADDED", make_pod("p"))
        scheduler.schedule_one()
        await asyncio.sleep(0)
        framework = scheduler.frameworks["default-scheduler"]
        waiting = framework.waiting_pods.get("default/p")
        assert waiting is not None and writer.bound == {}
        waiting.allow("Gate")
        await scheduler.drain_bindings()
        assert writer.bound == {"p": "n"} and len(framework.waiting_pods) == 0

    asyncio.run(scenario())


def test_permit_wait_times_out_and_rolls_back() -> None:
    async def scenario() -> None:
        writer = RecordingWriter()
        clock = FakeClock()
        scheduler = make_gated_scheduler(writer, clock)
        scheduler.on_node("ADDED", make_node("n", cpu="1"))
        scheduler.on_pod("ADDED", make_pod("p", cpu="800m"))
        scheduler.schedule_one()
        await asyncio.sleep(0)
        assert scheduler.table.pod_row("default/p") is not None  # assumed while it waits
        for _ in range(10):  # let the binding task start its timer on the virtual clock
            await asyncio.sleep(0)
        assert clock.pending_sleepers() == 1
        clock.advance(30)
        await scheduler.drain_bindings()
        assert writer.bound == {} and scheduler.table.pod_row("default/p") is None
        assert scheduler.queue.sizes()["backoff"] == 1

    asyncio.run(scenario())


def test_preemption_resolves_anti_affinity_by_evicting_the_conflicting_pod() -> None:
    async def scenario() -> None:
        writer = RecordingWriter()
        clock = FakeClock()
        scheduler = make_scheduler(writer, clock)
        scheduler.on_node("ADDED", make_node("n", cpu="8"))
        scheduler.on_pod("ADDED", make_pod("db-low", labels={"app": "db"}, priority=0, node_name="n"))
        scheduler.on_pod("ADDED", make_pod("bystander", labels={"app": "web"}, priority=0, node_name="n"))
        anti = {
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "kubernetes.io/hostname"}
                ]
            }
        }
        scheduler.on_pod("ADDED", make_pod("db-high", labels={"app": "other"}, priority=100, affinity=anti))
        await settle(scheduler)
        assert writer.failed["db-high"][1] == "n"
        assert writer.evicted == ["db-low"]  # the bystander is reprieved: it does not conflict
        assert scheduler.table.pod_row("default/bystander") is not None
        clock.advance(1.0)
        await settle(scheduler)
        assert writer.bound == {"db-high": "n"}

    asyncio.run(scenario())
