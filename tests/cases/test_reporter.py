"""Only a case opened from a complaint takes its complainant's response."""

from __future__ import annotations

from typing import Any

import pytest

from cases import services
from cases.models import Case
from core.errors import ApplicationError
from tests.cases.conftest import advance

pytestmark = pytest.mark.django_db


def test_a_case_not_from_a_complaint_takes_no_reporter_response(
    case_a: Case, ombudsman: Any, editor_a: Any
) -> None:
    case = advance(case_a, ombudsman, editor_a, "draft_findings")
    with pytest.raises(ApplicationError):
        services.case_transition(case, "reporter_respond", None, reporter=True, text="x")
