"""Published findings on the agency's and the service's public pages: anonymised, with
categories and the corrective actions' status; the agency's record; flat query counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cases import services
from cases.models import Case, CorrectiveAction
from tests.cases.conftest import advance
from tests.oversight.desk_world import desk_breach

pytestmark = pytest.mark.django_db

NOTE = "Pelapor: Siti Aminah, NIK 3273xxxx"


def test_the_agency_page_shows_the_finding_and_the_action_done_on_time(
    case_a: Case, cast: dict[str, Any], agency_a: Any, svc_a: Any
) -> None:
    services.case_note_add(case=case_a, acting_user=cast["ombudsman"], text=NOTE)
    case = advance(case_a, cast["ombudsman"], cast["editor_a"], "monitoring")
    action = CorrectiveAction.objects.get(finding__case=case)
    html = Client().get(agency_a.get_absolute_url()).content.decode()
    assert f'data-finding="{case.finding.pk}"' in html
    assert "Penundaan berlarut" in html  # the category, in Indonesian
    assert 'data-public-action="open"' in html
    services.case_transition(
        case, "report_action", cast["editor_a"], action_id=action.pk, done=True
    )
    services.case_transition(case, "accept_action", cast["ombudsman"], action_id=action.pk)
    html = Client().get(agency_a.get_absolute_url()).content.decode()
    assert 'data-public-action="done_on_time"' in html
    assert 'data-actions-record="1/1"' in html
    assert NOTE not in html
    # Nothing of the breaches' requests or of the staff who worked the case either.
    assert "Mengapa terlambat?" not in html and cast["editor_a"].username not in html
    service_html = Client().get(svc_a.get_absolute_url()).content.decode()
    assert f'data-finding="{case.finding.pk}"' in service_html
    assert NOTE not in service_html


def test_a_draft_is_not_published(case_a: Case, cast: dict[str, Any], agency_a: Any) -> None:
    case = advance(case_a, cast["ombudsman"], cast["editor_a"], "draft_findings")
    html = Client().get(agency_a.get_absolute_url()).content.decode()
    assert f'data-finding="{case.finding.pk}"' not in html


@pytest.mark.parametrize("n", [1, 4])
def test_the_agency_page_costs_the_same_with_more_findings(
    n: int, national: Any, cast: dict[str, Any], agency_a: Any, unit_a: Any, svc_a: Any
) -> None:
    for _ in range(n):
        breach = desk_breach(agency=agency_a, unit=unit_a, service=svc_a)
        case = services.case_open(breach_ids=[breach.pk], acting_user=cast["ombudsman"])
        advance(case, cast["ombudsman"], cast["editor_a"], "monitoring")
    client = Client()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(agency_a.get_absolute_url()).status_code == 200
    # The agency page's own 10 (the counts of its services, units and charters, which it
    # lists a page at a time; no charter, so no charter rows), then the findings, their
    # actions, the findings' record and the actions' record.
    assert len(queries) == 14, "\n".join(q["sql"][:150] for q in queries.captured_queries)
