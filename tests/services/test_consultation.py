from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from services.models import ConsultationComment
from services.services import standard_open_consultation, standard_publish
from tests.registry import make_draft, make_service


def _open(editor, agency, unit, days=7):
    version = make_draft(make_service(agency, unit, name="Izin Konsultasi"))
    return standard_open_consultation(
        version=version,
        closes_on=timezone.localdate() + dt.timedelta(days=days),
        acting_user=editor,
    )


def test_citizens_comment_on_a_draft_in_consultation(client, editor_a, agency_a, unit_a):
    version = _open(editor_a, agency_a, unit_a)
    listing = client.get(reverse("public:consultations"))
    assert "Izin Konsultasi" in listing.content.decode()
    url = reverse("public:consultation", args=[version.pk])
    response = client.post(url, {"name": "Budi", "body": "Persyaratan KK tidak perlu fotokopi."})
    assert response.status_code == 302
    comment = ConsultationComment.objects.get()
    assert comment.version_id == version.pk and comment.name == "Budi"
    client.force_login(editor_a)
    staff_page = client.get(reverse("standards:version", args=[version.pk])).content.decode()
    assert "Persyaratan KK tidak perlu fotokopi." in staff_page


def test_an_empty_comment_gets_a_field_error(client, editor_a, agency_a, unit_a):
    version = _open(editor_a, agency_a, unit_a)
    response = client.post(reverse("public:consultation", args=[version.pk]), {"body": ""})
    assert response.status_code == 200
    assert "Bidang ini harus diisi." in response.content.decode()
    assert not ConsultationComment.objects.exists()


def test_drafts_not_in_consultation_and_closed_ones_are_not_public(
    client, editor_a, approver_a, agency_a, unit_a
):
    draft = make_draft(make_service(agency_a, unit_a, name="Rahasia"))
    assert client.get(reverse("public:consultation", args=[draft.pk])).status_code == 404
    version = _open(editor_a, agency_a, unit_a)
    import pytest

    from core.errors import ApplicationError

    with pytest.raises(ApplicationError) as error:
        standard_publish(version=version, acting_user=approver_a)
    assert error.value.code == "consultation_open"
    assert client.get(reverse("public:consultation", args=[version.pk])).status_code == 200


def test_a_flood_of_comments_gets_the_translated_429_page(client, editor_a, agency_a, unit_a):
    from django.core.cache import cache

    cache.clear()
    version = _open(editor_a, agency_a, unit_a)
    url = reverse("public:consultation", args=[version.pk])
    for i in range(10):
        assert client.post(url, {"name": "Budi", "body": f"Komentar {i}"}).status_code == 302
    refused = client.post(url, {"name": "Budi", "body": "Satu lagi"})
    assert refused.status_code == 429
    assert "Terlalu banyak permintaan" in refused.content.decode()
    assert ConsultationComment.objects.count() == 10
