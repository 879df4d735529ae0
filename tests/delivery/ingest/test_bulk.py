"""The bulk recorder and the bulk API: same due dates as delivery_record, idempotent,
every bad item reported with its reason and index, good items kept, no 500."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import translation

from agencies.calendars import calendar_rebuild
from agencies.models import Calendar
from delivery.bulk import MAX_ITEMS, DeliveryRecorder
from delivery.models import DeliveryStatus, ServiceDelivery
from delivery.services import delivery_pause, delivery_record
from tests.accounts.conftest import login_verified
from tests.delivery.conftest import wib
from tests.delivery.ingest.conftest import snapshot
from tests.problems import problem, problem_fields
from tests.registry import make_published, make_service

URL = "/api/v1/deliveries/bulk/"
D = dt.date
COMPARED = (
    "version_id",
    "calendar_id",
    "promise_value",
    "promise_unit",
    "clock_started_at",
    "clock_start_date",
    "due_date",
    "due_at",
    "working_days_taken",
    "status",
    "outcome",
    "fee_charged",
)


def item(reference: str, **fields: Any) -> dict[str, Any]:
    data = {
        "reference": reference,
        "service": "ktp-elektronik",
        "submitted_at": "2026-01-05T09:00:00+07:00",
        "file_complete_at": "2026-01-05T09:00:00+07:00",
        "completed_at": None,
        "outcome": "",
        "fee_charged": 0,
        "channel": "counter",
    }
    data.update(fields)
    return data


def post(api: Any, items: list[Any], agency: str = "dinas-a", method: str = "post") -> Any:
    return getattr(api, method)(URL, {"agency": agency, "items": items}, format="json")


def _fields(delivery: ServiceDelivery) -> dict[str, Any]:
    return {name: getattr(delivery, name) for name in COMPARED}


# --- The same clock as delivery_record -------------------------------------------------------


@pytest.fixture
def wita_unit(agency_a: Any, national: Any) -> Any:
    from tests import factories

    calendar = Calendar.objects.create(
        name="Makassar", slug="makassar", parent=national, utc_offset_hours=8
    )
    calendar_rebuild(calendar, span=(2025, 2027))
    return factories.UnitFactory(agency=agency_a, slug="unit-wita", calendar=calendar)


def _cases() -> list[dict[str, Any]]:
    """Dates across weekends, Isra Mikraj, Idul Fitri 2026 and its collective leave, the
    year's end; open, waiting, completed, refused and withdrawn requests."""
    cases = []
    starts = [wib(2025, 12, 30, 15), wib(2026, 1, 9, 14), wib(2026, 1, 15, 7, 30)]
    starts += [wib(2026, 3, d, h) for d in (13, 17, 18, 19, 20, 23) for h in (6, 10, 15)]
    starts += [wib(2026, 6, 1, 9), wib(2026, 11, 20, 16, 30)]
    for n, start in enumerate(starts):
        for service in ("ktp-elektronik", "legalisir", "akta-wita", "izin-kalender"):
            completed = start + dt.timedelta(days=n % 9, hours=3) if n % 3 else None
            cases.append(
                {
                    "service": service,
                    "submitted_at": start,
                    "file_complete_at": None if n % 7 == 3 else start + dt.timedelta(hours=n % 4),
                    "completed_at": completed,
                    "outcome": ["", "granted", "refused", "withdrawn"][n % 4]
                    if completed
                    else ("withdrawn" if n % 5 == 4 else ""),
                    "fee_charged": n * 1000,
                    "channel": "online",
                }
            )
    return cases


def test_bulk_due_dates_equal_delivery_records(agency_a, unit_a, wita_unit, ktp, legalisir):
    akta = make_service(agency_a, wita_unit, name="Akta WITA")
    make_published(akta, published_at=wib(2025, 6, 1), processing_time_value=3)
    izin = make_service(agency_a, unit_a, name="Izin Kalender")
    make_published(
        izin,
        published_at=wib(2025, 6, 1),
        processing_time_value=10,
        processing_time_unit="calendar_days",
        clock_start="on_receipt",
    )
    services = {s.slug: s for s in (ktp, legalisir, akta, izin)}
    cases = _cases()
    recorder = DeliveryRecorder(agency=agency_a, acting_user=None)
    raw = [
        (
            i,
            {
                **case,
                "reference": f"BULK-{i}",
                "submitted_at": case["submitted_at"].isoformat(),
                "file_complete_at": case["file_complete_at"]
                and case["file_complete_at"].isoformat(),
                "completed_at": case["completed_at"] and case["completed_at"].isoformat(),
            },
        )
        for i, case in enumerate(cases)
    ]
    results = recorder.record(raw, chunk_size=17)
    assert [r.result for r in results] == ["created"] * len(cases), [
        r.errors for r in results if r.errors
    ]
    for i, case in enumerate(cases):
        twin, _ = delivery_record(
            service=services[case["service"]],
            reference=f"ONE-{i}",
            submitted_at=case["submitted_at"],
            file_complete_at=case["file_complete_at"],
            completed_at=case["completed_at"],
            outcome=case["outcome"],
            fee_charged=case["fee_charged"],
            channel=case["channel"],
        )
        bulk = ServiceDelivery.objects.get(agency=agency_a, reference=f"BULK-{i}")
        assert _fields(bulk) == _fields(twin), case
    # Some of each kind, so that the comparison meant something.
    statuses = set(ServiceDelivery.objects.values_list("status", flat=True))
    assert statuses == {"open", "waiting", "completed", "withdrawn"}
    assert ServiceDelivery.objects.filter(due_date__isnull=False).count() > len(cases)


