"""Shared API plumbing: the parsers' guards, pagination and the one error shape.

Every API error is an RFC 9457 problem (see core.problems); the schema documents it
for every operation (`problem_responses_hook`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.api_parsers import ControlCharacters, PayloadTooLarge
from core.errors import ApplicationError, PermissionDeniedError
from core.problems import PROBLEM_CONTENT_TYPE, field_errors, problem_body
from core.text import CONTROL_CHARACTER_CODE


class _BlankAsNull:
    """An optional address stored as "" reads as null: "" is not a valid email or URI."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> Any:
        return super().to_representation(value) if value else None  # type: ignore[misc]


class OptionalEmailField(_BlankAsNull, serializers.EmailField):
    pass


class OptionalURLField(_BlankAsNull, serializers.URLField):
    pass


class DefaultPagination(PageNumberPagination):
    """Page numbers, with `page_size` checked: junk or out of range is a 400, not ignored."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return int(self.page_size or 50)
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        _("A whole number from 1 to %(max)d.") % {"max": self.max_page_size}
                    ]
                }
            )
        return int(raw)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size})
            elif parameter["name"] == self.page_query_param:
                parameter["schema"].update({"minimum": 1})
        return parameters


# --- Errors ------------------------------------------------------------------------
def _from_query(context: Mapping[str, Any], exc: exceptions.ValidationError) -> bool:
    """Did this validation error come from the query string (filters, pagination)?"""
    request = context.get("request")
    if request is None or not isinstance(exc.detail, Mapping):
        return False
    params = set(request.query_params)
    return bool(params) and set(exc.detail) <= params


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, PermissionDeniedError):
        return _problem(status.HTTP_403_FORBIDDEN, exc.code, exc.message)
    if isinstance(exc, ApplicationError):
        errors = (
            [{"pointer": f"#/{exc.field}", "detail": exc.message, "code": exc.code}]
            if exc.field
            else None
        )
        return _problem(status.HTTP_400_BAD_REQUEST, exc.code, exc.message, errors)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        if isinstance(exc, ControlCharacters):
            code, errors = CONTROL_CHARACTER_CODE, exc.problem_errors()
        else:
            location = "parameter" if _from_query(context, exc) else "pointer"
            code, errors = "invalid", field_errors(exc.detail, location=location)
        body = problem_body(
            response.status_code, code, _("The request has invalid fields."), errors
        )
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        body = problem_body(
            response.status_code, codes if isinstance(codes, str) else "error", str(exc.detail)
        )
    else:  # pragma: no cover - DRF only answers for APIException
        return response
    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _problem(
    status_code: int, code: str, detail: str, errors: list[dict[str, Any]] | None = None
) -> Response:
    return Response(
        problem_body(status_code, code, detail, errors),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


# --- Schema ----------------------------------------------------------------------
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem: every API error has this body "
    "(media type application/problem+json).",
    "properties": {
        "type": {"type": "string", "example": "about:blank"},
        "title": {
            "type": "string",
            "description": "The HTTP status phrase.",
            "example": "Bad Request",
        },
        "status": {"type": "integer", "example": 400},
        "detail": {
            "type": "string",
            "description": "What went wrong, for people, in the client's language.",
        },
        "code": {
            "type": "string",
            "description": "Machine-readable reason, e.g. invalid, not_authenticated, "
            "authentication_failed, second_factor_required, permission_denied, not_found, "
            "too_large, too_deep, control_character, throttled.",
            "example": "invalid",
        },
        "errors": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/ProblemFieldError"},
        },
    },
    "required": ["type", "title", "status", "detail", "code"],
}
PROBLEM_FIELD_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "One invalid field: a JSON Pointer into the body, or a query parameter.",
    "properties": {
        "pointer": {"type": "string", "example": "#/items/3/reference"},
        "parameter": {"type": "string", "example": "page_size"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
    },
    "required": ["detail"],
}
_PROBLEM_STATUSES: dict[str, str] = {
    "400": "The request is invalid (fields, query parameters or body).",
    "401": "No valid credentials: send `Authorization: Api-Key <key>` (see WWW-Authenticate).",
    "403": "Authenticated, but not allowed (or a privileged session without its second factor).",
    "404": "Not found, or not visible to you.",
    "406": "The Accept header asks for a format the API does not serve (JSON only).",
    "413": "The request body is too large.",
    "415": "The Content-Type is not one the operation accepts.",
    "429": "Too many requests: slow down (see Retry-After).",
}
_WRITE_ONLY_STATUSES = {"413", "415"}
_NOT_MODIFIED = (
    "Not modified: the ETag sent in If-None-Match (or the date in If-Modified-Since) "
    "still matches. No body."
)


def _relax_sparse_items(result: dict[str, Any], operation: dict[str, Any]) -> None:
    """A list that takes `fields` may leave any field of its items out."""
    if not any(p.get("name") == "fields" for p in operation.get("parameters", [])):
        return
    schemas = result["components"]["schemas"]
    content = operation["responses"].get("200", {}).get("content", {})
    page_ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
    page = schemas.get(page_ref.rsplit("/", 1)[-1], {})
    item_ref = page.get("properties", {}).get("results", {}).get("items", {}).get("$ref", "")
    item = schemas.get(item_ref.rsplit("/", 1)[-1])
    if item is not None:
        item.pop("required", None)


def problem_responses_hook(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing: document the problem body for every error status."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["ProblemFieldError"] = PROBLEM_FIELD_ERROR_SCHEMA
    content = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            if method == "get":
                responses.setdefault("304", {"description": _NOT_MODIFIED})
                _relax_sparse_items(result, operation)
            for code, description in _PROBLEM_STATUSES.items():
                if code in _WRITE_ONLY_STATUSES and method == "get":
                    continue
                responses.setdefault(code, {"description": description, "content": content})
    return result
