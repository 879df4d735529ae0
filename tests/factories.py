"""Factories for the models tests start from.

Registry objects (services, standard versions, charters, deliveries, breaches) are made by the
application's own service functions (and the real sweep), never by writing rows by hand: what a
test starts from is exactly what the application would have made. `tests.registry` wraps the
version factories in the `make_service` / `make_draft` / `make_published` helpers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.contrib.auth import get_user_model

from agencies.models import Agency, Membership, Unit
from charter.models import Charter
from charter.services import charter_draft_create
from delivery.models import ServiceDelivery
from delivery.services import delivery_record
from notifications.models import Notification
from oversight.models import Breach
from oversight.sweep import sweep
from services.models import Service, StandardVersion
from services.services import service_create, standard_draft_create, standard_publish

JAKARTA = dt.timezone(dt.timedelta(hours=7))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("secret-pass-123")


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"Dinas {n}")
    slug = factory.Sequence(lambda n: f"dinas-{n}")
    level = "city"
    region_name = "Jawa Barat"
    region_code = "32.73"


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    agency = factory.SubFactory(AgencyFactory)
    name = factory.Sequence(lambda n: f"Unit Pelayanan {n}")
    slug = factory.Sequence(lambda n: f"unit-{n}")
    contact_emails = factory.LazyFunction(lambda: ["unit@example.org"])
    opens_at = dt.time(8, 0)
    closes_at = dt.time(16, 0)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    agency = factory.SubFactory(AgencyFactory)
    role = "editor"


def complete_version_data(
    **overrides: Any,
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """Content for a standard version with all 14 components present."""
    data: dict[str, Any] = {
        "processing_time_value": 5,
        "processing_time_unit": "working_days",
        "clock_start": "on_complete",
        "is_free": True,
        "product": "Dokumen",
        "legal_basis": ["UU 25/2009"],
        "facilities": ["waiting_room"],
        "staff_competence": "Terlatih",
        "internal_supervision": "Atasan langsung",
        "staff_count": 3,
        "service_guarantee": "Sesuai maklumat",
        "safety_security": "Aman",
        "performance_evaluation": "Triwulanan",
    }
    data.update(overrides)
    children = {
        "requirements": [{"name": "KTP-el"}, {"name": "Kartu Keluarga"}],
        "steps": [{"actor": "Petugas", "description": "Memeriksa berkas"}],
        "cost_items": [],
        "complaint_channels": [{"kind": "phone", "value": "022-000"}],
    }
    return data, children


class ServiceFactory(factory.django.DjangoModelFactory[Service]):
    """A service made by `service_create` (its slug is unique within the agency)."""

    class Meta:
        model = Service

    agency = factory.SubFactory(AgencyFactory)
    unit = factory.SubFactory(UnitFactory, agency=factory.SelfAttribute("..agency"))
    name = factory.Sequence(lambda n: f"Layanan {n}")

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Service:
        return service_create(**kwargs)


class DraftVersionFactory(factory.django.DjangoModelFactory[StandardVersion]):
    """A draft with all 14 components, made by `standard_draft_create`.

    Field values passed as keywords replace parts of `complete_version_data()`; `children`
    replaces whole child lists (requirements, steps, cost_items, complaint_channels).
    """

    class Meta:
        model = StandardVersion

    service = factory.SubFactory(ServiceFactory)

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> StandardVersion:
        service = kwargs.pop("service")
        acting_user = kwargs.pop("acting_user", None)
        children = kwargs.pop("children", None)
        data, content = complete_version_data(**kwargs)
        content.update(children or {})
        return standard_draft_create(
            service=service, acting_user=acting_user, data=data, children=content
        )


class PublishedVersionFactory(DraftVersionFactory):
    """`DraftVersionFactory`'s draft, published by the real `standard_publish`.

    `published_at`, `decree_number`, `acknowledge_incomplete` (True: an incomplete standard
    is published rather than refused) and `acting_user` go to `standard_publish`.
    """

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> StandardVersion:
        published_at = kwargs.pop("published_at", None)
        decree_number = kwargs.pop("decree_number", None)
        acknowledge_incomplete = kwargs.pop("acknowledge_incomplete", True)
        acting_user = kwargs.get("acting_user")
        draft = super()._create(model_class, *args, **kwargs)
        return standard_publish(
            version=draft,
            acting_user=acting_user,
            acknowledge_incomplete=acknowledge_incomplete,
            decree_number=decree_number,
            published_at=published_at,
        )


PLEDGE = "Kami sanggup melayani sesuai standar pelayanan (tanpa pungutan liar)."


class CharterFactory(factory.django.DjangoModelFactory[Charter]):
    """A draft charter made by `charter_draft_create`.

    `services` defaults to one new service of the unit with a published standard;
    `acting_user` is the editor who drafts it.
    """

    class Meta:
        model = Charter

    unit = factory.SubFactory(UnitFactory)
    pledge = PLEDGE
    signatory_name = "Dra. Siti Rahmawati"
    signatory_title = "Kepala Unit Pelayanan"
    signed_on = dt.date(2025, 1, 2)
    compensation_per_day = 20000
    compensation_cap = 500000

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Charter:
        unit = kwargs["unit"]
        if kwargs.get("services") is None:
            published = PublishedVersionFactory.create(
                service__agency=unit.agency, service__unit=unit
            )
            kwargs["services"] = [published.service]
        return charter_draft_create(**kwargs)


class ServiceDeliveryFactory(factory.django.DjangoModelFactory[ServiceDelivery]):
    """A delivery recorded by `delivery_record` (due date and all), on the national calendar.

    The service needs a published standard and the calendar its days (the `national` fixture).
    """

    class Meta:
        model = ServiceDelivery

    service = factory.LazyFunction(lambda: PublishedVersionFactory.create().service)
    reference = factory.Sequence(lambda n: f"REQ-{n}")
    submitted_at = dt.datetime(2026, 1, 5, 9, 0, tzinfo=JAKARTA)

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> ServiceDelivery:
        delivery, _created = delivery_record(**kwargs)
        return delivery


class BreachFactory(factory.django.DjangoModelFactory[Breach]):
    """A late-delivery breach found by the real sweep, with its outbox rows.

    A delivery of `service` submitted with a complete file on Monday 5 January 2026 and
    completed on the 20th (late for a 5-working-day promise), then `sweep(now=swept_at)`
    for late deliveries.
    """

    class Meta:
        model = Breach

    service = factory.LazyFunction(lambda: PublishedVersionFactory.create().service)
    reference = factory.Sequence(lambda n: f"late-{n}")
    swept_at = dt.datetime(2026, 2, 2, 10, 0, tzinfo=JAKARTA)  # a Monday

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Breach:
        submitted_at = dt.datetime(2026, 1, 5, 9, 0, tzinfo=JAKARTA)
        ServiceDeliveryFactory.create(
            service=kwargs["service"],
            reference=kwargs["reference"],
            submitted_at=submitted_at,
            file_complete_at=submitted_at,
            completed_at=dt.datetime(2026, 1, 20, 9, 0, tzinfo=JAKARTA),
        )
        sweep(now=kwargs["swept_at"], kinds=["late_delivery"])
        return Breach.objects.get(kind="late_delivery", delivery__reference=kwargs["reference"])


class NotificationFactory(factory.django.DjangoModelFactory[Notification]):
    """An outbox row waiting to be sent by email."""

    class Meta:
        model = Notification

    event = "breach_created"
    channel = "email"
    recipient = factory.Sequence(lambda n: f"penerima{n}@example.org")
    idempotency_key = factory.Sequence(lambda n: f"test:{n}")
