"""What text the system accepts: no NUL and no other control characters.

One rule for every way text comes in (HTML forms, the API's bodies and query strings,
imports). PostgreSQL cannot store NUL in text at all, and the other C0/C1 control
characters (bell, backspace, escape, ...) only ever arrive by accident or by attack:
they break CSV exports, terminals and emails downstream. Tab, line feed and carriage
return are ordinary in multi-line text and stay allowed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# C0 controls except \t \n \r, DEL, the C1 controls, and lone UTF-16 surrogates (JSON's
# "\ud800" escapes decode to them; they cannot be encoded as UTF-8, so cannot be stored).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

CONTROL_CHARACTER_MESSAGE = _(
    "Remove the control characters (such as NUL) from this text: they cannot be stored."
)
CONTROL_CHARACTER_CODE = "control_character"


def has_control_characters(value: str) -> bool:
    return CONTROL_CHARACTERS.search(value) is not None


def reject_control_characters(value: Any) -> None:
    """Validator: refuse a string holding a control character (other types pass)."""
    if isinstance(value, str) and has_control_characters(value):
        raise ValidationError(CONTROL_CHARACTER_MESSAGE, code=CONTROL_CHARACTER_CODE)


def control_character_paths(
    data: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[str | int, ...]]:
    """Where, in parsed JSON (dicts, lists, strings), a key or string holds a control character."""
    if isinstance(data, str):
        if has_control_characters(data):
            yield path
    elif isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and has_control_characters(key):
                yield (*path, key)
            yield from control_character_paths(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from control_character_paths(value, (*path, index))


def json_pointer(path: tuple[str | int, ...]) -> str:
    """An RFC 6901 JSON Pointer, as a URI fragment (`#/items/3/reference`)."""
    parts = [str(part).replace("~", "~0").replace("/", "~1") for part in path]
    return "#/" + "/".join(parts) if parts else "#"
