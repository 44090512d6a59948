"""Bearer tokens: bootstrap tokens, the static token file, and bound ServiceAccount tokens.

- Bootstrap tokens follow Kubernetes exactly: `<id>.<secret>` (6 and 16 characters of [a-z0-9]),
  stored as a `bootstrap.kubernetes.io/token` Secret named `bootstrap-token-<id>` in kube-system.
  A token authenticates as `system:bootstrap:<id>` in group `system:bootstrappers` until its
  `expiration`; deleting the Secret revokes it.
- The static token file is kube-apiserver's `--token-auth-file` CSV: `token,user,uid,"g1,g2"`.
- ServiceAccount tokens are JWTs (RFC 7519) signed with ES256 by the cluster's `sa.key`, carrying
  issuer, audiences, expiry and the bound ServiceAccount's uid, as the TokenRequest API issues
  them. Verification checks signature, issuer, audience and time; the caller checks that the
  bound object still exists (so deleting a ServiceAccount revokes its tokens).

Everything here is pure: times come in as arguments, randomness from `secrets`.
"""

from __future__ import annotations

import base64
import csv
import datetime
import io
import json
import re
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

BOOTSTRAP_TOKEN_PATTERN = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")
BOOTSTRAP_SECRET_TYPE = "bootstrap.kubernetes.io/token"
BOOTSTRAP_SECRET_PREFIX = "bootstrap-token-"
BOOTSTRAPPERS_GROUP = "system:bootstrappers"
DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local"
DEFAULT_AUDIENCE = "https://kubernetes.default.svc.cluster.local"
_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True, slots=True)
class UserInfo:
    """An authenticated identity, as Kubernetes' user.Info: name, uid, groups, extra."""

    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)


# --- bootstrap tokens ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BootstrapToken:
    token_id: str
    secret: str

    @property
    def value(self) -> str:
        return f"{self.token_id}.{self.secret}"


def new_bootstrap_token() -> BootstrapToken:
    def pick(length: int) -> str:
        return "".join(secrets.choice(_ALPHABET) for _ in range(length))

    return BootstrapToken(pick(6), pick(16))


def parse_bootstrap_token(value: str) -> BootstrapToken | None:
    match = BOOTSTRAP_TOKEN_PATTERN.match(value)
    return BootstrapToken(match.group(1), match.group(2)) if match else None


