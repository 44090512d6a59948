"""The client's one error type: a Kubernetes `Status` returned by the server, or a transport failure."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """The server answered with a failure `Status` (or an unreadable body) and this HTTP code."""

    def __init__(self, code: int, reason: str, message: str, status: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code} {reason}: {message}")
        self.code = code
        self.reason = reason
        self.message = message
        self.status = status or {}

    @property
    def causes(self) -> list[dict[str, Any]]:
        details = self.status.get("details") or {}
        causes = details.get("causes") if isinstance(details, dict) else None
        return causes if isinstance(causes, list) else []


class TransportError(Exception):
    """The request did not complete (connection refused, reset, timed out)."""
