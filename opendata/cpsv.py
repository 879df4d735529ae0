"""CPSV-AP 3.2.0 JSON-LD from the registry's published data: a pure builder.

Each service with a published standard becomes a cpsv:PublicService and the nodes it points
to (its agency as cv:PublicOrganisation, channels, costs, requirements with their evidence,
output, legal resources, contact point), as flat JSON-LD nodes for an `@graph`. Nothing here
reads the database: the caller hands in services loaded by `opendata.selectors` (agency,
unit and the current published version with its children already attached).

Mapping decisions:
- processingTime is an xsd:duration, which has no notion of working days. N working days
  map to `P{N}D` (N days): the promise counted in days, as the standard states it; the
  calendar time it covers depends on the unit's calendar (weekends, holidays), which the
  duration cannot express. Calendar days map to `P{N}D`, hours to `PT{N}H`, minutes to
  `PT{N}M`. A version without a processing time has none.
- A free service has one cv:Cost of value 0 (the promise "free of charge" is information,
  not an absence); a paid one has a cv:Cost per cost item, in IDR, defined by the agency.
- Each requirement (persyaratan) is a cv:Requirement supported by one cv:Evidence (the
  document brought), and the evidence is also the service's cpsv:hasInput.
- The agency's spatial coverage is Indonesia (the EU country authority IDN), plus its
  Kemendagri region when it has one.
- A service that is a step of a published life event is cv:isGroupedBy that event, a
  cv:Event typed cv:LifeEvent or cv:BusinessEvent (its slug the identifier, its title the
  name), which names the service back with cv:hasRelatedService. The caller attaches the
  steps as `service.grouping_steps` (lifeevents.selectors.grouping_steps_prefetch).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from agencies.models import Agency, Unit
from services.models import Channel, Service, StandardVersion, TimeUnit

LANG = "id"
CURRENCY_IDR = "http://publications.europa.eu/resource/authority/currency/IDR"
LANGUAGE_IND = "http://publications.europa.eu/resource/authority/language/IND"
COUNTRY_IDN = "http://publications.europa.eu/resource/authority/country/IDN"

CONTEXT: dict[str, str] = {
    "cpsv": "http://purl.org/vocab/cpsv#",
    "cv": "http://data.europa.eu/m8g/",
    "dct": "http://purl.org/dc/terms/",
    "dcat": "http://www.w3.org/ns/dcat#",
    "eli": "http://data.europa.eu/eli/ontology#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "locn": "http://www.w3.org/ns/locn#",
    "org": "http://www.w3.org/ns/org#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "time": "http://www.w3.org/2006/time#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}

_DURATION_FORMATS: dict[str, str] = {
    TimeUnit.WORKING_DAYS: "P{}D",
    TimeUnit.CALENDAR_DAYS: "P{}D",
    TimeUnit.HOURS: "PT{}H",
    TimeUnit.MINUTES: "PT{}M",
}

_CHANNEL_LABELS: dict[str, str] = {
    Channel.COUNTER: "Loket",
    Channel.ONLINE: "Daring",
    Channel.MOBILE: "Layanan keliling",
}


def _text(value: str) -> dict[str, str]:
    return {"@value": value, "@language": LANG}


def _ref(iri: str) -> dict[str, str]:
    return {"@id": iri}


def processing_time(version: StandardVersion) -> str | None:
    """The promised time as an xsd:duration (see the module's note on working days)."""
    value, unit = version.processing_time_value, version.processing_time_unit
    pattern = _DURATION_FORMATS.get(unit) if unit else None
    if value is None or pattern is None:
        return None
    return pattern.format(value)


def agency_iri(base: str, agency: Agency) -> str:
    return f"{base}/opendata/cpsv-ap/agencies/{agency.pk}"


def service_iri(base: str, service: Service) -> str:
    return f"{base}/opendata/cpsv-ap/services/{service.pk}"


def event_iri(base: str, slug: str) -> str:
    return f"{base}/opendata/cpsv-ap/events/{slug}"


_EVENT_TYPES = {"life": "cv:LifeEvent", "business": "cv:BusinessEvent"}


def event_nodes(*, base: str, service: Service) -> list[dict[str, Any]]:
    """The life and business events grouping the service (from `service.grouping_steps`)."""
    nodes: dict[str, dict[str, Any]] = {}
    for step in getattr(service, "grouping_steps", ()):
        event = step.event
        iri = event_iri(base, event.slug)
        node: dict[str, Any] = {
            "@id": iri,
            "@type": ["cv:Event", _EVENT_TYPES.get(event.kind, "cv:LifeEvent")],
            "dct:identifier": event.slug,
            "dct:title": _text(event.title),
            "cv:hasRelatedService": _ref(service_iri(base, service)),
        }
        if event.description:
            node["dct:description"] = _text(event.description)
        nodes[iri] = node
    return list(nodes.values())


def agency_nodes(*, base: str, agency: Agency) -> list[dict[str, Any]]:
    """The agency as cv:PublicOrganisation (also org:Organization, which cv:isDefinedBy
    expects of a cost's definer) with the places it covers."""
    spatial: list[dict[str, Any]] = [{"@id": COUNTRY_IDN, "@type": "dct:Location"}]
    if agency.region_code:
        spatial.append(
            {
                "@id": f"{base}/opendata/cpsv-ap/regions/{agency.region_code}",
                "@type": "dct:Location",
                "dct:identifier": agency.region_code,
                "locn:geographicName": _text(agency.region_name or agency.region_code),
            }
        )
    organisation: dict[str, Any] = {
        "@id": agency_iri(base, agency),
        "@type": ["cv:PublicOrganisation", "org:Organization"],
        "dct:identifier": agency.slug,
        "skos:prefLabel": _text(agency.name),
        "dct:spatial": [_ref(node["@id"]) for node in spatial],
    }
    if agency.website:
        organisation["foaf:homepage"] = _ref(agency.website)
    return [organisation, *spatial]


def _contact_point(iri: str, unit: Unit, agency: Agency) -> dict[str, Any]:
    node: dict[str, Any] = {
        "@id": iri,
        "@type": "cv:ContactPoint",
        "cv:openingHours": {
            "@type": "time:TemporalEntity",
            "dct:description": _text(
                f"Senin-Jumat {unit.opens_at:%H:%M}-{unit.closes_at:%H:%M} (hari kerja)"
            ),
        },
    }
    phone = unit.phone or agency.phone
    if phone:
        node["cv:telephone"] = phone
    emails = [e for e in (unit.contact_emails or []) if e] or (
        [agency.email] if agency.email else []
    )
    if emails:
        node["cv:email"] = emails
    return node


def service_nodes(
    *, base: str, service: Service, version: StandardVersion, with_agency: bool = True
) -> list[dict[str, Any]]:
    """The JSON-LD nodes of one service under its current published version."""
    agency, unit = service.agency, service.unit
    iri = service_iri(base, service)
    authority = agency_iri(base, agency)
    nodes: list[dict[str, Any]] = []
    public_service: dict[str, Any] = {
        "@id": iri,
        "@type": "cpsv:PublicService",
        "dct:identifier": str(service.pk),
        "dct:title": _text(service.name),
        "dct:description": _text(
            service.summary or f"{service.name}, layanan {agency.name} ({unit.name})."
        ),
        "dct:language": {"@id": LANGUAGE_IND, "@type": "dct:LinguisticSystem"},
        "cv:hasCompetentAuthority": _ref(authority),
        "dcat:landingPage": _ref(f"{base}{service.get_absolute_url()}"),
    }
    keywords = [k.strip() for k in service.keywords.split(",") if k.strip()]
    if keywords:
        public_service["dcat:keyword"] = [_text(k) for k in keywords]
    duration = processing_time(version)
    if duration is not None:
        public_service["cv:processingTime"] = {"@value": duration, "@type": "xsd:duration"}

    channels = []
    for code in service.channels:
        channel_iri = f"{iri}#channel-{code}"
        channels.append(_ref(channel_iri))
        nodes.append(
            {
                "@id": channel_iri,
                "@type": "cv:Channel",
                "dct:identifier": f"{service.pk}-{code}",
                "dct:type": {
                    "@id": f"{base}/opendata/cpsv-ap/channel-types/{code}",
                    "@type": "skos:Concept",
                    "skos:prefLabel": _text(_CHANNEL_LABELS.get(code, code)),
                },
            }
        )
    if channels:
        public_service["cv:hasChannel"] = channels

    costs = []
    items = (
        [("gratis", "Gratis", 0)]
        if version.is_free
        else [(str(item.pk), item.name, item.amount) for item in version.cost_items.all()]
    )
    for key, name, amount in items:
        cost_iri = f"{iri}#cost-{key}"
        costs.append(_ref(cost_iri))
        nodes.append(
            {
                "@id": cost_iri,
                "@type": "cv:Cost",
                "dct:identifier": f"{service.pk}-cost-{key}",
                "dct:description": _text(name),
                "cv:hasValue": {"@value": float(amount), "@type": "xsd:double"},
                "cv:currency": {"@id": CURRENCY_IDR, "@type": "skos:Concept"},
                "cv:isDefinedBy": _ref(authority),
            }
        )
    if costs:
        public_service["cv:hasCost"] = costs

    requirements, inputs = [], []
    for requirement in version.requirements.all():
        requirement_iri = f"{iri}#requirement-{requirement.pk}"
        evidence_iri = f"{iri}#evidence-{requirement.pk}"
        requirements.append(_ref(requirement_iri))
        inputs.append(_ref(evidence_iri))
        evidence: dict[str, Any] = {
            "@id": evidence_iri,
            "@type": "cv:Evidence",
            "dct:identifier": f"{service.pk}-evidence-{requirement.pk}",
            "dct:title": _text(requirement.name),
            "cv:supportsRequirement": _ref(requirement_iri),
        }
        details = "; ".join(x for x in (requirement.copies, requirement.where_to_get) if x)
        if details:
            evidence["dct:description"] = _text(details)
        nodes.append(
            {
                "@id": requirement_iri,
                "@type": "cv:Requirement",
                "dct:identifier": f"{service.pk}-requirement-{requirement.pk}",
                "dct:title": _text(requirement.name),
                "cv:hasSupportingEvidence": _ref(evidence_iri),
            }
        )
        nodes.append(evidence)
    if requirements:
        public_service["cv:holdsRequirement"] = requirements
        public_service["cpsv:hasInput"] = inputs

    if version.product:
        output_iri = f"{iri}#output"
        public_service["cpsv:produces"] = _ref(output_iri)
        nodes.append(
            {
                "@id": output_iri,
                "@type": "cv:Output",
                "dct:identifier": f"{service.pk}-output",
                "dct:title": _text(version.product),
            }
        )

    legal = [title for title in (version.legal_basis or []) if isinstance(title, str) and title]
    if legal:
        public_service["cv:hasLegalResource"] = [
            {"@id": f"{iri}#legal-{n}", "@type": "eli:LegalResource", "dct:title": _text(title)}
            for n, title in enumerate(legal, start=1)
        ]

    contact_iri = f"{iri}#contact"
    public_service["cv:contactPoint"] = _ref(contact_iri)
    nodes.append(_contact_point(contact_iri, unit, agency))

    events = event_nodes(base=base, service=service)
    if events:
        public_service["cv:isGroupedBy"] = [_ref(node["@id"]) for node in events]
        nodes.extend(events)

    head = [public_service]
    if with_agency:
        head.extend(agency_nodes(base=base, agency=agency))
    return head + nodes


def service_document(*, base: str, service: Service, version: StandardVersion) -> dict[str, Any]:
    """One service's own JSON-LD document."""
    return {
        "@context": CONTEXT,
        "@graph": service_nodes(base=base, service=service, version=version),
    }


def catalogue_chunks(
    *, base: str, batches: Iterator[list[tuple[Service, StandardVersion]]]
) -> Iterator[str]:
    """The whole catalogue as one JSON-LD document, in text chunks (one per batch), so that
    a streamed response never holds more than a batch. Each agency's nodes appear once."""
    yield '{"@context": ' + json.dumps(CONTEXT) + ', "@graph": ['
    first = True
    seen_agencies: set[int] = set()
    for batch in batches:
        nodes: list[dict[str, Any]] = []
        for service, version in batch:
            nodes.extend(
                service_nodes(base=base, service=service, version=version, with_agency=False)
            )
            if service.agency_id not in seen_agencies:
                seen_agencies.add(service.agency_id)
                nodes.extend(agency_nodes(base=base, agency=service.agency))
        if not nodes:
            continue
        text = ",\n".join(json.dumps(node, ensure_ascii=False) for node in nodes)
        yield ("\n" if first else ",\n") + text
        first = False
    yield "\n]}\n"
