"""The CSV import through the real broker: upload, a Celery worker runs the job."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agencies.calendars import calendar_national, calendar_rebuild
from delivery.models import ServiceDelivery
from imports.models import ImportJob
from imports.services import job_file
from tests import factories
from tests.delivery.conftest import wib
from tests.delivery.ingest.conftest import csv_bytes, row
from tests.registry import make_published, make_service

pytestmark = pytest.mark.worker


def test_an_uploaded_file_is_imported_by_a_real_worker(
    celery_worker_process, transactional_db, client
):
    calendar_rebuild(calendar_national(), span=(2025, 2027))
    agency: Any = factories.AgencyFactory(slug="dinas-worker")
    unit: Any = factories.UnitFactory(agency=agency, slug="unit-worker")
    service = make_service(agency, unit, name="KTP Elektronik")
    make_published(service, published_at=wib(2025, 6, 1))
    user: Any = factories.UserFactory(username="worker_editor")
    factories.MembershipFactory(user=user, agency=agency, role="editor")
    client.force_login(user)

    content = csv_bytes([row(f"K-{i}") for i in range(1, 21)] + [row("K-bad", fee="-1")])
    response = client.post(
        reverse("deliveries:import"),
        {"agency": agency.pk, "file": SimpleUploadedFile("permohonan.csv", content)},
    )
    assert response.status_code == 302, response.content
    job_id = response["Location"].rstrip("/").rsplit("/", 1)[1]
    deadline = time.monotonic() + 60
    job = ImportJob.objects.get(pk=job_id)
    while not job.finished:
        assert time.monotonic() < deadline, job.state
        time.sleep(0.2)
        job.refresh_from_db()
    assert job.state == "done", job.message
    assert (job.created, job.errors) == (20, 1)
    assert ServiceDelivery.objects.filter(agency=agency).count() == 20
    page = client.get(response["Location"]).content.decode()
    assert 'value="100"' in page and "K-bad" in page
    for name in (job.upload_file, job.report_file):
        path = job_file(name)
        if path is not None:
            path.unlink(missing_ok=True)
