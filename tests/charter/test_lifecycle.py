"""A charter's life through the service functions: immutable once published, superseded by
a new version, compared field by field, withdrawn with a reason, audited; and what it means
for oversight (the missing-charter breach, the compensation owed)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from charter.diff import charter_diff
from charter.models import Charter, CharterStatus
from charter.services import (
    charter_draft_update,
    charter_new_version,
    charter_publish,
    charter_withdraw,
)
from core.errors import ApplicationError, PermissionDeniedError
from delivery.services import delivery_record
from oversight.compensation import breach_compensation
from oversight.models import Breach, BreachStatus
from oversight.sweep import sweep
from tests.charter.conftest import make_charter
from tests.delivery.conftest import wib
from tests.notifications import conftest as notifications_conftest
from tests.notifications.conftest import SWEPT_AT, late_breach

# --- Immutability, supersede, diff, withdraw ---------------------------------------------------


def test_a_published_charter_is_immutable(published_charter: Charter, editor_a: Any) -> None:
    with pytest.raises(ApplicationError) as raised:
        charter_draft_update(charter=published_charter, acting_user=editor_a, pledge="Lain")
    assert raised.value.code == "immutable"
    published_charter.signatory_name = "Orang lain"
    with pytest.raises(ApplicationError):
        published_charter.save()
    published_charter.refresh_from_db()
    assert published_charter.signatory_name == "Dra. Siti Rahmawati"


def test_a_new_version_supersedes_the_published_one(
    published_charter: Charter, editor_a: Any, approver_a: Any
) -> None:
    draft = charter_new_version(charter=published_charter, acting_user=editor_a)
    assert (draft.number, draft.status) == (2, CharterStatus.DRAFT)
    assert list(draft.services.all()) == list(published_charter.services.all())
    with pytest.raises(ApplicationError) as raised:
        charter_new_version(charter=published_charter, acting_user=editor_a)
    assert raised.value.code == "draft_exists"
    assert raised.value.extra == {"charter_id": draft.pk}

    charter_publish(charter=draft, acting_user=approver_a)

    published_charter.refresh_from_db()
    assert published_charter.status == CharterStatus.SUPERSEDED
    assert published_charter.superseded_at is not None
    assert list(
        Charter.objects.filter(unit=published_charter.unit, status="published").values_list(
            "number", flat=True
        )
    ) == [2]
    # The supersession is in the history, by the approver who published the new version.
    last = published_charter.history.latest()
    assert (last.status, last.history_user) == ("superseded", approver_a)


def test_only_an_approver_publishes_and_an_editor_cannot(
    draft_charter: Charter, editor_a: Any
) -> None:
    with pytest.raises(PermissionDeniedError):
        charter_publish(charter=draft_charter, acting_user=editor_a)
    draft_charter.refresh_from_db()
    assert draft_charter.status == CharterStatus.DRAFT


def test_diff_lists_exactly_the_changed_fields(
    published_charter: Charter, editor_a: Any, unit_a: Any
) -> None:
    from tests.registry import make_service

    extra = make_service(unit_a.agency, unit_a, "Akta Kelahiran", acting_user=editor_a)
    draft = charter_new_version(charter=published_charter, acting_user=editor_a)
    draft = charter_draft_update(
        charter=draft,
        acting_user=editor_a,
        compensation_per_day=30_000,
        decree_number="800/2/2026",
        services=[*published_charter.services.all(), extra],
    )
    changes = {c.key: (c.old, c.new) for c in charter_diff(published_charter, draft)}
    assert changes == {
        "compensation_per_day": ("Rp 20.000", "Rp 30.000"),
        "decree_number": ("—", "800/2/2026"),
        "services": (
            "Kartu Tanda Penduduk Elektronik",
            "Akta Kelahiran; Kartu Tanda Penduduk Elektronik",
        ),
    }
    assert charter_diff(published_charter, published_charter) == []


def test_withdrawal_needs_a_reason_and_leaves_no_charter_in_force(
    published_charter: Charter, editor_a: Any, approver_a: Any
) -> None:
    with pytest.raises(PermissionDeniedError):
        charter_withdraw(charter=published_charter, reason="x", acting_user=editor_a)
    with pytest.raises(ApplicationError) as raised:
        charter_withdraw(charter=published_charter, reason="  ", acting_user=approver_a)
    assert raised.value.field == "reason"

    withdrawn = charter_withdraw(
        charter=published_charter, reason="Unit digabung.", acting_user=approver_a
    )

    assert (withdrawn.status, withdrawn.withdrawn_reason) == ("withdrawn", "Unit digabung.")
    assert withdrawn.withdrawn_at is not None
    assert not Charter.objects.filter(status="published").exists()
    assert withdrawn.history.latest().history_user == approver_a
    with pytest.raises(ApplicationError) as again:
        charter_withdraw(charter=withdrawn, reason="lagi", acting_user=approver_a)
    assert again.value.code == "invalid_transition"


def test_writes_are_recorded_in_the_history_by_who_made_them(
    draft_charter: Charter, editor_a: Any, approver_a: Any
) -> None:
    charter_draft_update(charter=draft_charter, acting_user=editor_a, decree_number="SK 9")
    charter_publish(charter=draft_charter, acting_user=approver_a)
    records = list(draft_charter.history.order_by("history_date", "history_id"))
    assert (records[0].history_type, records[0].history_user) == ("+", editor_a)
    assert {r.history_user for r in records if r.status == "draft"} == {editor_a}
    assert any(r.decree_number == "SK 9" for r in records if r.status == "draft")
    assert (records[-1].status, records[-1].history_user) == ("published", approver_a)


# --- Oversight ---------------------------------------------------------------------------------


def test_publishing_a_charter_resolves_the_missing_charter_breach_in_the_next_sweep(
    unit_a: Any, service_a: Any, editor_a: Any, approver_a: Any, login_as: Any
) -> None:
    from django.urls import reverse

    sweep()
    breach = Breach.objects.get(kind="missing_charter", unit=unit_a)
    assert breach.status == BreachStatus.OPEN

    # Drafted and published through the staff pages, as the agency would.
    draft = make_charter(unit_a, [service_a], editor_a)
    sweep()
    breach.refresh_from_db()
    assert breach.status == BreachStatus.OPEN  # a draft is no charter yet
    response = login_as(approver_a).post(reverse("charter_staff:publish", args=[draft.pk]))
    assert response.status_code == 302

    sweep()

    breach.refresh_from_db()
    assert breach.status == BreachStatus.RESOLVED and breach.resolved_at is not None


service = notifications_conftest.service


def _late(service: Any, ref: str, submitted: dt.datetime, completed: dt.datetime) -> Breach:
    delivery_record(
        service=service,
        reference=ref,
        submitted_at=submitted,
        file_complete_at=submitted,
        completed_at=completed,
    )
    sweep(now=SWEPT_AT, kinds=["late_delivery"])
    return Breach.objects.get(kind="late_delivery", delivery__reference=ref)


def test_compensation_uses_the_charter_in_force_when_the_request_was_submitted(
    service: Any, unit_a: Any, editor_a: Any, approver_a: Any
) -> None:
    # v1, signed in 2025: Rp 20.000 a day, at most Rp 500.000.
    first = charter_publish(
        charter=make_charter(unit_a, [service], editor_a, signed_on=dt.date(2025, 1, 2)),
        acting_user=approver_a,
    )
    # Submitted 5 January 2026 under v1 (due 12 January, completed 20 January: 5 days late).
    early = late_breach(service)
    # v2, signed 8 January 2026: Rp 50.000 a day, no cap; it supersedes v1.
    second = charter_new_version(charter=first, acting_user=editor_a)
    charter_draft_update(
        charter=second,
        acting_user=editor_a,
        signed_on=dt.date(2026, 1, 8),
        compensation_per_day=50_000,
        compensation_cap=None,
    )
    charter_publish(charter=second, acting_user=approver_a)
    # Submitted 9 January 2026, under v2 (due 16 January... completed 28 January).
    later = _late(service, "later", wib(2026, 1, 9), wib(2026, 1, 28))

    under_first = breach_compensation(early)
    under_second = breach_compensation(later)

    assert under_first is not None and under_second is not None
    assert (under_first.per_day, under_first.cap) == (20_000, 500_000)
    assert under_first.owed == under_first.days_late * 20_000 == 5 * 20_000
    assert (under_second.per_day, under_second.cap) == (50_000, None)
    assert under_second.owed == under_second.days_late * 50_000 > 0


def test_a_request_submitted_after_the_charter_was_withdrawn_is_owed_nothing(
    service: Any, unit_a: Any, editor_a: Any, approver_a: Any
) -> None:
    charter = charter_publish(
        charter=make_charter(unit_a, [service], editor_a), acting_user=approver_a
    )
    before = late_breach(service)
    charter = charter_withdraw(charter=charter, reason="Unit ditutup.", acting_user=approver_a)
    # The withdrawal happens now; a request submitted later is not covered, an earlier one is.
    compensation = breach_compensation(before)
    assert compensation is not None and compensation.per_day == 20_000
    from oversight.compensation import charter_in_force

    assert charter.withdrawn_at is not None
    later: dt.datetime = charter.withdrawn_at + dt.timedelta(days=1)
    assert charter_in_force(unit_a.pk, later, later.date()) is None
