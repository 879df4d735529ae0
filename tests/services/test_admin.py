from __future__ import annotations

from django.contrib.admin.sites import site
from django.test import RequestFactory

from services.models import Service
from tests.registry import make_service


def test_admin_querysets_are_scoped_by_the_policy(agency_a, unit_a, unit_b, editor_a, superuser):
    make_service(agency_a, unit_a, name="Milik A")
    make_service(unit_b.agency, unit_b, name="Milik B")
    model_admin = site._registry[Service]
    request = RequestFactory().get("/admin/")
    request.user = editor_a
    assert [s.name for s in model_admin.get_queryset(request)] == ["Milik A"]
    request.user = superuser
    assert sorted(s.name for s in model_admin.get_queryset(request)) == ["Milik A", "Milik B"]
