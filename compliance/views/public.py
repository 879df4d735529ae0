"""The published scores as open data: CSV and XLSX, streamed."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.views.decorators.http import require_safe

from compliance.exporting import csv_chunks, xlsx_file

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@require_safe
def scores_csv(request: HttpRequest) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_chunks(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="compliance-scores.csv"'
    return response


@require_safe
def scores_xlsx(request: HttpRequest) -> FileResponse:
    return FileResponse(
        xlsx_file(), as_attachment=True, filename="compliance-scores.xlsx", content_type=XLSX
    )
