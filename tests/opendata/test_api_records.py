"""Public reads of /api/v1/ for places, journeys and accountability (opendata.api_places,
opendata.api_oversight): anonymous 200, filters, cursor pages, 304, nothing unpublished or
internal, and query counts flat in the data's size."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.locations import counter_attach
from agencies.models import Location
from cases import services as case_services
from compliance.models import AssessmentMethod
from lifeevents.services import (
    life_event_create,
    life_event_publish,
    life_event_step_add,
)
from tests.cases.conftest import advance
from tests.compliance.conftest import ensure_methods
from tests.opendata.records_world import (
    NOTE,
    SECRET_EMAIL,
    SECRET_NAME,
    SECRET_TEXT,
    assess,
    complaint,
    finding_case,
    make_mall,
)
from tests.problems import problem, problem_fields
from tests.registry import make_draft, make_published, make_service


@pytest.fixture(autouse=True)
def _empty_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


def _pages(api: APIClient, url: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every item of a list, following `next`."""
    items: list[dict[str, Any]] = []
    response = api.get(url, params or {})
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"next", "previous", "results"}
        items += body["results"]
        if not body["next"]:
            return items
        response = api.get(body["next"])


def _queries(api: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(url).status_code == 200
    return len(ctx.captured_queries)


# --- Locations -------------------------------------------------------------------------------


def test_locations_list_with_facilities_coordinates_hours_and_counters(
    api: APIClient, agency_a: Any, unit_a: Any, unit_b: Any
) -> None:
    mall = make_mall(agency_a, "Mal Pelayanan Publik Kota A")
    counter_attach(unit=unit_a, location=mall, label="Loket 1")
    counter_attach(unit=unit_b, location=mall, label="Loket 7")
    unit_b.is_active = False
    unit_b.save()
    office = make_mall(agency_a, "Kantor Dinas A", kind="office", facilities=[], city="Kota B")
    closed = make_mall(agency_a, "Mal Lama")
    Location.objects.filter(pk=closed.pk).update(is_active=False)

    items = _pages(api, "/api/v1/locations/")
    assert [i["slug"] for i in items] == [mall.slug, office.slug]  # no closed place
    first = items[0]
    assert first["kind"] == "mpp" and first["host_agency"]["slug"] == "dinas-a"
    assert first["latitude"] == "-6.911700" and first["longitude"] == "107.634400"
    assert first["facilities"] == ["ramp", "lactation_room"]
    assert first["opening_hours"] == [
        {"weekday": 0, "opens_at": "08:00", "closes_at": "15:00"},
        {"weekday": 5, "opens_at": "08:00", "closes_at": "12:00"},
    ]
    # The closed unit's counter is not shown.
    assert [(c["unit"]["id"], c["label"]) for c in first["counters"]] == [(unit_a.pk, "Loket 1")]

    def slugs(**params: Any) -> list[str]:
        return [i["slug"] for i in _pages(api, "/api/v1/locations/", params)]

    assert slugs(kind="office") == [office.slug]
    assert slugs(facility="lactation_room") == [mall.slug]
    assert slugs(city="kota b") == [office.slug]
    assert slugs(region_code="32") == [mall.slug, office.slug]
    assert slugs(unit=unit_a.pk) == [mall.slug]
    assert slugs(unit=unit_b.pk) == []  # closed unit
    assert slugs(ordering="-name") == [mall.slug, office.slug]
    detail = api.get(f"/api/v1/locations/{mall.slug}/")
    assert detail.status_code == 200 and detail.json()["name"] == mall.name
    assert problem(api.get(f"/api/v1/locations/{closed.slug}/"), 404)
    assert "facility" in problem_fields(
        problem(api.get("/api/v1/locations/", {"facility": "jacuzzi"}), 400)
    )


def test_locations_answer_304_until_a_counter_or_place_changes(
    api: APIClient, agency_a: Any, unit_a: Any
) -> None:
    mall = make_mall(agency_a, "Mal A")
    url = "/api/v1/locations/"
    etag = api.get(url)["ETag"]
    assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    counter_attach(unit=unit_a, location=mall)
    changed = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    detail = api.get(f"{url}{mall.slug}/")
    assert api.get(f"{url}{mall.slug}/", HTTP_IF_NONE_MATCH=detail["ETag"]).status_code == 304


def test_locations_cost_the_same_queries_whatever_their_number(
    api: APIClient, agency_a: Any, unit_a: Any
) -> None:
    counter_attach(unit=unit_a, location=make_mall(agency_a, "Mal 0"))
    few = _queries(api, "/api/v1/locations/")
    for i in range(1, 6):
        counter_attach(unit=unit_a, location=make_mall(agency_a, f"Mal {i}"))
    assert _queries(api, "/api/v1/locations/") == few


def test_location_pages_follow_the_cursor(api: APIClient, agency_a: Any) -> None:
    made = [make_mall(agency_a, f"Mal {i}").slug for i in range(5)]
    assert [i["slug"] for i in _pages(api, "/api/v1/locations/", {"page_size": 2})] == made


# --- Life events -----------------------------------------------------------------------------


@pytest.fixture
def birth(unit_a: Any, unit_b: Any) -> Any:
    akta = make_service(unit_a.agency, unit_a, "Akta Kelahiran")
    make_published(akta)
    kk = make_service(unit_b.agency, unit_b, "Kartu Keluarga")
    make_published(kk)
    draft = make_service(unit_b.agency, unit_b, "Asuransi Bayi")
    make_draft(draft)
    event = life_event_create(kind="life", title="Kelahiran", slug="kelahiran")
    first = life_event_step_add(event=event, service=akta, note="Akta kelahiran")
    second = life_event_step_add(event=event, service=kk, depends_on=[first])
    life_event_step_add(event=event, service=draft, depends_on=[second])
    life_event_publish(event=event)
    return event


def test_only_published_life_events_with_their_steps(
    api: APIClient, birth: Any, unit_a: Any
) -> None:
    hidden = life_event_create(kind="business", title="Usaha Rahasia", slug="usaha-rahasia")
    life_event_step_add(event=hidden, service=make_service(unit_a.agency, unit_a, "Izin"))
    items = _pages(api, "/api/v1/life-events/")
    assert [i["slug"] for i in items] == ["kelahiran"]
    event = items[0]
    assert event["kind"] == "life" and event["url"].endswith("/kelahiran/")
    steps = event["steps"]
    assert [s["order"] for s in steps] == [1, 2, 3]
    assert [s["needs"] for s in steps] == [[], [1], [2]]
    assert [s["has_published_standard"] for s in steps] == [True, True, False]
    assert steps[0]["service"]["agency"]["slug"] == "dinas-a"
    assert steps[0]["note"] == "Akta kelahiran"
    assert "curated_by" not in event
    assert problem(api.get("/api/v1/life-events/usaha-rahasia/"), 404)
    assert api.get("/api/v1/life-events/kelahiran/").json()["title"] == "Kelahiran"
    service_id = steps[1]["service"]["id"]
    assert [i["slug"] for i in _pages(api, "/api/v1/life-events/", {"service": service_id})] == [
        "kelahiran"
    ]
    assert _pages(api, "/api/v1/life-events/", {"kind": "business"}) == []
    assert _pages(api, "/api/v1/life-events/", {"agency": "dinas-b"})[0]["slug"] == "kelahiran"


def test_life_events_answer_304_until_a_step_changes(
    api: APIClient, birth: Any, unit_a: Any
) -> None:
    url = "/api/v1/life-events/"
    etag = api.get(url)["ETag"]
    assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    life_event_step_add(event=birth, service=make_service(unit_a.agency, unit_a, "KIA"))
    assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_life_events_cost_the_same_queries_whatever_their_number(
    api: APIClient, birth: Any, unit_a: Any
) -> None:
    few = _queries(api, "/api/v1/life-events/")
    for i in range(4):
        event = life_event_create(kind="business", title=f"Usaha {i}", slug=f"usaha-{i}")
        for j in range(3):
            service = make_service(unit_a.agency, unit_a, f"Izin {i}-{j}")
            make_published(service)
            life_event_step_add(event=event, service=service)
        life_event_publish(event=event)
    assert _queries(api, "/api/v1/life-events/") == few


# --- Complaint statistics --------------------------------------------------------------------


def test_complaint_statistics_per_service_and_unit_have_no_text_or_identity(
    api: APIClient, published_a: Any, national: Any
) -> None:
    service = published_a.service
    complaint(service)
    complaint(service, confidential=False, category="time")
    for url, scope, pk in (
        (f"/api/v1/services/{service.pk}/complaints/", "service", service.pk),
        (f"/api/v1/units/{service.unit_id}/complaints/", "unit", service.unit_id),
    ):
        response = api.get(url)
        assert response.status_code == 200
        body = response.json()
        assert body["scope"] == scope and body["id"] == pk
        assert body["received"] == 2
        counts = {row["category"]: row["count"] for row in body["by_category"]}
        assert counts["cost"] == 1 and counts["time"] == 1 and sum(counts.values()) == 2
        text = response.content.decode()
        for secret in (SECRET_NAME, SECRET_EMAIL, SECRET_TEXT, "confidential", "tracking"):
            assert secret not in text
        assert api.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    english = api.get(f"/api/v1/units/{service.unit_id}/complaints/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["by_category"][0]["label"] == "It took longer than promised"


def test_complaint_statistics_of_hidden_things_are_404(
    api: APIClient, draft_a: Any, unit_b: Any
) -> None:
    assert problem(api.get(f"/api/v1/services/{draft_a.service_id}/complaints/"), 404)
    unit_b.is_active = False
    unit_b.save()
    assert problem(api.get(f"/api/v1/units/{unit_b.pk}/complaints/"), 404)
    assert problem(api.get("/api/v1/units/999999/complaints/"), 404)


def test_complaint_statistics_cost_the_same_queries_whatever_their_number(
    api: APIClient, published_a: Any, national: Any
) -> None:
    url = f"/api/v1/units/{published_a.service.unit_id}/complaints/"
    complaint(published_a.service)
    few = _queries(api, url)
    for _ in range(5):
        complaint(published_a.service)
    assert _queries(api, url) == few


# --- Published findings ----------------------------------------------------------------------


@pytest.fixture
def svc_a(unit_a: Any, agency_a: Any) -> Any:
    service = make_service(agency_a, unit_a, name="Akta Kelahiran")
    make_published(service)
    return service


def test_published_findings_are_anonymised_and_drafts_absent(
    api: APIClient, national: Any, cast: dict[str, Any], agency_a: Any, unit_a: Any, svc_a: Any
) -> None:
    reviewer = cast["ombudsman"]
    final = finding_case(agency_a, unit_a, svc_a, reviewer)
    case_services.case_note_add(case=final, acting_user=reviewer, text=NOTE)
    final = advance(final, reviewer, cast["editor_a"], "monitoring")
    draft = advance(
        finding_case(agency_a, unit_a, svc_a, reviewer),
        reviewer,
        cast["editor_a"],
        "draft_findings",
    )

    response = api.get("/api/v1/findings/")
    assert response.status_code == 200
    items = response.json()["results"]
    assert [i["id"] for i in items] == [final.finding.pk]  # the draft is not published
    finding = items[0]
    assert finding["outcome"] == "found"
    assert finding["categories"] == [{"code": "undue_delay", "label": "Penundaan berlarut"}]
    assert finding["summary"] == "Penundaan berlarut pada layanan akta."
    assert finding["unit"]["id"] == unit_a.pk and finding["service"]["id"] == svc_a.pk
    assert [(a["text"], a["state"]) for a in finding["actions"]] == [
        ("Perbaiki antrean berkas", "open")
    ]
    text = response.content.decode()
    for secret in (NOTE, "Mengapa terlambat?", cast["editor_a"].username, reviewer.username):
        assert secret not in text
    assert problem(api.get(f"/api/v1/findings/{draft.finding.pk}/"), 404)
    detail = api.get(f"/api/v1/findings/{final.finding.pk}/")
    assert detail.status_code == 200 and detail.json() == finding
    assert (
        api.get(
            f"/api/v1/findings/{final.finding.pk}/", HTTP_IF_NONE_MATCH=detail["ETag"]
        ).status_code
        == 304
    )

    def ids(**params: Any) -> list[int]:
        return [i["id"] for i in _pages(api, "/api/v1/findings/", params)]

    assert ids(agency="dinas-a") == [final.finding.pk]
    assert ids(agency="dinas-b") == []
    assert ids(service=svc_a.pk, outcome="found") == [final.finding.pk]
    assert ids(outcome="stopped") == []
    assert "final_since" in problem_fields(
        problem(api.get("/api/v1/findings/", {"final_since": "tomorrow"}), 400)
    )


def test_findings_answer_304_until_an_action_moves(
    api: APIClient, national: Any, cast: dict[str, Any], agency_a: Any, unit_a: Any, svc_a: Any
) -> None:
    reviewer = cast["ombudsman"]
    case = advance(
        finding_case(agency_a, unit_a, svc_a, reviewer), reviewer, cast["editor_a"], "monitoring"
    )
    url = "/api/v1/findings/"
    etag = api.get(url)["ETag"]
    assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    action = case.finding.actions.get()
    case_services.case_transition(
        case, "report_action", cast["editor_a"], action_id=action.pk, done=True
    )
    case_services.case_transition(case, "accept_action", reviewer, action_id=action.pk)
    changed = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed.json()["results"][0]["actions"][0]["state"] == "done_on_time"


@pytest.mark.parametrize("n", [1, 4])
def test_findings_cost_the_same_queries_whatever_their_number(
    n: int,
    api: APIClient,
    national: Any,
    cast: dict[str, Any],
    agency_a: Any,
    unit_a: Any,
    svc_a: Any,
) -> None:
    reviewer = cast["ombudsman"]
    for _ in range(n):
        advance(
            finding_case(agency_a, unit_a, svc_a, reviewer),
            reviewer,
            cast["editor_a"],
            "monitoring",
        )
    # Throttle and session reads aside: the ETag's aggregate and overdue count, the page,
    # the actions.
    with CaptureQueriesContext(connection) as ctx:
        assert len(api.get("/api/v1/findings/").json()["results"]) == n
    assert len(ctx.captured_queries) <= 4, [q["sql"][:120] for q in ctx.captured_queries]


# --- Published assessments -------------------------------------------------------------------


@pytest.fixture
def method_2022(db: Any) -> AssessmentMethod:
    ensure_methods()
    return AssessmentMethod.objects.get(code="kepatuhan-2022")


def test_only_published_assessments_with_dimensions_score_grade_and_zone(
    api: APIClient, ombudsman: Any, agency_a: Any, agency_b: Any, published_a: Any, method_2022: Any
) -> None:
    done = assess(agency_a, ombudsman, method_2022, 2024, publish=True)
    draft = assess(agency_b, ombudsman, method_2022, 2025, publish=False)
    response = api.get("/api/v1/assessments/")
    items = response.json()["results"]
    assert [i["id"] for i in items] == [done.pk]
    item = items[0]
    assert item["method"]["code"] == "kepatuhan-2022"
    assert item["period"] == "2024" and item["agency"]["slug"] == "dinas-a"
    assert item["score"] == f"{done.score:.2f}" and item["grade"] == done.grade
    assert item["zone"] == done.zone and item["label"]
    assert [d["code"] for d in item["dimensions"]] == list(
        done.dimension_results.order_by("position").values_list("code", flat=True)
    )
    assert len(item["dimensions"]) == 4
    assert "note" not in response.content.decode() and "evidence" not in item
    assert problem(api.get(f"/api/v1/assessments/{draft.pk}/"), 404)
    assert api.get(f"/api/v1/assessments/{done.pk}/").json() == item
    english = api.get(f"/api/v1/assessments/{done.pk}/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["method"]["title"] != item["method"]["title"]
    etag = response["ETag"]
    assert api.get("/api/v1/assessments/", HTTP_IF_NONE_MATCH=etag).status_code == 304

    def ids(**params: Any) -> list[int]:
        return [i["id"] for i in _pages(api, "/api/v1/assessments/", params)]

    assert ids(agency="dinas-a", period="2024", level="agency") == [done.pk]
    assert ids(level="unit") == []
    assert ids(method="opini-2025") == []
    assert ids(zone=done.zone) == [done.pk]
    assert "level" in problem_fields(
        problem(api.get("/api/v1/assessments/", {"level": "planet"}), 400)
    )


def test_assessments_cost_the_same_queries_whatever_their_number(
    api: APIClient, ombudsman: Any, agency_a: Any, published_a: Any, method_2022: Any
) -> None:
    assess(agency_a, ombudsman, method_2022, 2023, publish=True)
    few = _queries(api, "/api/v1/assessments/")
    assess(agency_a, ombudsman, method_2022, 2024, publish=True)
    assess(agency_a, ombudsman, method_2022, 2025, publish=True)
    assert _queries(api, "/api/v1/assessments/") == few


def test_complaint_statistics_of_a_period(api: APIClient, published_a: Any, national: Any) -> None:
    complaint(published_a.service)
    url = f"/api/v1/units/{published_a.service.unit_id}/complaints/"
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    body = api.get(url, {"since": today.isoformat()}).json()
    assert body["received"] == 1
    assert body["since"] == today.isoformat() and body["until"] == today.isoformat()
    assert api.get(url, {"until": yesterday.isoformat()}).json()["received"] == 0
    assert api.get(url).json()["since"] is None


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"since": "2026-05-02", "until": "2026-05-01"}, "until"),
        ({"since": "1900-01-01"}, "since"),
        ({"until": "2026-13-01"}, "until"),
    ],
)
def test_bad_complaint_periods_are_a_400_problem(
    api: APIClient, published_a: Any, params: dict[str, str], parameter: str
) -> None:
    response = api.get(f"/api/v1/services/{published_a.service_id}/complaints/", params)
    assert parameter in problem_fields(problem(response, 400))
