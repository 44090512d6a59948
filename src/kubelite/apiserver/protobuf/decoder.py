"""Decode Kubernetes protobuf request bodies into the JSON objects the same objects would be.

Data flow: `decode_protobuf_object(body)` checks the `k8s\\x00` magic, reads the `runtime.Unknown`
envelope (typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2, contentEncoding = 3, contentType = 4;
k8s.io/apimachinery pkg/runtime/generated.proto), looks the kind up in `schema.SERVED_KINDS` and
decodes `raw` with that message's dispatch table. The tables are compiled once, at import, from
the generated `schema_tables.MESSAGES`: field number -> `_Field` with a value reader, so decoding
a field is one dict lookup and one call. JSON follows Go's encoding/json on the Kubernetes struct:
camelCase names, inline embedded structs, omitempty, pointer presence, base64 bytes, and the
special forms of `special.py`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, Final

from . import special
from .schema import (
    SCALAR_TYPES,
    SPECIAL_MESSAGES,
    Cardinality,
    FieldRow,
    Presence,
    SpecialForm,
    message_for_kind,
)
from .schema_tables import MESSAGES
from .wire import (
    WIRE_FIXED32,
    WIRE_FIXED64,
    WIRE_LENGTH_DELIMITED,
    WIRE_VARINT,
    ProtobufError,
    iter_fields,
    read_fixed,
    read_length_delimited,
    read_varint,
    skip_field,
    to_signed,
    zigzag_decode,
)

MAGIC: Final = b"k8s\x00"
_MAX_EMBEDDED_DEPTH: Final = 8
_EMBEDDED_DEPTH: Final = ContextVar("protobuf_embedded_depth", default=0)
_UNPACK_FLOAT: Final = struct.Struct("<f").unpack
_UNPACK_DOUBLE: Final = struct.Struct("<d").unpack

# A value reader turns the payload at `pos` (of the given wire type) into a JSON value.
ValueReader = Callable[[bytes, int, int, int], tuple[Any, int]]


def _expect(wire: int, expected: int, what: str) -> None:
    if wire != expected:
        raise ProtobufError(f"{what}: wire type {wire} where {expected} was expected")


def _varint_reader(convert: Callable[[int], Any], what: str) -> ValueReader:
    def read(buf: bytes, pos: int, end: int, wire: int) -> tuple[Any, int]:
        _expect(wire, WIRE_VARINT, what)
        value, pos = read_varint(buf, pos, end)
        return convert(value), pos

    return read


def _fixed_reader(width: int, convert: Callable[[int], Any], what: str) -> ValueReader:
    expected = WIRE_FIXED64 if width == 8 else WIRE_FIXED32

    def read(buf: bytes, pos: int, end: int, wire: int) -> tuple[Any, int]:
        _expect(wire, expected, what)
        value, pos = read_fixed(buf, pos, end, width)
        return convert(value), pos

    return read


def _read_string(buf: bytes, pos: int, end: int, wire: int) -> tuple[Any, int]:
    _expect(wire, WIRE_LENGTH_DELIMITED, "string")
    start, stop = read_length_delimited(buf, pos, end)
    try:
        return buf[start:stop].decode("utf-8"), stop
    except UnicodeDecodeError:
        raise ProtobufError(f"string at offset {start} is not valid UTF-8") from None


def _read_bytes(buf: bytes, pos: int, end: int, wire: int) -> tuple[Any, int]:
    _expect(wire, WIRE_LENGTH_DELIMITED, "bytes")
    start, stop = read_length_delimited(buf, pos, end)
    return special.bytes_to_json(buf[start:stop]), stop


_SCALAR_READERS: Final[dict[str, ValueReader]] = {
    "string": _read_string,
    "bytes": _read_bytes,
    "bool": _varint_reader(bool, "bool"),
    "int32": _varint_reader(lambda value: to_signed(value, 32), "int32"),
    "int64": _varint_reader(lambda value: to_signed(value, 64), "int64"),
    "uint32": _varint_reader(lambda value: value & 0xFFFFFFFF, "uint32"),
    "uint64": _varint_reader(lambda value: value, "uint64"),
    "sint32": _varint_reader(lambda value: to_signed(zigzag_decode(value), 32), "sint32"),
    "sint64": _varint_reader(zigzag_decode, "sint64"),
    "fixed32": _fixed_reader(4, lambda value: value, "fixed32"),
    "fixed64": _fixed_reader(8, lambda value: value, "fixed64"),
    "sfixed32": _fixed_reader(4, lambda value: to_signed(value, 32), "sfixed32"),
    "sfixed64": _fixed_reader(8, lambda value: to_signed(value, 64), "sfixed64"),
    "float": _fixed_reader(4, lambda value: _UNPACK_FLOAT(value.to_bytes(4, "little"))[0], "float"),
    "double": _fixed_reader(8, lambda value: _UNPACK_DOUBLE(value.to_bytes(8, "little"))[0], "double"),
}
_SCALAR_ZERO: Final[dict[str, Any]] = {name: 0 for name in SCALAR_TYPES} | {
    "string": "", "bytes": "", "bool": False, "float": 0.0, "double": 0.0,
}
# The wire type of one element of a packed repeated scalar (strings and bytes cannot be packed).
_PACKED_ELEMENT_WIRE: Final[dict[str, int]] = {
    name: WIRE_FIXED32 if name in ("fixed32", "sfixed32", "float")
    else WIRE_FIXED64 if name in ("fixed64", "sfixed64", "double")
    else WIRE_VARINT
    for name in SCALAR_TYPES - {"string", "bytes"}
}
_NOT_PACKABLE: Final = -1


class _Field:
    """One field of a compiled message: how to read a value and where it goes in the JSON."""

    __slots__ = ("cardinality", "key_reader", "name", "packed_wire", "presence", "read")

    def __init__(
        self,
        name: str,
        cardinality: Cardinality,
        presence: Presence,
        read: ValueReader,
        key_reader: ValueReader | None = None,
        packed_wire: int = _NOT_PACKABLE,
    ) -> None:
        self.name = name
        self.cardinality = cardinality
        self.presence = presence
        self.read = read
        self.key_reader = key_reader
        self.packed_wire = packed_wire


class _Message:
    """A message's dispatch table (field number -> `_Field`) and the JSON of its absent fields."""

    __slots__ = ("defaults", "fields", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.fields: dict[int, _Field] = {}
        # (JSON name or "" for inline, zero-value factory) for fields Go always writes to JSON.
        self.defaults: list[tuple[str, Callable[[], Any]]] = []

    def read(self, buf: bytes, pos: int, end: int, wire: int) -> tuple[Any, int]:
        _expect(wire, WIRE_LENGTH_DELIMITED, self.name)
        start, stop = read_length_delimited(buf, pos, end)
        return _decode_message(buf, start, stop, self), stop

    def zero(self) -> dict[str, Any]:
        return _decode_message(b"", 0, 0, self)


def _decode_message(buf: bytes, pos: int, end: int, message: _Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    fields = message.fields
    while pos < end:
        key = buf[pos]
        if key < 0x80:
            pos += 1
        else:
            key, pos = read_varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        field = fields.get(number)
        if field is None:
            if number == 0:
                raise ProtobufError(f"{message.name}: field number 0 at offset {pos}")
            pos = skip_field(buf, pos, end, wire)  # unknown fields are skipped, as protobuf requires
            continue
        cardinality = field.cardinality
        if cardinality == "single":
            value, pos = field.read(buf, pos, end, wire)
            if field.presence == "omitempty" and not value:
                out.pop(field.name, None)  # Go's omitempty drops "", 0 and false
            else:
                out[field.name] = value
        elif cardinality == "repeated":
            items = out.get(field.name)
            if items is None:
                items = out[field.name] = []
            if wire == WIRE_LENGTH_DELIMITED and field.packed_wire != _NOT_PACKABLE:
                start, pos = read_length_delimited(buf, pos, end)
                while start < pos:  # packed: the payload is the elements back to back
                    value, start = field.read(buf, start, pos, field.packed_wire)
                    items.append(value)
            else:
                value, pos = field.read(buf, pos, end, wire)
                items.append(value)
        elif cardinality == "map":
            _expect(wire, WIRE_LENGTH_DELIMITED, f"{message.name}.{field.name} map entry")
            start, pos = read_length_delimited(buf, pos, end)
            entries = out.get(field.name)
            if entries is None:
                entries = out[field.name] = {}
            map_key, map_value = _decode_map_entry(buf, start, pos, field)
            entries[map_key] = map_value
        else:  # inline: the embedded struct's JSON fields belong to this object
            value, pos = field.read(buf, pos, end, wire)
            out.update(value)
    for name, zero in message.defaults:
        if not name:
            for inline_name, inline_value in zero().items():
                out.setdefault(inline_name, inline_value)
        elif name not in out:
            out[name] = zero()
    return out


def _decode_map_entry(buf: bytes, pos: int, end: int, field: _Field) -> tuple[Any, Any]:
    map_key: Any = None
    map_value: Any = None
    assert field.key_reader is not None  # compiled maps always carry one
    while pos < end:
        key, pos = read_varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 1:
            map_key, pos = field.key_reader(buf, pos, end, wire)
        elif number == 2:
            map_value, pos = field.read(buf, pos, end, wire)
        else:
            pos = skip_field(buf, pos, end, wire)
    return map_key, map_value


def _special_reader(form: SpecialForm) -> ValueReader:
    def read(buf: bytes, pos: int, end: int, wire: int) -> tuple[Any, int]:
        _expect(wire, WIRE_LENGTH_DELIMITED, form)
        start, stop = read_length_delimited(buf, pos, end)
        if form == "raw_json":
            return special.raw_json(buf, start, stop, _decode_embedded_object), stop
        return _SPECIAL_DECODERS[form](buf, start, stop), stop

    return read


_SPECIAL_DECODERS: Final[dict[str, Callable[[bytes, int, int], Any]]] = {
    "quantity": special.quantity,
    "int_or_string": special.int_or_string,
    "time": special.time,
    "micro_time": special.micro_time,
    "duration": special.duration,
    "string_list": special.string_list,
}


def _zero_factory(
    value_type: str, cardinality: Cardinality, messages: dict[str, _Message]
) -> Callable[[], Any]:
    """The JSON Go writes for a value field that is absent from the wire (its zero value)."""
    if cardinality in ("repeated", "map"):
        return lambda: None  # a nil slice or map marshals as null
    if value_type in SCALAR_TYPES:
        zero = _SCALAR_ZERO[value_type]
        return lambda: zero
    if value_type in SPECIAL_MESSAGES:
        special_zero = special.ZERO_VALUES[SPECIAL_MESSAGES[value_type]]
        return lambda: special_zero
    return messages[value_type].zero


def _compile(tables: dict[str, tuple[FieldRow, ...]]) -> dict[str, _Message]:
    messages = {name: _Message(name) for name in tables}

    def reader_for(value_type: str) -> ValueReader:
        if value_type in SCALAR_TYPES:
            return _SCALAR_READERS[value_type]
        if value_type in SPECIAL_MESSAGES:
            return _special_reader(SPECIAL_MESSAGES[value_type])
        return messages[value_type].read

    for name, rows in tables.items():
        message = messages[name]
        for number, json_name, cardinality, key_type, value_type, presence in rows:
            message.fields[number] = _Field(
                json_name,
                cardinality,
                presence,
                reader_for(value_type),
                key_reader=reader_for(key_type) if key_type else None,
                packed_wire=_PACKED_ELEMENT_WIRE.get(value_type, _NOT_PACKABLE)
                if cardinality == "repeated"
                else _NOT_PACKABLE,
            )
            if presence == "always":
                message.defaults.append((json_name, _zero_factory(value_type, cardinality, messages)))
    return messages


_COMPILED: Final = _compile(MESSAGES)


def _decode_envelope(body: bytes) -> dict[str, Any]:
    if not body.startswith(MAGIC):
        raise ProtobufError("not a Kubernetes protobuf object: the body lacks the k8s\\x00 magic prefix")
    api_version, kind, content_encoding = "", "", ""
    raw: tuple[int, int] | None = None
    end = len(body)
    for number, wire, start, stop in iter_fields(body, len(MAGIC), end):
        if number == 1:  # typeMeta
            _expect(wire, WIRE_LENGTH_DELIMITED, "Unknown.typeMeta")
            for type_field, type_wire, s, e in iter_fields(body, start, stop):
                if type_field in (1, 2):
                    _expect(type_wire, WIRE_LENGTH_DELIMITED, "TypeMeta")
                    text = body[s:e].decode("utf-8", errors="strict")
                    api_version, kind = (text, kind) if type_field == 1 else (api_version, text)
        elif number == 2:
            _expect(wire, WIRE_LENGTH_DELIMITED, "Unknown.raw")
            raw = (start, stop)
        elif number == 3:
            _expect(wire, WIRE_LENGTH_DELIMITED, "Unknown.contentEncoding")
            content_encoding = body[start:stop].decode("utf-8", errors="replace")
    if content_encoding:
        raise ProtobufError(f"unsupported contentEncoding {content_encoding!r} in the protobuf envelope")
    if not kind or not api_version:
        raise ProtobufError("the protobuf envelope names no apiVersion and kind")
    message_name = message_for_kind(api_version, kind)
    if message_name is None:
        raise ProtobufError(f"kind {kind} of {api_version} is not served in protobuf")
    decoded = _decode_message(body, *(raw or (0, 0)), _COMPILED[message_name])
    return {"kind": kind, "apiVersion": api_version, **decoded}


def _decode_embedded_object(body: bytes) -> dict[str, Any]:
    """A RawExtension's protobuf object; the depth bound keeps nesting from exhausting the stack."""
    depth = _EMBEDDED_DEPTH.get() + 1
    if depth > _MAX_EMBEDDED_DEPTH:
        raise ProtobufError(f"objects embedded more than {_MAX_EMBEDDED_DEPTH} deep")
    token = _EMBEDDED_DEPTH.set(depth)
    try:
        return _decode_envelope(body)
    finally:
        _EMBEDDED_DEPTH.reset(token)


def decode_protobuf_object(body: bytes) -> dict[str, Any]:
    """The JSON object of an `application/vnd.kubernetes.protobuf` request body.

    Raises `ProtobufError` (a ValueError) for a malformed body or a kind kubelite does not serve.
    """
    try:
        return _decode_envelope(body)
    except UnicodeDecodeError:
        raise ProtobufError("the protobuf envelope's type names are not valid UTF-8") from None
    except RecursionError:
        raise ProtobufError("the protobuf object nests too deeply") from None
