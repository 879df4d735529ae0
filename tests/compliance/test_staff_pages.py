"""The reviewers' pages: the policy matrix, the checklist form, publishing a period."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from compliance import services
from compliance.models import AssessmentState, Evidence
from tests.accounts.conftest import login_verified

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _login(client, user):
    if user is not None:
        login_verified(client, user)


@pytest.mark.parametrize(
    ("who", "index", "detail"),
    [
        ("ombudsman", 200, 200),
        ("admin_a", 403, 403),  # agency A's staff learn the assessment exists, no more
        ("editor_a", 403, 403),
        ("editor_b", 403, 404),  # another agency's: nothing at all
        ("anonymous", 302, 302),  # to the login
    ],
)
def test_policy_matrix(client, cast, assessment_a, who, index, detail):
    _login(client, cast[who])
    assert client.get("/staff/compliance/").status_code == index
    assert client.get(f"/staff/compliance/{assessment_a.pk}/").status_code == detail
    result = assessment_a.indicator_results.get(indicator__code="internal_supervision")
    response = client.post(f"/staff/compliance/results/{result.pk}/", {f"r{result.pk}-value": "2"})
    assert response.status_code == (302 if who == "ombudsman" else detail)
    response = client.post(
        "/staff/compliance/publish/",
        {"method": assessment_a.method_id, "period": assessment_a.period},
    )
    assert response.status_code == (302 if who == "ombudsman" else index)
    assessment_a.refresh_from_db()
    published = who == "ombudsman"
    assert (assessment_a.state == AssessmentState.PUBLISHED) is published


def test_the_checklist_form_saves_and_keeps_evidence(client, ombudsman, assessment_a):
    login_verified(client, ombudsman)
    result = assessment_a.indicator_results.get(indicator__code="standard_displayed")
    response = client.post(
        f"/staff/compliance/results/{result.pk}/",
        {
            f"r{result.pk}-value": "2",
            f"r{result.pk}-note": "Poster di loket 1, tidak di loket 2.",
            f"r{result.pk}-file": SimpleUploadedFile("loket.png", PNG, content_type="image/png"),
        },
    )
    assert response.status_code == 302
    result.refresh_from_db()
    assert result.checklist_value == 2
    evidence = Evidence.objects.get(result=result)
    download = client.get(f"/staff/compliance/evidence/{evidence.pk}/")
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert download.content == PNG
    page = client.get(f"/staff/compliance/{assessment_a.pk}/").content.decode()
    assert "loket.png" in page
    assert "Poster di loket 1" in page


def test_bad_input_gets_field_errors_not_500(client, ombudsman, assessment_a):
    login_verified(client, ombudsman)
    result = assessment_a.indicator_results.get(indicator__code="officer_interviews")
    response = client.post(
        f"/staff/compliance/results/{result.pk}/",
        {f"r{result.pk}-positive": "5", f"r{result.pk}-asked": "4"},
    )
    assert response.status_code == 400
    assert "field-error" in response.content.decode()
    response = client.post(
        f"/staff/compliance/results/{result.pk}/",
        {
            f"r{result.pk}-positive": "1",
            f"r{result.pk}-asked": "4",
            f"r{result.pk}-file": SimpleUploadedFile(
                "x.png", b"GIF89a....", content_type="image/png"
            ),
        },
    )
    assert response.status_code == 400
    response = client.post("/staff/compliance/create/", {"method": "999", "year": "abc"})
    assert response.status_code == 400
    response = client.post("/staff/compliance/publish/", {"method": "1", "period": "2019"})
    assert response.status_code == 400


def test_evidence_download_is_permission_checked(client, cast, assessment_a, ombudsman):
    result = assessment_a.indicator_results.get(indicator__code="standard_displayed")
    evidence = services.evidence_add(
        result=result,
        upload=SimpleUploadedFile("a.png", PNG, content_type="image/png"),
        acting_user=ombudsman,
    )
    url = f"/staff/compliance/evidence/{evidence.pk}/"
    for who, expected in (("editor_a", 403), ("editor_b", 404)):
        client.logout()
        login_verified(client, cast[who])
        assert client.get(url).status_code == expected, who
    # Once published, the agency's own staff may read the evidence behind their score.
    services.period_publish(
        method=assessment_a.method, period=assessment_a.period, acting_user=ombudsman
    )
    client.logout()
    login_verified(client, cast["editor_a"])
    assert client.get(url).status_code == 200
    client.logout()
    login_verified(client, cast["editor_b"])
    assert client.get(url).status_code == 404


def test_create_a_period_for_every_agency(client, ombudsman, agency_a, agency_b, method_2022):
    login_verified(client, ombudsman)
    response = client.post(
        "/staff/compliance/create/", {"method": method_2022.pk, "year": "2025", "agency": ""}
    )
    assert response.status_code == 302
    assert method_2022.assessments.filter(period="2025").count() == 2
    # Twice: nothing more.
    client.post("/staff/compliance/create/", {"method": method_2022.pk, "year": "2025"})
    assert method_2022.assessments.filter(period="2025").count() == 2
