"""The protobuf wire format, read strictly: varints, fixed-width values and length-delimited fields.

Data flow: the decoder (`decoder.py`) and the schema generator (`generate.py`) hand a byte string
and a `[pos, end)` window to these functions and get back `(value, next_pos)` pairs. Every read is
bounded by `end`, so a truncated or lying length prefix is an error, never a silent short read.
The format is the one documented at protobuf.dev/programming-guides/encoding.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

WIRE_VARINT: Final = 0
WIRE_FIXED64: Final = 1
WIRE_LENGTH_DELIMITED: Final = 2
WIRE_START_GROUP: Final = 3
WIRE_END_GROUP: Final = 4
WIRE_FIXED32: Final = 5

_MAX_VARINT_BYTES: Final = 10
_UINT64_MASK: Final = (1 << 64) - 1


class ProtobufError(ValueError):
    """A request body that is not a well-formed Kubernetes protobuf object."""


def read_varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """The unsigned varint at `pos` (at most 64 bits) and the position after it."""
    byte = buf[pos] if pos < end else -1
    if 0 <= byte < 0x80:  # the common one-byte case: field tags and short lengths
        return byte, pos + 1
    result = 0
    shift = 0
    start = pos
    while True:
        if pos >= end:
            raise ProtobufError(f"truncated varint at offset {start}")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result & _UINT64_MASK, pos
        shift += 7
        if pos - start >= _MAX_VARINT_BYTES:
            raise ProtobufError(f"varint longer than {_MAX_VARINT_BYTES} bytes at offset {start}")


def read_length_delimited(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """The `[start, stop)` window of the length-delimited payload at `pos`."""
    length, start = read_varint(buf, pos, end)
    stop = start + length
    if stop > end:
        raise ProtobufError(
            f"length {length} at offset {pos} runs past the end of its message ({end - start} bytes left)"
        )
    return start, stop


def read_fixed(buf: bytes, pos: int, end: int, width: int) -> tuple[int, int]:
    """The little-endian unsigned integer of `width` bytes at `pos`."""
    stop = pos + width
    if stop > end:
        raise ProtobufError(f"truncated {width * 8}-bit value at offset {pos}")
    return int.from_bytes(buf[pos:stop], "little"), stop


def skip_field(buf: bytes, pos: int, end: int, wire_type: int) -> int:
    """The position after a field's payload, used for fields the schema does not know."""
    if wire_type == WIRE_VARINT:
        return read_varint(buf, pos, end)[1]
    if wire_type == WIRE_LENGTH_DELIMITED:
        return read_length_delimited(buf, pos, end)[1]
    if wire_type == WIRE_FIXED64:
        return read_fixed(buf, pos, end, 8)[1]
    if wire_type == WIRE_FIXED32:
        return read_fixed(buf, pos, end, 4)[1]
    # Groups are a proto2 feature no Kubernetes type uses; refusing them keeps the reader simple.
    raise ProtobufError(f"unsupported wire type {wire_type} at offset {pos}")


def iter_fields(buf: bytes, pos: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """Every field of a message as `(number, wire_type, payload_start, payload_end)`.

    For varint and fixed fields the payload window holds the encoded value; callers that only
    need the numeric value use `read_varint`/`read_fixed` on it. The hot decoding path inlines this
    loop instead; this generator serves the envelope and the schema generator.
    """
    while pos < end:
        key, pos = read_varint(buf, pos, end)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise ProtobufError(f"field number 0 at offset {pos}")
        if wire_type == WIRE_LENGTH_DELIMITED:
            start, pos = read_length_delimited(buf, pos, end)
            yield number, wire_type, start, pos
        else:
            start = pos
            pos = skip_field(buf, pos, end, wire_type)
            yield number, wire_type, start, pos


def to_signed(value: int, bits: int) -> int:
    """Two's-complement reinterpretation: int32/int64 varints carry negatives as 64-bit values."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def zigzag_decode(value: int) -> int:
    """sint32/sint64 values are zigzag-encoded so that small negatives stay short."""
    return (value >> 1) ^ -(value & 1)
