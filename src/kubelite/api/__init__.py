"""Typed Kubernetes resource models, quantities, selectors, defaulting and validation. Pure data, no I/O.

The API server calls `default_object`, `validate_object` and `print_table` per request and
compiles `?labelSelector=` / `?fieldSelector=` with `parse_selector` and `compile_field_selector`;
components decode stored objects into the Structs of `kubelite.api.models` and read resource
amounts with `pod_requests`.
"""

from kubelite.api.defaults import default_object
from kubelite.api.fields import FieldSelector, compile_field_selector, parse_field_selector
from kubelite.api.labels import (
    Selector,
    SelectorError,
    format_label_selector,
    parse_selector,
    selector_from_object,
)
from kubelite.api.pod_resources import container_requests, pod_limits, pod_requests, qos_class
from kubelite.api.printers import human_duration, print_table
from kubelite.api.validation import FieldError, aggregate_message, invalid_status_message, validate_object

__all__ = [
    "FieldError",
    "FieldSelector",
    "Selector",
    "SelectorError",
    "aggregate_message",
    "compile_field_selector",
    "container_requests",
    "default_object",
    "format_label_selector",
    "human_duration",
    "invalid_status_message",
    "parse_field_selector",
    "parse_selector",
    "pod_limits",
    "pod_requests",
    "print_table",
    "qos_class",
    "selector_from_object",
    "validate_object",
]
