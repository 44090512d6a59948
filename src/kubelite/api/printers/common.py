"""Shared pieces of the table printers: column definitions, AGE formatting and safe field access.

AGE follows k8s.io/apimachinery/pkg/util/duration.HumanDuration; column descriptions follow
pkg/printers/internalversion/printers.go. Printers read stored JSON objects, which validation has
already checked, but still tolerate missing fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

ColumnType = Literal["string", "integer", "number", "boolean", "date"]
JSONObject = dict[str, Any]

NAME_DESCRIPTION = (
    "Name must be unique within a namespace. Is required when creating resources, although some resources "
    "may allow a client to request the generation of an appropriate name automatically. Name is primarily "
    "intended for creation idempotence and configuration definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
AGE_DESCRIPTION = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is not "
    "guaranteed to be set in happens-before order across separate operations. Clients may not set this "
    "value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null "
    "for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)


def column(
    name: str, type_: ColumnType = "string", description: str = "", wide: bool = False, format_: str = ""
) -> JSONObject:
    """A meta.k8s.io/v1 TableColumnDefinition."""
    return {
        "name": name,
        "type": type_,
        "format": format_,
        "description": description,
        "priority": 1 if wide else 0,
    }


NAME_COLUMN = column("Name", "string", NAME_DESCRIPTION, format_="name")
AGE_COLUMN = column("Age", "string", AGE_DESCRIPTION)


def get(obj: Any, *keys: str | int) -> Any:
    """obj[k1][k2]...; None as soon as a step is missing or of the wrong shape."""
    value = obj
    for key in keys:
        if isinstance(key, int):
            value = value[key] if isinstance(value, list) and -len(value) <= key < len(value) else None
        else:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            return None
    return value


def dicts(value: Any) -> list[JSONObject]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def parse_timestamp(value: Any) -> float | None:
    """An RFC 3339 timestamp as epoch seconds; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def human_duration(seconds_elapsed: float) -> str:
    """duration.HumanDuration: "45s", "5m30s", "3h20m", "2d5h", "1y30d"."""
    seconds = int(seconds_elapsed)
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def age_since(timestamp: Any, now: float) -> str:
    """translateTimestampSince: "<unknown>" without a timestamp."""
    moment = parse_timestamp(timestamp)
    return "<unknown>" if moment is None else human_duration(now - moment)


def name_of(obj: JSONObject) -> str:
    return str(get(obj, "metadata", "name") or "")


def age_of(obj: JSONObject, now: float) -> str:
    return age_since(get(obj, "metadata", "creationTimestamp"), now)


def or_none(value: Any) -> Any:
    return "<none>" if value in (None, "", []) else value
