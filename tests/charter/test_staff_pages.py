"""Staff pages of charters: the permission matrix, forms with field errors, pinned query
counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from charter.models import Charter, CharterStatus
from tests.charter.conftest import charter_snapshot, make_charter
from tests.factories import PLEDGE
from tests.registry import make_service

ROLES = ["anonymous", "editor_a", "approver_a", "admin_a", "admin_b", "editor_b", "ombudsman"]

# Expected status per (action, role) on agency A's charters. 302 = done (for anonymous:
# sent to the login page); 403 = may see it but not do it; 404 = outside the agency.
MATRIX: dict[str, dict[str, int]] = {
    "create": {
        "anonymous": 302,
        "editor_a": 302,
        "approver_a": 302,
        "admin_a": 403,
        "admin_b": 403,
        "editor_b": 404,
        "ombudsman": 403,
    },
    "edit": {
        "anonymous": 302,
        "editor_a": 302,
        "approver_a": 302,
        "admin_a": 403,
        "admin_b": 404,
        "editor_b": 404,
        "ombudsman": 403,
    },
    "publish": {
        "anonymous": 302,
        "editor_a": 403,
        "approver_a": 302,
        "admin_a": 403,
        "admin_b": 404,
        "editor_b": 404,
        "ombudsman": 403,
    },
    "new_version": {
        "anonymous": 302,
        "editor_a": 302,
        "approver_a": 302,
        "admin_a": 403,
        "admin_b": 404,
        "editor_b": 404,
        "ombudsman": 403,
    },
    "withdraw": {
        "anonymous": 302,
        "editor_a": 403,
        "approver_a": 302,
        "admin_a": 403,
        "admin_b": 404,
        "editor_b": 404,
        "ombudsman": 403,
    },
}


def form_data(service_ids: list[int], **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "pledge": PLEDGE,
        "services": [str(pk) for pk in service_ids],
        "signatory_name": "Drs. Budi Santoso",
        "signatory_title": "Kepala Dinas",
        "signed_on": "2026-02-01",
        "decree_number": "800/21/2026",
        "compensation_per_day": "25000",
        "compensation_cap": "400000",
        "sanction_statement": "Kami siap menerima sanksi sesuai peraturan.",
    }
    data.update(overrides)
    return data


def _request(name: str, client: Any, o: dict[str, Any]) -> Any:
    if name == "create":
        url = reverse("charter_staff:create") + f"?unit={o['unit'].pk}"
        return client.post(url, form_data([o["service"].pk], unit=o["unit"].pk))
    if name == "edit":
        url = reverse("charter_staff:edit", args=[o["draft"].pk])
        return client.post(url, form_data([o["service"].pk], signatory_name="Ir. Baru"))
    if name == "publish":
        return client.post(reverse("charter_staff:publish", args=[o["draft"].pk]))
    if name == "new_version":
        return client.post(reverse("charter_staff:new_version", args=[o["published"].pk]))
    return client.post(
        reverse("charter_staff:withdraw", args=[o["published"].pk]),
        {"reason": "Struktur organisasi berubah."},
    )


def _check_done(name: str, o: dict[str, Any]) -> None:
    if name == "create":
        new = Charter.objects.exclude(pk__in=[o["draft"].pk, o["published"].pk]).get()
        assert (new.unit_id, new.status, new.decree_number) == (
            o["unit"].pk,
            CharterStatus.DRAFT,
            "800/21/2026",
        )
        assert list(new.services.all()) == [o["service"]]
    elif name == "edit":
        assert Charter.objects.get(pk=o["draft"].pk).signatory_name == "Ir. Baru"
    elif name == "publish":
        assert Charter.objects.get(pk=o["draft"].pk).status == CharterStatus.PUBLISHED
        # Another unit's charter is not superseded by it.
        assert Charter.objects.get(pk=o["published"].pk).status == CharterStatus.PUBLISHED
    elif name == "new_version":
        assert Charter.objects.filter(status=CharterStatus.DRAFT).count() == 2
    else:
        withdrawn = Charter.objects.get(pk=o["published"].pk)
        assert (withdrawn.status, withdrawn.withdrawn_reason) == (
            CharterStatus.WITHDRAWN,
            "Struktur organisasi berubah.",
        )


@pytest.fixture
def objects(published_charter: Charter, unit_a: Any, service_a: Any, editor_a: Any) -> Any:
    """A's published charter on unit_a, and a draft on a second unit of A."""
    from tests import factories

    other = factories.UnitFactory(agency=unit_a.agency, slug="unit-a2")
    draft = make_charter(other, [service_a], editor_a)
    return {"unit": other, "service": service_a, "draft": draft, "published": published_charter}


