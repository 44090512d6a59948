"""Type-check a JSON object against its model and report a mismatch as a Kubernetes field error.

msgspec stops at the first mismatch and reports it as "Expected `int`, got `str` - at
`$.spec.replicas`"; this turns that into a FieldError on "spec.replicas". Map values appear in
msgspec paths as `[...]`, so the offending key is recovered by walking the object.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from kubelite.api.models.base import Model
from kubelite.api.validation.errors import FieldError, required, type_invalid

M = TypeVar("M", bound=Model)

_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")
_EXPECTED = re.compile(r"^Expected `(?P<expected>[^`]+)`, got `(?P<got>[^`]+)`$")
_SEGMENT = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")


def _resolve(obj: Any, path: str) -> tuple[str, Any]:
    """Walk a msgspec path through `obj`, returning the Kubernetes field path and the value found."""
    field = ""
    value = obj
    for match in _SEGMENT.finditer(path):
        name, index = match.group(1), match.group(2)
        if name is not None:
            field = f"{field}.{name}" if field else name
            value = value.get(name) if isinstance(value, dict) else None
        elif index == "...":
            items = value.items() if isinstance(value, dict) else ()
            key = next((key for key, item in items if not isinstance(item, str)), "")
            field = f"{field}[{key}]"
            value = value.get(key) if isinstance(value, dict) else None
        else:
            field = f"{field}[{index}]"
            value = value[int(index)] if isinstance(value, list) and int(index) < len(value) else None
    return field, value


def _json_type(expected: str) -> str:
    names = [part.strip() for part in expected.split("|") if part.strip() != "null"]
    words = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "array": "array"}
    return " or ".join(words.get(name, name) for name in names)


def decode_error(obj: Any, error: msgspec.ValidationError) -> FieldError:
    """The FieldError for a msgspec validation failure on `obj`."""
    match = _AT.match(str(error))
    message = match.group("message") if match else str(error)
    path = (match.group("path") if match else "") or ""
    field, value = _resolve(obj, path)
    missing = _MISSING.match(message)
    if missing:
        child = missing.group("field")
        return required(f"{field}.{child}" if field else child)
    expected = _EXPECTED.match(message)
    if expected:
        return type_invalid(field, value, f"must be of type {_json_type(expected.group('expected'))}")
    return type_invalid(field, value, message)


def decode(model: type[M], obj: Any) -> M | FieldError:
    """Decode `obj` into `model`, or the FieldError describing why it does not fit."""
    if not isinstance(obj, dict):
        return type_invalid("", obj, "must be of type object")
    try:
        return msgspec.convert(obj, model)
    except msgspec.ValidationError as error:
        return decode_error(obj, error)
