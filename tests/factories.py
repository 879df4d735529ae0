from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.contrib.auth import get_user_model

from agencies.models import Agency, Membership, Unit


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
