from __future__ import annotations

from django.apps import apps
from django.core.management import call_command


def _counts() -> dict[str, int]:
    return {
        m._meta.label: m._default_manager.count()
        for m in apps.get_models()
        if m._meta.app_label in {"accounts", "agencies", "services", "charter"}
    }


def test_seed_demo_creates_a_realistic_world_and_is_idempotent(db):
    from agencies.models import Agency
    from charter.models import Charter
    from services.models import Service, StandardVersion

    call_command("seed_demo", deliveries=300, verbosity=0)
    first = _counts()
    # The registry's three agencies, and the provincial and national ones of the demo's
    # public service mall (demo/locations.py).
    assert Agency.objects.count() == 5
    assert Service.objects.count() >= 25
    assert StandardVersion.objects.filter(status="superseded").count() >= 1
    assert StandardVersion.objects.filter(status="published").count() == Service.objects.count()
    # Every unit has a published charter but one, left without to show the sweep's rule.
    assert Charter.objects.filter(status="published").count() == (
        sum(a.units.count() for a in Agency.objects.all()) - 1
    )
    assert (
        StandardVersion.objects.filter(status="published", incomplete_acknowledged=True).count()
        == 1
    )
    assert Service.objects.filter(versions__cost_items__amount__gt=0).distinct().exists()

    call_command("seed_demo", deliveries=300, verbosity=0)
    assert _counts() == first

    # The sweep over the demo world shows a breach of every kind the demo is built to show.
    from oversight.models import Breach, BreachKind
    from oversight.sweep import sweep

    sweep()
    assert set(Breach.objects.values_list("kind", flat=True)) >= {
        BreachKind.LATE_DELIVERY,
        BreachKind.OVERDUE_OPEN,
        BreachKind.OVERCHARGE,
        BreachKind.STALE_STANDARD,
        BreachKind.MISSING_CHARTER,
        BreachKind.INCOMPLETE_STANDARD,
    }
