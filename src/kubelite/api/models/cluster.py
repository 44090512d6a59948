"""Cluster-plumbing kinds: coordination.k8s.io/v1 Lease and scheduling.k8s.io/v1 PriorityClass.

Agents renew a Lease per node in kube-node-lease as their heartbeat; the API server resolves a
pod's priorityClassName to spec.priority from PriorityClasses.
"""

from __future__ import annotations

import msgspec

from kubelite.api.models.base import Model, Timestamp, TopLevel
from kubelite.api.models.meta import ObjectMeta


class LeaseSpec(Model, kw_only=True):
    holder_identity: str | None = None
    lease_duration_seconds: int | None = None
    acquire_time: Timestamp | None = None
    renew_time: Timestamp | None = None
    lease_transitions: int | None = None
    strategy: str | None = None
    preferred_holder: str | None = None


class Lease(TopLevel, kw_only=True):
    API_VERSION = "coordination.k8s.io/v1"
    KIND = "Lease"

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: LeaseSpec | None = None


class PriorityClass(TopLevel, kw_only=True):
    """`value` is required and written even when 0."""

    API_VERSION = "scheduling.k8s.io/v1"
    KIND = "PriorityClass"

    value: int
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    global_default: bool | None = None
    description: str | None = None
    preemption_policy: str | None = None