def test_naive_times_are_read_in_the_units_time_zone(agency_a, wita_unit, national):
    akta = make_service(agency_a, wita_unit, name="Akta WITA")
    make_published(akta, published_at=wib(2025, 6, 1))
    recorder = DeliveryRecorder(agency=agency_a, acting_user=None)
    [result] = recorder.record(
        [(0, item("W-1", service="akta-wita", submitted_at="2026-01-05 09:00"))]
    )
    assert result.delivery_id is not None
    delivery = ServiceDelivery.objects.get(pk=result.delivery_id)
    assert delivery.submitted_at == dt.datetime(2026, 1, 5, 1, 0, tzinfo=dt.UTC)


def test_updating_a_paused_delivery_keeps_its_pause_like_delivery_record(agency_a, ktp):
    for reference in ("P-BULK", "P-ONE"):
        delivery, _ = delivery_record(
            service=ktp,
            reference=reference,
            submitted_at=wib(2026, 1, 5),
            file_complete_at=wib(2026, 1, 5),
        )
        delivery_pause(delivery=delivery, reason="KK belum dibawa", at=wib(2026, 1, 6))
    DeliveryRecorder(agency=agency_a, acting_user=None).record(
        [(0, item("P-BULK", fee_charged=5000))]
    )
    twin, created = delivery_record(
        service=ktp,
        reference="P-ONE",
        submitted_at=wib(2026, 1, 5),
        file_complete_at=wib(2026, 1, 5),
        fee_charged=5000,
    )
    bulk = ServiceDelivery.objects.get(reference="P-BULK")
    assert not created and bulk.status == DeliveryStatus.PAUSED
    assert _fields(bulk) == _fields(twin)
    assert bulk.tracking_code != twin.tracking_code


# --- The API: happy path and idempotency -------------------------------------------------------


def test_bulk_creates_then_updates_without_duplicates(api, editor_a, ktp):
    api.force_login(editor_a)
    items = [item(f"A-{i}") for i in range(30)]
    first = post(api, items)
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["totals"] == {"total": 30, "created": 30, "updated": 0, "error": 0}
    assert [r["index"] for r in body["results"]] == list(range(30))
    assert [r["reference"] for r in body["results"]] == [f"A-{i}" for i in range(30)]
    before = snapshot()
    codes = dict(ServiceDelivery.objects.values_list("reference", "tracking_code"))
    again = post(api, items)
    assert again.status_code == 200
    assert again.json()["totals"] == {"total": 30, "created": 0, "updated": 30, "error": 0}
    assert {r["result"] for r in again.json()["results"]} == {"updated"}
    assert snapshot() == before
    assert dict(ServiceDelivery.objects.values_list("reference", "tracking_code")) == codes
    delivery = ServiceDelivery.objects.get(reference="A-0")
    assert delivery.due_date == D(2026, 1, 12) and delivery.status == DeliveryStatus.OPEN


def test_status_updates_through_the_same_endpoint(api, approver_a, ktp):
    api.force_login(approver_a)
    post(api, [item("S-1"), item("S-2"), item("S-3")])
    response = post(
        api,
        [
            item("S-1", completed_at="2026-01-09T10:00:00+07:00", outcome="granted", fee_charged=0),
            item("S-2", completed_at="2026-01-20 10:00", outcome="refused", refusal_reason="Palsu"),
            item("S-3", outcome="withdrawn"),
        ],
        method="patch",
    )
    assert response.status_code == 200, response.content
    assert response.json()["totals"]["updated"] == 3
    s1, s2, s3 = ServiceDelivery.objects.filter(reference__startswith="S-").order_by("reference")
    assert s1.status == DeliveryStatus.COMPLETED and s1.is_on_time and s1.working_days_taken == 4
    assert s2.outcome == "refused" and s2.refusal_reason == "Palsu" and s2.is_on_time is False
    assert s3.status == DeliveryStatus.WITHDRAWN
    assert ServiceDelivery.objects.count() == 3


