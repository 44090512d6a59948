"""Label and field selectors from query parameters, compiled once per request into one filter."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from kubelite.api.fields import FieldSelector, compile_field_selector
from kubelite.api.labels import Selector, SelectorError, parse_selector
from kubelite.api.resources import ResourceType

from . import errors


@dataclass(frozen=True, slots=True)
class Selection:
    """What a list or watch keeps: objects matching the label and field selectors (and a name)."""

    resource: ResourceType
    labels: Selector | None
    fields: FieldSelector | None
    name: str | None = None

    def matches(self, obj: dict[str, Any]) -> bool:
        meta = obj.get("metadata") or {}
        if self.name is not None and meta.get("name") != self.name:
            return False
        if self.labels is not None and not self.labels.matches(meta.get("labels") or {}):
            return False
        return self.fields is None or self.fields.matches(obj)

    def with_name(self, name: str) -> Selection:
        return replace(self, name=name)


def build_selection(resource: ResourceType, label_selector: str, field_selector: str) -> Selection:
    try:
        labels = parse_selector(label_selector) if label_selector else None
        fields = compile_field_selector(resource, field_selector) if field_selector else None
    except SelectorError as error:
        raise errors.bad_request(str(error)) from None
    return Selection(resource, labels, fields)
