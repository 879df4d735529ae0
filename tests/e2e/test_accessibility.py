"""axe-core on every public page type, in both languages; and the keyboard basics."""

from __future__ import annotations

import pytest

from charter.models import Charter
from demo.management.commands.seed_demo import seed_registry

pytestmark = pytest.mark.e2e

AXE = "/static/vendor/axe.min.js"
BLOCKING = ("serious", "critical")


def _public_pages() -> dict[str, str]:
    charter = Charter.objects.filter(status="published").order_by("pk").first()
    assert charter is not None
    return {
        "home": "/",
        "search results": "/search/?q=ktp",
        "search with filters": "/search/?q=izin&free=on&max_days=5&region=Daerah+Istimewa+Yogyakarta",
        "service": "/agencies/disdukcapil-kota-bandung/services/ktp-el/",
        "paid service": "/agencies/dpmptsp-kabupaten-sleman/services/izin-reklame/",
        "agency": "/agencies/disdukcapil-kota-bandung/",
        "unit": "/agencies/disdukcapil-kota-bandung/units/kantor-dinas/",
        "charter": charter.get_absolute_url(),
        "league table": "/agencies/",
        "404": "/tidak-ada-halaman-ini/",
    }


def _violations(page) -> list[dict]:
    """axe-core's violations, plus ARIA references to ids that do not exist (axe only lists
    those as "needs review", yet a screen reader then silently skips the help text)."""
    page.add_script_tag(url=AXE)
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            const found = result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
            }));
            const dangling = [];
            for (const el of document.querySelectorAll("[aria-describedby], [aria-labelledby]")) {
                for (const attr of ["aria-describedby", "aria-labelledby"]) {
                    for (const ref of (el.getAttribute(attr) || "").split(/\\s+/)) {
                        if (ref && !document.getElementById(ref)) {
                            dangling.push(`${el.tagName.toLowerCase()}#${el.id} ${attr}=${ref}`);
                        }
                    }
                }
            }
            if (dangling.length) {
                found.push({id: "dangling-aria-reference", impact: "critical",
                            help: "ARIA attribute refers to a missing id", targets: dangling});
            }
            return found;
        }"""
    )


@pytest.mark.parametrize("language", ["id", "en"])
def test_no_serious_or_critical_axe_violation_on_public_pages(page, transactional_db, language):
    seed_registry()
    prefix = "" if language == "id" else "/en"
    problems: dict[str, list[dict]] = {}
    for name, path in _public_pages().items():
        response = page.goto(prefix + path)
        assert response is not None
        assert response.status == (404 if name == "404" else 200), name
        assert page.locator("html").get_attribute("lang") == language
        blocking = [v for v in _violations(page) if v["impact"] in BLOCKING]
        if blocking:
            problems[f"{name} ({prefix + path})"] = blocking
    assert not problems, problems


def test_axe_really_finds_problems(page, live_server):
    # The check above could pass vacuously if axe never ran: show that it reports a bad page.
    page.set_content('<html><body><img src="x.png"><input type="text"></body></html>')
    page.add_script_tag(url=f"{live_server.url}{AXE}")
    ids = {
        v["id"]
        for v in page.evaluate(
            "async () => (await axe.run(document)).violations.map(v => ({id: v.id}))"
        )
    }
    assert {"image-alt", "label"} <= ids


def test_a_dangling_aria_reference_is_reported(page, transactional_db):
    page.goto("/")
    assert not [v for v in _violations(page) if v["id"] == "dangling-aria-reference"]
    page.evaluate(
        """() => {
            const input = document.createElement("input");
            input.id = "probe";
            input.setAttribute("aria-label", "probe");
            input.setAttribute("aria-describedby", "probe_helptext");
            document.body.appendChild(input);
        }"""
    )
    dangling = [v for v in _violations(page) if v["id"] == "dangling-aria-reference"]
    assert dangling and dangling[0]["targets"] == ["input#probe aria-describedby=probe_helptext"]


def test_keyboard_reaches_the_skip_link_and_the_search_box(page, transactional_db):
    seed_registry()
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.className")
    assert "skip-link" in focused
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    page.goto("/")
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "q":
            break
    else:
        pytest.fail("Tab never reached the search box")
    page.keyboard.type("ktp")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=ktp")
    first = page.locator(".result-list .result h3 a").first
    assert first.inner_text() == "Penerbitan KTP Elektronik (KTP-el)"
    # Results are reachable by keyboard too.
    first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/services/ktp-el/")
