"""Staff pages: record, update, list; the CSV upload and the job page; permissions."""

from __future__ import annotations

import datetime as dt
import re
import time
import tracemalloc
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from delivery.models import DeliveryStatus, ServiceDelivery
from delivery.services import delivery_record
from delivery.tasks import delivery_import_task
from imports.models import ImportJob
from imports.services import imports_dir
from tests.accounts.conftest import login_verified
from tests.delivery.conftest import wib
from tests.delivery.ingest.conftest import HEADER, csv_bytes, row
from tests.tabular_files import BIG, MB, bomb, xlsx

with translation.override("en"):  # these tests read the English pages
    LIST = reverse("deliveries:list")
    CREATE = reverse("deliveries:create")
    IMPORT = reverse("deliveries:import")


@pytest.fixture
def delivery(ktp: Any) -> ServiceDelivery:
    recorded, _ = delivery_record(
        service=ktp,
        reference="REG-1",
        submitted_at=wib(2026, 1, 5),
        file_complete_at=wib(2026, 1, 5),
    )
    return recorded


def as_user(client: Client, user: Any) -> Client:
    if user is not None:
        login_verified(client, user)  # privileged roles pass two-factor first
    return client


# --- Permissions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "listing", "detail"),
    [
        ("editor_a", 200, 200),
        ("approver_a", 200, 200),
        ("superuser", 200, 200),
        ("admin_a", 403, 403),
        ("ombudsman", 403, 403),
        ("editor_b", 200, 404),  # records for agency B only; A's delivery does not exist for them
    ],
)
def test_permission_matrix(client, cast, delivery, who, listing, detail):
    as_user(client, cast[who])
    assert client.get(LIST).status_code == listing
    assert client.get(CREATE).status_code == listing
    assert client.get(IMPORT).status_code == listing
    url = reverse("deliveries:detail", args=[delivery.pk])
    assert client.get(url).status_code == detail
    pause = reverse("deliveries:status", args=[delivery.pk, "pause"])
    response = client.post(pause, {"pause-reason": "KK", "pause-at": "2026-01-06T09:00"})
    assert response.status_code == (302 if detail == 200 else detail)
    delivery.refresh_from_db()
    assert delivery.status == (DeliveryStatus.PAUSED if detail == 200 else DeliveryStatus.OPEN)


