"""Quantities parse once into integers: millicores for cpu, whole units (rounded up) otherwise."""

from __future__ import annotations

import pytest

from kubelite.api.quantity import QuantityError, format_bytes, format_milli, parse_resource

CASES = [
    ("cpu", "500m", 500),
    ("cpu", "1", 1000),
    ("cpu", "1.5", 1500),
    ("cpu", "0.1", 100),
    ("cpu", "2e3", 2_000_000),
    ("cpu", "1u", 1),
    ("cpu", 2, 2000),
    ("memory", "1.5Gi", 1536 * 2**20),
    ("memory", "128Mi", 128 * 2**20),
    ("memory", "1k", 1000),
    ("memory", "1M", 10**6),
    ("memory", "1E", 10**18),
    ("memory", "1Ei", 2**60),
    ("memory", "100m", 1),
    ("memory", "2E-2", 1),
    ("memory", "+5", 5),
    ("memory", ".5Ki", 512),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[f"{n}-{t}" for n, t, _ in CASES])
def test_parse_resource(name: str, text: str, expected: int) -> None:
    assert parse_resource(name, text) == expected


BAD = ["", "abc", "1KB", "1 Gi", " 1", "1.2.3", "Gi", "1Gi ", "--1", True]


@pytest.mark.parametrize("text", BAD, ids=[repr(text) for text in BAD])
def test_invalid_quantities_raise(text: object) -> None:
    with pytest.raises(QuantityError):
        parse_resource("memory", text)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"), [(250, "250m"), (2000, "2"), (1500, "1500m")], ids=["milli", "whole", "fraction"]
)
def test_format_milli(value: int, expected: str) -> None:
    assert format_milli(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(512 * 2**20, "512Mi"), (1536 * 1024, "1536Ki"), (7, "7"), (0, "0")], ids=str
)
def test_format_bytes(value: int, expected: str) -> None:
    assert format_bytes(value) == expected
