"""The findings and corrective actions exports: who gets what (reviewers every row with the
internal notes; the agency's staff their own agency's, never a note; nobody else
anything), CSV and XLSX alike, queries and memory flat in the data's size."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tracemalloc
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agencies.models import Role
from cases import exporting, services
from cases.models import Case, CaseNote, CorrectiveAction, Finding
from tests import factories
from tests.accounts.conftest import login_verified
from tests.cases.conftest import advance

pytestmark = pytest.mark.django_db

SECRET = "Catatan internal: pelapor adalah Budi"
URLS = [
    "/staff/cases/export/findings.csv",
    "/staff/cases/export/findings.xlsx",
    "/staff/cases/export/actions.csv",
    "/staff/cases/export/actions.xlsx",
]


@pytest.fixture
def admin_b(agency_b: Any) -> Any:
    user = factories.UserFactory(username="admin_b")
    factories.MembershipFactory(user=user, agency=agency_b, role=Role.AGENCY_ADMIN)
    return user


@pytest.fixture
def monitored(case_a: Case, ombudsman: Any, editor_a: Any) -> Case:
    case = advance(case_a, ombudsman, editor_a, "monitoring")
    services.case_note_add(case=case, acting_user=ombudsman, text=SECRET)
    return case


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        login_verified(client, user)
    return client


def _table(response: Any, url: str) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    if url.endswith(".csv"):
        return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(body), read_only=True).worksheets[0]
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(
    ("who", "status", "rows"),
    [
        ("ombudsman", 200, 1),
        ("admin_a", 200, 1),
        ("editor_a", 200, 1),
        ("admin_b", 200, 0),
        (None, 302, None),
    ],
)
def test_permission_matrix(
    url: str,
    who: str | None,
    status: int,
    rows: int | None,
    monitored: Case,
    request: pytest.FixtureRequest,
) -> None:
    user = request.getfixturevalue(who) if who else None
    response = client_for(user).get(url)
    assert response.status_code == status
    if rows is None:
        return
    assert response["Cache-Control"] == "private, no-store"
    table = _table(response, url)
    header, body = table[0], table[1:]
    assert len(body) == rows
    text = "\n".join(",".join(row) for row in table)
    if rows:
        assert body[0][0] == monitored.reference
        assert "Dinas A" in text
    reviewer = who == "ombudsman"
    # Internal notes: in the reviewers' findings export only, never in an agency's.
    assert (SECRET in text) is (reviewer and "findings" in url)
    assert ("internal_notes" in header) is (reviewer and "findings" in url)
    assert ("complainant_response" in header) is (reviewer and "findings" in url)


def test_unknown_exports_are_404(ombudsman: Any) -> None:
    client = client_for(ombudsman)
    assert client.get("/staff/cases/export/notes.csv").status_code == 404
    assert client.get("/staff/cases/export/findings.pdf").status_code == 404


def test_a_case_not_yet_shown_to_the_agency_is_not_in_its_export(
    case_a: Case, ombudsman: Any, admin_a: Any
) -> None:
    case = advance(case_a, ombudsman, admin_a, "examination")
    Finding.objects.create(case=case, outcome="found", summary="Internal draft")
    Case.objects.filter(pk=case.pk).update(shown_to_agency_at=None)
    assert len(list(exporting.finding_rows(ombudsman))) == 1
    assert list(exporting.finding_rows(admin_a)) == []


def test_the_actions_export_reads_the_state(monitored: Case, ombudsman: Any) -> None:
    action = CorrectiveAction.objects.get(finding__case=monitored)
    (row,) = list(exporting.action_rows(ombudsman))
    columns = dict(zip(exporting.ACTION_COLUMNS, row, strict=True))
    assert columns["action_id"] == action.pk
    assert columns["status"] == "open"
    assert columns["state"] == "open"
    assert columns["due_at"] == action.due_at
    assert columns["working_days"] == 30


def _many(n: int, agency: Any, unit: Any, tag: str) -> None:
    now = timezone.now()
    cases = Case.objects.bulk_create(
        Case(agency=agency, unit=unit, title=f"{tag} {i}", created_at=now, shown_to_agency_at=now)
        for i in range(n)
    )
    findings = Finding.objects.bulk_create(
        Finding(
            case=case,
            outcome="found",
            categories=["undue_delay"],
            summary=f"Ringkasan {i} " + "x" * 200,
            draft_issued_at=now,
            final_at=now,
        )
        for i, case in enumerate(cases)
    )
    CorrectiveAction.objects.bulk_create(
        CorrectiveAction(
            finding=finding,
            agency=agency,
            unit=unit,
            text="Perbaiki " + "y" * 200,
            status="open",
            due_at=now + dt.timedelta(days=30),
        )
        for finding in findings
    )
    CaseNote.objects.bulk_create(
        CaseNote(case=case, text="Catatan " + "z" * 200, created_at=now) for case in cases
    )


def _consume(make: Callable[[], Any]) -> int:
    out = make()
    if hasattr(out, "read"):
        with out:
            return int(out.seek(0, 2))
    return sum(len(chunk) for chunk in out)


@pytest.mark.parametrize(
    "make",
    [
        lambda user: exporting.findings_csv(user),
        lambda user: exporting.findings_xlsx(user),
        lambda user: exporting.actions_csv(user),
    ],
    ids=["findings-csv", "findings-xlsx", "actions-csv"],
)
def test_memory_is_flat(make: Any, ombudsman: Any, agency_a: Any, unit_a: Any) -> None:
    def peak() -> tuple[int, int]:
        tracemalloc.start()
        try:
            size = _consume(lambda: make(ombudsman))
            return tracemalloc.get_traced_memory()[1], size
        finally:
            tracemalloc.stop()

    _consume(lambda: make(ombudsman))  # imports and first-use caches, outside the measurement
    _many(1200, agency_a, unit_a, "kecil")  # both sizes above one chunk (1,000 rows)
    small_peak, small_size = peak()
    _many(3600, agency_a, unit_a, "besar")
    large_peak, large_size = peak()
    assert large_size > 3 * small_size
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)
    print(f"peak {small_peak} B for 1,200 rows, {large_peak} B for 4,800")


@pytest.mark.parametrize("url", [URLS[0], URLS[2]])
def test_queries_are_flat(url: str, ombudsman: Any, agency_a: Any, unit_a: Any) -> None:
    client = client_for(ombudsman)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response: Any = client.get(url)
            b"".join(response.streaming_content)
        return len(queries)

    _many(3, agency_a, unit_a, "a")
    few = count()
    _many(60, agency_a, unit_a, "b")
    assert count() == few
    assert few <= 12
