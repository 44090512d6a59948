"""certificates.k8s.io/v1 CertificateSigningRequest: a PEM CSR, who asked, and the signed result.

The requester sends `spec.request` (base64 of a PEM `CERTIFICATE REQUEST`) and `spec.signerName`;
the API server fills `spec.username`, `uid`, `groups` and `extra` from the authenticated caller.
Approvers add an `Approved` or `Denied` condition through the `approval` subresource; the signer
writes `status.certificate` (base64 PEM) through `status`.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from kubelite.api.models.base import Model, Timestamp, TopLevel
from kubelite.api.models.meta import ObjectMeta

CertificateConditionType = Literal["Approved", "Denied", "Failed"]
KUBE_APISERVER_CLIENT_KUBELET = "kubernetes.io/kube-apiserver-client-kubelet"
KUBE_APISERVER_CLIENT = "kubernetes.io/kube-apiserver-client"
KUBELET_SERVING = "kubernetes.io/kubelet-serving"


class CertificateSigningRequestSpec(Model, kw_only=True):
    request: str = ""
    signer_name: str = ""
    expiration_seconds: int | None = None
    usages: list[str] | None = None
    username: str | None = None
    uid: str | None = None
    groups: list[str] | None = None
    extra: dict[str, list[str]] | None = None


class CertificateSigningRequestCondition(Model, kw_only=True):
    type: str
    status: str
    reason: str | None = None
    message: str | None = None
    last_update_time: Timestamp | None = None
    last_transition_time: Timestamp | None = None


class CertificateSigningRequestStatus(Model, kw_only=True):
    conditions: list[CertificateSigningRequestCondition] | None = None
    certificate: str | None = None


class CertificateSigningRequest(TopLevel, kw_only=True):
    API_VERSION = "certificates.k8s.io/v1"
    KIND = "CertificateSigningRequest"

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: CertificateSigningRequestSpec = msgspec.field(default_factory=CertificateSigningRequestSpec)
    status: CertificateSigningRequestStatus | None = None
