"""CPSV-AP 3.2.0 JSON-LD documents: the whole catalogue (streamed) and one per service."""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.http import require_safe

from opendata import cpsv
from opendata.selectors import cpsv_catalogue_batches, cpsv_service_get
from services.models import Service

JSON_LD = "application/ld+json; charset=utf-8"


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@require_safe
def cpsv_catalogue(request: HttpRequest) -> StreamingHttpResponse:
    chunks = cpsv.catalogue_chunks(base=_base(request), batches=cpsv_catalogue_batches())
    return StreamingHttpResponse(chunks, content_type=JSON_LD)


@require_safe
def cpsv_service(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        service, version = cpsv_service_get(pk=pk)
    except Service.DoesNotExist:
        raise Http404 from None
    document = cpsv.service_document(base=_base(request), service=service, version=version)
    return HttpResponse(json.dumps(document, ensure_ascii=False), content_type=JSON_LD)
