"""Authentication: who is making this request.

Sources, tried in kube-apiserver's order and combined as its union authenticator does (the first
that recognises the request wins; if none does and one found a bad credential, the answer is 401):
1. X.509 client certificate, verified by OpenSSL during the handshake against the cluster roots
   (see `kubelite.tls.server`): CN is the user name, each O a group. ECDSA and ML-DSA-65 both work.
2. `Authorization: Bearer <token>`:
   - the static token file (`token,user,uid,"groups"`);
   - bootstrap tokens (`<id>.<secret>`), looked up as Secrets in kube-system in the watch cache;
   - ServiceAccount JWTs from the TokenRequest API, whose ServiceAccount must still exist with
     the uid the token was bound to.
Requests from in-process components (peer "in-process": they never cross a socket) act as
`system:apiserver` in `system:masters`, as kube-apiserver's loopback client does, unless their
transport names their own identity.
Every authenticated user also gets `system:authenticated`. A request with no credentials is
`system:anonymous` (group `system:unauthenticated`); the gate only lets it reach the public paths.

Data flow: `Request` (headers, `connection_info["peer_certificate"]`) -> `Authenticator.authenticate`
-> `UserInfo` | `Anonymous` | `Rejected(reason)`. Outcomes are values; nothing here raises for bad input.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Literal

from cryptography.hazmat.primitives.asymmetric import ec

from kubelite.api.resources import SECRETS, SERVICE_ACCOUNTS
from kubelite.clock import Clock
from kubelite.security.pki import subject_identity
from kubelite.security.tokens import (
    BOOTSTRAP_SECRET_PREFIX,
    DEFAULT_AUDIENCE,
    DEFAULT_ISSUER,
    UserInfo,
    authenticate_bootstrap,
    parse_bootstrap_token,
    service_account_user,
    verify_service_account_token,
)
from kubelite.tls.server import PeerCertificate

from .http import Request
from .objects import store_key
from .watchcache import WatchCache

AUTHENTICATED = "system:authenticated"
ANONYMOUS = UserInfo("system:anonymous", ("system:unauthenticated",))
#: The peer `InProcessTransport` writes on its requests; a network peer is always "host:port".
IN_PROCESS_PEER = "in-process"
LOOPBACK = UserInfo("system:apiserver", ("system:masters", AUTHENTICATED))


@dataclass(frozen=True, slots=True)
class Rejected:
    """Credentials were presented but prove nothing: the request gets 401."""

    reason: str


@dataclass(frozen=True, slots=True)
class Anonymous:
    """No credentials at all."""

    kind: Literal["anonymous"] = "anonymous"


AuthnResult = UserInfo | Anonymous | Rejected


@dataclass(frozen=True, slots=True)
class AuthnSettings:
    #: kube-apiserver's --token-auth-file contents, parsed.
    static_tokens: dict[str, UserInfo] = field(default_factory=dict)
    #: Verifies ServiceAccount tokens; None disables them.
    service_account_key: ec.EllipticCurvePublicKey | None = None
    issuer: str = DEFAULT_ISSUER
    audiences: tuple[str, ...] = (DEFAULT_AUDIENCE,)


def _with_authenticated(user: UserInfo) -> UserInfo:
    if AUTHENTICATED in user.groups:
        return user
    return UserInfo(user.name, (*user.groups, AUTHENTICATED), user.uid, user.extra)


class Authenticator:
    def __init__(self, settings: AuthnSettings, cache: WatchCache, clock: Clock) -> None:
        self.settings = settings
        self._cache = cache
        self._clock = clock

    def authenticate(self, request: Request) -> AuthnResult:
        if request.peer == IN_PROCESS_PEER:
            # Components sharing the API server's process call its handler directly, never over
            # a socket. They act as the identity their transport names (their own, least
            # privileged), or like kube-apiserver's loopback client as a privileged one.
            identity = request.connection_info.get("in_process_identity")
            if isinstance(identity, tuple) and len(identity) == 2:
                name, groups = identity
                return _with_authenticated(UserInfo(str(name), tuple(groups)))
            return LOOPBACK
        rejection: Rejected | None = None
        peer = request.connection_info.get("peer_certificate")
        if isinstance(peer, PeerCertificate):
            if peer.verified:
                name, groups = subject_identity(peer.certificate)
                if name:
                    return _with_authenticated(UserInfo(name, groups))
                rejection = Rejected("client certificate has no common name")
            else:
                rejection = Rejected(f"client certificate rejected: {peer.error}")
        header = request.headers.get("authorization")
        if header is not None:
            scheme, _, token = header.strip().partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token or not token.isascii() or " " in token:
                return rejection or Rejected("malformed Authorization header")
            user = self._token_user(token)
            if user is not None:
                return _with_authenticated(user)
            return Rejected("invalid bearer token")
        return rejection or Anonymous()

    def _token_user(self, token: str) -> UserInfo | None:
        static = self.settings.static_tokens.get(token)
        if static is not None:
            return static
        bootstrap = parse_bootstrap_token(token)
        if bootstrap is not None:
            cached = self._cache.get(store_key(SECRETS, "kube-system", BOOTSTRAP_SECRET_PREFIX + bootstrap.token_id))
            now = datetime.datetime.fromtimestamp(self._clock.now(), datetime.UTC)
            return authenticate_bootstrap(bootstrap, cached.obj if cached is not None else None, now)
        key = self.settings.service_account_key
        if key is None or token.count(".") != 2:
            return None
        claims = verify_service_account_token(
            token, key, int(self._clock.now()), self.settings.audiences, self.settings.issuer
        )
        if claims is None:
            return None
        account = self._cache.get(store_key(SERVICE_ACCOUNTS, claims.namespace, claims.name))
        if account is None or (account.obj.get("metadata") or {}).get("uid") != claims.uid:
            return None  # the ServiceAccount was deleted (or recreated): its tokens die with it
        return service_account_user(claims.namespace, claims.name, claims.uid)
