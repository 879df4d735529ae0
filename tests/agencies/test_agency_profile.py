"""An agency's admins edit its profile (name, contacts, logo); nobody else may, and every
change is in the agency's history."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from agencies.models import Agency, Membership, Role
from agencies.services import LOGO_MAX_SIDE, agency_profile_update
from core.errors import ApplicationError, PermissionDeniedError
from tests import factories
from tests.accounts.conftest import login_verified


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _url(agency: Any) -> str:
    return reverse("agency_admin:profile", kwargs={"agency_slug": agency.slug})


def _image(fmt: str = "PNG", size: tuple[int, int] = (40, 20), name: str = "logo.png") -> Any:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _post(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Dinas Kependudukan Kota A",
        "short_name": "Disdukcapil A",
        "address": "Jl. Merdeka 1\r\nKota A",
        "phone": "022-123456",
        "email": "layanan@dinas-a.go.id",
        "website": "https://dinas-a.go.id",
        "open_data_licence": "CC-BY-4.0",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302),  # to the login page
        ("admin_a", 200),
        ("admin_b", 404),  # an outsider: learns nothing
        ("editor_a", 403),  # staff of the agency, not its admin
        ("ombudsman", 403),  # reads every agency, manages none
    ],
)
def test_only_the_agencys_admin_may_edit_its_profile(
    who: str, expected: int, cast: dict[str, Any], agency_a: Any, agency_b: Any, client: Client
) -> None:
    users = dict(cast)
    users["admin_b"] = factories.UserFactory(username="admin_b")
    Membership.objects.create(user=users["admin_b"], agency=agency_b, role=Role.AGENCY_ADMIN)
    if users[who] is not None:
        login_verified(client, users[who])
    before = Agency.objects.values().get(pk=agency_a.pk)
    history_before = agency_a.history.count()

    page = client.get(_url(agency_a))
    assert page.status_code == expected
    response = client.post(_url(agency_a), _post(logo=_image()))

    agency_a.refresh_from_db()
    if expected == 200:
        assert response.status_code == 302
        assert agency_a.name == "Dinas Kependudukan Kota A"
        assert agency_a.address == "Jl. Merdeka 1\nKota A"
        assert agency_a.logo.name.endswith(".png")
        assert agency_a.history.count() == history_before + 1
    else:
        assert response.status_code == expected
        assert Agency.objects.values().get(pk=agency_a.pk) == before
        assert agency_a.history.count() == history_before


def test_a_change_is_audited_with_who_and_what(agency_a: Any, admin_a: Any, client: Client) -> None:
    login_verified(client, admin_a)
    old_name = agency_a.name
    response = client.post(_url(agency_a), _post(name="Dinas Baru"))
    assert response.status_code == 302
    record = agency_a.history.latest()
    assert record.history_user == admin_a
    assert record.history_type == "~"
    delta = record.diff_against(record.prev_record)
    changed = {change.field: (change.old, change.new) for change in delta.changes}
    assert changed["name"] == (old_name, "Dinas Baru")


def test_bad_input_gives_indonesian_field_errors_and_changes_nothing(
    agency_a: Any, admin_a: Any, client: Client
) -> None:
    login_verified(client, admin_a)
    before = Agency.objects.values().get(pk=agency_a.pk)
    response = client.post(
        _url(agency_a),
        _post(name="", email="bukan-email", website="javascript:alert(1)", phone="1\x002"),
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"name", "email", "website", "phone"}
    assert errors["name"] == ["Bidang ini harus diisi."]
    assert "Masukkan alamat email yang valid." in errors["email"]
    assert Agency.objects.values().get(pk=agency_a.pk) == before


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        # Named and declared as PNG, but not an image: the content decides.
        (
            SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", content_type="image/png"),
            "Logo harus berupa gambar PNG, JPEG, GIF, atau WebP.",
        ),
        # A real image of a type we do not take.
        (_image("BMP", name="logo.png"), "Logo harus berupa gambar PNG, JPEG, GIF, atau WebP."),
        (
            SimpleUploadedFile("logo.png", b"\x89PNG" + b"0" * (1024 * 1024), "image/png"),
            "Logo terlalu besar: paling besar 1 MB.",
        ),
    ],
    ids=["not-an-image", "bmp", "too-large"],
)
def test_a_bad_logo_is_refused_with_a_field_error(
    upload: Any, message: str, agency_a: Any, admin_a: Any, client: Client
) -> None:
    login_verified(client, admin_a)
    before = Agency.objects.values().get(pk=agency_a.pk)
    response = client.post(_url(agency_a), _post(logo=upload))
    assert response.status_code == 400
    assert response.context["form"].errors == {"logo": [message]}
    assert Agency.objects.values().get(pk=agency_a.pk) == before


def test_the_logo_is_reencoded_as_a_bounded_png(agency_a: Any, admin_a: Any) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (1600, 800), (0, 90, 160)).save(buffer, format="JPEG")
    payload = buffer.getvalue() + b"<?php system($_GET['c']); ?>"
    upload = SimpleUploadedFile("logo.jpg", payload, content_type="image/jpeg")
    agency_profile_update(agency=agency_a, acting_user=admin_a, logo=upload)
    agency_a.refresh_from_db()
    stored = agency_a.logo.read()
    assert b"<?php" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "PNG"
        assert image.size == (LOGO_MAX_SIDE, LOGO_MAX_SIDE // 2)

    agency_profile_update(agency=agency_a, acting_user=admin_a, remove_logo=True)
    agency_a.refresh_from_db()
    assert not agency_a.logo


def test_the_service_itself_refuses_others_and_unknown_fields(
    agency_a: Any, admin_a: Any, editor_a: Any
) -> None:
    with pytest.raises(PermissionDeniedError):
        agency_profile_update(agency=agency_a, acting_user=editor_a, name="X")
    with pytest.raises(ApplicationError):
        agency_profile_update(agency=agency_a, acting_user=admin_a, slug="elsewhere")
    agency_a.refresh_from_db()
    assert agency_a.name == "Dinas A" and agency_a.slug == "dinas-a"


def test_the_profile_page_has_a_pinned_query_count(
    agency_a: Any, admin_a: Any, client: Client, django_assert_max_num_queries: Any
) -> None:
    login_verified(client, admin_a)
    client.get(_url(agency_a))  # warm the session and the policy's caches
    with django_assert_max_num_queries(8):
        assert client.get(_url(agency_a)).status_code == 200
    with django_assert_max_num_queries(14):
        assert client.post(_url(agency_a), _post(logo=_image())).status_code == 302
