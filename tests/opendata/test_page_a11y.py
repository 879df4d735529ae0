"""axe-core on the open-data page, in both languages."""

from __future__ import annotations

import pytest

from agencies.models import Agency
from demo.management.commands.seed_demo import seed_registry
from opendata.exports import DATASETS
from tests.e2e.test_accessibility import BLOCKING, _violations

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_open_data_page_has_no_serious_axe_violation(page, transactional_db, language):
    seed_registry()
    # An agency that chose another licence: the page lists it.
    Agency.objects.filter(pk=Agency.objects.order_by("pk").values("pk")[:1]).update(
        open_data_licence="CC0-1.0"
    )
    prefix = "" if language == "id" else "/en"
    response = page.goto(f"{prefix}/opendata/")
    assert response is not None and response.status == 200
    assert page.locator("html").get_attribute("lang") == language
    assert page.locator("table.datasets tbody tr").count() == len(DATASETS)
    assert page.locator("ul.own-licences li").count() == 1
    blocking = [v for v in _violations(page) if v["impact"] in BLOCKING]
    assert not blocking, blocking
