"""Strict field validation (`?fieldValidation=Strict`, what kubectl sends by default).

Kubernetes rejects an object that names a field its schema does not have (a typo such as
`contianers` must not be silently dropped). The schema here is the typed model of each kind: this
walks the JSON object beside the model's type information and reports every unknown field path.
Sub-objects the models keep as free-form maps (`dict[str, Any]`) accept anything, as they should.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec.inspect as spec

from kubelite.api.models import MODEL_BY_KEY


@cache
def _type_info(model: type) -> spec.Type:
    return spec.type_info(model)


_FIELDS: dict[int, dict[str, spec.Type]] = {}


def _fields(struct: spec.StructType) -> dict[str, spec.Type]:
    """Field name to type of a struct (cached: type infos are built once per model and kept)."""
    found = _FIELDS.get(id(struct))
    if found is None:
        found = _FIELDS[id(struct)] = {field.encode_name: field.type for field in struct.fields}
    return found


def _unknown(value: Any, kind: spec.Type, path: str, found: list[str]) -> None:
    if isinstance(kind, spec.UnionType):
        for option in kind.types:
            if isinstance(option, (spec.StructType, spec.ListType, spec.DictType)):
                _unknown(value, option, path, found)
                return
        return
    if isinstance(kind, spec.StructType) and isinstance(value, dict):
        fields = _fields(kind)
        for key, item in value.items():
            child = f"{path}.{key}" if path else key
            if key not in fields:
                found.append(child)
            else:
                _unknown(item, fields[key], child, found)
    elif isinstance(kind, spec.ListType) and isinstance(value, list):
        for index, item in enumerate(value):
            _unknown(item, kind.item_type, f"{path}[{index}]", found)
    elif isinstance(kind, spec.DictType) and isinstance(value, dict):
        for key, item in value.items():
            _unknown(item, kind.value_type, f"{path}[{key}]", found)


def unknown_fields(resource_key: str, obj: dict[str, Any]) -> list[str]:
    """Field paths in `obj` that the kind's schema does not define (empty for unmodelled kinds)."""
    model = MODEL_BY_KEY.get(resource_key)
    if model is None:
        return []
    found: list[str] = []
    _unknown(obj, _type_info(model), "", found)
    return found


def _prune(value: Any, kind: spec.Type) -> None:
    if isinstance(kind, spec.UnionType):
        for option in kind.types:
            if isinstance(option, (spec.StructType, spec.ListType, spec.DictType)):
                _prune(value, option)
                return
        return
    if isinstance(kind, spec.StructType) and isinstance(value, dict):
        fields = _fields(kind)
        for key in [key for key in value if key not in fields]:
            del value[key]
        for key, item in value.items():
            _prune(item, fields[key])
    elif isinstance(kind, spec.ListType) and isinstance(value, list):
        for item in value:
            _prune(item, kind.item_type)
    elif isinstance(kind, spec.DictType) and isinstance(value, dict):
        for item in value.values():
            _prune(item, kind.value_type)


def prune_unknown_fields(resource_key: str, obj: dict[str, Any]) -> None:
    """Drop, in place, every field the kind's schema does not define, as Kubernetes' decoder does."""
    model = MODEL_BY_KEY.get(resource_key)
    if model is not None:
        _prune(obj, _type_info(model))
