"""Special JSON forms on their own: Go duration strings, quantity and time zero values."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.apiserver.protobuf import ProtobufError, special

from .encoding import bytes_field, int_field, str_field


@pytest.mark.parametrize(
    ("nanoseconds", "expected"),
    [
        (0, "0s"),
        (1, "1ns"),
        (1_500, "1.5µs"),
        (250_000_000, "250ms"),
        (1_000_000_000, "1s"),
        (90 * 10**9, "1m30s"),
        (3600 * 10**9, "1h0m0s"),
        (2 * 3600 * 10**9 + 500_000_000, "2h0m0.5s"),
        (-3 * 10**9, "-3s"),
        (-(2**63), "-2562047h47m16.854775808s"),
    ],
    ids=lambda value: str(value),
)
def test_go_duration_string(nanoseconds: int, expected: str) -> None:
    assert special.go_duration_string(nanoseconds) == expected


def test_duration_message_reads_signed_nanoseconds() -> None:
    payload = int_field(1, -90 * 10**9)
    assert special.duration(payload, 0, len(payload)) == "-1m30s"


@pytest.mark.parametrize(
    ("decode", "payload", "expected"),
    [
        (special.quantity, b"", "0"),
        (special.quantity, str_field(1, "1500m"), "1500m"),
        (special.int_or_string, b"", 0),
        (special.time, b"", None),
        (special.micro_time, b"", None),
        (special.duration, b"", "0s"),
        (special.string_list, b"", []),
    ],
    ids=["quantity-zero", "quantity", "intorstring-zero", "time-zero", "microtime-zero", "duration-zero",
         "string-list-empty"],
)
def test_zero_and_plain_values(decode: Any, payload: bytes, expected: Any) -> None:
    assert decode(payload, 0, len(payload)) == expected


def test_raw_json_without_bytes_is_null_and_json_is_parsed() -> None:
    def refuse(body: bytes) -> dict[str, Any]:
        raise AssertionError("not a protobuf object")

    assert special.raw_json(b"", 0, 0, refuse) is None
    payload = bytes_field(1, b"[1, 2]")
    assert special.raw_json(payload, 0, len(payload), refuse) == [1, 2]


def test_int_or_string_with_wrong_wire_type_is_an_error() -> None:
    payload = bytes_field(1, b"x")
    with pytest.raises(ProtobufError, match=r"IntOrString\.type"):
        special.int_or_string(payload, 0, len(payload))
