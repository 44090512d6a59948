"""Request bodies in, response bodies out: JSON (and YAML) decoding and content negotiation."""

from __future__ import annotations

from typing import Any

import msgspec
import yaml

from . import errors
from .http import Request
from .protobuf import CONTENT_TYPE as PROTOBUF_CONTENT_TYPE
from .protobuf import ProtobufError, decode_protobuf_object

_json_decode = msgspec.json.Decoder().decode

PATCH_TYPES = {
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/json-patch+json": "json",
    "application/apply-patch+yaml": "apply",
    "application/apply-patch+cbor": "unsupported",
}


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "application/json").split(";", 1)[0].strip().lower()


def decode_body(request: Request, *, allow_list: bool = False) -> Any:
    """The request body as JSON data; YAML is accepted where Kubernetes accepts it."""
    if not request.body.strip():
        raise errors.bad_request("the request body is empty")
    kind = media_type(request)
    try:
        if kind in ("application/yaml", "application/apply-patch+yaml", "text/yaml"):
            data = yaml.safe_load(request.body)
        elif kind in ("application/json", "", "*/*") or kind.endswith("+json"):
            data = _json_decode(request.body)
        elif kind == PROTOBUF_CONTENT_TYPE:
            data = decode_protobuf_object(request.body)
        else:
            raise errors.unsupported_media_type(kind)
    except ProtobufError as error:
        raise errors.bad_request(
            f"the request body is not a valid Kubernetes protobuf object: {error}"
        ) from None
    except (msgspec.DecodeError, yaml.YAMLError, UnicodeDecodeError) as error:
        raise errors.bad_request(
            f"the request body is not valid {'YAML' if 'yaml' in kind else 'JSON'}: {error}"
        ) from None
    if isinstance(data, list) and allow_list:
        return data
    if not isinstance(data, dict):
        raise errors.bad_request("the request body must be a JSON object")
    return data


def wants_table(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "as=Table" in accept


def wants_yaml(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return accept.startswith("application/yaml")


def check_type(data: dict[str, Any], api_version: str, kind: str) -> None:
    """The body's apiVersion and kind must name the resource of the URL.

    Missing ones are taken from the URL, as Kubernetes' decoder does with its default kind
    (the official Python client sends objects without them)."""
    body_kind = data.get("kind") or kind
    body_version = data.get("apiVersion") or api_version
    if body_version != api_version:
        raise errors.bad_request(
            f"the API version in the data ({body_version}) does not match the expected API version ({api_version})"
        )
    if body_kind != kind:
        raise errors.bad_request(
            f"the kind in the data ({body_kind}) does not match the expected kind ({kind})"
        )
    data["kind"], data["apiVersion"] = kind, api_version
    if not isinstance(data.get("metadata", {}), dict):
        raise errors.bad_request("metadata must be an object")