def test_a_password_only_superuser_session_cannot_record(api, superuser, ktp):
    """The superuser's session without its second factor never reaches the bulk path."""
    api.force_login(superuser)
    response = post(api, [item("2FA-1")])
    assert problem(response, 403)["code"] == "second_factor_required"
    assert ServiceDelivery.objects.count() == 0


def test_an_agency_read_write_key_records(api, admin_a, ktp):
    from agencies.api_keys import api_key_create

    _key, secret = api_key_create(
        agency=admin_a.memberships.get().agency,
        name="SIAK",
        scope="read_write",
        expires_at=None,
        acting_user=admin_a,
    )
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    response = post(api, [item("K-1")])
    assert response.status_code == 200, response.content
    assert response.json()["results"][0]["result"] == "created"


def test_a_bulk_request_takes_a_bounded_number_of_queries(
    api, editor_a, ktp, django_assert_max_num_queries
):
    api.force_login(editor_a)
    items = [item(f"Q-{i}") for i in range(1200)]
    with django_assert_max_num_queries(40):
        response = post(api, items)
    assert response.json()["totals"]["created"] == 1200
    with django_assert_max_num_queries(40):
        response = post(api, items)
    assert response.json()["totals"]["updated"] == 1200


# --- Malformed items: every one reported, good ones kept ------------------------------------


@pytest.fixture
def old_service(agency_a, unit_a, national):
    """Published long ago, so a submission in 2024 is outside the materialised calendar."""
    service = make_service(agency_a, unit_a, name="Lama")
    make_published(service, published_at=wib(2020, 1, 1))
    return service


BAD_ITEMS: list[tuple[Any, str, str]] = [
    (item(""), "reference", "required"),
    (item("X" * 81), "reference", "80 characters"),
    (item("B-date", submitted_at="5 Januari 2026"), "submitted_at", "Not a date"),
    (item("B-day", submitted_at="2026-01-05"), "submitted_at", "time of day"),
    (item("B-month", submitted_at="2026-13-05 09:00"), "submitted_at", "Not a date"),
    (item("B-none", submitted_at=None), "submitted_at", "required"),
    (item("B-type", submitted_at=20260105), "submitted_at", "as text"),
    (item("B-order", completed_at="2026-01-04T09:00:00+07:00"), "completed_at", "before"),
    (item("B-file", file_complete_at="2026-01-04 09:00"), "file_complete_at", "before"),
    (
        item("B-future", submitted_at="2099-01-05 09:00", file_complete_at=None),
        "submitted_at",
        "future",
    ),
    (item("B-fee", fee_charged=-5000), "fee_charged", "negative"),
    (item("B-fee2", fee_charged="lima ribu"), "fee_charged", "whole number"),
    (item("B-fee3", fee_charged=12.5), "fee_charged", "whole number"),
    (item("B-svc", service="tidak-ada"), "service", "Unknown service"),
    (item("B-other", service="surat-pindah"), "service", "Unknown service"),
    (item("B-outcome", outcome="maybe"), "outcome", "Unknown outcome"),
    (item("B-channel", channel="fax"), "channel", "Unknown channel"),
    (
        item("B-early", submitted_at="2025-05-01 09:00", file_complete_at=None),
        "submitted_at",
        "no published standard",
    ),
    (
        item(
            "B-span",
            service="lama",
            submitted_at="2024-06-03 09:00",
            file_complete_at="2024-06-03 09:00",
        ),
        "non_field_errors",
        "calendar",
    ),
    ("not an object", "non_field_errors", "object"),
    (item("B-list") | {"reference": ["A"]}, "reference", "text"),
]


def test_a_date_outside_the_calendar_is_refused_in_the_language_of_the_request(
    agency_a, old_service
):
    """The clock's span error is translated per item, as every other item message."""
    raw = item(
        "B-span",
        service="lama",
        submitted_at="2024-06-03 09:00",
        file_complete_at="2024-06-03 09:00",
    )
    with translation.override("id"):
        [result] = DeliveryRecorder(agency=agency_a, acting_user=None).record([(0, raw)])
    assert result.result == "error"
    assert result.errors == {
        "non_field_errors": ["Kalender kerja tidak mencakup tanggal ini; perpanjang rentangnya."]
    }


