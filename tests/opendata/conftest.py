from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
FIXTURES_VARIABLE = "MAKLUMAT_SHARED_FIXTURES"
# Set by `make test` (scripts/test.sh): there a missing fixture fails the run instead of
# skipping the test, so that a green `make test` always means the standards were checked.
REQUIRE_VARIABLE = "MAKLUMAT_REQUIRE_SHARED_FIXTURES"


def shared_fixture(relative: str) -> Path:
    """A file of the shared public-standard fixtures (never copied into the project): found
    through MAKLUMAT_SHARED_FIXTURES, by default ../shared/fixtures next to the repository.
    Where it is absent (a clean clone), the test is skipped, saying which variable to set;
    with MAKLUMAT_REQUIRE_SHARED_FIXTURES=1 it fails with the same reason."""
    folder = Path(os.environ.get(FIXTURES_VARIABLE, str(REPOSITORY.parent / "shared" / "fixtures")))
    path = folder / relative
    if not path.is_file():
        reason = (
            f"{relative} not found under {folder}: set {FIXTURES_VARIABLE} to the folder of "
            "the shared fixtures to run this test"
        )
        if os.environ.get(REQUIRE_VARIABLE) == "1":
            pytest.fail(
                f"{reason} ({REQUIRE_VARIABLE}=1: `make test` requires them)", pytrace=False
            )
        pytest.skip(reason)
    return path


def parse_jsonld(text: str) -> Any:
    from rdflib import Graph

    graph = Graph()
    with warnings.catch_warnings():
        # rdflib's JSON-LD parser builds a ConjunctiveGraph internally, which rdflib itself
        # deprecates; nothing for us to change.
        warnings.simplefilter("ignore", DeprecationWarning)
        graph.parse(data=text, format="json-ld")
    return graph


@pytest.fixture(scope="session")
def cpsv_shapes() -> Any:
    from rdflib import Graph

    return Graph().parse(shared_fixture("cpsv-ap-3.2.0/cpsv-ap-SHACL.ttl"), format="turtle")


@pytest.fixture
def shacl_report(cpsv_shapes: Any) -> Any:
    """Validate a JSON-LD text against the CPSV-AP shapes: (conforms, report text)."""
    from pyshacl import validate

    def check(text: str) -> tuple[bool, str]:
        data = parse_jsonld(text)
        conforms, _graph, report = validate(data, shacl_graph=cpsv_shapes, inference="none")
        return bool(conforms), str(report)

    return check


def _hsds_format_checker() -> Any:
    """jsonschema's format checks, with `uri` and `date-time` checked even where their
    optional libraries (rfc3987, rfc3339-validator) are not installed."""
    import datetime as dt
    from urllib.parse import urlsplit

    from jsonschema import FormatChecker

    checker = FormatChecker()

    @checker.checks("uri", raises=ValueError)
    def _uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        return bool(parts.scheme and parts.netloc) and not any(c.isspace() for c in value)

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        return "T" in value and dt.datetime.fromisoformat(value).tzinfo is not None

    return checker


# The HSDS API's `Page` (components/schemas/Page of the HSDS 3.0 OpenAPI document), around
# the `contents` whose items are checked against the compiled list schemas.
HSDS_PAGE = {
    "type": "object",
    "properties": {
        "total_items": {"type": "integer"},
        "total_pages": {"type": "integer"},
        "page_number": {"type": "integer"},
        "size": {"type": "integer"},
        "first_page": {"type": "boolean"},
        "last_page": {"type": "boolean"},
        "empty": {"type": "boolean"},
        "contents": {"type": "array"},
    },
    "required": ["empty"],
}


@pytest.fixture(scope="session")
def hsds_validators() -> dict[str, Any]:
    """Validators of the compiled HSDS 3 schemas (service, service_list, organization,
    organization_list) from the shared fixtures, checking formats (uuid, uri, email...)."""
    from jsonschema.validators import Draft202012Validator, validator_for

    checker = _hsds_format_checker()
    validators: dict[str, Any] = {}
    for name in ("service", "service_list", "organization", "organization_list"):
        schema = json.loads(shared_fixture(f"hsds-3/{name}.json").read_text(encoding="utf-8"))
        cls = validator_for(schema, default=Draft202012Validator)
        validators[name] = cls(schema, format_checker=checker)
    validators["page"] = Draft202012Validator(HSDS_PAGE, format_checker=checker)
    return validators


@pytest.fixture
def hsds_errors(hsds_validators: dict[str, Any]) -> Any:
    """The schema violations of a document, as readable lines (empty when it is valid)."""

    def check(schema: str, document: Any) -> list[str]:
        return [
            f"{schema} {error.json_path}: {error.message}"
            for error in hsds_validators[schema].iter_errors(document)
        ]

    return check
