"""The wire reader: varints, lengths and fixed values, and its refusal of truncated input."""

from __future__ import annotations

import pytest

from kubelite.apiserver.protobuf.wire import (
    ProtobufError,
    iter_fields,
    read_fixed,
    read_length_delimited,
    read_varint,
    skip_field,
    to_signed,
    zigzag_decode,
)

from .encoding import varint


@pytest.mark.parametrize(
    "value",
    [0, 1, 127, 128, 300, 16_383, 16_384, 2**31 - 1, 2**32, 2**63 - 1, 2**64 - 1],
    ids=lambda value: str(value),
)
def test_varint_round_trips(value: int) -> None:
    encoded = varint(value) + b"\xff"  # a trailing byte the reader must not touch
    assert read_varint(encoded, 0, len(encoded)) == (value, len(encoded) - 1)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "truncated varint"),
        (b"\x80", "truncated varint"),
        (b"\xff" * 11, "longer than 10 bytes"),
    ],
    ids=["empty", "continuation-at-end", "eleven-bytes"],
)
def test_bad_varints_are_errors(data: bytes, message: str) -> None:
    with pytest.raises(ProtobufError, match=message):
        read_varint(data, 0, len(data))


def test_varint_reads_stop_at_the_window_end() -> None:
    data = b"\x96\x01"  # 150, but the window only holds its first byte
    with pytest.raises(ProtobufError, match="truncated"):
        read_varint(data, 0, 1)


def test_length_past_the_end_is_an_error() -> None:
    data = b"\x05abc"
    with pytest.raises(ProtobufError, match="runs past the end"):
        read_length_delimited(data, 0, len(data))


@pytest.mark.parametrize(
    ("wire", "data", "end"),
    [(0, b"\x96\x01", 2), (1, bytes(8), 8), (2, b"\x02ab", 3), (5, bytes(4), 4)],
    ids=["varint", "fixed64", "length-delimited", "fixed32"],
)
def test_skip_field_skips_each_wire_type(wire: int, data: bytes, end: int) -> None:
    assert skip_field(data, 0, len(data), wire) == end


@pytest.mark.parametrize("wire", [3, 4, 6, 7], ids=["start-group", "end-group", "six", "seven"])
def test_groups_and_invalid_wire_types_are_refused(wire: int) -> None:
    with pytest.raises(ProtobufError, match="unsupported wire type"):
        skip_field(b"\x00" * 8, 0, 8, wire)


def test_truncated_fixed_value_is_an_error() -> None:
    with pytest.raises(ProtobufError, match="truncated 64-bit"):
        read_fixed(bytes(7), 0, 7, 8)


def test_iter_fields_yields_payload_windows_and_refuses_field_zero() -> None:
    data = b"\x08\x96\x01\x12\x02hi"
    assert list(iter_fields(data, 0, len(data))) == [(1, 0, 1, 3), (2, 2, 5, 7)]
    with pytest.raises(ProtobufError, match="field number 0"):
        list(iter_fields(b"\x00\x01", 0, 2))


@pytest.mark.parametrize(
    ("raw", "bits", "expected"),
    [(2**64 - 1, 32, -1), (2**64 - 1, 64, -1), (2**31, 32, -(2**31)), (5, 32, 5)],
    ids=["minus-one-32", "minus-one-64", "int32-min", "positive"],
)
def test_to_signed(raw: int, bits: int, expected: int) -> None:
    assert to_signed(raw, bits) == expected


@pytest.mark.parametrize(("raw", "expected"), [(0, 0), (1, -1), (2, 1), (3, -2), (4294967294, 2147483647)])
def test_zigzag_decode(raw: int, expected: int) -> None:
    assert zigzag_decode(raw) == expected
