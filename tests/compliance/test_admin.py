"""The methods are data that superusers and ombudsman reviewers edit in the admin; agency
staff never see them there."""

from __future__ import annotations

import pytest

from compliance.models import AssessmentMethod, Band
from tests.accounts.conftest import login_verified


@pytest.mark.parametrize(
    ("who", "expected"), [("superuser", 200), ("ombudsman", 200), ("admin_a", 403)]
)
def test_who_edits_the_methods_in_the_admin(client, cast, who, expected):
    user = cast[who]
    user.is_staff = True
    user.save()
    login_verified(client, user)
    method = AssessmentMethod.objects.get(code="kepatuhan-2022")
    response = client.get(f"/admin/compliance/assessmentmethod/{method.pk}/change/")
    assert response.status_code == expected
    listing = client.get("/admin/compliance/assessmentmethod/")
    assert listing.status_code == expected


def test_an_edited_cut_off_is_the_one_scored(client, cast, ombudsman):
    # An editable default: the reviewer moves C's edge from 66.00 to 70.00.
    method = AssessmentMethod.objects.get(code="kepatuhan-2022")
    band = Band.objects.get(method=method, grade="C")
    band.lower = "70.00"
    band.save()
    from decimal import Decimal

    from compliance.methods import method_spec, method_with_parts
    from compliance.scoring import band_for

    bands = method_spec(method_with_parts("kepatuhan-2022")).bands
    assert band_for(Decimal("69.99"), bands).grade == "D"
    assert band_for(Decimal("70.00"), bands).grade == "C"
