"""The public tracking page: status and due date, nothing personal, no enumeration."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from delivery.services import delivery_extend, delivery_record
from public_site.views.tracking import TRACK_RATE
from tests.delivery.conftest import wib

SECRET_REFERENCE = "SK-2026-RAHASIA-0042"


@pytest.fixture
def extended(service_a, approver_a):
    approver_a.first_name, approver_a.last_name = "Bambang", "Sutrisno"
    approver_a.save()
    delivery, _ = delivery_record(
        service=service_a,
        reference=SECRET_REFERENCE,
        submitted_at=timezone.now() - dt.timedelta(hours=3),
        fee_charged=987654,
    )
    assert delivery.due_date is not None
    return delivery_extend(
        delivery=delivery,
        new_due_date=delivery.due_date + dt.timedelta(days=10),
        reason="Verifikasi lapangan tertunda banjir",
        acting_user=approver_a,
    )


def _detail(code: str) -> str:
    return reverse("track:detail", kwargs={"code": code})


def test_tracking_page_shows_status_and_due_date_and_nothing_personal(client, extended):
    response = client.get(_detail(extended.tracking_code))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Izin Usaha" in html
    assert "Due by" in html or "Paling lambat" in html
    assert extended.extended_due_date.strftime("%Y") in html
    assert "Verifikasi lapangan tertunda banjir" in html  # the extension is public
    for private in (SECRET_REFERENCE, "987654", "987.654", "987,654", "Bambang", "Sutrisno"):
        assert private not in html, private
    assert "approver_a" not in html
    assert response["X-Robots-Tag"].startswith("noindex")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_completed_delivery_says_whether_it_was_on_time(client, service_a):
    on_time, _ = delivery_record(
        service=service_a,
        reference="A1",
        submitted_at=wib(2026, 2, 2),
        completed_at=wib(2026, 2, 4, 11),
    )
    late, _ = delivery_record(
        service=service_a,
        reference="A2",
        submitted_at=wib(2026, 2, 2),
        completed_at=wib(2026, 2, 20, 11),
    )
    html = client.get(_detail(on_time.tracking_code)).content.decode()
    assert "badge-ok" in html and "badge-bad" not in html
    html = client.get(_detail(late.tracking_code)).content.decode()
    assert "badge-bad" in html and "badge-ok" not in html


def test_open_overdue_delivery_points_to_the_complaint_channels(client, service_a):
    overdue, _ = delivery_record(service=service_a, reference="A3", submitted_at=wib(2026, 2, 2))
    html = client.get(_detail(overdue.tracking_code)).content.decode()
    assert 'id="overdue-heading"' in html
    assert service_a.get_absolute_url() in html


def test_english_page(client, extended):
    response = client.get("/en" + _detail(extended.tracking_code))
    assert response.status_code == 200
    assert 'lang="en"' in response.content.decode()


@pytest.mark.parametrize("code", ["ABCDEFGHJK", "ZZZZZZZZZZ", "0000000000", "x", "A" * 40])
def test_unknown_or_malformed_code_is_a_friendly_404(client, extended, code):
    response = client.get(_detail(code))
    assert response.status_code == 404
    html = response.content.decode()
    assert 'name="code"' in html  # the form again, to try another code
    assert SECRET_REFERENCE not in html


def test_code_is_normalised(client, extended):
    code = extended.tracking_code
    messy = f"{code[:4].lower()}-{code[4:]}"
    response = client.get(_detail(messy))
    assert response.status_code == 302
    assert response["Location"] == _detail(code)


def test_form_redirects_to_the_delivery_and_explains_bad_codes(client, extended):
    response = client.get(reverse("track:form"))
    assert response.status_code == 200
    assert 'for="id_code"' in response.content.decode()
    response = client.get(reverse("track:form"), {"code": f" {extended.tracking_code.lower()} "})
    assert response.status_code == 302
    assert response["Location"] == _detail(extended.tracking_code)
    response = client.get(reverse("track:form"), {"code": "no!"})
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()


def test_form_refuses_post(client):
    assert client.post(reverse("track:form"), {"code": "ABCDEFGHJK"}).status_code == 405


def test_lookups_are_rate_limited_per_ip(client, extended):
    limit = int(TRACK_RATE.split("/")[0])
    url = _detail(extended.tracking_code)
    for n in range(limit):
        code = extended.tracking_code if n % 2 else "ABCDEFGHJK"
        assert client.get(_detail(code), REMOTE_ADDR="10.0.0.1").status_code in (200, 404)
    limited = client.get(url, REMOTE_ADDR="10.0.0.1")
    assert limited.status_code == 429
    assert "Izin Usaha" not in limited.content.decode()
    assert client.get(url, REMOTE_ADDR="10.0.0.2").status_code == 200
