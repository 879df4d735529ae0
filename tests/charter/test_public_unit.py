"""The public unit page shows the current charter and links its earlier versions."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from charter.models import Charter
from charter.services import (
    charter_draft_update,
    charter_new_version,
    charter_publish,
    charter_withdraw,
)


def test_unit_page_shows_the_current_charter_and_links_the_earlier_ones(
    client: Any, superseded_charter: Charter, editor_a: Any
) -> None:
    unit = superseded_charter.unit
    current = Charter.objects.get(unit=unit, status="published")
    draft = charter_new_version(charter=current, acting_user=editor_a)
    charter_draft_update(charter=draft, acting_user=editor_a, pledge="Janji rahasia draf.")

    html = client.get(unit.get_absolute_url()).content.decode()

    assert current.get_absolute_url() in html
    assert reverse("charters:charter_poster_pdf", kwargs={"pk": current.pk}) in html
    assert superseded_charter.get_absolute_url() in html  # an earlier version, linked
    assert draft.get_absolute_url() not in html and "Janji rahasia draf." not in html
    page = client.get(superseded_charter.get_absolute_url()).content.decode()
    assert current.get_absolute_url() in page  # the old one points to the current one


def test_a_withdrawn_charter_is_no_longer_current_and_has_no_poster(
    client: Any, published_charter: Charter, approver_a: Any
) -> None:
    withdrawn = charter_withdraw(
        charter=published_charter, reason="Unit digabung dengan MPP.", acting_user=approver_a
    )
    html = client.get(withdrawn.unit.get_absolute_url()).content.decode()
    assert 'id="charter-heading"' not in html
    assert withdrawn.get_absolute_url() in html  # still listed among the earlier versions
    page = client.get(withdrawn.get_absolute_url()).content.decode()
    assert "Unit digabung dengan MPP." in page
    poster = reverse("charters:charter_poster_pdf", kwargs={"pk": withdrawn.pk})
    assert poster not in page
    assert client.get(poster).status_code == 404


@pytest.mark.parametrize("versions", [1, 6])
def test_unit_page_query_count_does_not_grow_with_versions(
    versions: int,
    client: Any,
    published_charter: Charter,
    editor_a: Any,
    approver_a: Any,
    django_assert_num_queries: Any,
) -> None:
    charter = published_charter
    for _ in range(versions - 1):
        charter = charter_publish(
            charter=charter_new_version(charter=charter, acting_user=editor_a),
            acting_user=approver_a,
        )
    url = charter.unit.get_absolute_url()
    client.get(url)  # the performance panel's figures are cached after the first view
    # Constant: unit; the services' count (they are listed a page at a time) and the page of
    # them; versions; cost items; charters (current and earlier, one
    # query); figures; the performance panel's cached figures.
    # 7: one of them reads the unit calendar's working days for its weekly hours; 8: where
    # the unit serves (its counters and their locations, one query); 9: the count. The
    # monthly figures are stored with the others (delivery/figures.py), so they make no
    # query here.
    with django_assert_num_queries(9):
        response = client.get(url)
    assert response.content.decode().count("/charters/") >= versions
