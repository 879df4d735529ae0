"""Assertions on the API's one error shape (RFC 9457 problem details, core.problems)."""

from __future__ import annotations

from typing import Any

PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}


def problem(response: Any, status: int | None = None) -> dict[str, Any]:
    """The problem body of an error response, after checking its shape."""
    if status is not None:
        assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert set(body) >= PROBLEM_KEYS, body
    assert body["status"] == response.status_code
    assert isinstance(body["detail"], str) and body["detail"]
    return dict(body)


def problem_fields(body: dict[str, Any]) -> dict[str, list[str]]:
    """Field errors by top-level field (body pointer) or query parameter name."""
    fields: dict[str, list[str]] = {}
    for error in body.get("errors", []):
        if "parameter" in error:
            name = error["parameter"]
        else:
            pointer = error["pointer"]
            assert pointer.startswith("#")
            name = pointer[2:].split("/")[0] if len(pointer) > 2 else "non_field_errors"
        fields.setdefault(name, []).append(error["detail"])
    return fields
