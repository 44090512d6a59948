"""Generate `schema_tables.py`: the field tables of every message reachable from a served kind.

Usage (offline, when Kubernetes' API types change):

    python -m kubelite.apiserver.protobuf.generate KUBECTL_BINARY VERSION OUTPUT_PY

(writing OUTPUT_PY itself, whole, at the end: importing this package imports the current tables,
so a shell redirection that truncates them first would break the run).

Data flow: the Kubernetes client binary holds the compiled `generated.proto` files of k8s.io/api
and k8s.io/apimachinery (field numbers, types, gogoproto pointer options) and the Go struct tags
(JSON names, `omitempty`, `json:",inline"` embedding); `descriptors.py` reads both. This module
walks the message graph from `schema.SERVED_KINDS`, joins each field with its struct tag, and
prints a Python module of `FieldRow` tuples. Only those derived tables enter the repository.
"""

from __future__ import annotations

import sys
from collections import deque
from pathlib import Path

from .descriptors import (
    LABEL_REPEATED,
    FieldDescriptor,
    MessageDescriptor,
    TagKey,
    gzipped_file_descriptors,
    parse_file_descriptor,
    struct_tag_index,
)
from .schema import SCALAR_TYPES, SERVED_KINDS, SPECIAL_MESSAGES, Cardinality, FieldRow, Presence

_HEADER = '''"""Generated protobuf field tables for the kinds kubelite serves. Do not edit by hand.

Derived by `python -m kubelite.apiserver.protobuf.generate` from the Kubernetes API definitions:
the `generated.proto` files of k8s.io/api and k8s.io/apimachinery (github.com/kubernetes/api,
github.com/kubernetes/apimachinery; Apache License 2.0, Copyright The Kubernetes Authors) as
compiled into kubectl {version}, joined with the JSON tags of the same Go types. Each row is a
`schema.FieldRow`: (number, JSON name, cardinality, map key type, value type, presence).
"""

from __future__ import annotations

from typing import Final

from .schema import FieldRow

MESSAGES: Final[dict[str, tuple[FieldRow, ...]]] = {{
'''


def _tag_for(field: FieldDescriptor, tags: dict[TagKey, set[str]]) -> set[str]:
    return tags.get((field.number, field.name)) or tags.get((field.number, ""), set())


def _json_name_and_omitempty(
    field: FieldDescriptor, json_tags: set[str], warnings: list[str]
) -> tuple[str, bool]:
    if not json_tags:
        warnings.append(f"no Go struct tag for field {field.name} = {field.number}; using the proto name")
        return field.name, True
    names = {tag.split(",", 1)[0] for tag in json_tags}
    if len(names) > 1:
        warnings.append(f"field {field.name} = {field.number}: conflicting JSON names {sorted(names)}")
    # The same protobuf tag is shared by fields of many structs; when they disagree on omitempty,
    # leaving zero values out is the reading that never invents a field the object lacks.
    omitempty = any("omitempty" in tag.split(",")[1:] for tag in json_tags)
    return min(names), omitempty


def _row(
    field: FieldDescriptor,
    messages: dict[str, MessageDescriptor],
    tags: dict[TagKey, set[str]],
    warnings: list[str],
) -> FieldRow:
    value_type = field.type_name.lstrip(".")
    json_name, omitempty = _json_name_and_omitempty(field, _tag_for(field, tags), warnings)
    key_type = ""
    cardinality: Cardinality = "single"
    presence: Presence
    entry = messages.get(value_type)
    if entry is not None and entry.map_entry:
        cardinality = "map"
        key_type = entry.fields[0].type_name.lstrip(".")
        value_type = entry.fields[1].type_name.lstrip(".")
    elif field.label == LABEL_REPEATED:
        cardinality = "repeated"
    if json_name == "":
        cardinality, presence = "inline", "always"
    elif json_name == "-":
        raise SystemExit(f"field {field.name} is hidden from JSON; its message needs a special form")
    elif cardinality != "single":
        presence = "omitempty" if omitempty else "always"
    elif field.nullable:
        presence = "pointer"
    elif value_type not in SCALAR_TYPES:
        presence = "always"  # a struct value: Go's omitempty never drops it
    else:
        presence = "omitempty" if omitempty else "always"
    return (field.number, json_name, cardinality, key_type, value_type, presence)


def build_tables(binary: bytes) -> tuple[dict[str, tuple[FieldRow, ...]], list[str]]:
    """Field tables of every message reachable from a served kind, and the warnings raised."""
    messages: dict[str, MessageDescriptor] = {}
    for data in gzipped_file_descriptors(binary, "k8s.io/").values():
        messages.update(parse_file_descriptor(data)[1])
    tags = struct_tag_index(binary)
    tables: dict[str, tuple[FieldRow, ...]] = {}
    warnings: list[str] = []
    pending = deque(sorted(set(SERVED_KINDS.values())))
    while pending:
        name = pending.popleft()
        if name in tables or name in SPECIAL_MESSAGES:
            continue
        if name not in messages:
            raise SystemExit(f"message {name} is not in the binary's descriptors")
        rows = tuple(_row(field, messages, tags, warnings) for field in messages[name].fields)
        tables[name] = rows
        pending.extend(row[4] for row in rows if row[4] not in SCALAR_TYPES)
    return dict(sorted(tables.items())), warnings


def render_module(tables: dict[str, tuple[FieldRow, ...]], version: str) -> str:
    lines = [_HEADER.format(version=version)]
    for name, rows in tables.items():
        lines.append(f"    {name!r}: (\n")
        lines.extend(f"        {row!r},\n" for row in rows)
        lines.append("    ),\n")
    lines.append("}\n")
    return "".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(f"usage: python -m {__spec__.name} KUBECTL_BINARY VERSION OUTPUT_PY", file=sys.stderr)
        return 2
    binary, version, output = argv[1:]
    tables, warnings = build_tables(Path(binary).read_bytes())
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    Path(output).write_text(render_module(tables, version))
    print(f"{len(tables)} messages, {sum(map(len, tables.values()))} fields -> {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
