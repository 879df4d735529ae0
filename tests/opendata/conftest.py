from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
FIXTURES_VARIABLE = "MAKLUMAT_SHARED_FIXTURES"


def shared_fixture(relative: str) -> Path:
    """A file of the shared public-standard fixtures (never copied into the project): found
    through MAKLUMAT_SHARED_FIXTURES, by default ../shared/fixtures next to the repository.
    Where it is absent (a clean clone), the test is skipped, saying which variable to set."""
    folder = Path(os.environ.get(FIXTURES_VARIABLE, str(REPOSITORY.parent / "shared" / "fixtures")))
    path = folder / relative
    if not path.is_file():
        pytest.skip(
            f"{relative} not found under {folder}: set {FIXTURES_VARIABLE} to the folder of "
            "the shared fixtures to run this test"
        )
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
