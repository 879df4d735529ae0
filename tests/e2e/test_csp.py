"""The main page types load in Chromium with the strict Content-Security-Policy enforced,
and nothing on them is refused: no violation event, no console complaint."""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

from core.csp import EXPECTED_VIOLATIONS
from tests.accounts.conftest import login_verified
from tests.core.csp_checks import page_type_urls

pytestmark = pytest.mark.e2e

# Registered before any page script runs (an init script is not itself under the policy).
RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push({
        directive: event.effectiveDirective, blocked: event.blockedURI,
        source: event.sourceFile, line: event.lineNumber, sample: event.sample,
    });
});
"""
POLICY_WORDS = ("Content Security Policy", "Content-Security-Policy", "Permissions-Policy")


class Recorder:
    """A browser context whose pages report every violation and policy complaint."""

    def __init__(self, browser: Any, live_server: Any) -> None:
        self.base_url = live_server.url
        self.context = browser.new_context(base_url=live_server.url, locale="id-ID")
        self.context.add_init_script(RECORDER)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15000)
        self.console: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.console.append(f"page error: {error}"))

    def _console(self, message: Any) -> None:
        if any(word in message.text for word in POLICY_WORDS):
            self.console.append(f"{message.type}: {message.text}")

    def visit(self, path: str, status: int = 200, ready: str | None = None) -> list[Any]:
        """What was refused or complained about while loading `path`, less the refusals
        core.csp.EXPECTED_VIOLATIONS accepts."""
        self.console.clear()
        response = self.page.goto(path)
        assert response is not None
        assert response.status == status, (path, response.status)
        # Not sent to log in instead.
        assert urlsplit(self.page.url).path == urlsplit(path).path, (path, self.page.url)
        assert "'unsafe-inline'" not in response.headers["content-security-policy"]
        if ready:
            self.page.wait_for_selector(ready)
        self.page.wait_for_load_state("networkidle")
        violations = [
            v
            for v in self.page.evaluate("() => window.__cspViolations")
            if (v["directive"], v["blocked"]) not in EXPECTED_VIOLATIONS
        ]
        expected_urls = [blocked for _directive, blocked in EXPECTED_VIOLATIONS]
        console = [m for m in self.console if not any(url in m for url in expected_urls)]
        return [*violations, *console]

    def login(self, user: Any, *, verified: bool = False) -> None:
        client = Client()
        if verified:
            login_verified(client, user)
        else:
            client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        self.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": f"{self.base_url}/"}]
        )

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def recorder(browser, live_server):
    recorder = Recorder(browser, live_server)
    yield recorder
    recorder.close()
    connections.close_all()


def test_main_page_types_load_with_no_policy_violation(
    recorder, transactional_db, national, editor_a, agency_a, unit_a, superuser
):
    world = page_type_urls(editor=editor_a, agency=agency_a, unit=unit_a)
    problems: dict[str, list[Any]] = {}

    def check(name: str, path: str, status: int = 200, ready: str | None = None) -> None:
        found = recorder.visit(path, status, ready)
        if found:
            problems[f"{name} ({path})"] = found

    check("home", "/")
    check("home (en)", "/en/")
    check("search", "/search/?q=ktp")
    check("service", "/agencies/disdukcapil-kota-bandung/services/ktp-el/")
    check("agency", "/agencies/disdukcapil-kota-bandung/")
    check("unit", "/agencies/disdukcapil-kota-bandung/units/kantor-dinas/")
    check("charter", world["charter"])
    check("poster", world["poster"])
    check("consultation", world["consultation"])
    check("tracking form", "/track/")
    check("tracking page", world["track"])
    check("login", "/accounts/login/")
    check("404", "/tidak-ada-halaman-ini/", status=404)
    # ReDoc renders the schema with styles it injects at run time (allowed by hash).
    check("API docs", "/api/v1/docs/", ready="h1")
    assert recorder.page.locator("h1").first.inner_text().startswith("Maklumat API")
    sidebar = recorder.page.locator(".menu-content").first
    assert sidebar.evaluate("el => getComputedStyle(el).display") == "flex"

    recorder.login(editor_a)
    check("staff dashboard", "/staff/")
    check("staff form", world["draft edit"])
    # The formset script adds a row from a <template>: still nothing refused.
    rows = recorder.page.locator("[data-formset-prefix=req] .formset-rows > *")
    before = rows.count()
    recorder.page.locator("[data-formset-prefix=req] .formset-add").click()
    assert rows.count() == before + 1
    assert not recorder.page.evaluate("() => window.__cspViolations")

    recorder.login(superuser, verified=True)
    check("admin index", "/admin/")
    check("admin list", "/admin/services/service/")
    check("admin form", world["service admin"])
    assert not problems, problems


def test_the_recorder_sees_a_refused_style_and_the_report_arrives(
    recorder, transactional_db, caplog
):
    # The test above could pass vacuously if nothing were enforced or recorded.
    assert recorder.visit("/") == []
    with caplog.at_level(logging.WARNING, logger="maklumat.csp"):
        recorder.page.evaluate(
            """() => {
                const style = document.createElement("style");
                style.textContent = "body { background: red }";
                document.head.appendChild(style);
            }"""
        )
        recorder.page.wait_for_function("() => window.__cspViolations.length > 0")
        violations = recorder.page.evaluate("() => window.__cspViolations")
        assert violations[0]["directive"] == "style-src-elem"
        background = recorder.page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert background != "rgb(255, 0, 0)"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            lines = [r.getMessage() for r in caplog.records if r.name == "maklumat.csp"]
            if lines:
                break
            time.sleep(0.1)
    assert lines and "directive=style-src-elem" in lines[0], lines
