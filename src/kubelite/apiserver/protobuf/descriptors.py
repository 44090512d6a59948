"""Kubernetes' compiled protobuf schemas, read back from a Go binary for the schema generator.

Kubernetes' `generated.pb.go` files register each `generated.proto` as a gzipped
`FileDescriptorProto` (the protoc-compiled form of the .proto text, including the gogoproto field
options that say whether a Go field is a pointer and whether it is embedded), and Go keeps every
struct field's tag (`json:"hostIP,omitempty" protobuf:"bytes,7,opt,name=hostIP"`) for reflection.
Both are readable from any Kubernetes client binary such as kubectl. `generate.py` joins them into
the field tables of `schema_tables.py`; nothing here runs on the request path.

Data flow: binary bytes -> gzip members -> `FileDescriptor`s (messages, fields, options) and a
tag index `(wire, number, label, proto name) -> {json tags}`.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field

from .wire import WIRE_LENGTH_DELIMITED, ProtobufError, iter_fields, read_varint

_GZIP_MEMBER_START = re.compile(rb"\x1f\x8b\x08\x00\x00\x00\x00\x00")
# A struct tag from its json or protobuf key on; Go stores each tag right after a length byte,
# which may itself be a letter, so the match must not start at an arbitrary word.
_STRUCT_TAG = re.compile(rb'(?:json|protobuf):"[^"]*"(?: [A-Za-z_]+:"[^"]*")*')
_STRUCT_TAG_PART = re.compile(r'([A-Za-z_]+):"([^"]*)"')

# google/protobuf/descriptor.proto field numbers.
_FILE_NAME, _FILE_PACKAGE, _FILE_MESSAGE = 1, 2, 4
_MESSAGE_NAME, _MESSAGE_FIELD, _MESSAGE_NESTED, _MESSAGE_OPTIONS = 1, 2, 3, 7
_MESSAGE_OPTION_MAP_ENTRY = 7
_FIELD_NAME, _FIELD_NUMBER, _FIELD_LABEL, _FIELD_TYPE, _FIELD_TYPE_NAME, _FIELD_OPTIONS = 1, 3, 4, 5, 6, 8
# github.com/gogo/protobuf/gogoproto/gogo.proto extensions of FieldOptions.
_GOGO_NULLABLE, _GOGO_EMBED, _GOGO_CUSTOMNAME = 65001, 65002, 65004

LABEL_REPEATED = 3
LABEL_REQUIRED = 2

# FieldDescriptorProto.Type values, named as in .proto files.
SCALAR_TYPE_NAMES = {
    1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 6: "fixed64", 7: "fixed32",
    8: "bool", 9: "string", 12: "bytes", 13: "uint32", 15: "sfixed32", 16: "sfixed64",
    17: "sint32", 18: "sint64",
}
TYPE_MESSAGE = 11


@dataclass(frozen=True, slots=True)
class FieldDescriptor:
    """One field of a compiled message, with the gogoproto options that shape its Go type."""

    name: str
    number: int
    label: int
    type_name: str  # a scalar name from SCALAR_TYPE_NAMES, or a fully qualified ".pkg.Message"
    nullable: bool  # gogoproto.nullable: the Go field is a pointer (or a slice/map)
    embedded: bool  # gogoproto.embed: the Go field is an embedded struct


@dataclass(slots=True)
class MessageDescriptor:
    full_name: str  # without the leading dot
    fields: list[FieldDescriptor] = field(default_factory=list)
    map_entry: bool = False


def _text(buf: bytes, start: int, stop: int) -> str:
    return buf[start:stop].decode("utf-8")


def _varint_at(buf: bytes, start: int, stop: int) -> int:
    return read_varint(buf, start, stop)[0]


def _parse_field(buf: bytes, start: int, stop: int) -> FieldDescriptor:
    name, number, label, type_name = "", 0, 1, ""
    scalar_type = 0
    nullable, embedded = True, False
    for number_, wire, s, e in iter_fields(buf, start, stop):
        if number_ == _FIELD_NAME:
            name = _text(buf, s, e)
        elif number_ == _FIELD_NUMBER:
            number = _varint_at(buf, s, e)
        elif number_ == _FIELD_LABEL:
            label = _varint_at(buf, s, e)
        elif number_ == _FIELD_TYPE:
            scalar_type = _varint_at(buf, s, e)
        elif number_ == _FIELD_TYPE_NAME:
            type_name = _text(buf, s, e)
        elif number_ == _FIELD_OPTIONS and wire == WIRE_LENGTH_DELIMITED:
            for option, _, os_, oe in iter_fields(buf, s, e):
                if option == _GOGO_NULLABLE:
                    nullable = bool(_varint_at(buf, os_, oe))
                elif option == _GOGO_EMBED:
                    embedded = bool(_varint_at(buf, os_, oe))
    if scalar_type != TYPE_MESSAGE:
        if scalar_type not in SCALAR_TYPE_NAMES:
            raise ProtobufError(f"field {name}: unsupported descriptor type {scalar_type}")
        type_name = SCALAR_TYPE_NAMES[scalar_type]
    return FieldDescriptor(name, number, label, type_name, nullable, embedded)


def _parse_message(buf: bytes, start: int, stop: int, scope: str, out: dict[str, MessageDescriptor]) -> None:
    nested: list[tuple[int, int]] = []
    message = MessageDescriptor(full_name="")
    name = ""
    for number, _, s, e in iter_fields(buf, start, stop):
        if number == _MESSAGE_NAME:
            name = _text(buf, s, e)
        elif number == _MESSAGE_FIELD:
            message.fields.append(_parse_field(buf, s, e))
        elif number == _MESSAGE_NESTED:
            nested.append((s, e))
        elif number == _MESSAGE_OPTIONS:
            for option, _, os_, oe in iter_fields(buf, s, e):
                if option == _MESSAGE_OPTION_MAP_ENTRY:
                    message.map_entry = bool(_varint_at(buf, os_, oe))
    message.full_name = f"{scope}.{name}"
    out[message.full_name] = message
    for s, e in nested:
        _parse_message(buf, s, e, message.full_name, out)


def parse_file_descriptor(buf: bytes) -> tuple[str, dict[str, MessageDescriptor]]:
    """A serialized FileDescriptorProto as (file name, messages by full name)."""
    file_name, package = "", ""
    bodies: list[tuple[int, int]] = []
    for number, _, s, e in iter_fields(buf, 0, len(buf)):
        if number == _FILE_NAME:
            file_name = _text(buf, s, e)
        elif number == _FILE_PACKAGE:
            package = _text(buf, s, e)
        elif number == _FILE_MESSAGE:
            bodies.append((s, e))
    messages: dict[str, MessageDescriptor] = {}
    for s, e in bodies:
        _parse_message(buf, s, e, package, messages)
    return file_name, messages


def gzipped_file_descriptors(binary: bytes, path_prefix: str) -> dict[str, bytes]:
    """The FileDescriptorProtos in a Go binary whose .proto path starts with `path_prefix`."""
    found: dict[str, bytes] = {}
    for match in _GZIP_MEMBER_START.finditer(binary):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = inflater.decompress(binary[match.start() : match.start() + (1 << 20)])
        except zlib.error:
            continue
        if not inflater.eof or not data.startswith(b"\n"):
            continue
        try:
            name, _ = parse_file_descriptor(data)
        except (ProtobufError, UnicodeDecodeError, IndexError):
            continue
        if name.startswith(path_prefix) and name.endswith(".proto"):
            found[name] = data
    return found


TagKey = tuple[int, str]  # (field number, proto name)


def struct_tag_index(binary: bytes) -> dict[TagKey, set[str]]:
    """Every Go struct tag pairing a json tag with a protobuf tag, keyed by the protobuf side.

    Wire kind and label are left out of the key: Kubernetes tags name them loosely (`*int32`
    fields tagged `bytes`, a string tagged `rep`), and number and name already single a field out.
    """
    index: dict[TagKey, set[str]] = {}
    for match in _STRUCT_TAG.finditer(binary):
        parts_by_key = dict(_STRUCT_TAG_PART.findall(match.group(0).decode("latin-1")))
        if "json" not in parts_by_key or "protobuf" not in parts_by_key:
            continue
        json_tag = parts_by_key["json"]
        parts = parts_by_key["protobuf"].split(",")
        if len(parts) < 3 or not parts[1].isdigit():  # not a field tag
            continue
        name = next((part[5:] for part in parts[2:] if part.startswith("name=")), "")
        index.setdefault((int(parts[1]), name), set()).add(json_tag)
    return index
