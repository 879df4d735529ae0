"""The site's URLs plus one page with an inline script under a CSP nonce, for
tests/e2e/test_page_cache.py (no real public page has one yet)."""

from csp.constants import NONCE
from csp.decorators import csp_update
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path

from config.urls import urlpatterns as site_patterns
from core.page_cache import public_page

PAGE = """<!doctype html><html lang="id"><head><title>Nonce</title></head><body><main>
<p id="ran">tidak</p>
<script nonce="{{ request.csp_nonce }}">document.getElementById("ran").textContent = "ya";</script>
</main></body></html>"""


@csp_update({"script-src": [NONCE]})
@public_page()
def nonce_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(engines["django"].from_string(PAGE).render({"request": request}))


urlpatterns = [path("nonce-check/", nonce_page), *site_patterns]
