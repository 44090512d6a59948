"""Validation of ObjectMeta common to every kind (apimachinery's ValidateObjectMeta and its update rule).

Checks the name (or generateName) with the kind's name rule, the namespace against the kind's
scope, label and annotation syntax and size, finalizer names and ownerReferences; on update,
that identity fields did not change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kubelite.api.models.meta import ObjectMeta
from kubelite.api.names import (
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_label_value,
    mask_trailing_dash,
)
from kubelite.api.resources import ResourceType
from kubelite.api.validation.errors import FieldError, forbidden, invalid, required, too_long

NameRule = Callable[[str], list[str]]

TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024
STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})

NAME_RULES: dict[str, NameRule] = {
    "namespaces": is_dns1123_label,
    "services": is_dns1035_label,
}
"""Kinds whose names are not DNS-1123 subdomains, the default rule."""


def name_rule(resource: ResourceType) -> NameRule:
    return NAME_RULES.get(resource.key, is_dns1123_subdomain)


def validate_labels(labels: Mapping[str, str] | None, field: str) -> list[FieldError]:
    """Keys are qualified names and values valid label values; errors point at the map itself."""
    errors: list[FieldError] = []
    for key, value in (labels or {}).items():
        errors.extend(invalid(field, key, problem) for problem in is_qualified_name(key))
        errors.extend(invalid(field, value, problem) for problem in is_valid_label_value(value))
    return errors


def validate_annotations(annotations: Mapping[str, str] | None, field: str) -> list[FieldError]:
    errors: list[FieldError] = []
    total = 0
    for key, value in (annotations or {}).items():
        errors.extend(invalid(field, key, problem) for problem in is_qualified_name(key.lower()))
        total += len(key.encode()) + len(value.encode())
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errors.append(too_long(field, TOTAL_ANNOTATION_SIZE_LIMIT))
    return errors


def validate_finalizers(finalizers: list[str] | None, field: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, finalizer in enumerate(finalizers or []):
        path = f"{field}[{index}]"
        problems = is_qualified_name(finalizer)
        errors.extend(invalid(path, finalizer, problem) for problem in problems)
        if not problems and "/" not in finalizer and finalizer not in STANDARD_FINALIZERS:
            detail = "name is neither a standard finalizer name nor is it fully qualified"
            errors.append(invalid(path, finalizer, detail))
    if {"orphan", "foregroundDeletion"} <= set(finalizers or []):
        errors.append(
            invalid(field, finalizers, 'finalizer "orphan" and "foregroundDeletion" cannot be both set')
        )
    return errors


def _validate_owner_references(meta: ObjectMeta, field: str) -> list[FieldError]:
    errors: list[FieldError] = []
    controllers = []
    for reference in meta.owner_references or []:
        version = reference.api_version.rsplit("/", 1)[-1]
        if not version:
            errors.append(invalid(f"{field}.apiVersion", reference.api_version, "version must not be empty"))
        if not reference.kind:
            errors.append(invalid(f"{field}.kind", reference.kind, "kind must not be empty"))
        if not reference.name:
            errors.append(invalid(f"{field}.name", reference.name, "name must not be empty"))
        if not reference.uid:
            errors.append(invalid(f"{field}.uid", reference.uid, "uid must not be empty"))
        if reference.controller:
            controllers.append(f"{reference.kind}/{reference.name}")
    if len(controllers) > 1:
        detail = "Only one reference can have Controller set to true. Found \"true\" in references for " + (
            " and ".join(controllers)
        )
        errors.append(invalid(field, [str(reference) for reference in controllers], detail))
    return errors


def validate_object_meta(resource: ResourceType, meta: ObjectMeta) -> list[FieldError]:
    """ValidateObjectMeta for a create: name, namespace scope, labels, annotations, finalizers, owners."""
    errors: list[FieldError] = []
    rule = name_rule(resource)
    if meta.generate_name:
        errors.extend(
            invalid("metadata.generateName", meta.generate_name, problem)
            for problem in rule(mask_trailing_dash(meta.generate_name))
        )
    if not meta.name:
        if not meta.generate_name:
            errors.append(required("metadata.name", "name or generateName is required"))
    else:
        errors.extend(invalid("metadata.name", meta.name, problem) for problem in rule(meta.name))
    if resource.namespaced:
        if not meta.namespace:
            errors.append(required("metadata.namespace"))
        else:
            problems = is_dns1123_label(meta.namespace)
            errors.extend(invalid("metadata.namespace", meta.namespace, problem) for problem in problems)
    elif meta.namespace:
        errors.append(forbidden("metadata.namespace", "not allowed on this type"))
    if meta.generation is not None and meta.generation < 0:
        errors.append(invalid("metadata.generation", meta.generation, "must be greater than or equal to 0"))
    errors.extend(validate_labels(meta.labels, "metadata.labels"))
    errors.extend(validate_annotations(meta.annotations, "metadata.annotations"))
    errors.extend(validate_finalizers(meta.finalizers, "metadata.finalizers"))
    errors.extend(_validate_owner_references(meta, "metadata.ownerReferences"))
    return errors


def validate_object_meta_update(new: ObjectMeta, old: ObjectMeta) -> list[FieldError]:
    """ValidateObjectMetaUpdate: identity and creation fields may not change."""
    errors: list[FieldError] = []
    immutable: tuple[tuple[str, Any, Any], ...] = (
        ("name", new.name, old.name),
        ("namespace", new.namespace, old.namespace),
        ("uid", new.uid, old.uid),
        ("creationTimestamp", new.creation_timestamp, old.creation_timestamp),
    )
    for name, new_value, old_value in immutable:
        # Fields the client left out are filled from the stored object by the server, not changed.
        if new_value is not None and new_value != old_value:
            errors.append(invalid(f"metadata.{name}", new_value, "field is immutable"))
    if old.deletion_timestamp is not None and new.deletion_timestamp != old.deletion_timestamp:
        errors.append(invalid("metadata.deletionTimestamp", new.deletion_timestamp, "field is immutable"))
    return errors
