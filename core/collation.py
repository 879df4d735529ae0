"""Ordering text as Python sorts it (by code point), whatever the database's collation."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import F
from django.db.models.functions import Collate

# PostgreSQL's "C" collation compares by code point (a server may default to a language's
# collation); SQLite's default collation already does.


def _postgresql() -> bool:
    return connection.vendor == "postgresql"


def code_point_order(field: str) -> Any:
    """`field` for order_by (or an annotation to order by), compared by code point."""
    return Collate(F(field), "C") if _postgresql() else F(field)


def code_point_collation_sql() -> str:
    """The same, for raw SQL: append it to the ordered column."""
    return ' COLLATE "C"' if _postgresql() else ""
