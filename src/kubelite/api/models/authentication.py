"""authentication.k8s.io/v1 SelfSubjectReview: `kubectl auth whoami`.

Create-only: the API server answers with the caller's identity in `status.userInfo` and stores
nothing.
"""

from __future__ import annotations

import msgspec

from kubelite.api.models.base import Model, TopLevel
from kubelite.api.models.meta import ObjectMeta


class UserInfo(Model, kw_only=True):
    username: str | None = None
    uid: str | None = None
    groups: list[str] | None = None
    extra: dict[str, list[str]] | None = None


class SelfSubjectReviewStatus(Model, kw_only=True):
    user_info: UserInfo | None = None


class SelfSubjectReview(TopLevel, kw_only=True):
    API_VERSION = "authentication.k8s.io/v1"
    KIND = "SelfSubjectReview"

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    status: SelfSubjectReviewStatus | None = None