@pytest.mark.parametrize(
    ("name", "role"), [(name, role) for name in MATRIX for role in MATRIX[name]]
)
def test_page_permission_matrix(
    name: str, role: str, staff_cast: dict[str, Any], objects: Any, login_as: Any
) -> None:
    if name == "create":
        # A unit with no charter yet, so that the new draft is its first.
        objects["draft"].delete()
    client = login_as(staff_cast[role])
    before = charter_snapshot()

    response = _request(name, client, objects)

    assert response.status_code == MATRIX[name][role], response.content[:500]
    if role == "anonymous":
        assert "/accounts/login/" in response["Location"]
    if response.status_code == 302 and role != "anonymous":
        _check_done(name, objects)
    else:
        assert charter_snapshot() == before, "a refused write changed the database"


@pytest.mark.parametrize(
    ("role", "status", "sees_a"),
    [
        ("editor_a", 200, True),
        ("approver_a", 200, True),
        ("admin_a", 200, True),
        ("ombudsman", 200, True),
        ("admin_b", 200, False),
        ("editor_b", 200, False),
    ],
)
def test_list_is_scoped_by_the_policy(
    role: str, status: int, sees_a: bool, staff_cast: dict[str, Any], objects: Any, login_as: Any
) -> None:
    response = login_as(staff_cast[role]).get(reverse("charter_staff:list"))
    assert response.status_code == status
    detail = reverse("charter_staff:detail", args=[objects["draft"].pk])
    assert (detail in response.content.decode()) is sees_a
    shown = login_as(staff_cast[role]).get(detail)
    assert shown.status_code == (200 if sees_a else 404)


def test_anonymous_is_sent_to_login_from_the_list(client: Any, db: Any) -> None:
    response = client.get(reverse("charter_staff:list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_create_offers_only_the_agency_services(
    unit_a: Any, unit_b: Any, service_a: Any, editor_a: Any, editor_b: Any, login_as: Any
) -> None:
    foreign = make_service(unit_b.agency, unit_b, "Layanan B", acting_user=editor_b)
    client = login_as(editor_a)
    url = reverse("charter_staff:create") + f"?unit={unit_a.pk}"
    page = client.get(url).content.decode()
    assert service_a.name in page and foreign.name not in page
    # A forged post naming B's service is a field error, and nothing is written.
    response = client.post(url, form_data([foreign.pk], unit=unit_a.pk))
    assert response.status_code == 200
    assert "services" in response.context["form"].errors
    assert not Charter.objects.exists()


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("id", "Batas kompensasi memerlukan jumlah per hari keterlambatan."),
        ("en", "A cap needs an amount per day of delay."),
    ],
)
def test_form_errors_are_field_errors_in_both_languages(
    language: str, message: str, unit_a: Any, service_a: Any, editor_a: Any, login_as: Any
) -> None:
    client = login_as(editor_a)
    prefix = "" if language == "id" else "/en"
    url = prefix + reverse("charter_staff:create") + f"?unit={unit_a.pk}"
    data = form_data(
        [service_a.pk], unit=unit_a.pk, compensation_per_day="", signatory_name="", signed_on="x"
    )
    response = client.post(url, data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"compensation_cap", "signatory_name", "signed_on"}
    assert errors["compensation_cap"] == [message]
    assert message in response.content.decode()
    assert not Charter.objects.exists()


