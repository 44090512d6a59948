"""A tiny protobuf encoder for building test bodies by hand (the decoder's inverse, nothing more)."""

from __future__ import annotations

import struct

MAGIC = b"k8s\x00"


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negatives travel as 64-bit two's complement
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def tag(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def int_field(number: int, value: int) -> bytes:
    return tag(number, 0) + varint(value)


def bool_field(number: int, value: bool) -> bytes:
    return int_field(number, int(value))


def bytes_field(number: int, value: bytes) -> bytes:
    return tag(number, 2) + varint(len(value)) + value


def str_field(number: int, value: str) -> bytes:
    return bytes_field(number, value.encode())


def msg_field(number: int, *parts: bytes) -> bytes:
    return bytes_field(number, b"".join(parts))


def map_entry(number: int, key: bytes, value: bytes) -> bytes:
    """One map entry: key = 1, value = 2, both already encoded as fields."""
    return msg_field(number, key, value)


def fixed64_field(number: int, value: float) -> bytes:
    return tag(number, 1) + struct.pack("<d", value)


def envelope(api_version: str, kind: str, raw: bytes, *extra: bytes) -> bytes:
    """A runtime.Unknown envelope: typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2."""
    type_meta = msg_field(1, str_field(1, api_version), str_field(2, kind))
    return MAGIC + type_meta + bytes_field(2, raw) + b"".join(extra)


def metadata(name: str, *more: bytes) -> bytes:
    """ObjectMeta as field 1 of an object, with the empty creationTimestamp Go always writes."""
    return msg_field(1, str_field(1, name), msg_field(8), *more)
