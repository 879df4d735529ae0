"""Schemathesis against the live schema: every operation, anonymous and with an editor's
API key, a bounded number of generated requests each, valid and invalid. Zero server
errors, and every response matches the schema (status code, media type, body)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import checks
from schemathesis.generation import GenerationMode

from agencies.api_keys import api_key_create
from agencies.calendars import calendar_national, calendar_rebuild
from agencies.models import Role
from tests.compliance.conftest import ensure_methods
from tests.factories import AgencyFactory, MembershipFactory, UnitFactory, UserFactory
from tests.opendata.records_world import records_world
from tests.opendata.world import survey
from tests.registry import make_draft, make_published, make_service

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
# Per operation, mode and caller: enough to meet junk in every parameter, bounded for CI.
EXAMPLES = 12


@pytest.fixture
def api_key(transactional_db: Any) -> str:
    """An editor-grade (read-write) key of an agency with a published standard and a draft."""
    agency = AgencyFactory(name="Dinas Uji", slug="dinas-uji")
    unit = UnitFactory(agency=agency, slug="unit-uji")
    ktp = make_published(make_service(agency, unit, "KTP Elektronik", channels=["counter"]))
    survey(unit, ktp.service, [4, 3, 3, 2, 4, 3, 4, 3, 3], 5, "2026-Q3")
    make_draft(make_service(agency, unit, "Akta Kelahiran"))
    # A place, a journey, a complaint, a final finding and a published assessment, so the
    # responses of those operations are checked with items in them.
    calendar_rebuild(calendar_national(), span=(2025, 2027))
    ensure_methods()
    reviewer = UserFactory(username="ombudsman_uji")
    MembershipFactory(user=reviewer, agency=None, role=Role.OMBUDSMAN)
    records_world(agency=agency, unit=unit, service=ktp.service, reviewer=reviewer)
    admin = UserFactory(username="admin_uji", is_superuser=True)
    _key, secret = api_key_create(
        agency=agency, name="uji", scope="read_write", expires_at=None, acting_user=admin
    )
    return secret


def _run_every_operation(live_server: Any, headers: dict[str, str]) -> list[str]:
    # Generating the schema takes a few seconds of CPU: on a loaded machine, more than the
    # loader's default 10 s.
    schema = schemathesis.openapi.from_url(
        f"{live_server.url}/api/v1/schema/?format=json", timeout=120
    )
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    # Every operation of the API, all of them under /api/v1/ (none skipped).
    assert len(operations) >= 28
    assert all(op.path.startswith("/api/v1/") for op in operations)
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Any) -> None:
                case.headers = {
                    k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"
                }
                case.call_and_validate(checks=CHECKS, headers=headers)

            try:
                check()
            except Unsatisfiable:
                # No invalid value exists for this operation's inputs (e.g. a free-text
                # slug in the path): nothing to send in negative mode.
                continue
            except (Exception, BaseExceptionGroup) as failure:  # report every operation
                failures.append(f"{operation.label} [{mode.value}]: {failure}")
    return failures


# Every operation of the API, twice (valid and invalid), a dozen requests each: longer than
# the default per-test limit on a busy machine.
@pytest.mark.timeout(900)
def test_anonymous_requests_never_fail_the_server_or_the_schema(
    live_server: Any, api_key: str
) -> None:
    failures = _run_every_operation(live_server, {})
    assert not failures, "\n\n".join(failures)


@pytest.mark.timeout(900)
def test_requests_with_an_editors_api_key_never_fail_the_server_or_the_schema(
    live_server: Any, api_key: str
) -> None:
    failures = _run_every_operation(live_server, {"Authorization": f"Api-Key {api_key}"})
    assert not failures, "\n\n".join(failures)
