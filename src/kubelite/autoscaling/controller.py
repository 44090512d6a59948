"""The live HorizontalPodAutoscaler controller: the pure HPA algorithm, driven through the API.

Every sync period (15 s, `--horizontal-pod-autoscaler-sync-period`) it lists the autoscaling/v2
HPAs, and for each one, as kube-controller-manager's `reconcileAutoscaler` does:
1. reads the target's `/scale` subresource (spec.replicas, status.replicas, status.selector);
2. lists the target's pods by that selector and reads every metric of `spec.metrics` through a
   `MetricsClient` (metrics.k8s.io for Resource metrics, custom and external metrics APIs for the
   rest);
3. hands scale, pods and readings to the HPA's `Autoscaler` (the reactive HPA, or the predictive
   autoscaler when the HPA carries `autoscaling.kubelite.io/mode: predictive`), which keeps the
   HPA's recommendation and scale-event history between syncs;
4. writes the decision: the new replica count through `/scale`, a `SuccessfulRescale` Event, and the
   HPA's status (currentReplicas, desiredReplicas, currentMetrics, conditions, lastScaleTime)
   through the `status` subresource. Predictive HPAs also get their forecast in the
   `autoscaling.kubelite.io/forecast` annotation and as Prometheus gauges (`HPAMetrics`).
A watch on HPAs wakes the loop when one is created or its spec changes, so a new HPA acts at once
rather than at the next period. Time comes from the injected `Clock`, so tests run on virtual time.
Only standard API semantics are used: the controller also runs against a real Kubernetes cluster.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
from dataclasses import dataclass, field, replace
from typing import Any

from kubelite.api.resources import EVENTS, HORIZONTAL_POD_AUTOSCALERS, PODS, by_kind
from kubelite.autoscaling.hpa.decide import Condition, Decision, ScaleState
from kubelite.autoscaling.hpa.observations import MetricFetchFailed, MetricObservation
from kubelite.autoscaling.hpa.spec import ControllerSettings, HPASpec
from kubelite.autoscaling.hpa_metrics import HPAMetrics
from kubelite.autoscaling.metrics_api import ApiMetricsClient, MetricsClient, selector_text
from kubelite.autoscaling.objects import (
    SpecError,
    described_object,
    format_time,
    hpa_spec,
    hpa_status,
    metric_selector,
    pod_state,
    status_with_condition,
)
from kubelite.autoscaling.predictive.budget import BudgetSettings
from kubelite.autoscaling.predictive.forecast import ForecastSettings
from kubelite.autoscaling.predictive.policy import (
    PredictiveAutoscaler,
    PredictiveSettings,
    wants_predictive,
)
from kubelite.autoscaling.reactive import Autoscaler, ReactiveAutoscaler
from kubelite.client import ApiClient, ApiError, TransportError
from kubelite.clock import Clock

log = logging.getLogger(__name__)
Object = dict[str, Any]
STARTUP_ANNOTATION = "autoscaling.kubelite.io/startup-seconds"
"""Per-HPA pod start-up time (seconds) for the predictive mode's lead; the settings' default otherwise."""
QUANTILE_ANNOTATION = "autoscaling.kubelite.io/quantile"
"""Per-HPA quantile of recent forecast errors that sizes the predictive margin (0.5 to 0.999)."""
COST_CEILING_ANNOTATION = "autoscaling.kubelite.io/cost-ceiling"
"""Per-HPA ceiling on the predictive mode's replica-seconds, as a multiple of the reactive HPA's
(1 to 100; the default 1.25). Beyond it the forecast's safety margin shrinks."""


@dataclass(frozen=True, slots=True)
class HPAControllerSettings:
    """The HPA controller's flags."""

    controller: ControllerSettings = field(default_factory=ControllerSettings)
    """The algorithm's flags; `controller.sync_period_seconds` is the loop's period."""
    namespace: str | None = None
    """Only this namespace's HPAs (None: every namespace)."""
    predictive_startup_seconds: float = 60.0
    """Pod start-up time the predictive mode looks ahead by, unless the HPA's annotation says."""


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    """What one HPA's sync did (an expected outcome, reported as a value)."""

    key: str
    current_replicas: int
    desired_replicas: int
    rescaled: bool
    error: str = ""


@dataclass(slots=True)
class _Tracked:
    fingerprint: tuple[Any, ...]
    autoscaler: Autoscaler


def _annotated_number(annotations: dict[str, str], key: str, default: float) -> float:
    """A finite number from an annotation, or the default when it is absent or unreadable."""
    try:
        value = float(annotations.get(key, default))
    except ValueError:
        return default
    return value if math.isfinite(value) else default


