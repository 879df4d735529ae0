"""The bulk open data: the datasets page, the downloads (CSV, XLSX) and the DCAT-AP
catalogue (JSON-LD) that CKAN-based portals harvest."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.cache import cache
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_safe

from agencies.licences import DEFAULT_LICENCE
from opendata.exports import DATASETS, Dataset
from opendata.formats import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, csv_chunks, xlsx_file
from opendata.selectors import agencies_with_own_licence

# The default licence of the datasets; an agency may choose another for its rows, which
# carry it in their `licence` column (agencies.licences).
LICENCE_URL = DEFAULT_LICENCE.url
LICENCE_NAME = DEFAULT_LICENCE.name
LICENCE_COLUMN = "licence"
FORMATS = {"csv": ("CSV", CSV_MEDIA_TYPE), "xlsx": ("XLSX", XLSX_MEDIA_TYPE)}
FACTS_KEY = "opendata:facts"
FACTS_SECONDS = 600
FREQUENCY_BASE = "http://publications.europa.eu/resource/authority/frequency/"
FILE_TYPE_BASE = "http://publications.europa.eu/resource/authority/file-type/"
LANGUAGE_BASE = "http://publications.europa.eu/resource/authority/language/"
LANGUAGES = {"id": "IND", "en": "ENG"}
JSON_LD = "application/ld+json; charset=utf-8"


def dataset_facts() -> dict[str, dict[str, Any]]:
    """Last update and row count of each dataset: one aggregate per dataset, cached."""
    cached = cache.get(FACTS_KEY)
    if isinstance(cached, dict):
        return cached
    facts = {
        key: {
            "last_modified": dataset.last_modified(),
            "rows": None if dataset.count is None else dataset.count(),
        }
        for key, dataset in DATASETS.items()
    }
    cache.set(FACTS_KEY, facts, FACTS_SECONDS)
    return facts


def _filename(dataset: Dataset, extension: str) -> str:
    return f"maklumat-{dataset.key}-{timezone.localdate().isoformat()}.{extension}"


@require_safe
def dataset_download(request: HttpRequest, key: str, extension: str) -> HttpResponseBase:
    dataset = DATASETS.get(key)
    if dataset is None or extension not in FORMATS:
        raise Http404
    _label, media_type = FORMATS[extension]
    filename = _filename(dataset, extension)
    response: HttpResponseBase
    if extension == "csv":
        response = StreamingHttpResponse(
            csv_chunks(dataset.columns, dataset.rows()),
            content_type=f"{media_type}; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    else:
        response = FileResponse(
            xlsx_file(dataset.columns, dataset.rows(), title=dataset.key),
            as_attachment=True,
            filename=filename,
            content_type=media_type,
        )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=300"
    return response


def _entries(request: HttpRequest) -> list[dict[str, Any]]:
    facts = dataset_facts()
    return [
        {
            "dataset": dataset,
            "last_modified": facts[key]["last_modified"],
            "rows": facts[key]["rows"],
            "downloads": [
                {
                    "label": label,
                    "media_type": media_type,
                    "url": reverse("opendata:dataset", kwargs={"key": key, "extension": extension}),
                }
                for extension, (label, media_type) in FORMATS.items()
            ],
        }
        for key, dataset in DATASETS.items()
    ]


@require_safe
def datasets_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "opendata/datasets.html",
        {
            "entries": _entries(request),
            "licence_url": LICENCE_URL,
            "licence_name": LICENCE_NAME,
            "own_licences": agencies_with_own_licence(),
            "catalogue_url": reverse("opendata:dcat_catalogue"),
            "api_docs": reverse("api-docs"),
        },
    )


def _texts(value: Any) -> list[dict[str, str]]:
    texts = []
    for language in LANGUAGES:
        with translation.override(language):
            texts.append({"@value": str(value), "@language": language})
    return texts


def _date(value: dt.datetime | None) -> dict[str, str] | None:
    if value is None:
        return None
    return {"@value": value.isoformat(), "@type": "xsd:dateTime"}


def catalogue_document(*, base: str) -> dict[str, Any]:
    """The DCAT-AP 3 catalogue of the datasets, as JSON-LD (dcat:Catalog > dcat:Dataset >
    dcat:Distribution with downloadURL, mediaType, format and licence)."""
    facts = dataset_facts()
    page = base + reverse("opendata_page:datasets")
    licence = {"@id": LICENCE_URL, "@type": "dct:LicenseDocument"}
    # An agency may choose another open licence for its rows: the distribution's licence is
    # the default, and its rights statement names the column that carries each row's own.
    rights = {
        "@type": "dct:RightsStatement",
        "rdfs:label": _texts(
            translation.gettext_lazy(
                "CC BY 4.0 unless the row's agency chose another open licence: each row's "
                'licence (an SPDX identifier) is in its column "licence".'
            )
        ),
    }
    publisher = {"@id": f"{base}/", "@type": "foaf:Agent", "foaf:name": "Maklumat"}
    languages = [{"@id": LANGUAGE_BASE + code} for code in LANGUAGES.values()]
    datasets = []
    for key, dataset in DATASETS.items():
        modified = facts[key]["last_modified"]
        distributions = []
        for extension, (label, media_type) in FORMATS.items():
            url = base + reverse("opendata:dataset", kwargs={"key": key, "extension": extension})
            distributions.append(
                {
                    "@id": url,
                    "@type": "dcat:Distribution",
                    "dct:title": f"{key}.{extension}",
                    "dcat:accessURL": {"@id": url},
                    "dcat:downloadURL": {"@id": url},
                    "dcat:mediaType": {
                        "@id": f"https://www.iana.org/assignments/media-types/{media_type}"
                    },
                    "dct:format": {"@id": FILE_TYPE_BASE + label},
                    "dct:license": licence,
                    **({"dct:rights": rights} if LICENCE_COLUMN in dataset.columns else {}),
                    **({"dct:modified": _date(modified)} if modified else {}),
                }
            )
        entry: dict[str, Any] = {
            "@id": f"{page}#{key}",
            "@type": "dcat:Dataset",
            "dct:identifier": key,
            "dct:title": _texts(dataset.title),
            "dct:description": _texts(dataset.description),
            "dct:publisher": publisher,
            "dct:language": languages,
            "dct:accrualPeriodicity": {"@id": FREQUENCY_BASE + dataset.frequency},
            "dcat:landingPage": {"@id": page},
            "dcat:keyword": ["standar pelayanan", "pelayanan publik", key],
            "dcat:distribution": distributions,
        }
        if modified:
            entry["dct:modified"] = _date(modified)
        datasets.append(entry)
    return {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
        },
        "@id": base + reverse("opendata:dcat_catalogue"),
        "@type": "dcat:Catalog",
        "dct:title": _texts(translation.gettext_lazy("Maklumat open data")),
        "dct:description": _texts(
            translation.gettext_lazy(
                "Public-service standards, charters, performance figures and satisfaction "
                "survey results of Indonesian public bodies, as open data."
            )
        ),
        "dct:publisher": publisher,
        "dct:language": languages,
        "dct:license": licence,
        "foaf:homepage": {"@id": page},
        "dcat:dataset": datasets,
    }


@require_safe
def dcat_catalogue(request: HttpRequest) -> HttpResponse:
    base = request.build_absolute_uri("/").rstrip("/")
    document = catalogue_document(base=base)
    return HttpResponse(json.dumps(document, ensure_ascii=False, indent=1), content_type=JSON_LD)
