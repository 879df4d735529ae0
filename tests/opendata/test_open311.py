"""Open311 GeoReport v2 at /open311/v2/: every endpoint in XML and JSON, shaped field by
field like the specification's examples; the error list; the 90-day window; a keyed POST
that files a complaint through the public form's service, privacy kept; no personal data."""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from agencies.api_keys import api_key_create, api_key_revoke
from delivery.services import delivery_record
from feedback.complaints.models import Complaint
from feedback.complaints.services import Contact, complaint_submit
from services.services import standard_draft_create, standard_publish
from tests import factories
from tests.accounts.conftest import login_verified
from tests.registry import make_service

pytestmark = pytest.mark.django_db

BASE = "/open311/v2/"
SECRET_NAME = "Siti Rahmawati"
SECRET_EMAIL = "siti.rahma@example.org"
SECRET_PHONE = "0812-5555-0199"
SECRET_TEXT = "Petugas Budi membentak saya di loket tiga."
W3 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")
FORM = "application/x-www-form-urlencoded"
DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'

# The spec's examples, element by element (wiki.open311.org/GeoReport_v2).
SERVICE_FIELDS = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]
ATTRIBUTE_FIELDS = [
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
]
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    cache.clear()  # rate-limit counters
    yield
    cache.clear()


def _publish(agency: Any, unit: Any, name: str, slug: str) -> Any:
    service = make_service(agency, unit, name=name, slug=slug)
    service.keywords = "izin, usaha"
    service.save()
    data, children = factories.complete_version_data(is_free=True, clock_start="on_receipt")
    version = standard_draft_create(service=service, data=data, children=children)
    standard_publish(
        version=version, acting_user=None, published_at=timezone.now() - dt.timedelta(days=365)
    )
    return service


@pytest.fixture
def service_a(national: Any, agency_a: Any, unit_a: Any) -> Any:
    return _publish(agency_a, unit_a, "Izin Usaha", "izin-usaha")


@pytest.fixture
def service_b(national: Any, agency_b: Any, unit_b: Any) -> Any:
    return _publish(agency_b, unit_b, "Izin Bangunan", "izin-bangunan")


def _deliver(service: Any, reference: str, *, days_ago: float, completed: bool = False) -> Any:
    now = timezone.now()
    delivery, _ = delivery_record(
        service=service,
        reference=reference,
        submitted_at=now - dt.timedelta(days=days_ago),
        completed_at=now - dt.timedelta(hours=1) if completed else None,
    )
    return delivery


def _complain(service: Any, *, confidential: bool, anonymous: bool = True, **extra: Any) -> Any:
    return complaint_submit(
        category="time",
        occurred_on=timezone.localdate() - dt.timedelta(days=2),
        description=SECRET_TEXT,
        service=service,
        anonymous=anonymous,
        confidential=confidential,
        contact=Contact(name=SECRET_NAME, email=SECRET_EMAIL, phone=SECRET_PHONE),
        **extra,
    )


@pytest.fixture
def world(service_a: Any, service_b: Any) -> dict[str, Any]:
    return {
        "open": _deliver(service_a, "R-1", days_ago=3),
        "done": _deliver(service_a, "R-2", days_ago=5, completed=True),
        "old": _deliver(service_a, "R-3", days_ago=120),
        "public": _complain(service_a, confidential=False),
        "secret": _complain(service_a, confidential=True),
        "other": _deliver(service_b, "R-9", days_ago=2),
    }


def xml(response: Any) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    body = response.content.decode()
    assert body.startswith(DECLARATION)
    return ET.fromstring(response.content)


def js(response: Any) -> Any:
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content)


def tags(element: ET.Element) -> list[str]:
    return [child.tag for child in element]


def error_list(response: Any, status: int, fmt: str = "xml") -> list[str]:
    """The spec's errors: <errors><error><code/><description/></error>... or JSON's list."""
    assert response.status_code == status
    if fmt == "xml":
        root = xml(response)
        assert root.tag == "errors" and len(root) >= 1
        for error in root:
            assert error.tag == "error" and tags(error) == ["code", "description"]
            assert error.findtext("code") == str(status)
        return [error.findtext("description") or "" for error in root]
    body = js(response)
    assert isinstance(body, list) and body
    for error in body:
        assert list(error) == ["code", "description"] and error["code"] == status
    return [error["description"] for error in body]


