"""Staff area: record deliveries, change their status, list them, import them from CSV.

Thin adapters over delivery.services, delivery.importing and the permission policy:
members without RECORD_DELIVERY get 403, deliveries of other agencies 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from agencies.models import Agency
from agencies.policy import Action, agencies_for, can, get_permitted, has_any
from core.errors import ApplicationError, PermissionDeniedError
from delivery import services as writes
from delivery.forms import (
    STATUS_FORMS,
    DeliveryFilterForm,
    DeliveryForm,
    ImportForm,
    _LocalTimes,
    status_forms_for,
)
from delivery.importing import (
    COLUMNS,
    OPTIONAL_COLUMNS,
    GuardedUploadHandler,
    ImportRefusedError,
    encoding_message,
    import_start,
    max_bytes,
    too_big_message,
)
from delivery.models import ACTIVE_STATUSES, ServiceDelivery
from delivery.selectors import deliveries_for_staff, recordable_services
from imports.models import ImportJob, ImportKind
from imports.selectors import import_job_get
from imports.services import import_job_fail, job_file

PAGE_SIZE = 50


def _require_recorder(request: HttpRequest) -> None:
    if not has_any(request.user, Action.RECORD_DELIVERY):
        raise PermissionDenied


def _get_delivery(request: HttpRequest, pk: int) -> ServiceDelivery:
    return get_permitted(
        request.user,
        Action.RECORD_DELIVERY,
        ServiceDelivery.objects.select_related(
            "agency", "unit", "service", "version", "calendar", "extension_approved_by"
        ),
        pk=pk,
    )


@login_required
def delivery_list(request: HttpRequest) -> HttpResponse:
    _require_recorder(request)
    services = recordable_services(user=request.user)
    form = DeliveryFilterForm(request.GET or None, services=services)
    filters: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    deliveries = deliveries_for_staff(
        user=request.user,
        status=filters.get("status", ""),
        service=filters.get("service"),
        overdue=filters.get("overdue", False),
        q=filters.get("q", ""),
    )
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "delivery/list.html",
        {
            "form": form,
            "page": page,
            "querystring": query.urlencode(),
            "now": timezone.now(),
            "active": ACTIVE_STATUSES,
        },
    )


@login_required
def delivery_create(request: HttpRequest) -> HttpResponse:
    _require_recorder(request)
    services = recordable_services(user=request.user)
    initial: dict[str, Any] = {}
    wanted = request.GET.get("service", "")
    if wanted.isdigit():
        initial["service"] = services.filter(pk=int(wanted)).first()
    form = DeliveryForm(request.POST or None, services=services, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            delivery, created = writes.delivery_record(
                service=data["service"],
                reference=data["reference"],
                submitted_at=data["submitted_at"],
                file_complete_at=data["file_complete_at"],
                completed_at=data["completed_at"],
                outcome=data["outcome"],
                refusal_reason=data["refusal_reason"],
                fee_charged=data["fee_charged"],
                channel=data["channel"],
                acting_user=request.user,
            )
        except PermissionDeniedError:
            raise PermissionDenied from None
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(
                request,
                (
                    _("Delivery %(reference)s recorded; tracking code %(code)s.")
                    if created
                    else _("Delivery %(reference)s already existed and was updated.")
                )
                % {"reference": delivery.reference, "code": delivery.tracking_code},
            )
            return redirect("deliveries:detail", pk=delivery.pk)
    return render(request, "delivery/form.html", {"form": form})


def _render_detail(
    request: HttpRequest,
    delivery: ServiceDelivery,
    bound: tuple[str, _LocalTimes] | None = None,
    status: int = 200,
) -> HttpResponse:
    can_extend = can(request.user, Action.PUBLISH_STANDARD, delivery)
    return render(
        request,
        "delivery/detail.html",
        {
            "delivery": delivery,
            "pauses": delivery.pauses.all(),
            "status_forms": status_forms_for(delivery, can_extend=can_extend, bound=bound),
            "is_overdue": delivery.status in ACTIVE_STATUSES
            and delivery.due_at is not None
            and delivery.due_at < timezone.now(),
        },
        status=status,
    )


@login_required
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _get_delivery(request, pk))


def _apply(name: str, delivery: ServiceDelivery, data: dict[str, Any], user: Any) -> str:
    if name == "complete":
        writes.delivery_complete(
            delivery=delivery,
            completed_at=data["completed_at"],
            outcome=data["outcome"],
            fee_charged=data["fee_charged"],
            refusal_reason=data["refusal_reason"],
            acting_user=user,
        )
        return _("The request is marked as completed.")
    if name == "file-complete":
        writes.delivery_file_complete(delivery=delivery, at=data["at"], acting_user=user)
        return _("The file is complete: the clock runs.")
    if name == "pause":
        writes.delivery_pause(
            delivery=delivery, reason=data["reason"], at=data["at"], acting_user=user
        )
        return _("The clock is paused.")
    if name == "resume":
        writes.delivery_resume(delivery=delivery, at=data["at"], acting_user=user)
        return _("The clock runs again.")
    if name == "withdraw":
        writes.delivery_withdraw(delivery=delivery, at=data["at"], acting_user=user)
        return _("The request is withdrawn.")
    writes.delivery_extend(
        delivery=delivery,
        new_due_date=data["new_due_date"],
        reason=data["reason"],
        acting_user=user,
    )
    return _("The deadline is extended.")


@login_required
@require_POST
def delivery_status(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    delivery = _get_delivery(request, pk)
    form_class = STATUS_FORMS.get(name)
    if form_class is None:
        raise Http404
    if name == "extend" and not can(request.user, Action.PUBLISH_STANDARD, delivery):
        raise PermissionDenied
    form = form_class(
        request.POST, prefix=name, utc_offset_hours=delivery.calendar.utc_offset_hours
    )
    if form.is_valid():
        try:
            message = _apply(name, delivery, form.cleaned_data, request.user)
        except PermissionDeniedError:
            raise PermissionDenied from None
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, message)
            return redirect("deliveries:detail", pk=delivery.pk)
    delivery.refresh_from_db()
    return _render_detail(request, delivery, bound=(name, form), status=400)


# --- CSV import --------------------------------------------------------------------------


def _enqueue(job: ImportJob) -> None:
    from delivery.tasks import delivery_import_task

    try:
        delivery_import_task.delay(str(job.pk))
    except Exception:  # the broker is down: say so on the job page rather than wait forever
        import_job_fail(
            job=job, message=_("The import could not be started; try again in a few minutes.")
        )


@login_required
@csrf_exempt
def delivery_import(request: HttpRequest) -> HttpResponse:
    # The upload handlers must be in place before the body is read (and the CSRF check
    # reads it): stream the file, refusing it past the size limit.
    guard = GuardedUploadHandler(request, limit=max_bytes())
    if request.method == "POST":
        request.upload_handlers.insert(0, guard)
    return _delivery_import(request, guard)


@csrf_protect
def _delivery_import(request: HttpRequest, guard: GuardedUploadHandler) -> HttpResponse:
    _require_recorder(request)
    agencies = agencies_for(request.user, Action.RECORD_DELIVERY).order_by("name")
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES, agencies=agencies)
        valid = form.is_valid()
        if guard.too_big:
            form.errors.pop("file", None)
            form.add_error("file", too_big_message())
        elif guard.bad_encoding:
            form.add_error("file", encoding_message())
        elif valid:
            agency: Agency = form.cleaned_data["agency"]
            try:
                job = import_start(
                    agency=agency,
                    user=request.user,
                    upload=form.cleaned_data["file"],
                    language=get_language(),
                )
            except ImportRefusedError as refused:
                form.add_error("file", refused.message)
            else:
                transaction.on_commit(lambda: _enqueue(job))
                return redirect("deliveries:import_job", job_id=job.pk)
        status = 400
    else:
        form = ImportForm(agencies=agencies)
        status = 200
    return render(
        request,
        "delivery/import_upload.html",
        {"form": form, "columns": COLUMNS, "optional_columns": OPTIONAL_COLUMNS},
        status=status,
    )


def _own_job(request: HttpRequest, job_id: str) -> ImportJob:
    job = import_job_get(user=request.user, job_id=job_id, kind=ImportKind.DELIVERIES)
    if job is None:
        raise Http404
    return job


@login_required
@never_cache
def import_job(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _own_job(request, job_id)
    report = job_file(job.report_file)
    return render(
        request,
        "delivery/import_job.html",
        {
            "job": job,
            "agency": job.agency,
            "progress": job.progress,
            "finished": job.finished,
            "has_report": job.errors > 0 and report is not None and report.exists(),
            "more_errors": job.errors - len(job.error_sample),
        },
    )


@login_required
@never_cache
def import_report(request: HttpRequest, job_id: str) -> FileResponse:
    job = _own_job(request, job_id)
    path = job_file(job.report_file)
    if path is None or not path.exists():
        raise Http404
    stem = job.filename.rsplit(".", 1)[0] or "deliveries"
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"{stem}-errors.csv",
        content_type="text/csv; charset=utf-8",
    )