def bootstrap_token_secret(
    token: BootstrapToken, expires: datetime.datetime, description: str = "", extra_groups: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The kube-system Secret that makes a bootstrap token valid (kubeadm's layout)."""
    string_data = {
        "token-id": token.token_id,
        "token-secret": token.secret,
        "expiration": expires.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "usage-bootstrap-authentication": "true",
        "usage-bootstrap-signing": "true",
    }
    if description:
        string_data["description"] = description
    if extra_groups:
        string_data["auth-extra-groups"] = ",".join(extra_groups)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": BOOTSTRAP_SECRET_TYPE,
        "metadata": {"name": BOOTSTRAP_SECRET_PREFIX + token.token_id, "namespace": "kube-system"},
        "data": {key: base64.b64encode(value.encode()).decode() for key, value in string_data.items()},
    }


def _secret_field(secret: dict[str, Any], key: str) -> str:
    data = secret.get("data") or {}
    raw = data.get(key) if isinstance(data, dict) else None
    if isinstance(raw, str):
        try:
            return base64.b64decode(raw, validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return ""
    string_data = secret.get("stringData") or {}
    value = string_data.get(key) if isinstance(string_data, dict) else None
    return value if isinstance(value, str) else ""


def authenticate_bootstrap(token: BootstrapToken, secret: dict[str, Any] | None, now: datetime.datetime) -> UserInfo | None:
    """The identity a bootstrap token proves, given its Secret (None: unknown, revoked or expired)."""
    if secret is None or secret.get("type") != BOOTSTRAP_SECRET_TYPE:
        return None
    if (secret.get("metadata") or {}).get("deletionTimestamp"):
        return None
    if not secrets.compare_digest(_secret_field(secret, "token-secret"), token.secret):
        return None
    if _secret_field(secret, "usage-bootstrap-authentication") != "true":
        return None
    expiration = _secret_field(secret, "expiration")
    if expiration:
        try:
            expires = datetime.datetime.fromisoformat(expiration.replace("Z", "+00:00"))
        except ValueError:
            return None
        if now >= expires:
            return None
    extra = tuple(group for group in _secret_field(secret, "auth-extra-groups").split(",") if group)
    return UserInfo(f"system:bootstrap:{token.token_id}", (BOOTSTRAPPERS_GROUP, *extra))


# --- static token file --------------------------------------------------------------------------


def parse_token_file(text: str) -> dict[str, UserInfo]:
    """kube-apiserver's --token-auth-file: `token,user,uid[,"group1,group2"]` per line."""
    users: dict[str, UserInfo] = {}
    for row in csv.reader(io.StringIO(text)):
        if len(row) < 3 or not row[0].strip() or row[0].lstrip().startswith("#"):
            continue
        groups = tuple(group.strip() for group in row[3].split(",") if group.strip()) if len(row) > 3 else ()
        users[row[0].strip()] = UserInfo(row[1].strip(), groups, row[2].strip())
    return users


# --- ServiceAccount tokens (JWT, ES256) ---------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class ServiceAccountClaims:
    namespace: str
    name: str
    uid: str
    audiences: tuple[str, ...]
    expires: int
    issued: int


def service_account_user(namespace: str, name: str, uid: str = "") -> UserInfo:
    return UserInfo(
        f"system:serviceaccount:{namespace}:{name}",
        ("system:serviceaccounts", f"system:serviceaccounts:{namespace}"),
        uid,
    )


def sign_service_account_token(
    key: ec.EllipticCurvePrivateKey, claims: ServiceAccountClaims, issuer: str = DEFAULT_ISSUER
) -> str:
    header = {"alg": "ES256", "typ": "JWT", "kid": key_id(key.public_key())}
    payload = {
        "iss": issuer,
        "sub": f"system:serviceaccount:{claims.namespace}:{claims.name}",
        "aud": list(claims.audiences),
        "exp": claims.expires,
        "iat": claims.issued,
        "nbf": claims.issued,
        "jti": secrets.token_hex(16),
        "kubernetes.io": {
            "namespace": claims.namespace,
            "serviceaccount": {"name": claims.name, "uid": claims.uid},
        },
    }
    signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(payload).encode())}"
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    from cryptography.hazmat.primitives import serialization

    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(der)
    return _b64url(digest.finalize())


def verify_service_account_token(
    token: str,
    public_key: ec.EllipticCurvePublicKey,
    now: int,
    audiences: tuple[str, ...] = (DEFAULT_AUDIENCE,),
    issuer: str = DEFAULT_ISSUER,
) -> ServiceAccountClaims | None:
    """The claims of a valid token; None for a bad signature, issuer, audience or time."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header = json.loads(_unb64url(parts[0]))
        payload = json.loads(_unb64url(parts[1]))
        signature = _unb64url(parts[2])
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(header, dict) or header.get("alg") != "ES256" or len(signature) != 64:
        return None
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public_key.verify(der, f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return None
    if not isinstance(payload, dict) or payload.get("iss") != issuer:
        return None
    token_audiences = payload.get("aud")
    token_audiences = [token_audiences] if isinstance(token_audiences, str) else token_audiences
    if not isinstance(token_audiences, list) or not set(token_audiences) & set(audiences):
        return None
    expires, not_before = payload.get("exp"), payload.get("nbf", 0)
    if not isinstance(expires, int) or not isinstance(not_before, int) or not not_before <= now < expires:
        return None
    bound = payload.get("kubernetes.io")
    account = bound.get("serviceaccount") if isinstance(bound, dict) else None
    if not isinstance(bound, dict) or not isinstance(account, dict):
        return None
    return ServiceAccountClaims(
        str(bound.get("namespace", "")),
        str(account.get("name", "")),
        str(account.get("uid", "")),
        tuple(str(audience) for audience in token_audiences),
        expires,
        int(payload.get("iat", 0)),
    )
