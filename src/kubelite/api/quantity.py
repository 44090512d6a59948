"""Kubernetes resource quantities ("500m", "1.5Gi", "2e3"), parsed once at the boundary.

Quantities become integers in a fixed base unit so that no later code handles strings:
CPU in millicores, everything else (memory, storage, pods, extended resources) in whole units,
rounded up as Kubernetes rounds when it reads a quantity at a coarser scale.
The grammar is Kubernetes' own: a signed decimal number, then an optional binary suffix
(Ki Mi Gi Ti Pi Ei), decimal suffix (n u m "" k M G T P E) or decimal exponent (e3, E-2).
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal, InvalidOperation

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
)


class QuantityError(ValueError):
    """A string that is not a valid Kubernetes quantity."""


def parse_quantity(text: str | int | float) -> Decimal:
    """Parse a quantity into an exact Decimal value in base units."""
    if isinstance(text, bool):
        raise QuantityError(f"quantities must match the regular expression {_QUANTITY.pattern!r}")
    if isinstance(text, int):
        return Decimal(text)
    if isinstance(text, float):
        return Decimal(repr(text))
    match = _QUANTITY.match(text.strip()) if isinstance(text, str) else None
    if match is None or text != text.strip():
        raise QuantityError(
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        )
    try:
        number = Decimal(match.group("number"))
    except InvalidOperation as error:  # pragma: no cover - the regex admits only decimals
        raise QuantityError(str(error)) from error
    suffix = match.group("suffix") or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    return number * (Decimal(10) ** int(suffix[1:]))


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def parse_milli(text: str | int | float) -> int:
    """A quantity in thousandths of a unit (CPU millicores), rounded up."""
    return _ceil(parse_quantity(text) * 1000)


def parse_units(text: str | int | float) -> int:
    """A quantity in whole units (bytes, pods, GPUs), rounded up."""
    return _ceil(parse_quantity(text))


def parse_resource(name: str, text: str | int | float) -> int:
    """A quantity in the base unit of resource `name`: millicores for cpu, whole units otherwise."""
    return parse_milli(text) if name == "cpu" else parse_units(text)


def format_milli(milli: int) -> str:
    """Format millicores as Kubernetes prints them ("250m", "2")."""
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def format_bytes(value: int) -> str:
    """Format a byte count with the largest exact binary suffix ("512Mi", "1536Ki", "7")."""
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = _BINARY[suffix]
        if value and value % unit == 0:
            return f"{value // unit}{suffix}"
    return str(value)