def _key(obj: Object) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


class HPAController:
    """Syncs every HorizontalPodAutoscaler once per period."""

    def __init__(
        self,
        client: ApiClient,
        clock: Clock,
        settings: HPAControllerSettings | None = None,
        *,
        metrics_client: MetricsClient | None = None,
        metrics: HPAMetrics | None = None,
    ) -> None:
        self.client = client
        self.clock = clock
        self.settings = settings or HPAControllerSettings()
        self.metrics_client: MetricsClient = metrics_client or ApiMetricsClient(client)
        self.metrics = metrics
        self._tracked: dict[str, _Tracked] = {}
        self._event_sequence = itertools.count()
        self.wake = asyncio.Event()

    def _autoscaler(self, key: str, obj: Object, spec: HPASpec) -> Autoscaler:
        meta = obj.get("metadata") or {}
        annotations = {str(k): str(v) for k, v in (meta.get("annotations") or {}).items()}
        predictive = wants_predictive(annotations)
        startup = _annotated_number(annotations, STARTUP_ANNOTATION, self.settings.predictive_startup_seconds)
        startup = min(max(startup, 0.0), 3600.0)
        forecast = ForecastSettings()
        quantile = _annotated_number(annotations, QUANTILE_ANNOTATION, forecast.error_quantile)
        forecast = ForecastSettings(error_quantile=min(max(quantile, 0.5), 0.999))
        ceiling = _annotated_number(annotations, COST_CEILING_ANNOTATION, BudgetSettings().ceiling)
        budget = BudgetSettings(ceiling=min(max(ceiling, 1.0), 100.0))
        fingerprint = (meta.get("uid"), spec, predictive, startup, forecast, budget)
        tracked = self._tracked.get(key)
        if tracked is not None and tracked.fingerprint == fingerprint:
            return tracked.autoscaler
        controller = self.settings.controller
        fresh: Autoscaler = (
            PredictiveAutoscaler(spec, PredictiveSettings(startup, forecast=forecast, budget=budget), controller)
            if predictive
            else ReactiveAutoscaler(spec, controller)
        )
        if tracked is not None and tracked.fingerprint[0] == meta.get("uid"):
            # A changed spec keeps the HPA's memory of recent recommendations and scale events, and
            # (same metrics, same lead) what the forecaster has learnt of the load.
            fresh.history = tracked.autoscaler.history
            old = tracked.autoscaler
            if (
                isinstance(old, PredictiveAutoscaler)
                and isinstance(fresh, PredictiveAutoscaler)
                and old.spec.metrics == spec.metrics
                and old.settings == fresh.settings
            ):
                fresh.forecaster = old.forecaster
                fresh.budget = old.budget
        self._tracked[key] = _Tracked(fingerprint, fresh)
        return fresh

    async def sync_all(self) -> list[SyncOutcome]:
        """One pass over every HPA; HPAs that vanished are forgotten."""
        try:
            if self.settings.namespace is None:
                items, _ = await self.client.list_all(HORIZONTAL_POD_AUTOSCALERS, all_namespaces=True)
            else:
                items, _ = await self.client.list_all(HORIZONTAL_POD_AUTOSCALERS, self.settings.namespace)
        except (ApiError, TransportError) as error:
            log.warning("cannot list HorizontalPodAutoscalers: %s", error)
            return []
        present = {_key(obj) for obj in items}
        for gone in set(self._tracked) - present:
            del self._tracked[gone]
            if self.metrics is not None:
                self.metrics.forget(*gone.split("/", 1))
        return [await self.sync(obj) for obj in items]

    async def _observe(
        self, obj: Object, spec: HPASpec, namespace: str, selector: str
    ) -> list[MetricObservation]:
        now = self.clock.now()
        readings: list[MetricObservation] = []
        for index, metric in enumerate(spec.metrics):
            extra = selector_text(metric_selector(obj, index))
            if extra == "<error>":
                readings.append(MetricFetchFailed("the metric selector is invalid"))
            elif metric.type in ("Resource", "ContainerResource"):
                readings.append(
                    await self.metrics_client.pod_resource(
                        namespace, selector, metric.name, metric.container, now
                    )
                )
            elif metric.type == "Pods":
                readings.append(
                    await self.metrics_client.pods_metric(namespace, selector, metric.name, extra, now)
                )
            elif metric.type == "Object":
                described = described_object(obj, index)
                readings.append(
                    await self.metrics_client.object_metric(namespace, described, metric.name, extra, now)
                )
            else:
                readings.append(await self.metrics_client.external_metric(namespace, metric.name, extra, now))
        return readings

    async def sync(self, obj: Object) -> SyncOutcome:
        """reconcileAutoscaler for one HPA object."""
        key, now = _key(obj), self.clock.now()
        meta, raw_spec = obj.get("metadata") or {}, obj.get("spec") or {}
        namespace, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
        previous = obj.get("status") or {}
        current = int(previous.get("currentReplicas") or 0)
        spec = hpa_spec(obj)
        if isinstance(spec, SpecError):
            await self._fail(obj, current, Condition("ScalingActive", "False", spec.reason, spec.message))
            return SyncOutcome(key, current, current, False, spec.message)
        reference = raw_spec.get("scaleTargetRef") or {}
        target = by_kind(str(reference.get("apiVersion") or "apps/v1"), str(reference.get("kind", "")))
        target_name = str(reference.get("name", ""))
        try:
            if target is None or "scale" not in target.subresources:
                raise ApiError(404, "NotFound", f"no scale subresource for {reference.get('kind')!r}")
            scale = await self.client.get_scale(target, target_name, namespace)
        except (ApiError, TransportError) as error:
            message = f"the HPA controller was unable to get the target's current scale: {error}"
            await self._fail(obj, current, Condition("AbleToScale", "False", "FailedGetScale", message))
            return SyncOutcome(key, current, current, False, message)
        replicas = int((scale.get("spec") or {}).get("replicas") or 0)
        status_replicas = int((scale.get("status") or {}).get("replicas") or 0)
        selector = str((scale.get("status") or {}).get("selector") or "")
        if not selector:
            message = "the HPA target's scale is missing a selector"
            await self._fail(obj, replicas, Condition("ScalingActive", "False", "InvalidSelector", message))
            return SyncOutcome(key, replicas, replicas, False, message)
        try:
            pod_objects, _ = await self.client.list_all(PODS, namespace, label_selector=selector)
        except (ApiError, TransportError) as error:
            return SyncOutcome(key, replicas, replicas, False, f"cannot list pods: {error}")
        pods = [pod_state(pod) for pod in pod_objects]
        observations = await self._observe(obj, spec, namespace, selector)
        autoscaler = self._autoscaler(key, obj, spec)
        decision = autoscaler.sync(now, ScaleState(replicas, status_replicas), pods, observations)
        rescaled, error_text = False, ""
        if decision.rescale:
            try:
                await self.client.set_scale(target, target_name, decision.desired_replicas, namespace)
                rescaled = True
            except (ApiError, TransportError) as error:
                autoscaler.rescale_failed()
                error_text = f"the HPA controller was unable to update the target scale: {error}"
                decision = _with_condition(
                    decision, Condition("AbleToScale", "False", "FailedUpdateScale", error_text)
                )
                decision = replace(decision, desired_replicas=replicas, rescale=False)
        if rescaled:
            await self._event(obj, "Normal", "SuccessfulRescale",
                              f"New size: {decision.desired_replicas}; reason: {decision.reason}")  # fmt: skip
        status = hpa_status(
            decision, previous, now, scaled=rescaled, observed_generation=meta.get("generation")
        )
        active = decision.condition("ScalingActive")
        if active is not None and active.reason.startswith("FailedGet") and not decision.rescale:
            # As upstream: a sync whose metrics failed leaves the last desiredReplicas in place.
            status["desiredReplicas"] = int(previous.get("desiredReplicas", replicas))
        await self._write_status(namespace, name, status)
        if isinstance(autoscaler, PredictiveAutoscaler):
            await self._publish_forecast(obj, autoscaler)
        if self.metrics is not None:
            self.metrics.observe_decision(namespace, name, decision)
        return SyncOutcome(key, replicas, decision.desired_replicas, rescaled, error_text)

    async def _publish_forecast(self, obj: Object, autoscaler: PredictiveAutoscaler) -> None:
        meta = obj.get("metadata") or {}
        namespace, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
        annotations = autoscaler.annotations()
        if self.metrics is not None:
            self.metrics.observe_forecast(
                namespace, name, autoscaler.last_forecast,
                autoscaler.last_forecast_replicas, autoscaler.last_reactive_replicas,
            )  # fmt: skip
        existing = meta.get("annotations") or {}
        if not annotations or all(existing.get(k) == v for k, v in annotations.items()):
            return
        try:
            await self.client.patch(
                HORIZONTAL_POD_AUTOSCALERS, name, {"metadata": {"annotations": annotations}}, namespace
            )
        except (ApiError, TransportError) as error:
            log.info("cannot annotate %s/%s with its forecast: %s", namespace, name, error)

    async def _fail(self, obj: Object, current: int, condition: Condition) -> None:
        """Record a sync that could not reach a decision (upstream's setCondition + updateStatus)."""
        meta = obj.get("metadata") or {}
        status = status_with_condition(obj.get("status"), current, condition, self.clock.now())
        await self._event(obj, "Warning", condition.reason, condition.message)
        await self._write_status(str(meta.get("namespace", "")), str(meta.get("name", "")), status)

    async def _write_status(self, namespace: str, name: str, status: Object) -> None:
        try:
            await self.client.patch(
                HORIZONTAL_POD_AUTOSCALERS, name, {"status": status}, namespace, subresource="status"
            )
        except (ApiError, TransportError) as error:
            log.info("cannot update the status of HPA %s/%s: %s", namespace, name, error)

    def _event_suffix(self) -> int:
        """Nanoseconds of the injected clock, made unique within this process."""
        return int(self.clock.now() * 1e9) + next(self._event_sequence)

    async def _event(self, obj: Object, event_type: str, reason: str, message: str) -> None:
        meta = obj.get("metadata") or {}
        namespace, now = str(meta.get("namespace", "")), self.clock.now()
        event: Object = {
            "apiVersion": "v1",
            "kind": "Event",
            # Named as Kubernetes' event recorder names events: object name, then a unique hex suffix.
            "metadata": {"name": f"{meta.get('name', 'hpa')}.{self._event_suffix():x}", "namespace": namespace},
            "involvedObject": {
                "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                "name": meta.get("name"), "namespace": namespace, "uid": meta.get("uid"),
            },
            "reason": reason,
            "message": message,
            "type": event_type,
            "source": {"component": "horizontal-pod-autoscaler"},
            "firstTimestamp": format_time(now),
            "lastTimestamp": format_time(now),
            "count": 1,
        }  # fmt: skip
        try:
            await self.client.create(EVENTS, event, namespace)
        except (ApiError, TransportError) as error:
            log.info("cannot record event %s: %s", reason, error)

    async def _watch_for_changes(self, stop: asyncio.Event) -> None:
        """Wake the loop when an HPA is added or its spec changes (generation moves)."""
        generations: dict[str, Any] = {}
        while not stop.is_set():
            try:
                kwargs: dict[str, Any] = (
                    {"all_namespaces": True} if self.settings.namespace is None
                    else {"namespace": self.settings.namespace}
                )  # fmt: skip
                items, version = await self.client.list_all(HORIZONTAL_POD_AUTOSCALERS, **kwargs)
                generations = {_key(i): (i.get("metadata") or {}).get("generation") for i in items}
                async for event_type, obj in self.client.watch(
                    HORIZONTAL_POD_AUTOSCALERS, resource_version=version, **kwargs
                ):
                    if event_type not in ("ADDED", "MODIFIED"):
                        continue
                    generation = (obj.get("metadata") or {}).get("generation")
                    if generations.get(_key(obj)) != generation:
                        generations[_key(obj)] = generation
                        self.wake.set()
            except (ApiError, TransportError) as error:
                log.info("re-watching HorizontalPodAutoscalers after %s", error)
            await self.clock.sleep(1.0)

    async def run(self, stop: asyncio.Event) -> None:
        """Sync every HPA each period until `stop` is set."""
        watcher = asyncio.create_task(self._watch_for_changes(stop))
        try:
            while not stop.is_set():
                self.wake.clear()
                await self.sync_all()
                waits = [
                    asyncio.create_task(self.clock.sleep(self.settings.controller.sync_period_seconds)),
                    asyncio.create_task(stop.wait()),
                    asyncio.create_task(self.wake.wait()),
                ]
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                for task in waits:
                    task.cancel()
                await asyncio.gather(*waits, return_exceptions=True)
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)


def _with_condition(decision: Decision, condition: Condition) -> Decision:
    kept = tuple(c for c in decision.conditions if c.type != condition.type)
    return replace(decision, conditions=(condition, *kept))


async def run_hpa_controller(
    client: ApiClient,
    clock: Clock,
    settings: HPAControllerSettings,
    stop: asyncio.Event,
    *,
    metrics_client: MetricsClient | None = None,
    metrics: HPAMetrics | None = None,
) -> HPAController:
    """Run the HPA controller until `stop` is set (what the controller-manager and `kubelite up` call)."""
    controller = HPAController(client, clock, settings, metrics_client=metrics_client, metrics=metrics)
    await controller.run(stop)
    return controller
