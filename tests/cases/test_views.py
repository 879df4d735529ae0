"""The case pages: who reaches what (the permission matrix), what each sees (never the
internal notes for the agency), the forms' errors, the evidence files, query counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cases import services
from cases.models import ActionReport, Case, CaseNote, CaseState, CorrectiveAction
from tests.accounts.conftest import login_verified
from tests.cases.conftest import PDF, advance
from tests.oversight.desk_world import desk_breach

pytestmark = pytest.mark.django_db

SECRET = "Catatan internal: pelapor adalah Budi"


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        login_verified(client, user)
    return client


@pytest.fixture
def monitored(case_a: Case, cast: dict[str, Any]) -> Case:
    case = advance(case_a, cast["ombudsman"], cast["editor_a"], "monitoring")
    services.case_note_add(case=case, acting_user=cast["ombudsman"], text=SECRET)
    action = CorrectiveAction.objects.get(finding__case=case)
    services.case_transition(
        case,
        "report_action",
        cast["editor_a"],
        action_id=action.pk,
        text="Selesai",
        evidence=SimpleUploadedFile("bukti.pdf", PDF),
        done=True,
    )
    return case


# (who, page) -> status; "page" is the case page, "file" an evidence file, "list" the list.
MATRIX = [
    ("ombudsman", "page", 200),
    ("superuser", "page", 200),
    ("admin_a", "page", 200),
    ("editor_a", "page", 200),
    ("editor_b", "page", 404),
    ("anonymous", "page", 302),
    ("ombudsman", "file", 200),
    ("editor_a", "file", 200),
    ("admin_a", "file", 200),
    ("editor_b", "file", 404),
    ("anonymous", "file", 302),
    ("ombudsman", "list", 200),
    ("editor_a", "list", 200),
    ("editor_b", "list", 200),
    ("anonymous", "list", 302),
]


@pytest.mark.parametrize(("who", "what", "status"), MATRIX)
def test_permission_matrix(
    who: str, what: str, status: int, monitored: Case, cast: dict[str, Any]
) -> None:
    report = ActionReport.objects.get(action__finding__case=monitored)
    url = {
        "page": f"/staff/cases/{monitored.pk}/",
        "file": f"/staff/cases/{monitored.pk}/files/report/{report.pk}/",
        "list": "/staff/cases/",
    }[what]
    response = client_for(cast[who]).get(url)
    assert response.status_code == status
    if what == "page" and status == 200:
        body = response.content.decode()
        assert "Perbaiki antrean berkas" in body  # the corrective action
        assert (SECRET in body) is (who in ("ombudsman", "superuser"))
    if what == "file" and status == 200:
        assert response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content) == PDF  # type: ignore[attr-defined]
    if what == "list" and status == 200:
        listed = f'data-case="{monitored.pk}"' in response.content.decode()
        assert listed is (who != "editor_b")


def test_the_agency_never_sees_a_case_before_it_is_shown(case_a: Case, cast: Any) -> None:
    for who in ("editor_a", "admin_a"):
        assert client_for(cast[who]).get(f"/staff/cases/{case_a.pk}/").status_code == 404
    assert "data-case" not in client_for(cast["admin_a"]).get("/staff/cases/").content.decode()


@pytest.mark.parametrize(
    ("who", "status"),
    [("editor_a", 404), ("admin_a", 404), ("editor_b", 404), ("anonymous", 302)],
)
def test_only_reviewers_write_notes(who: str, status: int, monitored: Case, cast: Any) -> None:
    response = client_for(cast[who]).post(f"/staff/cases/{monitored.pk}/notes/", {"text": "x"})
    assert response.status_code == status
    assert CaseNote.objects.count() == 1


@pytest.mark.parametrize("who", ["editor_a", "admin_a", "editor_b"])
def test_agency_staff_cannot_act_as_reviewers(who: str, monitored: Case, cast: Any) -> None:
    action = CorrectiveAction.objects.get(finding__case=monitored)
    response = client_for(cast[who]).post(
        f"/staff/cases/{monitored.pk}/act/", {"action": "accept_action", "action_id": action.pk}
    )
    assert response.status_code in (403, 404)
    action.refresh_from_db()
    assert action.status == "reported_done"


def test_the_reviewer_opens_a_case_from_the_desk(
    national: Any, agency_a: Any, unit_a: Any, cast: Any
) -> None:
    breaches = [desk_breach(agency=agency_a, unit=unit_a) for _ in range(2)]
    client = client_for(cast["ombudsman"])
    response = client.post("/staff/cases/open/", {"breach": [b.pk for b in breaches]})
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/staff/cases/{case.pk}/"
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    for breach in breaches:
        assert f'data-breach="{breach.pk}"' in page
    # Agency staff may not.
    other = desk_breach(agency=agency_a, unit=unit_a)
    assert (
        client_for(cast["admin_a"]).post("/staff/cases/open/", {"breach": [other.pk]}).status_code
        == 403
    )


def test_bad_input_gets_field_errors_in_indonesian(case_a: Case, cast: Any) -> None:
    client = client_for(cast["ombudsman"])
    services.case_transition(case_a, "fast_track", cast["ombudsman"])
    response = client.post(
        f"/staff/cases/{case_a.pk}/act/",
        {"action": "issue_draft", "outcome": "found", "summary": "s", "actions": "x | lima"},
        HTTP_ACCEPT_LANGUAGE="id",
    )
    assert response.status_code == 400
    response = client.post(
        f"/staff/cases/{case_a.pk}/act/",
        {"action": "issue_draft", "outcome": "found", "summary": "s", "actions": "x"},
    )
    assert response.status_code == 400
    assert (
        "category" in response.content.decode().lower() or "kategori" in response.content.decode()
    )
    case_a.refresh_from_db()
    assert case_a.state == CaseState.EXAMINATION
    # Garbage never gives a 500.
    for data in ({"action": "nope"}, {"action": "answer_explanation", "request_id": "x"}, {}):
        assert client.post(f"/staff/cases/{case_a.pk}/act/", data).status_code in (400, 403)


def _grow(case: Case, cast: Any, extra: int) -> None:
    """More breaches, requests and actions on the case: the page must cost the same."""
    from cases.models import CaseBreach, ExplanationRequest

    for _ in range(extra):
        breach = desk_breach(agency=case.agency, unit=case.unit, service=case.service)
        CaseBreach.objects.create(case=case, breach=breach)
        ExplanationRequest.objects.create(
            case=case, question="q", asked_at=case.created_at, due_days=5, due_at=case.created_at
        )
        services.case_note_add(case=case, acting_user=cast["ombudsman"], text="n")


@pytest.mark.parametrize("who", ["ombudsman", "editor_a"])
def test_the_case_page_costs_a_fixed_number_of_queries(
    who: str, monitored: Case, cast: Any
) -> None:
    client = client_for(cast[who])
    url = f"/staff/cases/{monitored.pk}/"
    counts = []
    for extra in (0, 5):
        _grow(monitored, cast, extra)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 30


@pytest.mark.parametrize("who", ["ombudsman", "admin_a"])
def test_the_case_list_costs_the_same_with_more_cases(
    who: str, national: Any, agency_a: Any, unit_a: Any, cast: Any
) -> None:
    client = client_for(cast[who])
    counts = []
    for extra in (1, 6):
        for _ in range(extra):
            breach = desk_breach(agency=agency_a, unit=unit_a)
            case = services.case_open(breach_ids=[breach.pk], acting_user=cast["ombudsman"])
            services.case_transition(case, "fast_track", cast["ombudsman"])
            services.case_transition(case, "request_explanation", cast["ombudsman"], text="q")
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/staff/cases/")
        assert response.status_code == 200
        assert response.content.decode().count("data-case=") == Case.objects.count()
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 12
