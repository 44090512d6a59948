"""Field selectors (`spec.nodeName=n1,status.phase!=Failed`) and the fields each kind supports.

A selector parses once into ANDed (field, operator, value) terms; `compile_field_selector` checks
the fields against the kind's table, as each Kubernetes registry's GetAttrs does, and matching
reads the field from the stored JSON object. Booleans and numbers compare as their string form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kubelite.api.labels import SelectorError
from kubelite.api.resources import ResourceType

FieldOperator = Literal["=", "!="]
FieldGetter = Callable[[Mapping[str, Any]], str]


def _path(*keys: str) -> FieldGetter:
    """A getter for a nested field, rendering it as the string Kubernetes would compare."""

    def read(obj: Mapping[str, Any]) -> str:
        value: Any = obj
        for key in keys:
            value = value.get(key) if isinstance(value, Mapping) else None
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return read


_COMMON: dict[str, FieldGetter] = {
    "metadata.name": _path("metadata", "name"),
    "metadata.namespace": _path("metadata", "namespace"),
}
_INVOLVED = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")

SUPPORTED_FIELDS: dict[str, dict[str, FieldGetter]] = {
    "pods": {
        "spec.nodeName": _path("spec", "nodeName"),
        "spec.restartPolicy": _path("spec", "restartPolicy"),
        "spec.schedulerName": _path("spec", "schedulerName"),
        "spec.serviceAccountName": _path("spec", "serviceAccountName"),
        "spec.hostNetwork": lambda obj: _path("spec", "hostNetwork")(obj) or "false",
        "status.phase": _path("status", "phase"),
        "status.podIP": _path("status", "podIP"),
        "status.nominatedNodeName": _path("status", "nominatedNodeName"),
    },
    "events": {
        **{f"involvedObject.{key}": _path("involvedObject", key) for key in _INVOLVED},
        "reason": _path("reason"),
        "reportingComponent": _path("reportingComponent"),
        "source": _path("source", "component"),
        "type": _path("type"),
    },
    "nodes": {"spec.unschedulable": lambda obj: _path("spec", "unschedulable")(obj) or "false"},
    "secrets": {"type": _path("type")},
    "namespaces": {"status.phase": _path("status", "phase")},
    "replicasets.apps": {"status.replicas": lambda obj: _path("status", "replicas")(obj) or "0"},
    "services": {"spec.clusterIP": _path("spec", "clusterIP"), "spec.type": _path("spec", "type")},
}
"""Fields beyond metadata.name and metadata.namespace that each kind (by ResourceType.key) supports."""


def field_getters(resource: ResourceType) -> dict[str, FieldGetter]:
    """Every selectable field of a kind and how to read it from an object."""
    return {**_COMMON, **SUPPORTED_FIELDS.get(resource.key, {})}


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    field: str
    operator: FieldOperator
    value: str


@dataclass(frozen=True, slots=True)
class FieldSelector:
    """Terms ANDed together, each bound to the getter of its field."""

    requirements: tuple[FieldRequirement, ...] = ()
    getters: tuple[FieldGetter, ...] = ()

    def matches(self, obj: Mapping[str, Any]) -> bool:
        for requirement, getter in zip(self.requirements, self.getters, strict=True):
            if (getter(obj) == requirement.value) != (requirement.operator == "="):
                return False
        return True

    def exact_value(self, field: str) -> str | None:
        """The value a term requires `field` to equal, if any (for index lookups such as spec.nodeName)."""
        for requirement in self.requirements:
            if requirement.field == field and requirement.operator == "=":
                return requirement.value
        return None

    def empty(self) -> bool:
        return not self.requirements


def _split_unescaped(text: str, separator: str) -> list[str]:
    """Split on `separator` except where a backslash escapes it; backslashes are kept for unescape."""
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        raise SelectorError(f"invalid field selector: {text!r}: trailing backslash")
    parts.append("".join(current))
    return parts


def _unescape(value: str) -> str:
    result, index = [], 0
    while index < len(value):
        if value[index] == "\\" and index + 1 < len(value):
            if value[index + 1] not in "\\,=!":
                raise SelectorError(f"invalid field selector value {value!r}: invalid escape sequence")
            result.append(value[index + 1])
            index += 2
        else:
            result.append(value[index])
            index += 1
    return "".join(result)


def parse_field_selector(text: str) -> tuple[FieldRequirement, ...]:
    """Parse `a=b,c==d,e!=f` into terms; the empty string has none."""
    requirements = []
    for term in _split_unescaped(text, ","):
        if not term.strip():
            continue
        for token, operator in (("!=", "!="), ("==", "="), ("=", "=")):
            position = _find_unescaped(term, token)
            if position >= 0:
                field = term[:position].strip()
                value = _unescape(term[position + len(token) :])
                requirements.append(FieldRequirement(field, operator, value))  # type: ignore[arg-type]
                break
        else:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{term}'")
    return tuple(requirements)


def _find_unescaped(term: str, token: str) -> int:
    index = 0
    while index < len(term):
        if term[index] == "\\":
            index += 2
            continue
        if term.startswith(token, index):
            return index
        index += 1
    return -1


def compile_field_selector(resource: ResourceType, text: str) -> FieldSelector:
    """Parse and bind a field selector for one kind; unknown fields raise SelectorError."""
    getters = field_getters(resource)
    requirements = parse_field_selector(text)
    bound = []
    for requirement in requirements:
        getter = getters.get(requirement.field)
        if getter is None:
            raise SelectorError(f"field label not supported: {requirement.field}")
        bound.append(getter)
    return FieldSelector(requirements, tuple(bound))