def test_anonymous_users_are_sent_to_log_in(client, delivery):
    for url in (
        LIST,
        CREATE,
        IMPORT,
        reverse("deliveries:detail", args=[delivery.pk]),
        reverse("deliveries:import_job", args=["0" * 32]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    response = client.post(reverse("deliveries:status", args=[delivery.pk, "withdraw"]), {})
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.OPEN


def test_agency_b_sees_none_of_agency_a(client, editor_b, delivery, service_b):
    delivery_record(service=service_b, reference="B-1", submitted_at=wib(2026, 1, 5))
    body = as_user(client, editor_b).get(LIST).content.decode()
    assert "B-1" in body and "REG-1" not in body
    response = client.post(
        CREATE,
        {
            "service": delivery.service_id,
            "reference": "SNEAK",
            "channel": "counter",
            "submitted_at": "2026-01-05T09:00",
        },
    )
    assert response.status_code == 200 and "service" in response.context["form"].errors
    assert not ServiceDelivery.objects.filter(reference="SNEAK").exists()


# --- Recording and status updates -------------------------------------------------------------


def test_recording_a_delivery_and_recording_it_again(client, editor_a, ktp):
    as_user(client, editor_a)
    data = {
        "service": ktp.pk,
        "reference": "REG-9",
        "channel": "online",
        "submitted_at": "2026-01-05T09:00",
        "file_complete_at": "2026-01-05T10:00",
        "fee_charged": "0",
    }
    response = client.post(CREATE, data)
    delivery = ServiceDelivery.objects.get(reference="REG-9")
    assert response.status_code == 302
    assert response["Location"] == reverse("deliveries:detail", args=[delivery.pk])
    assert delivery.submitted_at == dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC)
    assert delivery.due_date == dt.date(2026, 1, 12) and delivery.channel == "online"
    page = client.get(response["Location"]).content.decode()
    assert delivery.tracking_code in page and "12 Jan 2026" in page
    response = client.post(CREATE, {**data, "fee_charged": "5000"}, follow=True)
    assert ServiceDelivery.objects.filter(reference="REG-9").count() == 1
    assert ServiceDelivery.objects.get(reference="REG-9").fee_charged == 5000
    assert "updated" in response.content.decode()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"completed_at": "2026-01-04T09:00"}, "completed_at"),
        ({"submitted_at": "kemarin"}, "submitted_at"),
        ({"submitted_at": ""}, "submitted_at"),
        ({"fee_charged": "-1"}, "fee_charged"),
        ({"reference": ""}, "reference"),
        ({"outcome": "maybe"}, "outcome"),
        ({"service": "999999"}, "service"),
        ({"submitted_at": "2025-05-01T09:00", "file_complete_at": ""}, "submitted_at"),
    ],
)
def test_bad_input_shows_field_errors(client, editor_a, ktp, changes, field):
    as_user(client, editor_a)
    data = {
        "service": ktp.pk,
        "reference": "REG-8",
        "channel": "counter",
        "submitted_at": "2026-01-05T09:00",
        "file_complete_at": "2026-01-05T09:00",
        **changes,
    }
    response = client.post(CREATE, data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert ServiceDelivery.objects.count() == 0


def test_pause_resume_complete(client, editor_a, delivery):
    as_user(client, editor_a)
    url = lambda name: reverse("deliveries:status", args=[delivery.pk, name])  # noqa: E731
    assert (
        client.post(url("pause"), {"pause-reason": "", "pause-at": "2026-01-06T09:00"}).status_code
        == 400
    )
    client.post(url("pause"), {"pause-reason": "KK belum dibawa", "pause-at": "2026-01-06T09:00"})
    client.post(url("resume"), {"resume-at": "2026-01-08T09:00"})
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.OPEN and delivery.due_date == dt.date(2026, 1, 14)
    response = client.post(
        url("complete"),
        {"complete-completed_at": "2026-01-04T09:00", "complete-outcome": "granted"},
    )
    assert response.status_code == 400 and "before" in response.content.decode()
    client.post(
        url("complete"),
        {
            "complete-completed_at": "2026-01-13T10:00",
            "complete-outcome": "granted",
            "complete-fee_charged": "0",
        },
    )
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.COMPLETED and delivery.is_on_time
    page = client.get(reverse("deliveries:detail", args=[delivery.pk])).content.decode()
    assert "KK belum dibawa" in page and 'action="' + url("complete") not in page
    # A closed request cannot be withdrawn: an error, not a 500.
    response = client.post(url("withdraw"), {"withdraw-at": "2026-01-14T09:00"})
    assert response.status_code == 400
    assert client.post(url("fly"), {}).status_code == 404


def test_waiting_file_complete_and_withdraw(client, editor_a, ktp):
    waiting, _ = delivery_record(service=ktp, reference="W-1", submitted_at=wib(2026, 1, 5))
    as_user(client, editor_a)
    client.post(
        reverse("deliveries:status", args=[waiting.pk, "file-complete"]),
        {"file-complete-at": "2026-01-07T09:00"},
    )
    waiting.refresh_from_db()
    assert waiting.status == DeliveryStatus.OPEN and waiting.due_date == dt.date(2026, 1, 14)
    client.post(
        reverse("deliveries:status", args=[waiting.pk, "withdraw"]),
        {"withdraw-at": "2026-01-08T09:00"},
    )
    waiting.refresh_from_db()
    assert waiting.status == DeliveryStatus.WITHDRAWN


def test_only_approvers_extend_and_only_once(client, editor_a, approver_a, delivery):
    url = reverse("deliveries:status", args=[delivery.pk, "extend"])
    data = {"extend-new_due_date": "2026-01-20", "extend-reason": "Survei lapangan"}
    detail = reverse("deliveries:detail", args=[delivery.pk])
    assert url not in as_user(client, editor_a).get(detail).content.decode()
    assert client.post(url, data).status_code == 403
    assert url in as_user(client, approver_a).get(detail).content.decode()
    assert client.post(url, {**data, "extend-new_due_date": "2026-01-02"}).status_code == 400
    assert client.post(url, data).status_code == 302
    delivery.refresh_from_db()
    assert (
        delivery.due_date == dt.date(2026, 1, 20) and delivery.extension_approved_by == approver_a
    )
    assert client.post(url, {**data, "extend-new_due_date": "2026-01-27"}).status_code == 400


# --- The list ----------------------------------------------------------------------------------


def _many(ktp: Any, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        delivery_record(
            service=ktp,
            reference=f"L-{i:03d}",
            submitted_at=wib(2026, 1, 5) + dt.timedelta(days=i % 200),
            file_complete_at=wib(2026, 1, 5) + dt.timedelta(days=i % 200),
            completed_at=wib(2026, 1, 5) + dt.timedelta(days=i % 200, hours=2) if i % 2 else None,
        )


def test_filters_and_pagination(client, editor_a, ktp, legalisir):
    _many(ktp, 60)
    delivery_record(service=legalisir, reference="LEG-1", submitted_at=wib(2026, 11, 20, 9))
    as_user(client, editor_a)
    first = client.get(LIST)
    assert first.context["page"].paginator.count == 61
    assert len(first.context["page"].object_list) == 50
    assert client.get(LIST, {"page": 2}).context["page"].object_list.__len__() == 11
    assert client.get(LIST, {"page": "x"}).status_code == 200
    assert client.get(LIST, {"status": "completed"}).context["page"].paginator.count == 30
    assert client.get(LIST, {"service": legalisir.pk}).context["page"].paginator.count == 1
    overdue = client.get(LIST, {"overdue": "on"}).context["page"]
    # Every open one is past due by now (November 2026), the 4-hour one of 20 November too.
    assert overdue.paginator.count == 31
    assert all(d.status == "open" for d in overdue.object_list)
    assert client.get(LIST, {"q": "L-007"}).context["page"].paginator.count == 1
    assert client.get(LIST, {"status": "nonsense", "service": "abc"}).status_code == 200


def test_the_list_takes_a_constant_number_of_queries(
    client, editor_a, ktp, django_assert_num_queries
):
    as_user(client, editor_a)
    _many(ktp, 3)
    client.get(LIST)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    _many(ktp, 45, start=3)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(LIST)
    assert len(response.context["page"].object_list) == 48


# --- The CSV upload and the job page ---------------------------------------------------------


def upload(client: Client, agency: Any, content: bytes, name: str = "permohonan.csv") -> Any:
    return client.post(IMPORT, {"agency": agency.pk, "file": SimpleUploadedFile(name, content)})


def test_upload_then_job_page_then_error_report(
    client, editor_a, agency_a, ktp, django_capture_on_commit_callbacks
):
    as_user(client, editor_a)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(
            client, agency_a, csv_bytes([row("K-1"), row("K-2", fee="-10"), row("K-3")])
        )
    assert response.status_code == 302 and len(callbacks) == 1
    job_id = response["Location"].rstrip("/").rsplit("/", 1)[1]
    page = client.get(response["Location"])
    body = page.content.decode()
    assert '<meta http-equiv="refresh" content="2">' in body
    assert '<progress id="import-progress" max="100" value="0">' in body
    delivery_import_task.run(job_id)
    body = client.get(response["Location"]).content.decode()
    assert "http-equiv" not in body and 'value="100"' in body
    assert "Good rows are kept; fix and re-upload only the failed lines." in body
    assert "negative" in body and ">3<" in body  # line 3
    report = client.get(reverse("deliveries:import_report", args=[job_id]))
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")
    content = b"".join(report.streaming_content).decode()
    assert "K-2" in content and "K-1" not in content and "fee_charged: " in content
    assert ServiceDelivery.objects.count() == 2
    # Another user cannot see the job.
    stranger = Client()
    from tests import factories

    stranger_user: Any = factories.UserFactory(username="stranger")
    stranger.force_login(stranger_user)
    assert stranger.get(response["Location"]).status_code == 404
    assert stranger.get(reverse("deliveries:import_report", args=[job_id])).status_code == 404


def test_a_50_mb_upload_is_refused_unstored(client, editor_a, agency_a, ktp):
    as_user(client, editor_a)
    before = set(imports_dir().iterdir())
    big = csv_bytes([row("K-1")]) + b"x" * (50 * 1024 * 1024)
    response = upload(client, agency_a, big)
    assert response.status_code == 400
    assert "larger than 20 MB" in response.content.decode()
    assert set(imports_dir().iterdir()) == before
    assert ServiceDelivery.objects.count() == 0


def test_a_file_in_another_encoding_is_refused(client, editor_a, agency_a, ktp):
    as_user(client, editor_a)
    content = csv_bytes([row("Pak Dédé")]).decode().encode("cp1252")
    response = upload(client, agency_a, content)
    assert response.status_code == 400 and "UTF-8" in response.content.decode()


def test_missing_columns_are_refused_on_upload(client, editor_a, agency_a, ktp):
    as_user(client, editor_a)
    response = upload(client, agency_a, b"reference,service_slug\nK-1,ktp-elektronik\n")
    assert response.status_code == 400
    assert "Missing columns" in response.content.decode()


def test_uploading_for_another_agency_is_refused(client, editor_a, agency_b, ktp):
    as_user(client, editor_a)
    response = upload(client, agency_b, csv_bytes([row("K-1")]))
    assert response.status_code == 400 and "agency" in response.context["form"].errors


def test_upload_without_csrf_token_is_refused(editor_a, agency_a, ktp):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor_a)
    response = upload(client, agency_a, csv_bytes([row("K-1")]))
    assert response.status_code == 403


def test_job_of_an_unknown_id_is_404(client, editor_a):
    as_user(client, editor_a)
    assert client.get(reverse("deliveries:import_job", args=["f" * 32])).status_code == 404
    assert client.get(reverse("deliveries:import_job", args=["nope"])).status_code == 404
    assert client.get(reverse("deliveries:import_report", args=["nope"])).status_code == 404


def test_the_complete_action_and_the_completeness_column_read_differently(
    client, editor_a, delivery
):
    """One English word, two meanings: the action on a request and a standard's state."""
    as_user(client, editor_a)
    with translation.override("id"):
        url = reverse("deliveries:detail", args=[delivery.pk])  # unprefixed: Indonesian
    assert not url.startswith("/en/")
    html = client.get(url).content.decode()
    assert "Selesaikan permohonan</h3>" in html
    assert ">Lengkap</h3>" not in html


# --- Workbooks and hostile files (shared reader: core.tabular) --------------------------------


@pytest.mark.parametrize("shared", [False, True], ids=["inline", "shared-string"])
def test_a_zip_bomb_is_refused_quickly_without_a_huge_page(client, editor_a, agency_a, ktp, shared):
    as_user(client, editor_a)
    before = set(imports_dir().iterdir())
    content = bomb([HEADER, [BIG, *row("K-1")[1:]]], size=50 * MB, shared=shared)
    assert len(content) < MB
    upload(client, agency_a, b"", "permohonan.xlsx")  # the page and its catalogues loaded once
    tracemalloc.start()
    started = time.monotonic()
    try:
        response = upload(client, agency_a, content, "permohonan.xlsx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 10
    assert response.status_code == 400
    assert "not an ordinary spreadsheet" in response.content.decode()
    assert len(response.content) < 100_000
    assert peak < 10 * MB  # the 50 MB cell was never expanded
    assert set(imports_dir().iterdir()) == before
    assert ServiceDelivery.objects.count() == 0


def test_an_overlong_cell_is_refused_on_upload_with_its_line(client, editor_a, agency_a, ktp):
    as_user(client, editor_a)
    before = set(imports_dir().iterdir())
    content = csv_bytes([row("K-1"), row("K-2"), row("K-3", channel="Loket utama " * 2000)])
    response = upload(client, agency_a, content)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Line 4: A cell is longer than 10000 characters" in html
    quote = re.search(r"\(it begins “([^”]*)…”\)", html)
    assert quote is not None and len(quote.group(1)) <= 40
    assert len(response.content) < 100_000
    assert set(imports_dir().iterdir()) == before
    assert ServiceDelivery.objects.count() == 0


def test_a_workbook_is_imported_like_a_csv(
    client, editor_a, agency_a, ktp, django_capture_on_commit_callbacks
):
    as_user(client, editor_a)
    rows: list[list[Any]] = [
        HEADER,
        ["K-1", "ktp-elektronik", dt.datetime(2026, 1, 5, 9, 0), dt.datetime(2026, 1, 5, 9, 0)],
        [1002, "ktp-elektronik", "2026-01-05 10:00", "2026-01-05 10:00", "", "", 15000],
        ["K-3", "ktp-elektronik", "2026-01-05 10:00", "", "", "", -5],
    ]
    with django_capture_on_commit_callbacks(execute=False):
        response = upload(client, agency_a, xlsx(rows), "permohonan.xlsx")
    assert response.status_code == 302, response.content.decode()[:3000]
    job_id = response["Location"].rstrip("/").rsplit("/", 1)[1]
    delivery_import_task.run(job_id)
    job = ImportJob.objects.get(pk=job_id)
    assert job.state == "done", job.message
    assert (job.created, job.errors, job.lines, job.file_format) == (2, 1, 4, "xlsx")
    assert job.error_sample[0]["line"] == 4
    first = ServiceDelivery.objects.get(reference="K-1")
    assert first.submitted_at == dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC)  # 09:00 WIB
    assert ServiceDelivery.objects.get(reference="1002").fee_charged == 15000


# --- Import jobs are rows: owner only, nothing in the cache ------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("editor_a", 200),  # the owner
        ("approver_a", 404),  # same agency, same right: still not theirs
        ("admin_a", 404),
        ("editor_b", 404),
        ("ombudsman", 404),
        ("superuser", 404),
        ("anonymous", 302),
    ],
)
def test_only_the_owner_sees_an_import_job(client, cast, agency_a, ktp, who, expected):
    from delivery.importing import import_start

    job = import_start(
        agency=agency_a,
        user=cast["editor_a"],
        upload=SimpleUploadedFile("p.csv", csv_bytes([row("K-1", fee="-1")])),
        language="en",
    )
    delivery_import_task.run(str(job.pk))
    as_user(client, cast[who])
    page = reverse("deliveries:import_job", args=[job.pk])
    report = reverse("deliveries:import_report", args=[job.pk])
    assert client.get(page).status_code == expected
    assert client.get(report).status_code == expected


def test_an_owner_who_lost_the_right_no_longer_sees_the_job(client, editor_a, agency_a, ktp):
    from delivery.importing import import_start

    job = import_start(
        agency=agency_a,
        user=editor_a,
        upload=SimpleUploadedFile("p.csv", csv_bytes([row("K-1")])),
        language="en",
    )
    as_user(client, editor_a)
    page = reverse("deliveries:import_job", args=[job.pk])
    assert client.get(page).status_code == 200
    editor_a.memberships.update(role="agency_admin")  # may no longer record deliveries
    assert client.get(page).status_code == 404


def test_a_job_survives_a_cache_eviction(client, editor_a, agency_a, ktp):
    from django.core.cache import cache

    as_user(client, editor_a)
    response = upload(client, agency_a, csv_bytes([row("K-1"), row("K-2")]))
    assert response.status_code == 302
    job_id = response["Location"].rstrip("/").rsplit("/", 1)[1]
    cache.clear()  # a restart of a per-process cache, or an eviction
    assert "Waiting to start" in client.get(response["Location"]).content.decode()
    delivery_import_task.run(job_id)
    cache.clear()
    body = client.get(response["Location"]).content.decode()
    assert 'value="100"' in body and ServiceDelivery.objects.count() == 2
