"""The base class every wire model derives from, and the small aliases they share.

Models are msgspec Structs that decode from and encode to Kubernetes JSON: camelCase names,
optional fields omitted when empty, so that ``encode(decode(obj))`` reproduces what a client
sent. Timestamps stay RFC 3339 strings and quantities stay strings on the wire; code that needs
numbers parses them once through `kubelite.api.quantity`.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

import msgspec

IntOrString = int | str
"""Kubernetes' intstr.IntOrString: a port number or name, a count or a percentage."""

Timestamp = str
"""An RFC 3339 time as written on the wire ("2024-01-02T03:04:05Z")."""

ResourceList = dict[str, str]
"""Resource name to quantity string; parse with `kubelite.api.quantity.parse_resource`."""

RawObject = dict[str, Any]
"""A sub-object kubelite does not interpret; kept verbatim so that it round-trips."""


class Model(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    """Base of all wire models: keyword-only, camelCase, empty optionals left out of the JSON.

    A field Kubernetes always serialises, even when it is 0 or false (a container's exitCode, a
    ReplicaSet's status.replicas), is declared without a default so that it is never omitted.
    """


class TopLevel(Model, kw_only=True):
    """Base of objects that carry apiVersion and kind; both are filled in from the class when absent."""

    API_VERSION: ClassVar[str] = ""
    KIND: ClassVar[str] = ""

    api_version: str | None = None
    kind: str | None = None

    def __post_init__(self) -> None:
        if self.api_version is None:
            self.api_version = self.API_VERSION
        if self.kind is None:
            self.kind = self.KIND


M = TypeVar("M", bound=Model)


def from_dict(model: type[M], obj: Any) -> M:
    """Decode a JSON-shaped object into `model`; raises msgspec.ValidationError on a type mismatch."""
    return msgspec.convert(obj, model)


def to_dict(value: Model) -> dict[str, Any]:
    """Encode a model back into a JSON-shaped dict, leaving out unset fields."""
    result: dict[str, Any] = msgspec.to_builtins(value)
    return result