def test_every_bad_item_is_reported_and_good_items_are_kept(
    api, editor_a, ktp, service_b, old_service
):
    api.force_login(editor_a)
    items: list[Any] = []
    expected: dict[int, tuple[str, str]] = {}
    for n, (bad, field, words) in enumerate(BAD_ITEMS):
        items.append(item(f"GOOD-{n}"))
        expected[len(items)] = (field, words)
        items.append(bad)
    items.append(item("GOOD-1"))  # the same reference again: the second one is refused
    expected[len(items) - 1] = ("reference", "item 2")
    response = post(api, items)
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(len(items)))
    for index, result in enumerate(results):
        if index in expected:
            field, words = expected[index]
            assert result["result"] == "error", (index, result)
            assert field in result["errors"], (index, result)
            assert words.lower() in " ".join(result["errors"][field]).lower(), (index, result)
        else:
            assert result["result"] == "created", (index, result)
    assert response.json()["totals"]["error"] == len(expected)
    good = {f"GOOD-{n}" for n in range(len(BAD_ITEMS))}
    assert set(ServiceDelivery.objects.values_list("reference", flat=True)) == good


def test_a_reference_of_another_service_is_refused(api, editor_a, ktp, legalisir):
    api.force_login(editor_a)
    post(api, [item("R-1")])
    response = post(api, [item("R-1", service="legalisir"), item("R-2", service="legalisir")])
    first, second = response.json()["results"]
    assert first["result"] == "error" and "another service" in first["errors"]["reference"][0]
    assert second["result"] == "created"
    assert ServiceDelivery.objects.get(reference="R-1").service == ktp


# --- Malformed requests ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "non_field_errors"),
        ({"agency": "dinas-a"}, "items"),
        ({"agency": "dinas-a", "items": {"a": 1}}, "items"),
        ({"agency": "dinas-a", "items": []}, "items"),
        ({"items": [item("X")]}, "agency"),
        ({"agency": 5, "items": [item("X")]}, "agency"),
    ],
)
def test_malformed_requests_answer_400(api, editor_a, ktp, body, field):
    api.force_login(editor_a)
    response = api.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    error = problem(response)
    assert error["code"] == "invalid" and field in problem_fields(error)
    assert ServiceDelivery.objects.count() == 0


def test_invalid_json_answers_400(api, editor_a, ktp):
    api.force_login(editor_a)
    response = api.generic(
        "POST", URL, '{"agency": "dinas-a", "items": [', content_type="application/json"
    )
    assert response.status_code == 400
    assert problem(response)["code"] == "parse_error"


def test_more_than_ten_thousand_items_answer_413(api, editor_a, ktp):
    api.force_login(editor_a)
    response = post(api, [{"reference": str(i)} for i in range(MAX_ITEMS + 1)])
    assert response.status_code == 413
    assert "10000" in problem(response)["detail"]
    assert ServiceDelivery.objects.count() == 0


def test_a_50_mb_body_answers_413_unread(api, editor_a, ktp):
    api.force_login(editor_a)
    payload = json.dumps(
        {"agency": "dinas-a", "items": [item("X")], "pad": "x" * (50 * 1024 * 1024)}
    )
    response = api.generic("POST", URL, payload, content_type="application/json")
    assert response.status_code == 413
    assert problem(response)["code"] == "too_large"


# --- Permissions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("editor_a", 200),
        ("approver_a", 200),
        ("superuser", 200),
        ("admin_a", 403),
        ("editor_b", 403),
        ("ombudsman", 403),
        ("anonymous", 401),
    ],
)
def test_permission_matrix(api, cast, ktp, who, expected):
    if cast[who] is not None:
        login_verified(api, cast[who])
    response = post(api, [item("M-1")])
    assert response.status_code == expected, response.content
    assert ServiceDelivery.objects.count() == (1 if expected == 200 else 0)
    if expected != 200:
        problem(response)


def test_unknown_agency_is_404(api, editor_a, ktp):
    api.force_login(editor_a)
    assert post(api, [item("X")], agency="tidak-ada").status_code == 404


def test_a_unit_limited_editor_records_only_in_their_unit(api, agency_a, unit_a, ktp, national):
    from agencies.models import Role
    from tests import factories

    other_unit = factories.UnitFactory(agency=agency_a, slug="unit-lain")
    other = make_service(agency_a, other_unit, name="Lain")
    make_published(other, published_at=wib(2025, 6, 1))
    user = factories.UserFactory(username="unit_editor")
    factories.MembershipFactory(user=user, agency=agency_a, unit=unit_a, role=Role.EDITOR)
    api.force_login(user)
    response = post(api, [item("U-1"), item("U-2", service="lain")])
    first, second = response.json()["results"]
    assert first["result"] == "created"
    assert second["result"] == "error" and "service" in second["errors"]


