"""Load the demo world through the apps' own service functions. Idempotent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from agencies.models import Agency, Role, Unit
from agencies.services import agency_create, membership_grant, unit_create
from charter.models import Charter
from charter.services import charter_draft_create, charter_publish
from demo import data
from demo.cases import seed_cases
from demo.complaint_cases import seed_complaint_cases
from demo.complaints import seed_complaints
from demo.compliance import seed_compliance
from demo.deliveries import seed_deliveries
from demo.flagship import seed_flagship
from demo.lifeevents import seed_life_events
from demo.locations import seed_locations
from demo.skm_follow_up import seed_skm_follow_up
from demo.surveys import seed_surveys
from services.models import Service
from services.services import service_create, standard_draft_create, standard_publish


class Command(BaseCommand):
    help = "Create the demo agencies, units, staff, services, standards and charters (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--deliveries",
            type=int,
            default=3000,
            help="How many demo deliveries to record over the past year (0: none).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            created = seed_registry()
        self.stdout.write(self.style.SUCCESS(f"Demo registry ready ({created} new objects)."))
        self.stdout.write(f"Demo locations ready ({seed_locations()} new).")
        recorded = seed_deliveries(count=options["deliveries"]) if options["deliveries"] else 0
        self.stdout.write(self.style.SUCCESS(f"Demo deliveries ready ({recorded} new)."))
        self.stdout.write(
            f"Demo flagship requests ready ({seed_flagship() if options['deliveries'] else 0} new)."
        )
        answered = seed_surveys()
        self.stdout.write(self.style.SUCCESS(f"Demo survey responses ready ({answered} new)."))
        self.stdout.write(f"Demo SKM answers and follow-up plans: {seed_skm_follow_up()} new.")
        self.stdout.write(f"Demo life events ready ({seed_life_events()} new).")
        self.stdout.write(f"Demo complaints ready ({seed_complaints()} new).")
        self.stdout.write(f"Demo compliance assessments published: {seed_compliance()}.")
        self.stdout.write(self.style.SUCCESS(f"Demo ombudsman cases ready ({seed_cases()} new)."))
        self.stdout.write(f"Demo cases from complaints ready ({seed_complaint_cases()} new).")


def _agency(spec: dict[str, Any]) -> tuple[Agency, int]:
    created = 0
    agency = Agency.objects.filter(slug=spec["slug"]).first()
    fields = {k: v for k, v in spec.items() if k not in {"units", "name", "level"}}
    if agency is None:
        agency = agency_create(name=spec["name"], level=spec["level"], **fields)
        created += 1
    for unit_spec in spec["units"]:
        if not Unit.objects.filter(agency=agency, slug=unit_spec["slug"]).exists():
            unit_create(agency=agency, **unit_spec)
            created += 1
    return agency, created


def _staff(agencies: dict[str, Agency]) -> tuple[dict[str, Any], int]:
    user_model = get_user_model()
    users: dict[str, Any] = {}
    created = 0
    for spec in data.STAFF:
        user = user_model.objects.filter(username=spec["username"]).first()
        if user is None:
            user = user_model.objects.create_user(
                username=spec["username"],
                email=f"{spec['username']}@demo.maklumat.local",
                password=data.DEMO_PASSWORD,
                first_name=spec["first_name"],
                last_name=spec["last_name"],
            )
            created += 1
        agency = agencies.get(spec["agency"]) if spec["agency"] else None
        membership_grant(user=user, role=spec["role"], agency=agency)
        users[spec["username"]] = user
    if not user_model.objects.filter(username="admin").exists():
        user_model.objects.create_superuser(
            "admin", "admin@demo.maklumat.local", data.DEMO_PASSWORD
        )
        created += 1
    return users, created


def _approver_for(agency: Agency) -> Any:
    membership = agency.memberships.filter(role=Role.APPROVER).select_related("user").first()
    return membership.user if membership else None


def seed_registry() -> int:
    created = 0
    agencies: dict[str, Agency] = {}
    for spec in data.AGENCIES:
        agency, n = _agency(spec)
        agencies[spec["slug"]] = agency
        created += n
    _, n = _staff(agencies)
    created += n

    now = timezone.now()
    for index, (agency_slug, services) in enumerate(data.SERVICES.items()):
        agency = agencies[agency_slug]
        approver = _approver_for(agency)
        for position, spec in enumerate(services):
            if Service.objects.filter(agency=agency, slug=spec["slug"]).exists():
                continue
            unit = Unit.objects.get(agency=agency, slug=spec["unit"])
            service = service_create(
                agency=agency,
                unit=unit,
                name=spec["name"],
                slug=spec["slug"],
                category=spec["category"],
                keywords=spec["keywords"],
                channels=spec["channels"],
            )
            created += 1
            decree = f"800/Kep.{100 + position}-{agency.short_name.split()[0]}/2025"
            if (
                agency_slug == data.SUPERSEDED["agency"]
                and spec["slug"] == data.SUPERSEDED["service"]
            ):
                older = standard_draft_create(
                    service=service,
                    data={**spec["version"], **data.SUPERSEDED["older"]},
                    children=spec["children"],
                )
                standard_publish(
                    version=older,
                    acting_user=approver,
                    published_at=data.SUPERSEDED["published_at"],
                    effective_date=data.SUPERSEDED["published_at"].date(),
                )
            version = standard_draft_create(
                service=service,
                data={
                    **spec["version"],
                    "decree_number": decree,
                    "change_summary": "Penetapan standar pelayanan.",
                },
                children=spec["children"],
            )
            # Spread publication over the past year; the last service of each agency
            # was published more than a year ago, so its review is overdue.
            days_ago = (
                420 if position == len(services) - 1 else 30 + (index * 37 + position * 23) % 300
            )
            published_at = now - dt.timedelta(days=days_ago)
            standard_publish(
                version=version,
                acting_user=approver,
                published_at=published_at,
                decree_date=(published_at - dt.timedelta(days=7)).date(),
                effective_date=published_at.date(),
            )
            created += 1

    incomplete = data.INCOMPLETE_SERVICE
    incomplete_agency = agencies[incomplete["agency"]]
    if not Service.objects.filter(agency=incomplete_agency, slug=incomplete["slug"]).exists():
        service = service_create(
            agency=incomplete_agency,
            unit=Unit.objects.get(agency=incomplete_agency, slug=incomplete["unit"]),
            name=incomplete["name"],
            slug=incomplete["slug"],
            category=incomplete["category"],
            keywords=incomplete["keywords"],
            channels=["counter"],
        )
        version = standard_draft_create(
            service=service, data=incomplete["version"], children=incomplete["children"]
        )
        standard_publish(
            version=version,
            acting_user=_approver_for(incomplete_agency),
            acknowledge_incomplete=True,
            published_at=now - dt.timedelta(days=60),
        )
        created += 1

    for agency in agencies.values():
        for unit in agency.units.all():
            if unit.charters.exists() or unit.slug in data.UNITS_WITHOUT_CHARTER:
                continue
            extra = data.CHARTERS.get(unit.slug, {})
            charter = charter_draft_create(
                unit=unit,
                services=unit.services.all(),
                signatory_name=agency.head_name,
                signatory_title=agency.head_title,
                signed_on=(now - dt.timedelta(days=200)).date(),
                **{k: v for k, v in extra.items() if v is not None},
            )
            charter_publish(charter=charter)
            created += 1
    assert Charter.objects.exists()
    return created
