"""The three PATCH formats Kubernetes accepts, applied to JSON dicts.

- JSON merge patch (RFC 7386): maps merge recursively, `null` deletes, lists are replaced.
- JSON patch (RFC 6902): a list of add/remove/replace/move/copy/test operations on JSON pointers.
- Strategic merge patch: a merge patch that merges lists of objects by a merge key (containers by
  `name`, ports by `containerPort`, conditions by `type`, ...) and honours the `$patch`,
  `$deleteFromPrimitiveList`, `$setElementOrder` and `$retainKeys` directives that kubectl emits.

Each function returns a new object and raises `PatchError` (a 400, or 422 for a failed `test`)
on malformed input; it never mutates its arguments.
"""

from __future__ import annotations

from typing import Any

from .objects import clone


class PatchError(ValueError):
    """A patch that cannot be applied; `code` is the HTTP status to answer with."""

    def __init__(self, message: str, code: int = 400) -> None:
        super().__init__(message)
        self.code = code


def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return clone(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = json_merge_patch(result.get(key), value)
    return result


# --- JSON patch -------------------------------------------------------------------------------


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise PatchError(f"invalid JSON pointer {path!r}")
    if path == "":
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _index(container: list[Any], token: str, *, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise PatchError(f"invalid array index {token!r}")
    index = int(token)
    if index > len(container) or (index == len(container) and not allow_end):
        raise PatchError(f"array index {index} out of range")
    return index


def _parent(doc: Any, tokens: list[str]) -> Any:
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict):
            if token not in node:
                raise PatchError(f"path /{'/'.join(tokens)} does not exist")
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, allow_end=False)]
        else:
            raise PatchError(f"path /{'/'.join(tokens)} does not exist")
    return node


def _get(doc: Any, tokens: list[str]) -> Any:
    if not tokens:
        return doc
    parent = _parent(doc, tokens)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"path /{'/'.join(tokens)} does not exist")
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, allow_end=False)]
    raise PatchError(f"path /{'/'.join(tokens)} does not exist")


def _add(doc: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    parent = _parent(doc, tokens)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, allow_end=True), value)
    else:
        raise PatchError(f"cannot add at /{'/'.join(tokens)}")
    return doc


def _remove(doc: Any, tokens: list[str]) -> Any:
    if not tokens:
        raise PatchError("cannot remove the whole document")
    parent = _parent(doc, tokens)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"path /{'/'.join(tokens)} does not exist")
        del parent[last]
    elif isinstance(parent, list):
        del parent[_index(parent, last, allow_end=False)]
    else:
        raise PatchError(f"path /{'/'.join(tokens)} does not exist")
    return doc


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902, applied to a copy of `target`."""
    if not isinstance(operations, list):
        raise PatchError("a JSON patch must be a list of operations")
    doc = clone(target)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation:
            raise PatchError("each JSON patch operation must be an object with an 'op'")
        op = operation["op"]
        tokens = _pointer(operation.get("path"))
        if op in ("add", "replace", "test") and "value" not in operation:
            raise PatchError(f"operation {op!r} needs a 'value'")
        if op == "add":
            doc = _add(doc, tokens, clone(operation["value"]))
        elif op == "remove":
            doc = _remove(doc, tokens)
        elif op == "replace":
            _get(doc, tokens)
            doc = (
                _add(_remove(doc, tokens), tokens, clone(operation["value"]))
                if tokens
                else clone(operation["value"])
            )
        elif op in ("move", "copy"):
            source = _pointer(operation.get("from"))
            value = clone(_get(doc, source))
            if op == "move":
                doc = _remove(doc, source)
            doc = _add(doc, tokens, value)
        elif op == "test":
            if _get(doc, tokens) != operation["value"]:
                raise PatchError(f"test operation failed at {operation.get('path')}", code=422)
        else:
            raise PatchError(f"unknown JSON patch operation {op!r}")
    return doc


# --- strategic merge patch -------------------------------------------------------------------

# List fields that merge by key, as tagged in the Kubernetes API types (patchMergeKey).
_MERGE_KEYS: dict[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "imagePullSecrets": ("name",),
    "conditions": ("type",),
    "ownerReferences": ("uid",),
    "hostAliases": ("ip",),
    "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
    "addresses": ("type",),
    "resourceClaims": ("name",),
    "ports": ("containerPort", "port"),
    "containerStatuses": ("name",),
    "initContainerStatuses": ("name",),
}
# Lists of scalars that merge as sets (patchStrategy "merge" without a key).
_SET_LISTS = frozenset({"finalizers"})


def _merge_key(field: str, items: list[Any]) -> str | None:
    candidates = _MERGE_KEYS.get(field)
    if not candidates:
        return None
    for candidate in candidates:
        if any(isinstance(item, dict) and candidate in item for item in items):
            return candidate
    return candidates[0]


def _merge_list(field: str, original: Any, patch: list[Any]) -> list[Any]:
    base = list(original) if isinstance(original, list) else []
    if field in _SET_LISTS:
        merged = list(base)
        for item in patch:
            if item not in merged:
                merged.append(item)
        return merged
    key = _merge_key(field, base + patch)
    if key is None:
        return [_strip_directives(item) for item in patch]
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [
            _strip_directives(item)
            for item in patch
            if not (isinstance(item, dict) and item.get("$patch") == "replace")
        ]
    merged = [clone(item) for item in base]
    for item in patch:
        if not isinstance(item, dict):
            raise PatchError(f"{field}: expected objects in a list merged by {key!r}")
        identity = item.get(key)
        position = next(
            (
                i
                for i, existing in enumerate(merged)
                if isinstance(existing, dict) and existing.get(key) == identity
            ),
            None,
        )
        if item.get("$patch") == "delete":
            if position is not None:
                merged.pop(position)
            continue
        if position is None:
            merged.append(_strip_directives(item))
        else:
            merged[position] = strategic_merge_patch(merged[position], item)
    return merged


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _strip_directives(item) for key, item in value.items() if not key.startswith("$")}
    if isinstance(value, list):
        return [_strip_directives(item) for item in value]
    return value


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Kubernetes' strategic merge patch for the built-in types."""
    if not isinstance(patch, dict):
        return clone(patch)
    if patch.get("$patch") == "replace":
        return _strip_directives(patch)
    if patch.get("$patch") == "delete":
        return None
    result: dict[str, Any] = dict(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$patch", "$retainKeys"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list) and isinstance(value, list):
                result[field] = [item for item in result[field] if item not in value]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = strategic_merge_patch(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _merge_list(key, result.get(key), value)
        else:
            result[key] = value
    if isinstance(retain, list):
        result = {key: value for key, value in result.items() if key in retain}
    return result


def apply_patch(patch_type: str, target: Any, patch: Any) -> Any:
    """Apply a patch of type "json", "merge", or "strategic"/"apply" (strategic merge semantics)."""
    if patch_type == "json":
        return json_patch(target, patch)
    if patch_type == "merge":
        return json_merge_patch(target, patch)
    return strategic_merge_patch(target, patch)
