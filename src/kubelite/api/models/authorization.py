"""authorization.k8s.io/v1 SelfSubjectAccessReview: `kubectl auth can-i`.

Create-only: the caller names resource or non-resource attributes (exactly one), and the API
server answers `status.allowed` from its own authorizers; nothing is stored.
"""

from __future__ import annotations

import msgspec

from kubelite.api.models.base import Model, RawObject, TopLevel
from kubelite.api.models.meta import ObjectMeta


class ResourceAttributes(Model, kw_only=True):
    namespace: str | None = None
    verb: str | None = None
    group: str | None = None
    version: str | None = None
    resource: str | None = None
    subresource: str | None = None
    name: str | None = None
    #: Kubernetes 1.31+: the request's selectors, kept verbatim.
    field_selector: RawObject | None = None
    label_selector: RawObject | None = None


class NonResourceAttributes(Model, kw_only=True):
    path: str | None = None
    verb: str | None = None


class SelfSubjectAccessReviewSpec(Model, kw_only=True):
    resource_attributes: ResourceAttributes | None = None
    non_resource_attributes: NonResourceAttributes | None = None


class SubjectAccessReviewStatus(Model, kw_only=True):
    """`allowed` is always written, even when false."""

    allowed: bool
    denied: bool | None = None
    reason: str | None = None
    evaluation_error: str | None = None


class SelfSubjectAccessReview(TopLevel, kw_only=True):
    API_VERSION = "authorization.k8s.io/v1"
    KIND = "SelfSubjectAccessReview"

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: SelfSubjectAccessReviewSpec = msgspec.field(default_factory=SelfSubjectAccessReviewSpec)
    status: SubjectAccessReviewStatus | None = None
