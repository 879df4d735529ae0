"""Writes for services and standard versions: drafting, consultation, publication."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history

from agencies.models import Agency, Unit
from agencies.policy import Action, can, can_in_agency
from core.audit import change_reason, mark_history, person
from core.errors import ApplicationError, PermissionDeniedError
from services.components import completeness
from services.models import (
    ComplaintChannel,
    CostItem,
    ProcedureStep,
    Requirement,
    Service,
    StandardVersion,
    VersionStatus,
)

# Scalar content of a version (the children are passed separately).
CONTENT_FIELDS: tuple[str, ...] = (
    "change_summary",
    "processing_time_value",
    "processing_time_unit",
    "clock_start",
    "is_free",
    "product",
    "legal_basis",
    "facilities",
    "facilities_note",
    "staff_competence",
    "internal_supervision",
    "staff_count",
    "service_guarantee",
    "safety_security",
    "performance_evaluation",
    "decree_number",
    "decree_date",
    "effective_date",
)

CHILD_MODELS: dict[str, Any] = {
    "requirements": Requirement,
    "steps": ProcedureStep,
    "cost_items": CostItem,
    "complaint_channels": ComplaintChannel,
}
CHILD_FIELDS: dict[str, tuple[str, ...]] = {
    "requirements": ("name", "is_mandatory", "where_to_get", "copies", "legal_basis"),
    "steps": ("actor", "description", "duration_value", "duration_unit"),
    "cost_items": ("name", "amount", "legal_basis"),
    "complaint_channels": ("kind", "value"),
}


def _audit(obj: Any, user: Any) -> None:
    mark_history(obj, user)


@transaction.atomic
def service_create(
    *,
    agency: Agency,
    unit: Unit,
    name: str,
    acting_user: Any = None,
    slug: str | None = None,
    **fields: Any,
) -> Service:
    if acting_user is not None and not can_in_agency(acting_user, Action.EDIT_STANDARD, agency.pk):
        raise PermissionDeniedError()
    if unit.agency_id != agency.pk:
        raise ApplicationError("The unit belongs to another agency.", field="unit")
    base = slugify(slug or name)[:90] or "layanan"
    candidate, n = base, 2
    while Service.objects.filter(agency=agency, slug=candidate).exists():
        candidate, n = f"{base}-{n}", n + 1
    service = Service(agency=agency, unit=unit, name=name, slug=candidate, **fields)
    _audit(service, acting_user)
    service.full_clean()
    service.save()
    return service


@transaction.atomic
def service_update(*, service: Service, acting_user: Any, **fields: Any) -> Service:
    if not can(acting_user, Action.EDIT_STANDARD, service):
        raise PermissionDeniedError()
    unit = fields.get("unit")
    if unit is not None and unit.agency_id != service.agency_id:
        raise ApplicationError("The unit belongs to another agency.", field="unit")
    for key, value in fields.items():
        setattr(service, key, value)
    _audit(service, acting_user)
    service.full_clean()
    service.save()
    return service


def _validate_content(
    data: Mapping[str, Any], children: Mapping[str, Iterable[Mapping[str, Any]]]
) -> None:
    if data.get("is_free") and any(
        int(c.get("amount") or 0) > 0 for c in children.get("cost_items", [])
    ):
        raise ApplicationError("A free service cannot have cost items above Rp 0.", field="is_free")


def _write_children(
    version: StandardVersion,
    children: Mapping[str, Iterable[Mapping[str, Any]]],
    acting_user: Any,
) -> None:
    for relation, model in CHILD_MODELS.items():
        if relation not in children:
            continue
        getattr(version, relation).all().delete()
        rows = []
        for position, row in enumerate(children[relation], start=1):
            obj = model(
                version=version,
                position=position,
                **{k: row[k] for k in CHILD_FIELDS[relation] if k in row},
            )
            obj.full_clean(exclude=["version"])
            rows.append(obj)
        # One INSERT per relation (and one for its history), not one per row: imports of
        # thousands of standards stay within a web request. The version is known to be a
        # draft here, which is what VersionChild.save() would check row by row.
        bulk_create_with_history(
            rows,
            model,
            default_user=person(acting_user),
            default_change_reason=change_reason(acting_user),
        )


def _recompute_total(version: StandardVersion) -> None:
    total = version.cost_items.aggregate(total=Sum("amount"))["total"] or 0
    StandardVersion.objects.filter(pk=version.pk).update(total_cost=total)
    version.total_cost = total


@transaction.atomic
def standard_draft_create(
    *,
    service: Service,
    acting_user: Any = None,
    data: Mapping[str, Any] | None = None,
    children: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
) -> StandardVersion:
    """Start a new draft version of a service's standard."""
    if acting_user is not None and not can(acting_user, Action.EDIT_STANDARD, service):
        raise PermissionDeniedError()
    data = dict(data or {})
    children = children or {}
    _validate_content(data, children)
    Service.objects.select_for_update().filter(pk=service.pk).first()
    number = (service.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = StandardVersion(
        service=service,
        number=number,
        created_by=person(acting_user),
        **{k: v for k, v in data.items() if k in CONTENT_FIELDS},
    )
    _audit(version, acting_user)
    version.full_clean(exclude=["service", "created_by"])
    version.save()
    _write_children(version, children, acting_user)
    _recompute_total(version)
    return version


@transaction.atomic
def standard_draft_update(
    *,
    version: StandardVersion,
    acting_user: Any,
    data: Mapping[str, Any] | None = None,
    children: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
) -> StandardVersion:
    if not can(acting_user, Action.EDIT_STANDARD, version):
        raise PermissionDeniedError()
    version = StandardVersion.objects.select_for_update().get(pk=version.pk)
    if not version.is_editable:
        raise ApplicationError(
            "A published standard version cannot be changed; create a new version.",
            code="immutable",
        )
    data = dict(data or {})
    children = children or {}
    # Check the free/cost rule against what the version will hold, not only what was sent.
    effective_children = dict(children)
    if "cost_items" not in effective_children:
        effective_children["cost_items"] = list(version.cost_items.values("amount"))
    effective_data = {"is_free": data.get("is_free", version.is_free)}
    _validate_content(effective_data, effective_children)
    for key, value in data.items():
        if key in CONTENT_FIELDS:
            setattr(version, key, value)
    _audit(version, acting_user)
    version.full_clean(exclude=["service", "created_by"])
    version.save()
    _write_children(version, children, acting_user)
    _recompute_total(version)
    return version


def version_content(
    version: StandardVersion,
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """The version's content as plain data: (scalar fields, children)."""
    data = {k: getattr(version, k) for k in CONTENT_FIELDS}
    children = {
        relation: [
            {f: getattr(row, f) for f in CHILD_FIELDS[relation]}
            for row in getattr(version, relation).all()
        ]
        for relation in CHILD_MODELS
    }
    return data, children


@transaction.atomic
def standard_new_version(*, version: StandardVersion, acting_user: Any) -> StandardVersion:
    """Start a new draft from an existing version (the way to change a published one)."""
    if not can(acting_user, Action.EDIT_STANDARD, version):
        raise PermissionDeniedError()
    existing = version.service.versions.filter(
        status__in=[
            VersionStatus.DRAFT,
            VersionStatus.CONSULTATION,
            VersionStatus.AWAITING_APPROVAL,
        ]
    ).first()
    if existing is not None:
        raise ApplicationError(
            "This service already has a draft in progress; continue that one.",
            code="draft_exists",
            extra={"version_id": existing.pk},
        )
    data, children = version_content(version)
    data["change_summary"] = ""
    data["decree_number"] = ""
    data["decree_date"] = None
    data["effective_date"] = None
    return standard_draft_create(
        service=version.service, acting_user=acting_user, data=data, children=children
    )


def _transition(version: StandardVersion, allowed_from: set[str], to: str) -> StandardVersion:
    locked = StandardVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status not in allowed_from:
        raise ApplicationError(
            f"A version in status '{locked.get_status_display()}' cannot move to this step.",
            code="invalid_transition",
        )
    locked.status = to
    return locked


@transaction.atomic
def standard_open_consultation(
    *, version: StandardVersion, closes_on: dt.date, acting_user: Any
) -> StandardVersion:
    """Forum Konsultasi Publik (PermenPANRB 16/2017): citizens comment until closes_on."""
    if not can(acting_user, Action.EDIT_STANDARD, version):
        raise PermissionDeniedError()
    if closes_on <= timezone.localdate():
        raise ApplicationError("The closing date must be in the future.", field="closes_on")
    locked = _transition(version, {VersionStatus.DRAFT}, VersionStatus.CONSULTATION)
    locked.consultation_closes_on = closes_on
    _audit(locked, acting_user)
    locked.save()
    return locked


@transaction.atomic
def standard_submit_for_approval(*, version: StandardVersion, acting_user: Any) -> StandardVersion:
    if not can(acting_user, Action.EDIT_STANDARD, version):
        raise PermissionDeniedError()
    locked = _transition(
        version, {VersionStatus.DRAFT, VersionStatus.CONSULTATION}, VersionStatus.AWAITING_APPROVAL
    )
    locked.submitted_at = timezone.now()
    _audit(locked, acting_user)
    locked.save()
    return locked


@transaction.atomic
def standard_return_to_draft(*, version: StandardVersion, acting_user: Any) -> StandardVersion:
    if not can(acting_user, Action.EDIT_STANDARD, version):
        raise PermissionDeniedError()
    locked = _transition(
        version, {VersionStatus.CONSULTATION, VersionStatus.AWAITING_APPROVAL}, VersionStatus.DRAFT
    )
    _audit(locked, acting_user)
    locked.save()
    return locked


def _add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate_day in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, candidate_day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


@transaction.atomic
def standard_publish(
    *,
    version: StandardVersion,
    acting_user: Any,
    acknowledge_incomplete: bool = False,
    decree_number: str | None = None,
    decree_date: dt.date | None = None,
    effective_date: dt.date | None = None,
    published_at: dt.datetime | None = None,
) -> StandardVersion:
    """Publish a version: it becomes the promise, and the previous one is superseded.

    The service row is locked first so that two approvers publishing at once are
    serialised; the partial unique constraint is the last line of defence.
    """
    if acting_user is not None and not can(acting_user, Action.PUBLISH_STANDARD, version):
        raise PermissionDeniedError()
    Service.objects.select_for_update().filter(pk=version.service_id).first()
    locked = StandardVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status not in {
        VersionStatus.DRAFT,
        VersionStatus.CONSULTATION,
        VersionStatus.AWAITING_APPROVAL,
    }:
        raise ApplicationError(
            "Only a draft or a version awaiting approval can be published.",
            code="invalid_transition",
        )
    if (
        locked.status == VersionStatus.CONSULTATION
        and locked.consultation_closes_on
        and (locked.consultation_closes_on >= timezone.localdate())
    ):
        raise ApplicationError("The public consultation is still open.", code="consultation_open")
    report = completeness(locked)
    if not report.is_complete and not acknowledge_incomplete:
        raise ApplicationError(
            "This standard is missing components; confirm that you publish it incomplete.",
            code="incomplete",
            field="acknowledge_incomplete",
            extra={"missing": [c.key for c in report.missing]},
        )
    if not locked.processing_time_value:
        raise ApplicationError(
            "A standard cannot be published without a processing time.",
            code="no_processing_time",
            field="processing_time_value",
        )
    now = published_at or timezone.now()
    if decree_number is not None:
        locked.decree_number = decree_number
    if decree_date is not None:
        locked.decree_date = decree_date
    locked.effective_date = effective_date or locked.effective_date or timezone.localdate(now)
    months = locked.service.agency.effective_review_interval_months
    locked.next_review_date = _add_months(timezone.localdate(now), months)
    locked.incomplete_acknowledged = not report.is_complete

    previous = list(
        StandardVersion.objects.select_for_update().filter(
            service_id=locked.service_id, status=VersionStatus.PUBLISHED
        )
    )
    for old in previous:
        old.status = VersionStatus.SUPERSEDED
        old.superseded_at = now
        _audit(old, acting_user)
        old.save(update_fields=["status", "superseded_at", "updated_at"])

    locked.status = VersionStatus.PUBLISHED
    locked.published_at = now
    locked.published_by = person(acting_user)
    _audit(locked, acting_user)
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError as exc:  # pragma: no cover - guarded by the row lock above
        raise ApplicationError(
            "Another version of this service was published at the same moment.",
            code="conflict",
        ) from exc
    from core.signals import standard_published

    standard_published.send(sender=StandardVersion, version=locked)
    return locked


@transaction.atomic
def standard_withdraw(
    *, version: StandardVersion, reason: str, acting_user: Any
) -> StandardVersion:
    if not can(acting_user, Action.PUBLISH_STANDARD, version):
        raise PermissionDeniedError()
    locked = _transition(version, {VersionStatus.PUBLISHED}, VersionStatus.WITHDRAWN)
    locked.withdrawn_at = timezone.now()
    locked.withdrawn_reason = reason
    _audit(locked, acting_user)
    locked.save()
    return locked


@transaction.atomic
def standard_draft_delete(*, version: StandardVersion, acting_user: Any) -> None:
    if not can(acting_user, Action.EDIT_STANDARD, version):
        raise PermissionDeniedError()
    if not version.is_editable:
        raise ApplicationError("Only drafts can be deleted.", code="immutable")
    version.delete()


@transaction.atomic
def consultation_comment_add(*, version: StandardVersion, body: str, name: str = "") -> Any:
    """A citizen's comment on a draft in public consultation (until its closing date)."""
    from services.models import ConsultationComment

    locked = StandardVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status != VersionStatus.CONSULTATION or (
        locked.consultation_closes_on and locked.consultation_closes_on < timezone.localdate()
    ):
        raise ApplicationError("This consultation is closed.", code="consultation_closed")
    body = body.strip()
    if not body:
        raise ApplicationError("Write a comment.", field="body")
    return ConsultationComment.objects.create(
        version=locked, body=body[:4000], name=name.strip()[:120]
    )
