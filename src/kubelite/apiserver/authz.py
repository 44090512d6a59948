"""The security gate: authentication, then the Node authorizer and RBAC, on every request.

`SecurityGate` is the API server's `Authorizer`. For each request it
1. authenticates (`authn.py`); bad credentials get 401, and no credentials get 401 too except on
   the public paths (`/livez`, `/readyz`, `/healthz`, `/version`) and kubeadm's `cluster-info`
   ConfigMap in kube-public, which a joining node reads before it trusts the CA;
2. turns the path into Kubernetes authorizer attributes with the API server's own router;
3. asks the Node authorizer, then RBAC (Kubernetes' `--authorization-mode=Node,RBAC`); a denial
   is a 403 worded as kube-apiserver words it;
4. answers the endpoints that need the caller's identity itself: SelfSubjectAccessReview
   (`kubectl auth can-i`), SelfSubjectReview (`kubectl auth whoami`), the TokenRequest
   subresource (`kubectl create token`), and CSR approval.

RBAC state is an `RbacIndex` rebuilt lazily: the gate keeps one watch-cache watcher per RBAC
resource, and a non-empty queue marks the index stale. So a request costs a queue check and a
memoised per-user rule scan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from kubelite.api.resources import (
    CERTIFICATE_SIGNING_REQUESTS,
    CLUSTER_ROLE_BINDINGS,
    CLUSTER_ROLES,
    PODS,
    ROLE_BINDINGS,
    ROLES,
    SELF_SUBJECT_ACCESS_REVIEWS,
    SELF_SUBJECT_REVIEWS,
    SERVICE_ACCOUNTS,
)
from kubelite.security.node_authorizer import authorize_node
from kubelite.security.policy import default_cluster_role_bindings, default_cluster_roles
from kubelite.security.rbac import Attributes, RbacIndex, forbidden_message
from kubelite.security.tokens import UserInfo

from . import errors
from .auth_endpoints import SecurityEndpoints, TokenIssuer
from .authn import Anonymous, Authenticator, Rejected
from .http import Request, Response
from .routing import ResourceRequest, Router, parse_query
from .watchcache import Watcher

_decode = msgspec.json.decode
PUBLIC_PATHS = frozenset({"/livez", "/readyz", "/healthz", "/version"})
CLUSTER_INFO_PATH = "/api/v1/namespaces/kube-public/configmaps/cluster-info"
_RBAC_KINDS = (ROLES, CLUSTER_ROLES, ROLE_BINDINGS, CLUSTER_ROLE_BINDINGS)
_VERB_OF_METHOD = {"GET": "get", "HEAD": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@dataclass(slots=True)
class GateStats:
    """How the gate has decided so far (for tests and the bench)."""

    allowed: int = 0
    unauthenticated: int = 0
    forbidden: int = 0
    rbac_rebuilds: int = 0
    by_user: dict[str, int] = field(default_factory=dict)


class _CachePodGraph:
    def __init__(self, server: Any) -> None:
        self._server = server

    def pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._server._lookup(PODS, namespace, name)  # type: ignore[no-any-return]

    def pods_on_node(self, node: str) -> list[dict[str, Any]]:
        return [
            item.obj
            for item in self._server.cache.list(PODS.key, None)
            if (item.obj.get("spec") or {}).get("nodeName") == node
        ]


class SecurityGate:
    """Authenticates, authorizes and serves the identity-aware endpoints for one `ApiServer`."""

    def __init__(self, server: Any, authenticator: Authenticator, tokens: TokenIssuer | None) -> None:
        # `server` is the ApiServer (typed loosely to avoid an import cycle with server.py).
        self._server = server
        self.authenticator = authenticator
        self._router: Router = server.router
        self._graph = _CachePodGraph(server)
        self.endpoints = SecurityEndpoints(server, tokens, self.authorize_attributes)
        self.stats = GateStats()
        self._index: RbacIndex | None = None
        self._watchers: list[Watcher] = []

    async def bootstrap_policy(self) -> None:
        """Create the default roles and bindings that are missing (existing ones are left alone)."""
        for resource, objects in (
            (CLUSTER_ROLES, default_cluster_roles()),
            (CLUSTER_ROLE_BINDINGS, default_cluster_role_bindings()),
        ):
            for obj in objects:
                if self._server._lookup(resource, None, obj["metadata"]["name"]) is None:
                    try:
                        await self._server.registry.create(resource, None, obj)
                    except errors.ApiError as error:
                        if error.code != 409:
                            raise

    # --- RBAC index -----------------------------------------------------------------------------

    def _rbac(self) -> RbacIndex:
        stale = self._index is None
        if not self._watchers:
            for resource in _RBAC_KINDS:
                watcher = Watcher(resource.key, None, lambda _obj: True)
                self._server.cache.subscribe(watcher, self._server.cache.revision)
                self._watchers.append(watcher)
            stale = True
        for index, watcher in enumerate(self._watchers):
            if watcher.overflowed:
                fresh = Watcher(watcher.resource_key, None, lambda _obj: True)
                self._server.cache.subscribe(fresh, self._server.cache.revision)
                self._watchers[index] = watcher = fresh
                stale = True
            while not watcher.queue.empty():
                watcher.queue.get_nowait()
                stale = True
        if stale or self._index is None:
            lists = [[item.obj for item in self._server.cache.list(kind.key, None)] for kind in _RBAC_KINDS]
            self._index = RbacIndex(*lists)
            self.stats.rbac_rebuilds += 1
        return self._index

    def close(self) -> None:
        for watcher in self._watchers:
            self._server.cache.unsubscribe(watcher)
        self._watchers.clear()

    # --- the gate -------------------------------------------------------------------------------

    async def authorize(self, request: Request) -> Response | None:
        outcome = self.authenticator.authenticate(request)
        path = request.path.rstrip("/") or "/"
        if isinstance(outcome, Rejected) or (
            isinstance(outcome, Anonymous) and path not in PUBLIC_PATHS and not self._public_read(request, path)
        ):
            self.stats.unauthenticated += 1
            raise errors.unauthorized()
        if isinstance(outcome, Anonymous):
            self.stats.allowed += 1
            return None
        user = outcome
        target = self._resolve(request, path)
        attributes = self._attributes(user, request, path, target)
        if target is not None and target.resource in (SELF_SUBJECT_ACCESS_REVIEWS, SELF_SUBJECT_REVIEWS):
            if request.method != "POST":
                raise errors.method_not_allowed(request.method, target.resource.plural)
            # Every authenticated user may ask about themselves (system:basic-user).
            self.stats.allowed += 1
            return self.endpoints.self_review(request, user, target.resource)
        body_name = self._body_name(request) if attributes.verb == "create" else None
        if not self.authorize_attributes(attributes, body_name):
            self.stats.forbidden += 1
            raise errors.forbidden(forbidden_message(attributes))
        self.stats.allowed += 1
        if target is not None and target.subresource == "token" and target.resource is SERVICE_ACCOUNTS:
            return await self.endpoints.token_request(request, target)
        if target is not None and target.resource is CERTIFICATE_SIGNING_REQUESTS:
            if target.subresource == "approval":
                return await self.endpoints.csr_approval(request, target, user)
            if target.verb == "create":
                request.body = stamp_requester(request.body, user)
        return None

    def authorize_attributes(self, attributes: Attributes, body_name: str | None = None) -> bool:
        node_decision = authorize_node(attributes, body_name, self._graph)
        if node_decision is not None and node_decision.allowed:
            return True
        return self._rbac().authorize(attributes).allowed

    @staticmethod
    def _public_read(request: Request, path: str) -> bool:
        return request.method in ("GET", "HEAD") and path == CLUSTER_INFO_PATH

    def _resolve(self, request: Request, path: str) -> ResourceRequest | None:
        segments = path.strip("/").split("/")
        head = segments[0]
        if head in ("api", "apis") and ((head == "api" and len(segments) > 2) or (head == "apis" and len(segments) > 3)):
            try:
                return self._router.resolve(request.method, segments, parse_query(request.query_string))
            except errors.ApiError:
                return None  # the route answers 404 / 405 itself once authorized as a path
        return None

    @staticmethod
    def _attributes(user: UserInfo, request: Request, path: str, target: ResourceRequest | None) -> Attributes:
        if target is None:
            return Attributes(user, _VERB_OF_METHOD.get(request.method, request.method.lower()),
                              resource_request=False, path=path)
        return Attributes(
            user,
            target.verb,
            namespace=target.namespace or "",
            api_group=target.resource.group,
            resource=target.resource.plural,
            subresource=target.subresource or "",
            name=target.name or "",
        )

    @staticmethod
    def _body_name(request: Request) -> str | None:
        if not request.body or not request.headers.get("content-type", "application/json").startswith("application/json"):
            return None
        try:
            body = _decode(request.body)
        except msgspec.DecodeError:
            return None
        meta = body.get("metadata") if isinstance(body, dict) else None
        name = meta.get("name") if isinstance(meta, dict) else None
        return name if isinstance(name, str) else None


def stamp_requester(body: bytes, user: UserInfo) -> bytes:
    """The CSR strategy's PrepareForCreate: the requester's identity, never the client's claim.

    An approver decides from spec.username and spec.groups, so they must come from authentication;
    status is cleared so nobody creates a CSR that is already approved or issued."""
    try:
        csr = _decode(body)
    except msgspec.DecodeError:
        return body  # admission answers the malformed body with 400
    if not isinstance(csr, dict):
        return body
    spec = csr.get("spec")
    if isinstance(spec, dict):
        spec.update(username=user.name, uid=user.uid, groups=list(user.groups))
        spec.pop("extra", None)
        if user.extra:
            spec["extra"] = {key: list(values) for key, values in user.extra.items()}
    csr.pop("status", None)
    return msgspec.json.encode(csr)
