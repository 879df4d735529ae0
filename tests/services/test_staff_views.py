"""Staff authoring views: the permission matrix, forms, and pinned query counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from services.models import Service, StandardVersion, VersionStatus
from tests.accounts.conftest import login_verified
from tests.registry import make_draft, make_published, make_service

ROLES = ["anonymous", "editor_a", "approver_a", "admin_a", "editor_b", "ombudsman", "superuser"]

# Expected HTTP status per (role, action) on agency A's objects.
# 302 = done (or, for anonymous, sent to the login page); 403 = visible but not allowed;
# 404 = outside the user's agency.
MATRIX = {
    "submit": {
        "editor_a": 302,
        "approver_a": 302,
        "admin_a": 403,
        "editor_b": 404,
        "ombudsman": 403,
        "superuser": 302,
    },
    "publish": {
        "editor_a": 403,
        "approver_a": 302,
        "admin_a": 403,
        "editor_b": 404,
        "ombudsman": 403,
        "superuser": 302,
    },
    "edit": {
        "editor_a": 302,
        "approver_a": 302,
        "admin_a": 403,
        "editor_b": 404,
        "ombudsman": 403,
        "superuser": 302,
    },
    "new_version": {
        "editor_a": 302,
        "approver_a": 302,
        "admin_a": 403,
        "editor_b": 404,
        "ombudsman": 403,
        "superuser": 302,
    },
}


def _edit_payload(version: StandardVersion) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "processing_time_value": "7",
        "processing_time_unit": "working_days",
        "clock_start": "on_complete",
        "is_free": "on",
        "product": "Produk baru",
        "legal_basis": "UU 25/2009",
        "staff_competence": "x",
        "internal_supervision": "x",
        "staff_count": "2",
        "service_guarantee": "x",
        "safety_security": "x",
        "performance_evaluation": "x",
        "facilities": "waiting_room",
    }
    for prefix in ("req", "step", "cost", "chan"):
        payload.update({f"{prefix}-TOTAL_FORMS": "1", f"{prefix}-INITIAL_FORMS": "0"})
    payload.update(
        {
            "req-0-name": "KTP-el",
            "req-0-is_mandatory": "on",
            "step-0-actor": "Petugas",
            "step-0-description": "Memeriksa",
            "step-0-duration_unit": "minutes",
            "chan-0-kind": "phone",
            "chan-0-value": "022",
        }
    )
    return payload


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(MATRIX))
def test_write_actions_follow_the_policy(client, cast, agency_a, unit_a, role, action):
    service = make_service(agency_a, unit_a)
    version = make_published(service) if action == "new_version" else make_draft(service)
    before = list(StandardVersion.objects.order_by("pk").values_list("pk", "status", "product"))
    if cast[role] is not None:
        login_verified(client, cast[role])  # privileged roles pass two-factor first
    url, data = {
        "submit": (reverse("standards:version_submit", args=[version.pk]), {}),
        "publish": (reverse("standards:version_publish", args=[version.pk]), {}),
        "edit": (reverse("standards:version_edit", args=[version.pk]), _edit_payload(version)),
        "new_version": (reverse("standards:version_new", args=[version.pk]), {}),
    }[action]
    response = client.post(url, data)
    if role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        allowed = False
    else:
        assert response.status_code == MATRIX[action][role], response.content[:500]
        allowed = MATRIX[action][role] == 302
    after = list(StandardVersion.objects.order_by("pk").values_list("pk", "status", "product"))
    if allowed:
        assert after != before
    else:
        assert after == before


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 302),
        ("editor_a", 200),
        ("admin_a", 200),
        ("editor_b", 404),
        ("ombudsman", 200),
        ("superuser", 200),
    ],
)
def test_drafts_are_visible_only_inside_the_agency(client, cast, agency_a, unit_a, role, expected):
    version = make_draft(make_service(agency_a, unit_a))
    if cast[role] is not None:
        login_verified(client, cast[role])  # privileged roles pass two-factor first
    response = client.get(reverse("standards:version", args=[version.pk]))
    assert response.status_code == expected


def test_editor_creates_a_service_with_rows(client, editor_a, unit_a):
    client.force_login(editor_a)
    payload = _edit_payload(StandardVersion())
    payload.update(
        {
            "agency": str(unit_a.agency_id),
            "name": "Akta Kelahiran",
            "unit": str(unit_a.pk),
            "category": "population",
            "channels": ["counter", "online"],
            "keywords": "akta lahir",
            "req-TOTAL_FORMS": "3",
            "req-1-name": "Surat keterangan lahir",
            "req-1-is_mandatory": "on",
            "req-2-name": "",
        }
    )
    response = client.post(reverse("standards:service_create"), payload)
    assert response.status_code == 302, [
        line for line in response.content.decode().splitlines() if "error" in line
    ]
    service = Service.objects.get(name="Akta Kelahiran")
    version = service.versions.get()
    assert version.status == VersionStatus.DRAFT
    assert [r.name for r in version.requirements.all()] == ["KTP-el", "Surat keterangan lahir"]
    assert service.channels == ["counter", "online"]


def test_bad_input_shows_field_errors_in_indonesian_and_saves_nothing(client, editor_a, unit_a):
    client.force_login(editor_a)
    payload = _edit_payload(StandardVersion())
    payload.update(
        {
            "agency": str(unit_a.agency_id),
            "name": "",
            "unit": str(unit_a.pk),
            "category": "nope",
            "processing_time_value": "-3",
            "cost-TOTAL_FORMS": "1",
            "cost-0-name": "Biaya",
            "cost-0-amount": "abc",
        }
    )
    response = client.post(reverse("standards:service_create"), payload)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Bidang ini harus diisi." in html
    assert "Masukkan keseluruhan angka bilangan." in html
    assert not Service.objects.exists()


def test_published_version_edit_page_refuses(client, editor_a, agency_a, unit_a):
    version = make_published(make_service(agency_a, unit_a))
    client.force_login(editor_a)
    response = client.post(
        reverse("standards:version_edit", args=[version.pk]), _edit_payload(version)
    )
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.product == "Dokumen"


def test_compare_page_shows_the_diff(client, editor_a, agency_a, unit_a):
    old = make_published(make_service(agency_a, unit_a), product="Lama")
    client.force_login(editor_a)
    client.post(reverse("standards:version_new", args=[old.pk]))
    new = StandardVersion.objects.get(service=old.service, status=VersionStatus.DRAFT)
    client.post(reverse("standards:version_edit", args=[new.pk]), _edit_payload(new))
    html = client.get(reverse("standards:version_compare", args=[old.pk, new.pk])).content.decode()
    assert "Lama" in html and "Produk baru" in html


@pytest.mark.parametrize("count", [2, 12])
def test_dashboard_query_count_does_not_grow(
    client, editor_a, agency_a, unit_a, count, django_assert_num_queries
):
    for i in range(count):
        service = make_service(agency_a, unit_a, name=f"Layanan {i}")
        make_published(service)
        make_draft(service)
    client.force_login(editor_a)
    client.get(reverse("staff:dashboard"))  # warm the session
    # Constant: session, user, memberships, the dashboard's rows, the inbox's unread count,
    # and "how are we doing" (on-time per unit and month, open breaches, charters due).
    with django_assert_num_queries(14):
        response = client.get(reverse("staff:dashboard"))
    assert response.status_code == 200
    assert response.content.decode().count("Layanan ") >= count


@pytest.mark.parametrize("requirements", [1, 25])
def test_public_standard_page_query_count_does_not_grow(
    client, agency_a, unit_a, national, requirements, django_assert_num_queries
):
    from services.services import standard_draft_create, standard_publish
    from tests import factories

    service = make_service(agency_a, unit_a)
    data, children = factories.complete_version_data()
    children["requirements"] = [{"name": f"Syarat {i}"} for i in range(requirements)]
    standard_publish(
        version=standard_draft_create(service=service, data=data, children=children),
        acting_user=None,
    )
    # Constant: the page, the cached standard body, the performance panel's aggregates
    # (figures, 3/6/12-month periods, months), the due-date example on the unit's
    # calendar (4; cached afterwards), where it can be done (the unit's counters: 1), the life
    # events the service is part of (1), the ombudsman's findings about it (cases: 1).
    with django_assert_num_queries(18):
        response = client.get(service.get_absolute_url())
    assert response.status_code == 200
    assert response.content.decode().count("Syarat ") == requirements
