"""Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) decoded to JSON objects.

kubectl's typed clients send create/update bodies in this format; the API server calls
`decode_protobuf_object` and continues with the same JSON dict a JSON body would have given.
Modules: `wire` (the wire format), `schema`/`schema_tables` (field tables), `special` (types with
their own JSON forms), `decoder` (envelope and dispatch), `descriptors`/`generate` (offline
generation of the tables from a Kubernetes client binary).
"""

from .decoder import MAGIC, decode_protobuf_object
from .wire import ProtobufError

CONTENT_TYPE = "application/vnd.kubernetes.protobuf"

__all__ = ["CONTENT_TYPE", "MAGIC", "ProtobufError", "decode_protobuf_object"]
