"""The one application-error type, turned into one API error shape."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A business rule refused an action; the message is safe to show to the user.

    `code` is machine-readable; `field` points at the input that caused it.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        field: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.extra = extra or {}


class PermissionDeniedError(ApplicationError):
    def __init__(self, message: str = "You do not have permission to do this.") -> None:
        super().__init__(message, code="permission_denied")
