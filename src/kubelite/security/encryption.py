"""Encryption of Secrets at rest: AES-GCM keys in an EncryptionConfiguration-style file.

Follows kube-apiserver's `--encryption-provider-config` (apiserver.config.k8s.io/v1
EncryptionConfiguration) for the `secrets` resource:

- The file lists providers in order. The first one encrypts every write; every listed one can
  decrypt, so a value written under an older key stays readable until it is rewritten.
- `aesgcm` keys are 32 random bytes (AES-256-GCM, NIST SP 800-38D). A stored value is
  `k8s:enc:aesgcm:v1:<key name>:` + 12-byte random nonce + ciphertext and tag, and the store key
  (`/registry/secrets/<ns>/<name>`) is the associated data, so a ciphertext copied under another
  key does not decrypt. This is the layout Kubernetes' aesgcm transformer writes.
- `identity` reads values that carry no prefix (Secrets written before encryption was enabled)
  and, when it is first, writes plaintext.

Rotation (`rotated_config`) puts a fresh key first and keeps the old ones for reading; once every
Secret has been rewritten under the new key, the old keys can be dropped.

Pure: key material comes from `os.urandom` and files are read and written only by
`load_encryption_config` and `write_encryption_config`.
"""

from __future__ import annotations

import base64
import datetime
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import yaml
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

AESGCM_PREFIX = b"k8s:enc:aesgcm:v1:"
NONCE_BYTES = 12
KEY_BYTES = 32
ENCRYPTED_RESOURCES = ("secrets",)
ProviderKind = Literal["aesgcm", "identity"]


class ValueTransformer(Protocol):
    """Turns an object's stored bytes into what the store keeps, and back (k8s value.Transformer)."""

    def to_storage(self, key: str, value: bytes) -> bytes: ...

    def from_storage(self, key: str, value: bytes) -> bytes: ...


class DecryptionError(Exception):
    """A stored value no configured key can open: the key file lost a key, or the data is corrupt."""


@dataclass(frozen=True, slots=True)
class AesGcmKey:
    name: str
    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_BYTES:
            raise ValueError(f"aesgcm key {self.name!r} must be {KEY_BYTES} bytes, not {len(self.secret)}")


@dataclass(frozen=True, slots=True)
class EncryptionConfig:
    """The providers for Secrets, in order: `keys` (aesgcm) and whether `identity` follows or leads."""

    keys: tuple[AesGcmKey, ...]
    #: identity listed first: write plaintext (decryption still tries every key).
    identity_first: bool = False

    @property
    def write_key(self) -> AesGcmKey | None:
        return None if self.identity_first or not self.keys else self.keys[0]


def new_key(now: datetime.datetime) -> AesGcmKey:
    """A fresh 256-bit key named after its creation time (names only need to be unique)."""
    return AesGcmKey(f"key-{now.strftime('%Y%m%dT%H%M%S%f')}", os.urandom(KEY_BYTES))


def rotated_config(config: EncryptionConfig, now: datetime.datetime) -> EncryptionConfig:
    """A new key first; every old key kept for reading."""
    return EncryptionConfig((new_key(now), *config.keys))


def pruned_config(config: EncryptionConfig) -> EncryptionConfig:
    """Only the write key: what remains once every Secret is stored under it."""
    return EncryptionConfig(config.keys[:1], config.identity_first)


class AesGcmTransformer:
    """Encrypts values under resources in `ENCRYPTED_RESOURCES`; leaves every other key alone."""

    def __init__(self, config: EncryptionConfig, prefix: str = "/registry/") -> None:
        self.config = config
        self._prefixes = tuple(f"{prefix}{resource}/" for resource in ENCRYPTED_RESOURCES)
        self._ciphers = {key.name.encode(): AESGCM(key.secret) for key in config.keys}
        write = config.write_key
        self._write = (write.name.encode(), self._ciphers[write.name.encode()]) if write is not None else None

    def covers(self, key: str) -> bool:
        return key.startswith(self._prefixes)

    def to_storage(self, key: str, value: bytes) -> bytes:
        if self._write is None or not self.covers(key):
            return value
        name, cipher = self._write
        nonce = os.urandom(NONCE_BYTES)
        return AESGCM_PREFIX + name + b":" + nonce + cipher.encrypt(nonce, value, key.encode())

    def from_storage(self, key: str, value: bytes) -> bytes:
        if not value.startswith(AESGCM_PREFIX):
            return value  # identity: written before encryption was on, or not a covered resource
        name, separator, sealed = value[len(AESGCM_PREFIX) :].partition(b":")
        cipher = self._ciphers.get(name)
        if not separator or cipher is None:
            raise DecryptionError(f"{key}: no key named {name.decode(errors='replace')!r} is configured")
        try:
            return cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], key.encode())
        except InvalidTag as error:
            raise DecryptionError(f"{key}: stored value does not decrypt under key {name.decode()!r}") from error

    def is_current(self, value: bytes) -> bool:
        """Stored under the write key already (rotation skips these)."""
        if self._write is None:
            return not value.startswith(AESGCM_PREFIX)
        return value.startswith(AESGCM_PREFIX + self._write[0] + b":")


# --- the configuration file ----------------------------------------------------------------------


def config_document(config: EncryptionConfig) -> dict[str, object]:
    keys = [{"name": key.name, "secret": base64.b64encode(key.secret).decode()} for key in config.keys]
    aesgcm: dict[str, object] = {"aesgcm": {"keys": keys}}
    identity: dict[str, object] = {"identity": {}}
    providers = [identity, aesgcm] if config.identity_first else [aesgcm, identity]
    return {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "EncryptionConfiguration",
        "resources": [{"resources": list(ENCRYPTED_RESOURCES), "providers": providers}],
    }


def parse_config(document: object) -> EncryptionConfig:
    """Read the `secrets` providers of an EncryptionConfiguration; ValueError when malformed."""
    if not isinstance(document, dict) or document.get("kind") != "EncryptionConfiguration":
        raise ValueError("not an EncryptionConfiguration")
    for entry in document.get("resources") or []:
        if not isinstance(entry, dict) or "secrets" not in (entry.get("resources") or []):
            continue
        keys: list[AesGcmKey] = []
        identity_first = False
        for index, provider in enumerate(entry.get("providers") or []):
            if not isinstance(provider, dict):
                raise ValueError(f"provider {index} is not a mapping")
            if "identity" in provider:
                identity_first = identity_first or index == 0
            elif "aesgcm" in provider:
                for item in (provider["aesgcm"] or {}).get("keys") or []:
                    keys.append(AesGcmKey(str(item["name"]), base64.b64decode(str(item["secret"]), validate=True)))
            else:
                raise ValueError(f"unsupported provider {sorted(provider)} (kubelite supports aesgcm and identity)")
        return EncryptionConfig(tuple(keys), identity_first)
    raise ValueError("no provider list covers secrets")


def load_encryption_config(path: Path) -> EncryptionConfig:
    return parse_config(yaml.safe_load(path.read_text()))


def write_encryption_config(path: Path, config: EncryptionConfig) -> None:
    """Write atomically with mode 0600: the file holds the keys themselves."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    text = yaml.safe_dump(config_document(config), sort_keys=False)
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write(text)
    temporary.replace(path)


def ensure_encryption_config(path: Path, now: datetime.datetime) -> EncryptionConfig:
    """Load the key file, creating it with one fresh key on first start."""
    if path.exists():
        return load_encryption_config(path)
    config = EncryptionConfig((new_key(now),))
    write_encryption_config(path, config)
    return config
