"""Kubernetes types whose JSON form is not an object of their protobuf fields.

Each function takes the payload window of one embedded message and returns its JSON value, as
the Go type's MarshalJSON would write it (k8s.io/apimachinery: resource.Quantity, intstr,
meta/v1 Time, MicroTime and Duration, runtime.RawExtension, FieldsV1). `decoder.py` dispatches
to them by `schema.SPECIAL_MESSAGES`; an empty window is the Go zero value.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import msgspec

from .schema import SpecialForm
from .wire import WIRE_LENGTH_DELIMITED, WIRE_VARINT, ProtobufError, iter_fields, read_varint, to_signed

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_json_decode: Final = msgspec.json.Decoder().decode
# RawExtension may itself hold a protobuf object (k8s\0 envelope); `decoder.py` plugs in the
# envelope decoder so that this module stays below it.
EmbeddedObjectDecoder = Callable[[bytes], dict[str, Any]]


def _varint_field(buf: bytes, start: int, stop: int, wire: int, name: str) -> int:
    if wire != WIRE_VARINT:
        raise ProtobufError(f"{name}: wire type {wire}, expected a varint")
    return read_varint(buf, start, stop)[0]


def _bytes_field(buf: bytes, start: int, stop: int, wire: int, name: str) -> bytes:
    if wire != WIRE_LENGTH_DELIMITED:
        raise ProtobufError(f"{name}: wire type {wire}, expected length-delimited bytes")
    return buf[start:stop]


def _text(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtobufError(f"{name} is not valid UTF-8") from None


def quantity(buf: bytes, start: int, stop: int) -> str:
    """resource.Quantity {string = 1}: the quantity's canonical string; "0" when unset."""
    text = ""
    for number, wire, s, e in iter_fields(buf, start, stop):
        if number == 1:
            text = _text(_bytes_field(buf, s, e, wire, "Quantity.string"), "Quantity.string")
    return text or "0"


def int_or_string(buf: bytes, start: int, stop: int) -> int | str:
    """intstr.IntOrString {type = 1, intVal = 2, strVal = 3}: an int, or a string when type is 1."""
    kind, int_value, str_value = 0, 0, ""
    for number, wire, s, e in iter_fields(buf, start, stop):
        if number == 1:
            kind = _varint_field(buf, s, e, wire, "IntOrString.type")
        elif number == 2:
            int_value = to_signed(_varint_field(buf, s, e, wire, "IntOrString.intVal"), 32)
        elif number == 3:
            str_value = _text(_bytes_field(buf, s, e, wire, "IntOrString.strVal"), "IntOrString.strVal")
    return str_value if kind == 1 else int_value


def _timestamp(buf: bytes, start: int, stop: int, type_name: str) -> datetime | None:
    if start == stop:
        return None  # the zero time: Go writes it as an empty message and as JSON null
    seconds, nanos = 0, 0
    for number, wire, s, e in iter_fields(buf, start, stop):
        if number == 1:
            seconds = to_signed(_varint_field(buf, s, e, wire, f"{type_name}.seconds"), 64)
        elif number == 2:
            nanos = to_signed(_varint_field(buf, s, e, wire, f"{type_name}.nanos"), 32)
    if not 0 <= nanos < 1_000_000_000:
        raise ProtobufError(f"{type_name}.nanos {nanos} is outside [0, 1e9)")
    try:
        return _EPOCH + timedelta(seconds=seconds, microseconds=nanos // 1000)
    except OverflowError:
        raise ProtobufError(f"{type_name}.seconds {seconds} is outside the years 1-9999") from None


def time(buf: bytes, start: int, stop: int) -> str | None:
    """meta/v1 Time {seconds = 1, nanos = 2}: RFC 3339 in UTC to the second, as Kubernetes keeps it."""
    moment = _timestamp(buf, start, stop, "Time")
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def micro_time(buf: bytes, start: int, stop: int) -> str | None:
    """meta/v1 MicroTime: RFC 3339 in UTC with exactly six fractional digits."""
    moment = _timestamp(buf, start, stop, "MicroTime")
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def duration(buf: bytes, start: int, stop: int) -> str:
    """meta/v1 Duration {duration = 1 (nanoseconds)}: Go's time.Duration.String(), e.g. "1h0m0s"."""
    nanoseconds = 0
    for number, wire, s, e in iter_fields(buf, start, stop):
        if number == 1:
            nanoseconds = to_signed(_varint_field(buf, s, e, wire, "Duration.duration"), 64)
    return go_duration_string(nanoseconds)


def _fraction(value: int, digits: int) -> str:
    """`value` / 10**digits with trailing zeros (and a bare point) trimmed, as Go prints it."""
    whole, part = divmod(value, 10**digits)
    fraction = str(part).rjust(digits, "0").rstrip("0")
    return f"{whole}.{fraction}" if fraction else str(whole)


def go_duration_string(nanoseconds: int) -> str:
    """Go's `time.Duration.String()`: "0s", "1.5µs", "250ms", "1m30s", "2h0m0.5s", "-3s"."""
    sign = "-" if nanoseconds < 0 else ""
    magnitude = abs(nanoseconds)
    if magnitude == 0:
        return "0s"
    if magnitude < 1_000:
        return f"{sign}{magnitude}ns"
    if magnitude < 1_000_000:
        return f"{sign}{_fraction(magnitude, 3)}µs"
    if magnitude < 1_000_000_000:
        return f"{sign}{_fraction(magnitude, 6)}ms"
    hours, rest = divmod(magnitude, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds = _fraction(rest, 9) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{sign}{minutes}m{seconds}"
    return f"{sign}{seconds}"


def raw_json(buf: bytes, start: int, stop: int, embedded_object: EmbeddedObjectDecoder) -> Any:
    """RawExtension / FieldsV1 {raw = 1}: the JSON value held in `raw` (null when unset)."""
    raw = b""
    for number, wire, s, e in iter_fields(buf, start, stop):
        if number == 1:
            raw = _bytes_field(buf, s, e, wire, "raw")
    if not raw:
        return None
    if raw.startswith(b"k8s\x00"):
        return embedded_object(raw)
    try:
        return _json_decode(raw)
    except msgspec.DecodeError as error:
        raise ProtobufError(f"embedded raw object is neither JSON nor Kubernetes protobuf: {error}") from None


def string_list(buf: bytes, start: int, stop: int) -> list[str]:
    """Go `[]string` types such as ExtraValue, wrapped as {repeated string items = 1}."""
    return [
        _text(_bytes_field(buf, s, e, wire, "items"), "items")
        for number, wire, s, e in iter_fields(buf, start, stop)
        if number == 1
    ]


def bytes_to_json(raw: bytes) -> str:
    """Go's encoding/json writes []byte as standard base64."""
    return base64.b64encode(raw).decode("ascii")


ZERO_VALUES: Final[dict[SpecialForm, Any]] = {
    "quantity": "0",
    "int_or_string": 0,
    "time": None,
    "micro_time": None,
    "duration": "0s",
    "raw_json": None,
    "string_list": None,
}
"""The JSON of each special type's Go zero value, for struct fields absent from the wire."""
