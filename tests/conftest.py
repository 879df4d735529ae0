"""The cast of users, and the real parts: PostgreSQL, Redis, a Celery worker, Chromium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connections

from agencies.models import Role
from services.models import StandardVersion
from tests import factories
from tests.registry import make_draft, make_published, make_service

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Django's test client leaves the last request's language active in this thread;
    start every test from the default language."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


# --- The cast ----------------------------------------------------------------
@pytest.fixture
def agency_a(db: Any) -> Any:
    return factories.AgencyFactory(name="Dinas A", slug="dinas-a")


@pytest.fixture
def agency_b(db: Any) -> Any:
    return factories.AgencyFactory(name="Dinas B", slug="dinas-b")


@pytest.fixture
def unit_a(agency_a: Any) -> Any:
    return factories.UnitFactory(agency=agency_a, slug="unit-a")


@pytest.fixture
def unit_b(agency_b: Any) -> Any:
    return factories.UnitFactory(agency=agency_b, slug="unit-b")


def _member(role: str, agency: Any, username: str) -> Any:
    user = factories.UserFactory(username=username)
    factories.MembershipFactory(user=user, agency=agency, role=role)
    return user


@pytest.fixture
def editor_a(agency_a: Any) -> Any:
    return _member(Role.EDITOR, agency_a, "editor_a")


@pytest.fixture
def approver_a(agency_a: Any) -> Any:
    return _member(Role.APPROVER, agency_a, "approver_a")


@pytest.fixture
def admin_a(agency_a: Any) -> Any:
    return _member(Role.AGENCY_ADMIN, agency_a, "admin_a")


@pytest.fixture
def editor_b(agency_b: Any) -> Any:
    return _member(Role.EDITOR, agency_b, "editor_b")


@pytest.fixture
def ombudsman(db: Any) -> Any:
    user = factories.UserFactory(username="ombudsman")
    factories.MembershipFactory(user=user, agency=None, role=Role.OMBUDSMAN)
    return user


@pytest.fixture
def superuser(db: Any) -> Any:
    return factories.UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def cast(
    editor_a: Any, approver_a: Any, admin_a: Any, editor_b: Any, ombudsman: Any, superuser: Any
) -> dict[str, Any]:
    return {
        "anonymous": None,
        "editor_a": editor_a,
        "approver_a": approver_a,
        "admin_a": admin_a,
        "editor_b": editor_b,
        "ombudsman": ombudsman,
        "superuser": superuser,
    }


@pytest.fixture
def national(db: Any) -> Any:
    """The national work calendar, materialised for 2025-2027."""
    from agencies.calendars import calendar_national, calendar_rebuild

    calendar = calendar_national()
    calendar_rebuild(calendar, span=(2025, 2027))
    return calendar


# --- The API: a client, a login, and agency A's registry content --------------------
@pytest.fixture
def api() -> Any:
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def as_user(api: Any) -> Any:
    """Log a user in through the session, second factor confirmed (None stays anonymous)."""
    from tests.accounts.conftest import login_verified

    def login(user: Any) -> Any:
        if user is not None:
            login_verified(api, user)
        return api

    return login


@pytest.fixture
def published_a(unit_a: Any) -> StandardVersion:
    """Agency A's service with a published standard (v1) and no draft."""
    service = make_service(unit_a.agency, unit_a, "KTP Elektronik", channels=["counter"])
    return make_published(service, decree_number="SK 1/2025")


@pytest.fixture
def draft_a(unit_a: Any) -> StandardVersion:
    """Agency A's service whose only version is a complete draft."""
    service = make_service(unit_a.agency, unit_a, "Akta Kelahiran", channels=["online"])
    return make_draft(service)


# --- A real Celery worker on the real Redis broker ------------------------------
@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Any]:
    """A real `celery worker` process consuming this test process's own queue.

    It talks to the same test database (tests that use it must commit their data:
    use `transactional_db`).
    """
    from tests.workers import start_worker

    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.fail("The worker tests need CELERY_BROKER_URL on Redis (run `make test`).")
    worker = start_worker("test", queue=settings.CELERY_TASK_DEFAULT_QUEUE)
    yield worker.proc
    worker.stop()


# --- Headless Chromium (Debian's package, never a downloaded browser) ------------
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed (run `make test`, which installs it).")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, live_server: Any, request: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, locale="id-ID")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        out = ROOT / "test-artifacts"
        out.mkdir(exist_ok=True)
        page.screenshot(path=str(out / f"{request.node.name}.png"), full_page=True)
    context.close()
    connections.close_all()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Iterator[None]:
    outcome: Any = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
