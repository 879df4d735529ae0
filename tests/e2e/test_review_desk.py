"""A reviewer filters the review desk, assigns a breach to themself, and the filtered URL
brings the same view back."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from oversight.models import Breach
from tests.oversight.desk_world import desk_breach

pytestmark = pytest.mark.e2e


def _login_with_code(page, user) -> None:
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    page.goto("/en/accounts/login/")
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill("secret-pass-123")
    page.get_by_role("button", name="Log in").click()
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    page.get_by_label("6-digit code").fill(f"{code:0{device.digits}d}")
    page.get_by_role("button", name="Verify").click()


def _listed(page) -> set[int]:
    return {int(pk) for pk in page.locator("tr[data-breach]").evaluate_all(
        "rows => rows.map(r => r.dataset.breach)"
    )}  # fmt: skip


def test_a_reviewer_filters_assigns_and_reloads_the_same_view(
    page, browser, live_server, ombudsman, agency_a, agency_b, unit_a, unit_b, transactional_db
):
    agency_b.region_code = "35.78"
    agency_b.save()
    overcharge_a = desk_breach(agency=agency_a, unit=unit_a, kind="overcharge", days_ago=12)
    desk_breach(agency=agency_a, unit=unit_a, kind="late_delivery", days_ago=9)
    desk_breach(agency=agency_b, unit=unit_b, kind="overcharge", days_ago=7)

    reviewer = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    _login_with_code(reviewer, ombudsman)
    reviewer.goto("/en/staff/breaches/queue/")
    assert len(_listed(reviewer)) == 3

    # Filter: overcharges in province 32, newest first.
    reviewer.get_by_label("Kind", exact=True).select_option("overcharge")
    reviewer.get_by_label("Region", exact=False).fill("32")
    reviewer.get_by_label("Sort", exact=True).select_option("newest")
    reviewer.get_by_role("button", name="Apply the filters").click()
    reviewer.wait_for_url("**/staff/breaches/queue/?*")
    filtered_url = reviewer.url
    query = parse_qs(urlsplit(filtered_url).query)
    assert (query["kind"], query["region"], query["sort"]) == (["overcharge"], ["32"], ["newest"])
    assert _listed(reviewer) == {overcharge_a.pk}

    # Assign it to me: the desk comes back with the same filters.
    reviewer.get_by_role("checkbox", name=f"Overcharge #{overcharge_a.pk}").check()
    reviewer.get_by_role("combobox", name="Action").select_option("assign_me")
    reviewer.get_by_role("button", name="Apply to the selected breaches").click()
    reviewer.wait_for_load_state()
    assert parse_qs(urlsplit(reviewer.url).query) == parse_qs(urlsplit(filtered_url).query)
    row = reviewer.locator(f'tr[data-breach="{overcharge_a.pk}"]')
    assert row.locator("td.assignee").inner_text() == ombudsman.username
    assert Breach.objects.get(pk=overcharge_a.pk).assignee == ombudsman

    # The filtered URL, reloaded or opened afresh, is the same view.
    reviewer.reload()
    assert _listed(reviewer) == {overcharge_a.pk}
    assert reviewer.get_by_label("Kind", exact=True).input_value() == "overcharge"
    again = reviewer.context.new_page()
    again.goto(filtered_url)
    assert _listed(again) == {overcharge_a.pk}
    assert again.get_by_label("Region", exact=False).input_value() == "32"
    assert again.get_by_label("Sort", exact=True).input_value() == "newest"
    again.goto(filtered_url + "&assigned=me")
    assert _listed(again) == {overcharge_a.pk}
    reviewer.context.close()
