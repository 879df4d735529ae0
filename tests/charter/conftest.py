"""Published charters and standards, made through the real service functions."""

from __future__ import annotations

from typing import Any

import pytest

from charter.models import Charter
from charter.services import charter_new_version, charter_publish
from services.models import Service, StandardVersion
from services.services import standard_publish
from tests.factories import CharterFactory
from tests.registry import make_draft, make_service


def publish_standard(
    service: Service, editor: Any, approver: Any, **overrides: Any
) -> StandardVersion:
    """Drafted by `editor`, published by `approver` (who must confirm nothing missing)."""
    version = make_draft(
        service, overrides.pop("children", {}), acting_user=editor, **overrides.pop("data", {})
    )
    return standard_publish(
        version=version, acting_user=approver, decree_number="800/12-Disdukcapil"
    )


def make_charter(unit: Any, services: list[Service], editor: Any, **fields: Any) -> Charter:
    """A draft charter of `unit` covering `services`, drafted by `editor` (CharterFactory)."""
    return CharterFactory.create(unit=unit, services=services, acting_user=editor, **fields)


@pytest.fixture
def service_a(agency_a: Any, unit_a: Any, editor_a: Any, approver_a: Any) -> Service:
    service = make_service(
        agency_a, unit_a, "Kartu Tanda Penduduk Elektronik", acting_user=editor_a
    )
    publish_standard(
        service,
        editor_a,
        approver_a,
        children={
            "steps": [
                {
                    "actor": "Petugas loket",
                    "description": "Memeriksa berkas",
                    "duration_value": 15,
                    "duration_unit": "minutes",
                },
                {
                    "actor": "Operator",
                    "description": "Merekam data",
                    "duration_value": 2,
                    "duration_unit": "hours",
                },
            ],
            "complaint_channels": [
                {"kind": "phone", "value": "022-000"},
                {"kind": "lapor", "value": "lapor.go.id"},
            ],
        },
    )
    return service


@pytest.fixture
def published_charter(unit_a: Any, service_a: Service, editor_a: Any, approver_a: Any) -> Charter:
    return charter_publish(
        charter=CharterFactory.create(unit=unit_a, services=[service_a], acting_user=editor_a),
        acting_user=approver_a,
    )


@pytest.fixture
def superseded_charter(published_charter: Charter, editor_a: Any, approver_a: Any) -> Charter:
    newer = charter_new_version(charter=published_charter, acting_user=editor_a)
    charter_publish(charter=newer, acting_user=approver_a)
    published_charter.refresh_from_db()
    return published_charter


@pytest.fixture
def draft_charter(unit_a: Any, service_a: Service, editor_a: Any) -> Charter:
    return CharterFactory.create(unit=unit_a, services=[service_a], acting_user=editor_a)


# --- Authoring: the cast, clients and a snapshot of everything a write could touch ------------


@pytest.fixture
def admin_b(agency_b: Any) -> Any:
    from agencies.models import Role
    from tests import factories

    user = factories.UserFactory(username="admin_b")
    factories.MembershipFactory(user=user, agency=agency_b, role=Role.AGENCY_ADMIN)
    return user


@pytest.fixture
def staff_cast(cast: dict[str, Any], admin_b: Any) -> dict[str, Any]:
    return {**cast, "admin_b": admin_b}


@pytest.fixture
def login_as(client: Any) -> Any:
    """Log a user into the test client with a confirmed second factor (None: anonymous)."""
    from tests.accounts.conftest import login_verified

    def login(user: Any) -> Any:
        if user is not None:
            login_verified(client, user)
        return client

    return login


@pytest.fixture
def api_keys(agency_a: Any, agency_b: Any, admin_a: Any, admin_b: Any) -> dict[str, str]:
    """Secrets of agency API keys: A's read key, A's read/write key, B's read/write key."""
    from agencies.api_keys import api_key_create

    def key(agency: Any, admin: Any, scope: str) -> str:
        return api_key_create(
            agency=agency, name=f"SIAK {scope}", scope=scope, expires_at=None, acting_user=admin
        )[1]

    return {
        "key_read_a": key(agency_a, admin_a, "read"),
        "key_rw_a": key(agency_a, admin_a, "read_write"),
        "key_rw_b": key(agency_b, admin_b, "read_write"),
    }


@pytest.fixture
def api_as() -> Any:
    """An API client for a user (session, second factor confirmed), a key secret, or nobody."""
    from rest_framework.test import APIClient

    from tests.accounts.conftest import login_verified

    def make(actor: Any = None) -> APIClient:
        api = APIClient()
        if isinstance(actor, str):
            api.credentials(HTTP_AUTHORIZATION=f"Api-Key {actor}")
        elif actor is not None:
            login_verified(api, actor)
        return api

    return make


def charter_snapshot() -> dict[str, Any]:
    """Every charter row, its services and its history: a refused write changes none."""
    return {
        "charters": list(Charter.objects.order_by("pk").values()),
        "services": list(Charter.services.through.objects.order_by("pk").values()),
        "history": Charter.history.count(),
    }
