"""The ombudsman's case, end to end: a reviewer filters the desk, opens a case from two late
requests, reads their timeline, asks the unit for an explanation, the unit answers, the
reviewer finds undue delay (penundaan berlarut) with a corrective action, the agency reports
it done with evidence, the reviewer accepts it, and the agency's public page shows the
finding and the action done on time. axe checks the case pages in both languages."""

from __future__ import annotations

from typing import Any

import pytest

from cases.models import Case
from oversight.desk import breach_pull_in
from tests.cases.conftest import PDF
from tests.e2e.test_accessibility import BLOCKING, _violations
from tests.e2e.test_review_desk import _listed, _login_with_code
from tests.notifications import conftest as notifications_conftest
from tests.notifications.conftest import late_breach
from tests.oversight.desk_world import desk_breach

pytestmark = pytest.mark.e2e

service = notifications_conftest.service  # the fixture: agency A's published service


def _step(page: Any, action: str, text: str = "") -> None:
    step = page.locator(f'[data-step="{action}"]')
    step.locator("summary").click()
    if text:
        step.locator("textarea").first.fill(text)
    step.locator("button[type=submit]").click()
    page.wait_for_load_state()


def _no_blocking_axe(page: Any, where: str) -> None:
    blocking = [v for v in _violations(page) if v["impact"] in BLOCKING]
    assert not blocking, (where, blocking)


def test_a_case_from_the_desk_to_the_public_page(
    page, browser, live_server, ombudsman, editor_a, agency_a, unit_a, service, transactional_db
):
    late = [late_breach(service, ref) for ref in ("AKTA-001", "AKTA-002")]
    for breach in late:
        breach_pull_in(breach=breach, acting_user=ombudsman)
    other = desk_breach(agency=agency_a, unit=unit_a, kind="overcharge", suggested="illegal_charge")

    reviewer = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    _login_with_code(reviewer, ombudsman)
    reviewer.goto("/en/staff/breaches/queue/")
    assert _listed(reviewer) == {late[0].pk, late[1].pk, other.pk}
    reviewer.get_by_label("Kind", exact=True).select_option("late_delivery")
    reviewer.get_by_role("button", name="Apply the filters").click()
    reviewer.wait_for_url("**/staff/breaches/queue/?*")
    assert _listed(reviewer) == {late[0].pk, late[1].pk}
    for breach in late:
        reviewer.locator(f'tr[data-breach="{breach.pk}"] input[type=checkbox]').check()
    reviewer.get_by_role("button", name="Open a case with the selected breaches").click()
    reviewer.wait_for_url("**/staff/cases/*/")
    case = Case.objects.get()
    assert set(case.breaches.values_list("pk", flat=True)) == {b.pk for b in late}

    # The timeline of each request, and the promise as it stood.
    for breach in late:
        timeline = reviewer.locator(f'[data-timeline="{breach.delivery_id}"]')
        assert breach.delivery is not None
        assert breach.delivery.reference in timeline.inner_text()
        assert "5 Jan 2026" in timeline.inner_text() and "20 Jan 2026" in timeline.inner_text()
    assert "Standard version 1" in reviewer.locator("#promise-heading + ul").inner_text()
    _no_blocking_axe(reviewer, "case page (en)")

    _step(reviewer, "verify")
    _step(reviewer, "accept")
    _step(reviewer, "request_explanation", "Mengapa akta terlambat sepuluh hari kerja?")
    assert reviewer.locator("[data-state]").first.get_attribute("data-state") == "examination"

    # The unit answers from its staff area.
    unit = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    _login_with_code(unit, editor_a)
    unit.goto(f"/en/staff/cases/{case.pk}/")
    assert "Mengapa akta terlambat" in unit.inner_text("body")
    assert "Internal notes" not in unit.inner_text("body")
    _no_blocking_axe(unit, "case page, agency (en)")
    unit.get_by_label("Your explanation").fill("Server arsip rusak selama dua minggu.")
    unit.get_by_role("button", name="Send the explanation").click()
    unit.wait_for_load_state()

    # The reviewer reads it and finds undue delay, with a corrective action.
    reviewer.reload()
    assert "Server arsip rusak" in reviewer.locator("[data-answer]").inner_text()
    draft = reviewer.locator('[data-step="issue_draft"]')
    draft.locator("summary").click()
    draft.get_by_label("Outcome").select_option("found")
    draft.get_by_label("Undue delay (penundaan berlarut)").check()
    draft.get_by_label("Summary (published, without the citizen's identity)").fill(
        "Permohonan akta diselesaikan melampaui jangka waktu standar."
    )
    draft.get_by_label("Corrective actions", exact=False).fill("Perbaiki server arsip | 10")
    draft.get_by_role("button", name="Issue draft findings").click()
    reviewer.wait_for_load_state()
    final = reviewer.locator('[data-step="finalise"]')
    final.locator("summary").click()
    final.get_by_role("button", name="Make the findings final").click()
    reviewer.wait_for_load_state()
    _step(reviewer, "monitor")
    assert reviewer.locator("[data-state]").first.get_attribute("data-state") == "monitoring"

    # The agency reports the action done, with evidence.
    unit.reload()
    action = unit.locator("[data-action]").first
    action.get_by_label("Progress note").fill("Server diganti, arsip dipulihkan.")
    action.get_by_label("Evidence (PDF, PNG or JPEG, 5 MB)").set_input_files(
        files=[{"name": "bukti.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    action.get_by_label("The action is done").check()
    action.get_by_role("button", name="Send the report").click()
    unit.wait_for_load_state()
    assert (
        unit.locator("[data-action]").first.get_attribute("data-action-status") == "reported_done"
    )

    # The reviewer accepts it.
    reviewer.reload()
    reviewer.locator("[data-action]").first.get_by_role("button", name="Accept the action").click()
    reviewer.wait_for_load_state()
    assert reviewer.locator("[data-action]").first.get_attribute("data-action-status") == "accepted"
    reviewer.goto(f"/staff/cases/{case.pk}/")  # Indonesian
    _no_blocking_axe(reviewer, "case page (id)")
    reviewer.goto("/staff/cases/")
    _no_blocking_axe(reviewer, "case list (id)")

    # The agency's public page shows the finding and the action done on time.
    citizen = browser.new_context(base_url=live_server.url, locale="id-ID").new_page()
    citizen.goto(agency_a.get_absolute_url())
    finding = citizen.locator(f'[data-finding="{case.finding.pk}"]')
    assert "penundaan berlarut" in finding.inner_text().lower()
    assert finding.locator('[data-public-action="done_on_time"]').count() == 1
    assert citizen.locator('[data-actions-record="1/1"]').count() == 1
    assert "AKTA-001" not in citizen.inner_text("body")  # no request of a citizen
    _no_blocking_axe(citizen, "agency page with findings (id)")
