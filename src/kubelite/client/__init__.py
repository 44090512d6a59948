"""The Kubernetes API client: a sans-I/O core with HTTP and in-process transports.

`ApiClient` offers the verbs; `Transport` moves requests (`HttpTransport` over the network, or the
API server's in-process transport); `ApiError` carries the server's `Status`.
"""

from kubelite.client.client import ApiClient, Object
from kubelite.client.errors import ApiError, TransportError
from kubelite.client.transport import HttpTransport, Transport

__all__ = ["ApiClient", "ApiError", "HttpTransport", "Object", "Transport", "TransportError"]