# --- Discovery ------------------------------------------------------------------------------
def test_discovery_in_both_formats(client: Client, service_a: Any) -> None:
    root = xml(client.get(BASE + "discovery.xml"))
    assert root.tag == "discovery"
    assert tags(root) == ["changeset", "contact", "key_service", "endpoints"]
    (endpoint,) = root.find("endpoints") or []
    assert endpoint.tag == "endpoint"
    assert tags(endpoint) == ["specification", "url", "changeset", "type", "formats"]
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url") == "http://testserver/open311/v2"
    assert [f.text for f in endpoint.find("formats") or []] == ["text/xml", "application/json"]
    assert W3.match(root.findtext("changeset") or "")

    body = js(client.get(BASE + "discovery.json"))
    assert list(body) == ["changeset", "contact", "key_service", "endpoints"]
    assert list(body["endpoints"][0]) == ["specification", "url", "changeset", "type", "formats"]
    assert body["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    assert body["endpoints"][0]["type"] in ("production", "test")


# --- Services -------------------------------------------------------------------------------
def test_services_in_both_formats(client: Client, service_a: Any, draft_a: Any) -> None:
    root = xml(client.get(BASE + "services.xml"))
    assert root.tag == "services"
    (service,) = root  # the draft-only service is not public
    assert service.tag == "service" and tags(service) == SERVICE_FIELDS
    assert service.findtext("service_code") == str(service_a.pk)
    assert service.findtext("service_name") == "Izin Usaha"
    assert service.findtext("metadata") == "true"
    assert service.findtext("type") == "batch"
    assert service.findtext("keywords") == "izin, usaha"
    assert service.findtext("group") == str(service_a.get_category_display())

    (item,) = js(client.get(BASE + "services.json"))
    assert list(item) == SERVICE_FIELDS
    assert item["metadata"] is True and item["type"] == "batch"
    assert item["service_code"] == str(service_a.pk)


def test_the_service_definition_asks_what_the_complaint_form_asks(
    client: Client, service_a: Any
) -> None:
    root = xml(client.get(f"{BASE}services/{service_a.pk}.xml"))
    assert root.tag == "service_definition"
    assert tags(root) == ["service_code", "attributes"]
    attributes = root.find("attributes")
    assert attributes is not None
    codes = [a.findtext("code") for a in attributes]
    assert codes == ["CATEGORY", "OCCURRED_ON", "ANONYMOUS", "CONFIDENTIAL", "REQUEST_CODE"]
    category = attributes[0]
    assert category.tag == "attribute"
    assert tags(category) == [*ATTRIBUTE_FIELDS, "values"]
    assert category.findtext("variable") == "true"
    assert category.findtext("datatype") == "singlevaluelist"
    assert category.findtext("required") == "true"
    assert category.findtext("datatype_description") == ""  # an empty element, as the spec
    assert category.findtext("order") == "1"
    values = category.find("values")
    assert values is not None
    assert all(tags(v) == ["key", "name"] for v in values)
    assert "time" in [v.findtext("key") for v in values]
    # Indonesian by default: the form's own label.
    assert category.findtext("description", "").startswith("Apa yang salah")

    body = js(client.get(f"{BASE}services/{service_a.pk}.json", HTTP_ACCEPT_LANGUAGE="en"))
    assert list(body) == ["service_code", "attributes"]
    first = body["attributes"][0]
    assert list(first) == [*ATTRIBUTE_FIELDS, "values"]
    assert first["variable"] is True and first["required"] is True and first["order"] == 1
    assert first["datatype_description"] is None
    assert first["description"].startswith("What went wrong")
    assert {a["code"]: a["required"] for a in body["attributes"]} == {
        "CATEGORY": True,
        "OCCURRED_ON": True,
        "ANONYMOUS": False,
        "CONFIDENTIAL": False,
        "REQUEST_CODE": False,
    }
    assert [list(a) for a in body["attributes"]][3] == [*ATTRIBUTE_FIELDS, "values"]
    assert body["attributes"][4]["datatype"] == "string" and "values" not in body["attributes"][4]


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_an_unknown_or_unpublished_service_is_404(
    client: Client, service_a: Any, draft_a: Any, fmt: str
) -> None:
    for code in ("999999", str(draft_a.service.pk), "abc"):
        (text,) = error_list(client.get(f"{BASE}services/{code}.{fmt}"), 404, fmt)
        assert code in text


# --- Service requests -----------------------------------------------------------------------
def test_requests_list_in_both_formats(client: Client, world: dict[str, Any]) -> None:
    root = xml(client.get(BASE + "requests.xml"))
    assert root.tag == "service_requests"
    for request in root:
        assert request.tag == "request" and tags(request) == REQUEST_FIELDS
        for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
            assert W3.match(request.findtext(name) or ""), name
    ids = [r.findtext("service_request_id") for r in root]
    expected = {
        f"D-{world['open'].pk}",
        f"D-{world['done'].pk}",
        f"C-{world['public'].pk}",
        f"D-{world['other'].pk}",
    }
    # 120 days ago is outside the default 90; the confidential complaint is never listed.
    assert set(ids) == expected and len(ids) == 4
    by_id = {r.findtext("service_request_id"): r for r in root}
    done = by_id[f"D-{world['done'].pk}"]
    assert done.findtext("status") == "closed"
    assert done.findtext("agency_responsible") == "Dinas A"
    assert done.findtext("service_code") == str(world["done"].service_id)
    assert done.findtext("address") == world["done"].unit.name
    assert done.findtext("lat") == "" and done.findtext("media_url") == ""
    opened = by_id[f"D-{world['open'].pk}"]
    assert opened.findtext("status") == "open"
    due = world["open"].due_at
    assert opened.findtext("expected_datetime") == timezone.localtime(due).isoformat(
        timespec="seconds"
    )
    assert opened.findtext("expected_datetime", "").endswith("+07:00")
    complaint = by_id[f"C-{world['public'].pk}"]
    assert complaint.findtext("status") == "open"
    assert complaint.findtext("status_notes")

    body = js(client.get(BASE + "requests.json"))
    assert {item["service_request_id"] for item in body} == expected
    for item in body:
        assert list(item) == REQUEST_FIELDS
        assert item["lat"] is None and item["address_id"] is None
    newest_first = [item["requested_datetime"] for item in body]
    assert newest_first == sorted(newest_first, reverse=True)


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_no_personal_data_and_no_tracking_code_in_any_answer(
    client: Client, world: dict[str, Any], fmt: str
) -> None:
    public = world["public"]
    paths = [
        f"requests.{fmt}",
        f"requests/C-{public.pk}.{fmt}",
        f"requests/{public.tracking_code}.{fmt}",
        f"requests.{fmt}?service_request_id=C-{public.pk},D-{world['open'].pk}",
        f"services.{fmt}",
        f"services/{world['open'].service_id}.{fmt}",
    ]
    for path in paths:
        response = client.get(BASE + path)
        assert response.status_code == 200, path
        text = response.content.decode()
        for secret in (SECRET_NAME, SECRET_EMAIL, SECRET_PHONE, SECRET_TEXT, "Budi"):
            assert secret not in text, (path, secret)
        for item in world.values():
            if path.startswith("requests."):
                assert item.tracking_code not in text
            assert getattr(item, "reference", "R-x") not in text


def test_a_moderated_public_complaint_shows_its_moderated_text_only(
    client: Client, world: dict[str, Any], editor_a: Any
) -> None:
    from feedback.complaints import services

    public = world["public"]
    services.complaint_verify(complaint=public, actor=editor_a)
    services.complaint_moderate(
        complaint=public, public_text="Antrean terlalu lama.", actor=editor_a
    )
    (item,) = js(client.get(f"{BASE}requests/C-{public.pk}.json"))
    assert item["description"] == "Antrean terlalu lama."
    assert SECRET_TEXT not in json.dumps(item)


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_confidential_complaint_is_in_no_get_answer(
    client: Client, world: dict[str, Any], fmt: str
) -> None:
    secret = world["secret"]
    for path in (
        f"requests/C-{secret.pk}.{fmt}",
        f"requests/{secret.tracking_code}.{fmt}",
        f"tokens/{secret.tracking_code}.{fmt}",
    ):
        error_list(client.get(BASE + path), 404, fmt)
    for path in (
        f"requests.{fmt}?service_request_id=C-{secret.pk},{secret.tracking_code}",
        f"requests.{fmt}?status=open",
    ):
        response = client.get(BASE + path)
        assert response.status_code == 200
        assert f"C-{secret.pk}<" not in response.content.decode()
        assert f'"C-{secret.pk}"' not in response.content.decode()


def test_one_request_by_public_id_or_tracking_code(client: Client, world: dict[str, Any]) -> None:
    delivery = world["open"]
    for key in (f"D-{delivery.pk}", delivery.tracking_code):
        root = xml(client.get(f"{BASE}requests/{key}.xml"))
        assert root.tag == "service_requests"
        (request,) = root
        assert tags(request) == REQUEST_FIELDS
        assert request.findtext("service_request_id") == f"D-{delivery.pk}"
    (item,) = js(client.get(f"{BASE}requests/D-{delivery.pk}.json"))
    assert list(item) == REQUEST_FIELDS and item["status"] == "open"
    for missing in ("D-999999", "C-999999", "NOPE-1", "ZZZZZZZZZZ"):
        error_list(client.get(f"{BASE}requests/{missing}.xml"), 404)
        error_list(client.get(f"{BASE}requests/{missing}.json"), 404, "json")


def test_tokens_give_the_public_id(client: Client, world: dict[str, Any]) -> None:
    public, delivery = world["public"], world["open"]
    root = xml(client.get(f"{BASE}tokens/{public.tracking_code}.xml"))
    assert root.tag == "service_requests"
    (request,) = root
    assert tags(request) == ["service_request_id", "token"]
    assert request.findtext("service_request_id") == f"C-{public.pk}"
    assert request.findtext("token") == public.tracking_code
    body = js(client.get(f"{BASE}tokens/{delivery.tracking_code}.json"))
    assert body == [{"service_request_id": f"D-{delivery.pk}", "token": delivery.tracking_code}]
    error_list(client.get(f"{BASE}tokens/D-{delivery.pk}.json"), 404, "json")


def test_filters_status_service_and_dates(client: Client, world: dict[str, Any]) -> None:
    def ids(query: str) -> set[str]:
        return {
            item["service_request_id"] for item in js(client.get(BASE + "requests.json?" + query))
        }

    assert ids("status=closed") == {f"D-{world['done'].pk}"}
    assert ids("status=open,closed") == ids("")
    assert ids(f"service_code={world['other'].service_id}") == {f"D-{world['other'].pk}"}
    assert ids(f"service_code={world['other'].service_id}&service_code=999999") == {
        f"D-{world['other'].pk}"
    }
    now = timezone.localtime()
    start = (now - dt.timedelta(days=130)).strftime("%Y-%m-%dT%H:%M:%S+07:00")
    end = (now - dt.timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%S+07:00")
    assert ids(f"start_date={start}&end_date={end}".replace("+", "%2B")) == {f"D-{world['old'].pk}"}
    # A start alone spans the 90 days after it; an end alone the 90 days before it.
    assert ids(f"start_date={(now - dt.timedelta(days=121)).date()}") == {f"D-{world['old'].pk}"}
    end_only = (now - dt.timedelta(days=4)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(f"end_date={end_only}") == {f"D-{world['done'].pk}"}
    # service_request_id overrides every other argument.
    assert ids(f"service_request_id=D-{world['old'].pk}&status=open") == {f"D-{world['old'].pk}"}


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_the_window_is_at_most_90_days_and_bad_input_is_400(
    client: Client, service_a: Any, fmt: str
) -> None:
    url = f"{BASE}requests.{fmt}"
    ok = client.get(url, {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-01T00:00:00Z"})
    assert ok.status_code == 200  # exactly 90 days
    (text,) = error_list(
        client.get(url, {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-01T00:00:01Z"}),
        400,
        fmt,
    )
    assert "90" in text
    error_list(client.get(url, {"start_date": "2026-01-01", "end_date": "2026-04-01"}), 400, fmt)
    error_list(client.get(url, {"start_date": "2026-02-01", "end_date": "2026-01-01"}), 400, fmt)
    # No time zone, not a date, a bad status, a bad code: each named, all at once.
    texts = error_list(
        client.get(
            url,
            {
                "start_date": "2026-01-01T00:00:00",
                "end_date": "yesterday",
                "status": "pending",
                "service_code": "x1",
            },
        ),
        400,
        fmt,
    )
    assert len(texts) == 4
    assert any("start_date" in t for t in texts) and any("status" in t for t in texts)
    error_list(client.get(url, {"service_request_id": "abc"}), 400, fmt)
    error_list(client.get(url, {"service_request_id": ",".join(["D-1"] * 101)}), 400, fmt)
    error_list(client.get(url, {"status": "open\x00"}), 400, fmt)


def test_unknown_formats_paths_and_methods(client: Client, service_a: Any) -> None:
    # Errors speak the caller's language: Indonesian by default.
    assert error_list(client.get(BASE + "services.html"), 404) == ["Format: xml atau json."]
    english = client.get(BASE + "services.html", HTTP_ACCEPT_LANGUAGE="en")
    assert error_list(english, 404) == ["Formats: xml or json."]
    assert english["Content-Language"] == "en"
    error_list(client.get(BASE + "nothing.xml"), 404)
    error_list(client.get(BASE + "nothing.json"), 404, "json")
    response = client.delete(BASE + "requests.json")
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD, POST"
    assert client.post(BASE + "services.xml").status_code == 405


def test_the_limit_keeps_the_newest_of_both_kinds(world: dict[str, Any]) -> None:
    from opendata.open311.selectors import MAX_SPAN, RequestFilter, public_id, requests_list

    now = timezone.now()
    query = RequestFilter(start=now - MAX_SPAN, end=now)
    everything = requests_list(query)
    assert [public_id(i) for i in requests_list(query, limit=2)] == [
        public_id(i) for i in everything[:2]
    ]
    assert public_id(everything[0]) == f"C-{world['public'].pk}"  # received just now


def test_head_answers_like_get(client: Client, service_a: Any) -> None:
    response = client.head(BASE + "services.xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"


# --- Query counts, flat in data size ----------------------------------------------------
def _count(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(BASE + path).status_code == 200
    return len(queries)


def test_query_counts_are_flat_in_data_size(client: Client, service_a: Any, unit_a: Any) -> None:
    paths = ("services.json", "services.xml", "requests.xml", "requests.json")
    small = {p: _count(client, p) for p in paths}
    for i in range(4):
        _publish(service_a.agency, unit_a, f"Layanan {i}", f"layanan-{i}")
        _deliver(service_a, f"Q-{i}", days_ago=1 + i)
        _complain(service_a, confidential=False)
    large = {p: _count(client, p) for p in small}
    assert large == small
    assert small["services.json"] <= 1 and small["requests.xml"] <= 2


# --- POST requests: a complaint through the public form's service -------------------------
@pytest.fixture
def key(agency_b: Any) -> str:
    admin = factories.UserFactory(username="admin_b")
    factories.MembershipFactory(user=admin, agency=agency_b, role="agency_admin")
    _key, secret = api_key_create(
        agency=agency_b,
        name="Aplikasi Kota",
        scope="read_write",
        expires_at=None,
        acting_user=admin,
    )
    return secret


def _form(service: Any, api_key: str, **extra: str) -> dict[str, str]:
    data = {
        "api_key": api_key,
        "service_code": str(service.pk),
        "address_string": "Loket 3, Mal Pelayanan Publik",
        "description": SECRET_TEXT,
        "attribute[CATEGORY]": "time",
        "attribute[OCCURRED_ON]": str(timezone.localdate() - dt.timedelta(days=1)),
        "first_name": "Siti",
        "last_name": "Rahmawati",
        "email": SECRET_EMAIL,
        "phone": SECRET_PHONE,
    }
    data.update(extra)
    return data


def _post(client: Client, url: str, data: dict[str, str], **extra: Any) -> Any:
    """POST form-encoded, as the spec sends it."""
    return client.post(url, urlencode(data), content_type=FORM, **extra)


def _staff(user: Any) -> Client:
    client = Client()
    login_verified(client, user)
    return client


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_keyed_post_files_a_complaint_seen_by_the_agency_privacy_kept(
    client: Client, service_a: Any, key: str, editor_a: Any, editor_b: Any, fmt: str
) -> None:
    # Agency B's city app files about agency A's service (any public service).
    response = _post(client, f"{BASE}requests.{fmt}", _form(service_a, key))
    assert response.status_code == 201
    complaint = Complaint.objects.get()
    if fmt == "xml":
        root = xml(response)
        assert root.tag == "service_requests"
        (request,) = root
        assert tags(request) == ["token", "service_notice", "account_id"]
        assert request.findtext("token") == complaint.tracking_code
        assert request.findtext("account_id") == ""
        notice = request.findtext("service_notice") or ""
    else:
        (item,) = js(response)
        assert list(item) == ["token", "service_notice", "account_id"]
        assert item["token"] == complaint.tracking_code and item["account_id"] is None
        notice = item["service_notice"]
    assert complaint.tracking_code in notice
    # The public form's defaults: anonymous and confidential.
    assert complaint.is_anonymous and complaint.is_confidential
    assert complaint.agency_id == service_a.agency_id and complaint.service_id == service_a.pk
    assert complaint.location == "Loket 3, Mal Pelayanan Publik"
    assert complaint.contact_name == SECRET_NAME  # kept for the ombudsman only
    staff = _staff(editor_a)
    listing = staff.get(reverse("complaint_staff:list")).content.decode()
    assert complaint.tracking_code in listing
    detail = staff.get(reverse("complaint_staff:detail", args=[complaint.pk])).content.decode()
    assert SECRET_NAME not in detail and SECRET_EMAIL not in detail
    # The agency whose key filed it does not handle it: the service's agency does.
    other = _staff(editor_b).get(reverse("complaint_staff:list")).content.decode()
    assert complaint.tracking_code not in other
    # Confidential: the token leads nowhere public.
    error_list(client.get(f"{BASE}tokens/{complaint.tracking_code}.{fmt}"), 404, fmt)


def test_a_post_that_turns_privacy_off_is_kept_so(
    client: Client, service_a: Any, key: str, editor_a: Any
) -> None:
    data = _form(
        service_a, key, **{"attribute[ANONYMOUS]": "false", "attribute[CONFIDENTIAL]": "false"}
    )
    del data["address_string"]
    data.update({"lat": "-6.2", "long": "106.816666"})
    assert _post(client, BASE + "requests.json", data).status_code == 201
    complaint = Complaint.objects.get()
    assert not complaint.is_anonymous and not complaint.is_confidential
    assert complaint.location == "-6.200000, 106.816666"
    detail = _staff(editor_a).get(reverse("complaint_staff:detail", args=[complaint.pk]))
    assert SECRET_NAME in detail.content.decode()
    body = js(client.get(f"{BASE}tokens/{complaint.tracking_code}.json"))
    assert body == [{"service_request_id": f"C-{complaint.pk}", "token": complaint.tracking_code}]
    (item,) = js(client.get(f"{BASE}requests/C-{complaint.pk}.json"))
    assert item["status"] == "open" and SECRET_NAME not in json.dumps(item)


def test_a_post_about_a_request_names_it_by_tracking_code(
    client: Client, service_a: Any, service_b: Any, key: str
) -> None:
    delivery = _deliver(service_a, "R-7", days_ago=2)
    other = _deliver(service_b, "R-8", days_ago=2)
    refused = _post(
        client,
        BASE + "requests.json",
        _form(service_a, key, **{"attribute[REQUEST_CODE]": other.tracking_code}),
    )
    error_list(refused, 400, "json")
    response = _post(
        client,
        BASE + "requests.json",
        _form(service_a, key, **{"attribute[REQUEST_CODE]": delivery.tracking_code}),
    )
    assert response.status_code == 201
    assert Complaint.objects.get().delivery_id == delivery.pk


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_post_without_a_good_key_is_403(
    client: Client, service_a: Any, key: str, agency_a: Any, admin_a: Any, fmt: str
) -> None:
    url = f"{BASE}requests.{fmt}"
    data = _form(service_a, key)
    del data["api_key"]
    (text,) = error_list(_post(client, url, data), 403, fmt)
    assert "api_key" in text
    error_list(_post(client, url, _form(service_a, "abcdefgh.wrong")), 403, fmt)
    error_list(_post(client, url, _form(service_a, "junk")), 403, fmt)
    _read, read_only = api_key_create(
        agency=agency_a, name="Baca", scope="read", expires_at=None, acting_user=admin_a
    )
    error_list(_post(client, url, _form(service_a, read_only)), 403, fmt)
    revoked, secret = api_key_create(
        agency=agency_a, name="Lama", scope="read_write", expires_at=None, acting_user=admin_a
    )
    api_key_revoke(key=revoked, acting_user=admin_a)
    error_list(_post(client, url, _form(service_a, secret)), 403, fmt)
    assert not Complaint.objects.exists()
    # The header the API takes works as well.
    data = _form(service_a, "")
    response = _post(client, url, data, HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 201


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_bad_posts_get_the_error_list(
    client: Client, service_a: Any, draft_a: Any, key: str, fmt: str
) -> None:
    url = f"{BASE}requests.{fmt}"
    (text,) = error_list(_post(client, url, _form(service_a, key, service_code="")), 400, fmt)
    assert "service_code" in text
    error_list(_post(client, url, _form(service_a, key, service_code="999999")), 404, fmt)
    error_list(
        _post(client, url, _form(service_a, key, service_code=str(draft_a.service.pk))), 404, fmt
    )
    data = _form(
        service_a,
        key,
        description="",
        **{
            "attribute[CATEGORY]": "nope",
            "attribute[OCCURRED_ON]": "2026-13-01",
            "attribute[ANONYMOUS]": "maybe",
            "attribute[COLOUR]": "red",
        },
    )
    del data["address_string"]
    texts = error_list(_post(client, url, data), 400, fmt)
    assert len(texts) == 6
    for name in ("description", "CATEGORY", "OCCURRED_ON", "ANONYMOUS", "COLOUR", "address_string"):
        assert any(name in t for t in texts), name
    error_list(_post(client, url, _form(service_a, key, lat="100", long="0")), 400, fmt)
    error_list(_post(client, url, _form(service_a, key, description="a\x00b")), 400, fmt)
    error_list(_post(client, url, _form(service_a, key, email="not-an-email")), 400, fmt)
    # The public form's rule: 30 days from the service (UU 25/2009 Pasal 40).
    late = str(timezone.localdate() - dt.timedelta(days=40))
    (text,) = error_list(
        _post(client, url, _form(service_a, key, **{"attribute[OCCURRED_ON]": late})), 400, fmt
    )
    assert "30" in text
    naive = _post(
        client, url, _form(service_a, key, **{"attribute[OCCURRED_ON]": "2026-12-01T10:00"})
    )
    error_list(naive, 400, fmt)
    # JSON is not the spec's body.
    response = client.post(url, json.dumps(_form(service_a, key)), content_type="application/json")
    error_list(response, 400, fmt)
    assert not Complaint.objects.exists()


def test_reads_are_rate_limited_with_the_error_list(
    client: Client, service_a: Any, settings: Any
) -> None:
    framework = dict(settings.REST_FRAMEWORK)
    framework["DEFAULT_THROTTLE_RATES"] = {**framework["DEFAULT_THROTTLE_RATES"], "read": "2/min"}
    settings.REST_FRAMEWORK = framework
    assert client.get(BASE + "services.xml").status_code == 200
    assert client.get(BASE + "services.json").status_code == 200
    response = client.get(BASE + "services.json")
    error_list(response, 429, "json")
    assert response["Retry-After"]