def test_withdraw_needs_a_reason(
    published_charter: Charter, approver_a: Any, login_as: Any
) -> None:
    client = login_as(approver_a)
    response = client.post(
        reverse("charter_staff:withdraw", args=[published_charter.pk]), {"reason": "   "}
    )
    assert response.status_code == 400
    assert "reason" in response.context["withdraw_form"].errors
    published_charter.refresh_from_db()
    assert published_charter.status == CharterStatus.PUBLISHED


def test_a_published_charter_cannot_be_edited_through_the_page(
    published_charter: Charter, editor_a: Any, service_a: Any, login_as: Any
) -> None:
    client = login_as(editor_a)
    before = charter_snapshot()
    response = client.post(
        reverse("charter_staff:edit", args=[published_charter.pk]),
        form_data([service_a.pk], signatory_name="Diubah"),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("charter_staff:detail", args=[published_charter.pk])
    assert charter_snapshot() == before


def test_compare_page_shows_the_changed_fields(
    published_charter: Charter, editor_a: Any, service_a: Any, login_as: Any
) -> None:
    from charter.services import charter_draft_update, charter_new_version

    draft = charter_new_version(charter=published_charter, acting_user=editor_a)
    charter_draft_update(charter=draft, acting_user=editor_a, compensation_per_day=30000)
    client = login_as(editor_a)
    with translation.override("en"):
        url = reverse("charter_staff:compare", args=[draft.pk, published_charter.pk])
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-field="compensation_per_day"' in html
    assert "Rp 20.000" in html and "Rp 30.000" in html
    assert 'data-field="signatory_name"' not in html


def test_dashboard_links_the_charters(editor_a: Any, login_as: Any) -> None:
    html = login_as(editor_a).get(reverse("staff:dashboard")).content.decode()
    assert reverse("charter_staff:list") in html


# --- Query counts ----------------------------------------------------------------------------


def _charters(unit_count: int, agency: Any, editor: Any, approver: Any, service: Any) -> None:
    from charter.services import charter_new_version, charter_publish
    from tests import factories

    for i in range(unit_count):
        unit = factories.UnitFactory(agency=agency, slug=f"unit-n{i}")
        first = charter_publish(charter=make_charter(unit, [service], editor), acting_user=approver)
        charter_new_version(charter=first, acting_user=editor)


@pytest.mark.parametrize("units", [1, 6])
def test_list_query_count_does_not_grow(
    units: int,
    agency_a: Any,
    editor_a: Any,
    approver_a: Any,
    service_a: Any,
    login_as: Any,
    django_assert_num_queries: Any,
) -> None:
    _charters(units, agency_a, editor_a, approver_a, service_a)
    client = login_as(editor_a)
    client.get(reverse("charter_staff:list"))  # warm the session
    # Constant: session, user, memberships (cached for the policy), the charters with units.
    with django_assert_num_queries(6):
        response = client.get(reverse("charter_staff:list"))
    assert response.content.decode().count('href="/staff/charters/') >= 2 * units


@pytest.mark.parametrize("versions", [1, 6])
def test_detail_and_compare_query_counts_do_not_grow(
    versions: int,
    unit_a: Any,
    editor_a: Any,
    approver_a: Any,
    service_a: Any,
    login_as: Any,
    django_assert_num_queries: Any,
) -> None:
    from charter.services import charter_new_version, charter_publish

    charter = charter_publish(
        charter=make_charter(unit_a, [service_a], editor_a), acting_user=approver_a
    )
    first = charter
    for _ in range(versions):
        charter = charter_publish(
            charter=charter_new_version(charter=charter, acting_user=editor_a),
            acting_user=approver_a,
        )
    client = login_as(approver_a)
    detail = reverse("charter_staff:detail", args=[charter.pk])
    client.get(detail)
    # Constant: session, user, memberships, the charter with its services, the other versions.
    with django_assert_num_queries(8):
        response = client.get(detail)
    assert response.content.decode().count("/compare/") == versions
    compare = reverse("charter_staff:compare", args=[charter.pk, first.pk])
    # Each of the two charters with its services (2 + 2): the diff reads the prefetched lists.
    with django_assert_num_queries(9):
        assert client.get(compare).status_code == 200
