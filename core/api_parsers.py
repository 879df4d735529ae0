"""The API's parsers: every request body is checked before anything reads it.

Kept apart from core.api: DRF's settings import these classes while `rest_framework.views`
is still loading, so this module must not import it.
"""

from __future__ import annotations

import io
import re
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from core.text import (
    CONTROL_CHARACTER_CODE,
    CONTROL_CHARACTER_MESSAGE,
    control_character_paths,
    json_pointer,
)

# Deeper than this is never a real registry document; Python's JSON parser recurses
# and would fail (RecursionError) long before anything else noticed.
MAX_JSON_DEPTH = 32
# A JSON string (skipped whole, with its escapes) or a bracket.
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_OPENING = frozenset(b"[{")
_CLOSING = frozenset(b"]}")


def json_depth_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Does this JSON text nest arrays/objects deeper than `limit`? Linear, no recursion."""
    depth = 0
    for match in _JSON_TOKENS.finditer(raw):
        first = match.group()[0]
        if first in _OPENING:
            depth += 1
            if depth > limit:
                return True
        elif first in _CLOSING:
            depth -= 1
    return False


class TooDeep(exceptions.ParseError):
    default_code = "too_deep"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = gettext_lazy("The request body is too large.")


class ControlCharacters(exceptions.ValidationError):
    """Text with NUL or other control characters, located by JSON pointer (or field name)."""

    def __init__(self, paths: list[tuple[str | int, ...]]) -> None:
        self.paths = paths
        message = exceptions.ErrorDetail(str(CONTROL_CHARACTER_MESSAGE), CONTROL_CHARACTER_CODE)
        super().__init__({json_pointer(path): [message] for path in paths})

    def problem_errors(self) -> list[dict[str, Any]]:
        return [
            {
                "pointer": json_pointer(path),
                "detail": str(CONTROL_CHARACTER_MESSAGE),
                "code": CONTROL_CHARACTER_CODE,
            }
            for path in self.paths
        ]


def refuse_control_characters(data: Any) -> None:
    if isinstance(data, QueryDict):
        paths: list[tuple[str | int, ...]] = [
            (key,)
            for key, values in data.lists()
            for value in [key, *values]
            if isinstance(value, str) and list(control_character_paths(value))
        ]
    else:
        paths = list(control_character_paths(data))
    if paths:
        raise ControlCharacters(paths)


class SafeJSONParser(JSONParser):
    """JSON, refused (400) when nested deeper than MAX_JSON_DEPTH or holding control
    characters, before anything else reads it."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            raw = stream.read() if stream is not None else b""
        except RequestDataTooBig:
            raise PayloadTooLarge() from None
        if json_depth_exceeds(raw):
            raise TooDeep(
                _("The JSON body is nested more than %(max)d levels deep.")
                % {"max": MAX_JSON_DEPTH}
            )
        data = super().parse(io.BytesIO(raw), media_type, parser_context)
        refuse_control_characters(data)
        return data


class SafeFormParser(FormParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        refuse_control_characters(data)
        return data


class SafeMultiPartParser(MultiPartParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        refuse_control_characters(parsed.data)
        return parsed
