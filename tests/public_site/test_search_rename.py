"""Renaming an agency refreshes the stored search vectors of its services."""

from __future__ import annotations

import pytest

from services.models import Service
from services.search import SearchFilters, agency_search_refresh, service_search
from tests.registry import publish_service


def names(query: str) -> list[str]:
    return [s.name for s in service_search(filters=SearchFilters(query=query))]


def test_renaming_an_agency_makes_its_services_findable_by_the_new_name(
    agency_a, unit_a, agency_b, unit_b
):
    publish_service(agency_a, unit_a, "Izin Keramaian")
    publish_service(agency_a, unit_a, "Izin Reklame")
    publish_service(agency_b, unit_b, "Izin Parkir")
    assert names("Tambakrejo") == []

    agency_a.name = "Dinas Perizinan Tambakrejo"
    agency_a.save()

    assert sorted(names("Tambakrejo")) == ["Izin Keramaian", "Izin Reklame"]


def test_the_old_name_no_longer_finds_them(agency_a, unit_a):
    agency_a.short_name = "DPMPTSP Sukamaju"
    agency_a.save()
    publish_service(agency_a, unit_a, "Izin Keramaian")
    assert names("Sukamaju") == ["Izin Keramaian"]

    agency_a.short_name = "DPMPTSP Sukaraja"
    agency_a.save()
    assert names("Sukamaju") == []
    assert names("Sukaraja") == ["Izin Keramaian"]


def test_a_save_without_a_new_name_does_not_rewrite_the_vectors(
    agency_a, unit_a, django_assert_num_queries
):
    publish_service(agency_a, unit_a, "Izin Keramaian")
    agency_a.region_name = "Jawa Barat"
    # The names read before the save; the save (with its history row); no refresh.
    with django_assert_num_queries(3):
        agency_a.save()


@pytest.mark.django_db
def test_agency_refresh_updates_every_service_of_the_agency_in_one_statement(
    agency_a, unit_a, agency_b, unit_b, django_assert_num_queries
):
    for n in range(3):
        publish_service(agency_a, unit_a, f"Izin Nomor {n}")
    publish_service(agency_b, unit_b, "Izin Lain")
    Service.objects.update(search_vector=None)
    with django_assert_num_queries(1):
        assert agency_search_refresh(agency_id=agency_a.pk) == 3
    assert Service.objects.filter(agency=agency_a, search_vector__isnull=True).count() == 0
    assert Service.objects.get(agency=agency_b).search_vector is None
