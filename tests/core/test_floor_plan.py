"""The floor plan's contract (.importlinter) names every app of the project, so a new app
cannot slip outside the layers; `make test` runs `lint-imports` on it."""

from __future__ import annotations

import configparser
from pathlib import Path

from django.apps import apps
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _contract() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(ROOT / ".importlinter")
    return parser


def _project_packages() -> set[str]:
    """Top-level packages of this repository that hold Python code (apps, config)."""
    root = ROOT.resolve()
    return {
        config.name.split(".")[0]
        for config in apps.get_app_configs()
        if Path(config.path).resolve() == root / config.name.split(".")[0]
    } | {"config"}


def test_every_app_is_a_root_package_of_the_contract() -> None:
    roots = set(_contract()["importlinter"]["root_packages"].split())
    assert _project_packages() <= roots


def test_every_root_package_has_a_layer() -> None:
    contract = _contract()
    layers = contract["importlinter:contract:layers"]["layers"].split("\n")
    in_layers = {name.strip() for line in layers for name in line.split("|") if name.strip()}
    roots = set(contract["importlinter"]["root_packages"].split())
    assert roots == in_layers


def test_core_is_the_bottom_and_config_the_top() -> None:
    layers = [
        line.strip()
        for line in _contract()["importlinter:contract:layers"]["layers"].split("\n")
        if line.strip()
    ]
    assert layers[0] == "config"
    assert layers[-1] == "core"
