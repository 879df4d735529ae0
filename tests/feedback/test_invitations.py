"""The completion email of a request carries the survey's link: one per request and
confirmed follower, however often the job runs; none once the survey is answered."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from delivery.services import delivery_record
from feedback.elements import SCORE_FIELDS
from feedback.invitations import SURVEY_INVITE, survey_invitations_queue
from feedback.models import SurveyChannel
from feedback.services import survey_response_submit
from feedback.tasks import survey_invitations_task
from notifications.channels import Moot, Unsubscribed, email_for
from notifications.models import Notification
from oversight.models import CitizenFollower

pytestmark = pytest.mark.django_db

CITIZEN = "Warga.Puas@example.com"


def _follow(delivery: Any, email: str = CITIZEN, *, confirmed: bool = True) -> Any:
    return CitizenFollower.objects.create(
        delivery=delivery, email=email, confirmed_at=timezone.now() if confirmed else None
    )


def _rows() -> list[Notification]:
    return list(Notification.objects.filter(event=SURVEY_INVITE).order_by("pk"))


def test_a_completed_request_is_announced_once_with_the_survey_link(completed: Any) -> None:
    follower = _follow(completed)
    _follow(completed, "belum.konfirmasi@example.com", confirmed=False)
    survey_invitations_queue()
    survey_invitations_queue()
    survey_invitations_task()
    (row,) = _rows()
    assert row.recipient == CITIZEN and row.subject_id == follower.pk
    message = email_for(row)
    survey = reverse("feedback:after_request", kwargs={"code": completed.tracking_code})
    assert survey in message.body
    html = message.alternatives[0][0]
    assert isinstance(html, str) and survey in html and "data-survey-link" in html
    assert "selesai" in message.subject  # Indonesian by default
    assert "List-Unsubscribe" in message.extra_headers


def test_open_old_or_answered_requests_are_not_announced(
    completed: Any, open_request: Any, service_a: Any
) -> None:
    now = timezone.now()
    old, _ = delivery_record(
        service=service_a,
        reference="SKM-OLD",
        submitted_at=now - dt.timedelta(days=30),
        completed_at=now - dt.timedelta(days=20),
    )
    for delivery in (open_request, old):
        _follow(delivery)
    survey_response_submit(
        unit=completed.unit,
        delivery=completed,
        channel=SurveyChannel.AFTER_REQUEST,
        scores=[3] * len(SCORE_FIELDS),
    )
    _follow(completed)
    assert survey_invitations_queue() == 0
    assert _rows() == []


def test_answered_or_unfollowed_meanwhile_sends_nothing(completed: Any) -> None:
    follower = _follow(completed)
    survey_invitations_queue()
    (row,) = _rows()
    survey_response_submit(
        unit=completed.unit,
        delivery=completed,
        channel=SurveyChannel.AFTER_REQUEST,
        scores=[4] * len(SCORE_FIELDS),
    )
    with pytest.raises(Moot):
        email_for(row)
    follower.delete()
    with pytest.raises(Unsubscribed):
        email_for(row)


def test_each_follower_gets_one(completed: Any) -> None:
    _follow(completed)
    _follow(completed, "keluarga@example.com")
    assert survey_invitations_queue() == 2
    survey_invitations_queue()
    assert sorted(row.recipient for row in _rows()) == [CITIZEN, "keluarga@example.com"]
