"""The GeoReport v2 records, field by field in the spec's order, from the registry's rows.

The complaint form's questions are read from the public form itself (its labels and
choices), so the service definition asks what the form asks, in the caller's language.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from delivery.models import ServiceDelivery
from feedback.complaints.forms import ComplaintForm
from feedback.complaints.models import ComplaintCategory
from opendata.open311.documents import w3_datetime
from opendata.open311.selectors import CLOSED, OPEN, Request, is_open, public_id
from services.models import Service

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
SERVICE_TYPE = "batch"  # a POST answers with a token (the complaint's tracking code)

# The attribute codes of the complaint form, and what each reads.
CATEGORY = "CATEGORY"
OCCURRED_ON = "OCCURRED_ON"
ANONYMOUS = "ANONYMOUS"
CONFIDENTIAL = "CONFIDENTIAL"
REQUEST_CODE = "REQUEST_CODE"
ATTRIBUTE_CODES = (CATEGORY, OCCURRED_ON, ANONYMOUS, CONFIDENTIAL, REQUEST_CODE)
TRUE, FALSE = "true", "false"


def service_record(service: Service) -> dict[str, Any]:
    return {
        "service_code": str(service.pk),
        "service_name": service.name,
        "description": service.summary,
        "metadata": True,
        "type": SERVICE_TYPE,
        "keywords": service.keywords,
        "group": str(service.get_category_display()),
    }


def _attribute(
    code: str,
    datatype: str,
    *,
    required: bool,
    order: int,
    description: str,
    datatype_description: str | None = None,
    values: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "variable": True,
        "code": code,
        "datatype": datatype,
        "required": required,
        "datatype_description": datatype_description,
        "order": order,
        "description": description,
    }
    if values is not None:
        record["values"] = values
    return record


def _asked(form: ComplaintForm, name: str) -> str:
    field = form.fields[name]
    label, help_text = str(field.label or ""), str(field.help_text or "")
    return f"{label} {help_text}".strip()


def service_definition(service: Service) -> dict[str, Any]:
    """What the public complaint form asks, as GeoReport attributes. The description and
    the place go in the spec's own `description` and location parameters, the contact in
    `email`, `first_name`, `last_name` and `phone`."""
    form = ComplaintForm()
    yes_no = [
        {"key": TRUE, "name": pgettext("open311", "Yes")},
        {"key": FALSE, "name": pgettext("open311", "No")},
    ]
    return {
        "service_code": str(service.pk),
        "attributes": [
            _attribute(
                CATEGORY,
                "singlevaluelist",
                required=True,
                order=1,
                description=_asked(form, "category"),
                values=[{"key": key, "name": str(name)} for key, name in ComplaintCategory.choices],
            ),
            _attribute(
                OCCURRED_ON,
                "datetime",
                required=True,
                order=2,
                description=_asked(form, "occurred_on"),
                datatype_description=_(
                    "A date (2026-12-01) or a date and time with its time zone."
                ),
            ),
            _attribute(
                ANONYMOUS,
                "singlevaluelist",
                required=False,
                order=3,
                description=_asked(form, "anonymous"),
                datatype_description=_("Yes unless the complainant chooses otherwise."),
                values=yes_no,
            ),
            _attribute(
                CONFIDENTIAL,
                "singlevaluelist",
                required=False,
                order=4,
                description=_asked(form, "confidential"),
                datatype_description=_("Yes unless the complainant chooses otherwise."),
                values=yes_no,
            ),
            _attribute(
                REQUEST_CODE,
                "string",
                required=False,
                order=5,
                description=_("The tracking code of the request the complaint is about, if any."),
            ),
        ],
    }


def _delivery_fields(delivery: ServiceDelivery) -> dict[str, Any]:
    notes = str(delivery.get_status_display())
    if delivery.outcome:
        notes = f"{notes} ({delivery.get_outcome_display()})"
    closed_at = delivery.completed_at or delivery.updated_at
    return {
        "status_notes": notes,
        "description": None,
        "service_notice": _(
            "Promised within %(value)s %(unit)s by the standard in force when it was submitted."
        )
        % {"value": delivery.promise_value, "unit": delivery.get_promise_unit_display()},
        "updated_datetime": w3_datetime(delivery.updated_at if is_open(delivery) else closed_at),
        "expected_datetime": w3_datetime(delivery.due_at),
    }


def _complaint_fields(complaint: Any) -> dict[str, Any]:
    # The moderated text only, and only with the complainant's consent; else what went
    # wrong (a category): never the citizen's own words, which may name people.
    description = (
        complaint.public_text if complaint.may_be_public else complaint.get_category_display()
    )
    closed_at = complaint.closed_at or complaint.answered_at or complaint.updated_at
    return {
        "status_notes": str(complaint.get_status_display()),
        "description": str(description),
        "service_notice": _(
            "A complaint: the agency verifies it, forwards it to the unit and answers it; "
            "it is to be resolved by the expected date."
        ),
        "updated_datetime": w3_datetime(complaint.updated_at if is_open(complaint) else closed_at),
        "expected_datetime": w3_datetime(complaint.resolve_due_at),
    }


def request_record(item: Request) -> dict[str, Any]:
    """One service request as the spec's example lists it; no personal data, no tracking
    code. Fields the registry does not hold (address_id, zipcode, lat, long, media_url)
    are present and empty."""
    if isinstance(item, ServiceDelivery):
        fields = _delivery_fields(item)
        requested = item.submitted_at
    else:
        fields = _complaint_fields(item)
        requested = item.received_at
    service = item.service
    return {
        "service_request_id": public_id(item),
        "status": OPEN if is_open(item) else CLOSED,
        "status_notes": fields["status_notes"],
        "service_name": service.name if service is not None else None,
        "service_code": str(service.pk) if service is not None else None,
        "description": fields["description"],
        "agency_responsible": item.agency.name,
        "service_notice": fields["service_notice"],
        "requested_datetime": w3_datetime(requested),
        "updated_datetime": fields["updated_datetime"],
        "expected_datetime": fields["expected_datetime"],
        "address": item.unit.name,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def discovery(
    *, endpoint: str, changeset: str, contact: str, key_service: str, production: bool
) -> dict[str, Any]:
    return {
        "changeset": changeset,
        "contact": contact,
        "key_service": key_service,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": endpoint,
                "changeset": changeset,
                "type": "production" if production else "test",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
