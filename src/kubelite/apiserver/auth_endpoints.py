"""Endpoints that answer from the caller's identity: access reviews, TokenRequest, CSR approval.

- `SelfSubjectAccessReview` (authorization.k8s.io/v1, create-only): `kubectl auth can-i` sends
  resource or non-resource attributes; the answer is the gate's own decision for the caller.
- `SelfSubjectReview` (authentication.k8s.io/v1): `kubectl auth whoami`.
- `serviceaccounts/{name}/token` (TokenRequest): a JWT bound to the ServiceAccount's uid, with
  the requested audiences (default: the API server's) and expiry (default 1 h, at least 10 min,
  at most 48 h), as `kubectl create token` expects.
- `certificatesigningrequests/{name}/approval`: replaces the CSR's Approved/Denied conditions.
Nothing here is stored except the CSR conditions; reviews and tokens are computed per request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from cryptography.hazmat.primitives.asymmetric import ec

from kubelite.api.resources import ResourceType
from kubelite.clock import Clock
from kubelite.security.rbac import Attributes
from kubelite.security.tokens import (
    DEFAULT_AUDIENCE,
    DEFAULT_ISSUER,
    ServiceAccountClaims,
    UserInfo,
    sign_service_account_token,
)

from . import errors
from .encoding import decode_body
from .http import Request, Response
from .objects import rfc3339
from .routing import ResourceRequest

_encode = msgspec.json.encode
MIN_TOKEN_SECONDS = 600
DEFAULT_TOKEN_SECONDS = 3600
MAX_TOKEN_SECONDS = 48 * 3600


@dataclass(frozen=True, slots=True)
class TokenIssuer:
    """Signs ServiceAccount tokens for the TokenRequest API."""

    key: ec.EllipticCurvePrivateKey
    clock: Clock
    issuer: str = DEFAULT_ISSUER
    audiences: tuple[str, ...] = (DEFAULT_AUDIENCE,)


def _strings(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


class SecurityEndpoints:
    def __init__(self, server: Any, tokens: TokenIssuer | None, decide: Callable[[Attributes], bool]) -> None:
        self._server = server
        self._tokens = tokens
        self._decide = decide

    def self_review(self, request: Request, user: UserInfo, resource: ResourceType) -> Response:
        body = decode_body(request)
        if not isinstance(body, dict):
            raise errors.bad_request("the body must be a JSON object")
        if resource.kind == "SelfSubjectReview":
            body["status"] = {
                "userInfo": {
                    "username": user.name,
                    "uid": user.uid,
                    "groups": list(user.groups),
                    "extra": {key: list(values) for key, values in user.extra.items()},
                }
            }
        else:
            spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
            assert isinstance(spec, dict)
            resource_attributes = spec.get("resourceAttributes")
            non_resource = spec.get("nonResourceAttributes")
            if isinstance(resource_attributes, dict):
                attributes = Attributes(
                    user,
                    str(resource_attributes.get("verb", "")),
                    namespace=str(resource_attributes.get("namespace", "")),
                    api_group=str(resource_attributes.get("group", "")),
                    resource=str(resource_attributes.get("resource", "")),
                    subresource=str(resource_attributes.get("subresource", "")),
                    name=str(resource_attributes.get("name", "")),
                )
            elif isinstance(non_resource, dict):
                attributes = Attributes(
                    user, str(non_resource.get("verb", "")), resource_request=False, path=str(non_resource.get("path", ""))
                )
            else:
                raise errors.invalid(
                    resource.kind,
                    resource.group,
                    "",
                    [errors.Cause("FieldValueRequired", "exactly one of nonResourceAttributes or resourceAttributes must be specified", "spec.resourceAttributes")],
                )
            allowed = self._decide(attributes)
            body["status"] = {"allowed": allowed, **({"reason": "RBAC: allowed"} if allowed else {})}
        body.setdefault("metadata", {})["creationTimestamp"] = None
        body["apiVersion"], body["kind"] = resource.api_version, resource.kind
        return Response(201, _encode(body))

    async def token_request(self, request: Request, target: ResourceRequest) -> Response:
        if request.method != "POST":
            raise errors.method_not_allowed(request.method, "serviceaccounts/token")
        if self._tokens is None:
            raise errors.service_unavailable("service account tokens are not configured")
        assert target.name is not None and target.namespace is not None
        account = self._server._lookup(target.resource, target.namespace, target.name)
        if account is None:
            raise errors.not_found(target.resource.plural, target.resource.group, target.name)
        body = decode_body(request)
        spec = body.get("spec") if isinstance(body, dict) and isinstance(body.get("spec"), dict) else {}
        assert isinstance(spec, dict)
        seconds = spec.get("expirationSeconds") or DEFAULT_TOKEN_SECONDS
        if not isinstance(seconds, int) or seconds < MIN_TOKEN_SECONDS:
            raise errors.invalid(
                "TokenRequest",
                "authentication.k8s.io",
                target.name,
                [errors.Cause("FieldValueInvalid", "may not specify a duration less than 10 minutes", "spec.expirationSeconds")],
            )
        seconds = min(seconds, MAX_TOKEN_SECONDS)
        audiences = tuple(_strings(spec.get("audiences"))) or self._tokens.audiences
        now = int(self._tokens.clock.now())
        uid = str((account.get("metadata") or {}).get("uid", ""))
        claims = ServiceAccountClaims(target.namespace, target.name, uid, audiences, now + seconds, now)
        token = sign_service_account_token(self._tokens.key, claims, self._tokens.issuer)
        answer = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "metadata": {"name": target.name, "namespace": target.namespace, "creationTimestamp": rfc3339(now)},
            "spec": {"audiences": list(audiences), "expirationSeconds": seconds},
            "status": {"token": token, "expirationTimestamp": rfc3339(now + seconds)},
        }
        return Response(201, _encode(answer))

    async def csr_approval(self, request: Request, target: ResourceRequest, user: UserInfo) -> Response:
        if request.method != "PUT":
            raise errors.method_not_allowed(request.method, "certificatesigningrequests/approval")
        assert target.name is not None
        body = decode_body(request)
        status = body.get("status") if isinstance(body, dict) else None
        conditions = status.get("conditions") if isinstance(status, dict) else None
        if not isinstance(conditions, list):
            raise errors.bad_request("status.conditions must be a list")
        kept = [c for c in conditions if isinstance(c, dict) and c.get("type") in ("Approved", "Denied", "Failed")]
        now = rfc3339(self._server.clock.now())
        for condition in kept:
            condition.setdefault("status", "True")
            condition.setdefault("lastUpdateTime", now)
        if any(c.get("type") == "Approved" for c in kept) and any(c.get("type") == "Denied" for c in kept):
            raise errors.invalid(
                "CertificateSigningRequest",
                "certificates.k8s.io",
                target.name,
                [errors.Cause("FieldValueInvalid", "Approved and Denied conditions are mutually exclusive", "status.conditions")],
            )

        def set_conditions(current: dict[str, Any]) -> dict[str, Any]:
            current.setdefault("status", {})["conditions"] = kept
            return current

        # Status semantics: the main endpoint would discard a status change; only conditions move here.
        written = await self._server.registry.update(
            target.resource, None, target.name, set_conditions, subresource="status"
        )
        return Response(200, written.raw())
