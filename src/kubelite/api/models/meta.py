"""meta.k8s.io/v1 types shared by every kind: ObjectMeta, ListMeta, LabelSelector, Status, Condition.

These are the envelope of every object the API server admits and serves. The server keeps objects
as dicts; components decode them into these Structs when they want typed access.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from kubelite.api.models.base import Model, RawObject, Timestamp, TopLevel


class OwnerReference(Model, kw_only=True):
    """A pointer from a dependent to the object that owns it (garbage collection)."""

    api_version: str = ""
    kind: str = ""
    name: str = ""
    uid: str = ""
    controller: bool | None = None
    block_owner_deletion: bool | None = None


class ObjectMeta(Model, kw_only=True):
    """Standard object metadata."""

    name: str | None = None
    generate_name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    generation: int | None = None
    creation_timestamp: Timestamp | None = None
    deletion_timestamp: Timestamp | None = None
    deletion_grace_period_seconds: int | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    owner_references: list[OwnerReference] | None = None
    finalizers: list[str] | None = None
    managed_fields: list[RawObject] | None = None
    self_link: str | None = None


class ListMeta(Model, kw_only=True):
    """Metadata of a list response: its resourceVersion and paging token."""

    resource_version: str | None = None
    continue_: str | None = msgspec.field(default=None, name="continue")
    remaining_item_count: int | None = None
    self_link: str | None = None


SelectorOperator = Literal["In", "NotIn", "Exists", "DoesNotExist"]


class LabelSelectorRequirement(Model, kw_only=True):
    """One set-based requirement of a LabelSelector."""

    key: str = ""
    operator: str = ""
    values: list[str] | None = None


class LabelSelector(Model, kw_only=True):
    """matchLabels and matchExpressions, ANDed; compile with `kubelite.api.labels.selector_from_object`."""

    match_labels: dict[str, str] | None = None
    match_expressions: list[LabelSelectorRequirement] | None = None


class Condition(Model, kw_only=True):
    """metav1.Condition, the generic condition used by newer APIs."""

    type: str = ""
    status: str = ""
    observed_generation: int | None = None
    last_transition_time: Timestamp | None = None
    reason: str | None = None
    message: str | None = None


class StatusCause(Model, kw_only=True):
    """One cause of a failure: for 422 Invalid, one field error."""

    reason: str | None = None
    message: str | None = None
    field: str | None = None


class StatusDetails(Model, kw_only=True):
    """Which object a Status refers to, and the field-level causes."""

    name: str | None = None
    group: str | None = None
    kind: str | None = None
    uid: str | None = None
    causes: list[StatusCause] | None = None
    retry_after_seconds: int | None = None


class Status(TopLevel, kw_only=True):
    """The result of a call that returns no object: every API error is one of these."""

    API_VERSION = "v1"
    KIND = "Status"

    metadata: ListMeta = msgspec.field(default_factory=ListMeta)
    status: str | None = None
    message: str | None = None
    reason: str | None = None
    details: StatusDetails | None = None
    code: int | None = None


class Preconditions(Model, kw_only=True):
    """Conditions a delete must meet: the uid and resourceVersion it expects."""

    uid: str | None = None
    resource_version: str | None = None


class DeleteOptions(Model, kw_only=True):
    """The body of a DELETE request."""

    api_version: str | None = None
    kind: str | None = None
    grace_period_seconds: int | None = None
    preconditions: Preconditions | None = None
    orphan_dependents: bool | None = None
    propagation_policy: str | None = None
    dry_run: list[str] | None = None


class WatchEvent(Model, kw_only=True):
    """One event of a watch stream: ADDED, MODIFIED, DELETED, BOOKMARK or ERROR."""

    type: str = ""
    object: dict[str, Any] = msgspec.field(default_factory=dict)
