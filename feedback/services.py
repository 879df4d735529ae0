"""Writes of the satisfaction survey: one answered questionnaire at a time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from agencies.models import Unit
from core.errors import ApplicationError
from delivery.models import DeliveryStatus, ServiceDelivery
from feedback.elements import SCORE_FIELDS
from feedback.models import SkmFollowUp, SurveyChannel, SurveyResponse
from feedback.periods import PERIOD_PATTERN, period_of
from feedback.skm import check_response
from services.models import Service


@dataclass(frozen=True)
class SurveyProfile:
    """The respondent's optional profile ("" where not given)."""

    age_band: str = ""
    sex: str = ""
    education: str = ""
    occupation: str = ""


def device_key(token: str) -> str:
    """What is stored of an open-survey device cookie: a keyed hash, never the token."""
    return salted_hmac("feedback.survey.device", token, algorithm="sha256").hexdigest()


def survey_response_submit(
    *,
    unit: Unit,
    scores: Sequence[int],
    channel: str,
    service: Service | None = None,
    delivery: ServiceDelivery | None = None,
    device: str = "",
    profile: SurveyProfile | None = None,
    suggestion: str = "",
    now: dt.datetime | None = None,
) -> SurveyResponse:
    """Record one answered questionnaire.

    After a request: the request must be completed and answered at most once (the unit
    and service are the request's). Open survey: at most one response per device (a keyed
    hash of a cookie, `device_key`) and period.
    """
    try:
        check_response(scores)
    except ValueError as exc:
        raise ApplicationError(_("Answer each of the nine questions."), code="scores") from exc
    now = now or timezone.now()
    period = period_of(timezone.localdate(now))
    if channel == SurveyChannel.AFTER_REQUEST:
        if delivery is None or device:
            raise ApplicationError("A survey after a request names the request.")
        if delivery.status != DeliveryStatus.COMPLETED:
            raise ApplicationError(
                _("The survey opens when your request is completed."), code="not_completed"
            )
        unit, service = delivery.unit, delivery.service
    elif channel == SurveyChannel.OPEN:
        if delivery is not None or not device:
            raise ApplicationError("An open survey names a device, not a request.")
        if service is not None and service.unit_id != unit.pk:
            raise ApplicationError("This service is not the unit's.", code="service")
    else:
        raise ApplicationError(f"Unknown survey channel: {channel!r}")
    profile = profile or SurveyProfile()
    response = SurveyResponse(
        agency_id=unit.agency_id,
        unit=unit,
        service=service,
        delivery=delivery,
        channel=channel,
        period=period,
        device=device,
        age_band=profile.age_band,
        sex=profile.sex,
        education=profile.education,
        occupation=profile.occupation,
        suggestion=suggestion.strip(),
        submitted_at=now,
        **dict(zip(SCORE_FIELDS, scores, strict=True)),
    )
    try:
        # The unique constraints decide, so two submissions at once cannot both count.
        with transaction.atomic():
            response.save()
    except IntegrityError as exc:
        raise ApplicationError(
            _("You have already answered this survey. Thank you."), code="duplicate"
        ) from exc
    return response


def suggestion_answer(
    *, response: SurveyResponse, actor: Any, answer: str, now: dt.datetime | None = None
) -> SurveyResponse:
    """The unit answers a respondent's suggestion (the caller checked the actor may, on the
    response's unit). Answering again replaces the text; the first answer's time is kept
    for the share of suggestions answered."""
    answer = answer.strip()
    if not response.suggestion:
        raise ApplicationError(_("This response has no suggestion to answer."), code="state")
    if not answer:
        raise ApplicationError(_("This field is required."), code="required", field="answer")
    now = now or timezone.now()
    response.suggestion_answer = answer
    response.suggestion_answered_at = response.suggestion_answered_at or now
    response.suggestion_answered_by = actor if getattr(actor, "is_authenticated", False) else None
    response.save(
        update_fields=["suggestion_answer", "suggestion_answered_at", "suggestion_answered_by"]
    )
    return response


def skm_follow_up_save(*, unit: Unit, period: str, plan: str, actor: Any) -> SkmFollowUp:
    """The follow-up the unit plans after `period`'s survey (the caller checked the actor
    may, on the unit). One per unit and period: saving again replaces it (history kept)."""
    plan = plan.strip()
    if not PERIOD_PATTERN.match(period):
        raise ApplicationError("Not a survey period.", code="period")
    if not plan:
        raise ApplicationError(_("This field is required."), code="required", field="plan")
    follow_up = SkmFollowUp.objects.filter(unit=unit, period=period).first() or SkmFollowUp(
        agency_id=unit.agency_id, unit=unit, period=period
    )
    follow_up.plan = plan
    follow_up.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    follow_up.save()
    return follow_up