def test_completing_a_paused_delivery_ends_its_pause_like_delivery_record(agency_a, ktp):
    """Re-sent as completed while the clock is stopped: the pause ends at completion and its
    days are not counted, through the bulk path and delivery_record alike."""
    from delivery.models import DeliveryPause

    for reference in ("C-BULK", "C-ONE"):
        delivery, _ = delivery_record(
            service=ktp,
            reference=reference,
            submitted_at=wib(2026, 1, 5),
            file_complete_at=wib(2026, 1, 5),
        )
        delivery_pause(delivery=delivery, reason="KK belum dibawa", at=wib(2026, 1, 6, 9))
    completed = wib(2026, 1, 9, 10)  # Friday: paused Tue 6 -> Fri 9 = 3 working days
    results = DeliveryRecorder(agency=agency_a, acting_user=None).record(
        [(0, item("C-BULK", completed_at=completed.isoformat(), outcome="granted"))]
    )
    assert [r.result for r in results] == ["updated"], results
    twin, created = delivery_record(
        service=ktp,
        reference="C-ONE",
        submitted_at=wib(2026, 1, 5),
        file_complete_at=wib(2026, 1, 5),
        completed_at=completed,
        outcome="granted",
    )
    bulk = ServiceDelivery.objects.get(reference="C-BULK")
    assert not created
    for delivery in (bulk, twin):
        assert delivery.status == DeliveryStatus.COMPLETED
        assert delivery.paused_working_days == 3
        assert delivery.working_days_taken == 1  # Mon 5 -> Fri 9 is 4, less the 3 paused
        pause = DeliveryPause.objects.get(delivery=delivery)
        assert pause.ended_at == completed
    assert _fields(bulk) == _fields(twin)


def test_completion_before_the_pause_began_is_refused_per_item(agency_a, ktp):
    from core.errors import ApplicationError

    for reference in ("E-BULK", "E-ONE"):
        delivery, _ = delivery_record(
            service=ktp,
            reference=reference,
            submitted_at=wib(2026, 1, 5),
            file_complete_at=wib(2026, 1, 5),
        )
        delivery_pause(delivery=delivery, reason="KK belum dibawa", at=wib(2026, 1, 7, 9))
    too_early = wib(2026, 1, 6, 9)
    results = DeliveryRecorder(agency=agency_a, acting_user=None).record(
        [
            (0, item("E-BULK", completed_at=too_early.isoformat(), outcome="granted")),
            (1, item("E-NEW")),
        ]
    )
    by_reference = {r.reference: r for r in results}
    assert by_reference["E-BULK"].result == "error"
    assert "completed_at" in by_reference["E-BULK"].errors
    assert by_reference["E-NEW"].result == "created"  # the rest of the batch is kept
    assert ServiceDelivery.objects.get(reference="E-BULK").status == DeliveryStatus.PAUSED
    with pytest.raises(ApplicationError) as error:
        delivery_record(
            service=ktp,
            reference="E-ONE",
            submitted_at=wib(2026, 1, 5),
            file_complete_at=wib(2026, 1, 5),
            completed_at=too_early,
        )
    assert error.value.field == "completed_at"
    assert ServiceDelivery.objects.get(reference="E-ONE").status == DeliveryStatus.PAUSED


def test_a_refused_item_leaves_the_paused_delivery_as_it_was(agency_a, ktp, legalisir):
    """The reference of a paused request sent again for another service is an error, and the
    pause it points at is not ended on the way."""
    from delivery.models import DeliveryPause

    delivery, _ = delivery_record(
        service=ktp,
        reference="X-1",
        submitted_at=wib(2026, 1, 5),
        file_complete_at=wib(2026, 1, 5),
    )
    delivery_pause(delivery=delivery, reason="KK belum dibawa", at=wib(2026, 1, 6, 9))
    results = DeliveryRecorder(agency=agency_a, acting_user=None).record(
        [
            (
                0,
                item(
                    "X-1",
                    service=legalisir.slug,
                    completed_at=wib(2026, 1, 9, 10).isoformat(),
                    outcome="granted",
                ),
            )
        ]
    )
    assert [r.result for r in results] == ["error"]
    assert "reference" in results[0].errors
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PAUSED and delivery.paused_working_days == 0
    assert DeliveryPause.objects.get(delivery=delivery).ended_at is None
