"""FieldError, the one error value validation returns, with Kubernetes' cause types and wording.

Validation builds a list of these; the API server turns them into a 422 Status whose
details.causes carry `type` as reason, `field` and `message` (Kubernetes' ErrorBody).
The constructors mirror k8s.io/apimachinery/pkg/util/validation/field so the wording matches.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

ErrorType = Literal[
    "FieldValueRequired",
    "FieldValueInvalid",
    "FieldValueDuplicate",
    "FieldValueNotSupported",
    "FieldValueTooLong",
    "FieldValueTooMany",
    "FieldValueForbidden",
    "FieldValueNotFound",
    "FieldValueTypeInvalid",
]


@dataclass(frozen=True, slots=True)
class FieldError:
    """One validation failure: the cause reason, the field path and the message body."""

    type: ErrorType
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def format_value(value: Any) -> str:
    """Render a bad value as Go's %q / %d / %v would in Kubernetes messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def required(field: str, detail: str = "") -> FieldError:
    return FieldError("FieldValueRequired", field, "Required value" + (f": {detail}" if detail else ""))


def invalid(field: str, value: Any, detail: str = "") -> FieldError:
    body = f"Invalid value: {format_value(value)}" + (f": {detail}" if detail else "")
    return FieldError("FieldValueInvalid", field, body)


def type_invalid(field: str, value: Any, detail: str) -> FieldError:
    return FieldError("FieldValueTypeInvalid", field, f"Invalid value: {format_value(value)}: {detail}")


def duplicate(field: str, value: Any) -> FieldError:
    return FieldError("FieldValueDuplicate", field, f"Duplicate value: {format_value(value)}")


def not_supported(field: str, value: Any, supported: Iterable[str]) -> FieldError:
    options = ", ".join(json.dumps(option) for option in supported)
    body = f"Unsupported value: {format_value(value)}: supported values: {options}"
    return FieldError("FieldValueNotSupported", field, body)


def too_long(field: str, max_length: int) -> FieldError:
    return FieldError("FieldValueTooLong", field, f"Too long: may not be more than {max_length} bytes")


def not_found(field: str, value: Any) -> FieldError:
    return FieldError("FieldValueNotFound", field, f"Not found: {format_value(value)}")


def forbidden(field: str, detail: str) -> FieldError:
    return FieldError("FieldValueForbidden", field, f"Forbidden: {detail}")


def aggregate_message(errors: Iterable[FieldError]) -> str:
    """The Status message tail Kubernetes prints: one error alone, several in brackets."""
    rendered = [str(error) for error in errors]
    return rendered[0] if len(rendered) == 1 else "[" + ", ".join(rendered) + "]"


def invalid_status_message(kind: str, name: str, errors: Iterable[FieldError]) -> str:
    """`Pod "web" is invalid: [...]`, the message of a 422 Invalid Status."""
    return f'{kind} "{name}" is invalid: {aggregate_message(errors)}'
