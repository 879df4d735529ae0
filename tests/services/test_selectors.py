"""The scoped reads: what each member of the cast may read through services.selectors."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from services.models import Service
from services.selectors import (
    current_version,
    service_list_for_staff,
    service_list_visible,
    service_with_current_version,
    version_list_for_staff,
    version_list_visible,
)
from services.services import service_create, standard_draft_create
from tests.registry import publish_service

# Who may read agency A's drafts: its members, the ombudsman, superusers.
SEES_A_DRAFTS = {"editor_a", "approver_a", "admin_a", "ombudsman", "superuser"}


@pytest.mark.parametrize(
    "who", ["anonymous", "editor_a", "approver_a", "admin_a", "editor_b", "ombudsman", "superuser"]
)
def test_drafts_are_read_only_where_the_policy_allows(
    cast: dict[str, Any], agency_a: Any, unit_a: Any, who: str
) -> None:
    user = cast[who] or AnonymousUser()
    published_service, published = publish_service(agency_a, unit_a, "Akta Kelahiran")
    draft = standard_draft_create(service=published_service, data={})
    draft_only = service_create(agency=agency_a, unit=unit_a, name="Belum Terbit")
    private = who in SEES_A_DRAFTS
    assert set(version_list_visible(user=user)) == ({published, draft} if private else {published})
    assert set(version_list_for_staff(user=user)) == ({published, draft} if private else set())
    assert set(service_list_visible(user=user)) == (
        {published_service, draft_only} if private else {published_service}
    )
    assert set(service_list_for_staff(user=user)) == (
        {published_service, draft_only} if private else set()
    )


def test_the_current_version_comes_from_the_prefetch_when_there(
    agency_a: Any, unit_a: Any, django_assert_num_queries: Any
) -> None:
    service, published = publish_service(agency_a, unit_a, "Akta Kelahiran")
    standard_draft_create(service=service, data={})
    with django_assert_num_queries(6):  # services, then the versions and their four children
        services = list(service_with_current_version(Service.objects.all()))
    with django_assert_num_queries(0):
        version = current_version(services[0])
        assert version == published and version is not None
        assert version.requirements.all()[0].name == "KTP-el"
    with django_assert_num_queries(5):  # without the prefetch: the version and its children
        assert current_version(service) == published
