"""The findings and corrective actions as CSV and XLSX (cases.exporting): reviewers get
every row, the agency's staff their own agency's, nobody else anything."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from accounts.otp import otp_required_for_privileged
from agencies.policy import Action, has_any
from cases import exporting
from core.exporting import XLSX_MEDIA_TYPE
from oversight.desk import is_reviewer

WRITERS: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("findings", "csv"): exporting.findings_csv,
    ("findings", "xlsx"): exporting.findings_xlsx,
    ("actions", "csv"): exporting.actions_csv,
    ("actions", "xlsx"): exporting.actions_xlsx,
}


@require_safe
@otp_required_for_privileged
def export(request: HttpRequest, what: str, fmt: str) -> HttpResponse:
    writer = WRITERS.get((what, fmt))
    if writer is None:
        raise Http404
    user = request.user
    if not is_reviewer(user) and not has_any(user, Action.ANSWER_BREACH):
        raise PermissionDenied
    filename = f"ombudsman-{what}-{timezone.localdate():%Y%m%d}.{fmt}"
    response: HttpResponse
    if fmt == "csv":
        response = StreamingHttpResponse(writer(user), content_type="text/csv; charset=utf-8")  # type: ignore[assignment]
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    else:
        response = FileResponse(  # type: ignore[assignment]
            writer(user), as_attachment=True, filename=filename, content_type=XLSX_MEDIA_TYPE
        )
    response["Cache-Control"] = "private, no-store"
    return response
