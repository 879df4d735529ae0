"""Control characters (NUL and friends) get a field error in every form, in the user's language."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

import pytest
from django import forms
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from core.forms import ControlCharacterMixin
from core.text import has_control_characters
from services.models import Service, StandardVersion
from tests.services.test_staff_views import _edit_payload

ROOT = Path(__file__).resolve().parents[2]
PROJECT_APPS = sorted(
    config.name.split(".")[0]
    for config in apps.get_app_configs()
    if Path(config.path).resolve().is_relative_to(ROOT)
    and not Path(config.path).resolve().relative_to(ROOT).parts[0].startswith(".")
)


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("a\x00b", True),
        ("a\x08b", True),
        ("a\x1bb", True),
        ("a\x9bb", True),
        ("a\tb\nc\r\n", False),
        ("Rp 10.000 — ü 日本", False),
    ],
)
def test_the_rule(text: str, bad: bool) -> None:
    assert has_control_characters(text) is bad


@pytest.mark.parametrize(
    "name", ["Akta\x00Kelahiran", "Akta\x07Kelahiran", "Akta\x1b[31mKelahiran"]
)
def test_a_staff_form_shows_a_field_error_and_saves_nothing(
    client: Any, editor_a: Any, unit_a: Any, name: str
) -> None:
    client.force_login(editor_a)
    payload = _edit_payload(StandardVersion())
    payload.update(
        {
            "agency": str(unit_a.agency_id),
            "name": name,
            "unit": str(unit_a.pk),
            "category": "population",
            "product": "Akta\x0bresmi",
        }
    )
    response = client.post(reverse("standards:service_create"), payload)
    assert response.status_code == 200
    assert "name" in response.context["service_form"].errors
    assert "product" in response.context["form"].errors
    # In Indonesian (NUL keeps Django's own message, "Karakter null ...").
    assert "Hapus karakter kendali" in response.content.decode()
    assert not Service.objects.exists()


def test_the_public_search_form_refuses_them_too(client: Any, db: Any) -> None:
    response = client.get("/en/search/", {"q": "ktp\x07"})
    assert response.status_code == 200
    assert "Remove the control characters" in response.content.decode()


def _project_form_classes() -> list[type[forms.BaseForm]]:
    for app in PROJECT_APPS:
        for module in pkgutil.walk_packages([str(ROOT / app)], prefix=f"{app}."):
            if ".migrations" in module.name or module.name.endswith(".tests"):
                continue
            importlib.import_module(module.name)
    found: list[type[forms.BaseForm]] = []
    pending: list[type[Any]] = [forms.BaseForm]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            pending.append(sub)
            if sub.__module__.split(".")[0] in PROJECT_APPS and sub.__module__ != "core.forms":
                found.append(sub)
    return found


def test_every_project_form_holds_the_rule() -> None:
    classes = _project_form_classes()
    assert len(classes) >= 20
    strays = [
        f"{c.__module__}.{c.__qualname__}"
        for c in classes
        if not issubclass(c, ControlCharacterMixin)
    ]
    assert strays == [], "derive from core.forms.Form / ModelForm"


# Building every admin form meets Django's own URLField deprecation notice (admin's default).
@pytest.mark.filterwarnings("ignore::django.utils.deprecation.RemovedInDjango60Warning")
def test_every_admin_form_holds_the_rule(rf: Any, superuser: Any) -> None:
    request = rf.get("/admin/")
    request.user = superuser
    for model, model_admin in admin.site._registry.items():
        form = model_admin.get_form(request)
        assert issubclass(form, ControlCharacterMixin), model
