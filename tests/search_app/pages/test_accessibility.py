"""Every page a reader or an API user can land on, in real headless Chromium
served by the real production server: axe-core finds no accessibility
violation, nothing scrolls sideways at a 390 px phone width, no request fails
(the favicon included), and what the browser receives is compressed.

Pages: home, results, urgent results, no good match, an error (empty search),
a missing page, and /api/docs. axe-core comes from npm (`make install-browser`).
"""
from __future__ import annotations

import gzip
import urllib.request

import brotli
import pytest

from tests.browser import DESKTOP, PHONE, no_horizontal_scroll, require_axe, require_browser, screenshot

require_browser()

PAGES = {
    "home": "/",
    "results": "/?q=leaky+heart+valve",
    "urgent": "/?q=crushing+chest+pain+and+my+left+arm+is+numb",
    "no-match": "/?q=how+do+I+bake+sourdough+bread",
    "error": "/?q=",
    "missing": "/no-such-page",
    "api-docs": "/api/docs",
}
STATUS = {"error": 400, "missing": 404}

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + n.failureSummary)}));
}"""


@pytest.fixture
def new_page(browser):
    contexts = []

    def make(viewport=DESKTOP, bypass_csp=False):
        context = browser.new_context(viewport=viewport, bypass_csp=bypass_csp)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def open_all_expanders(page) -> None:
    for summary in page.locator("details summary").all():
        summary.click()


@pytest.mark.parametrize("name", PAGES)
def test_axe_finds_no_violations(site, new_page, name):
    axe = require_axe()
    # The page's CSP allows no script at all, so axe is let in by bypassing it in this context only.
    page = new_page(bypass_csp=True)
    response = page.goto(site + PAGES[name])
    assert response.status == STATUS.get(name, 200)
    open_all_expanders(page)
    page.add_script_tag(path=str(axe))
    violations = page.evaluate(AXE_RUN)
    assert violations == [], "\n".join(f"{v['id']} ({v['impact']}): {v['help']}\n  " + "\n  ".join(v["nodes"])
                                       for v in violations)


@pytest.mark.parametrize("name", PAGES)
def test_no_page_scrolls_sideways_on_a_phone(site, new_page, name):
    page = new_page(viewport=PHONE)
    page.goto(site + PAGES[name])
    open_all_expanders(page)
    assert no_horizontal_scroll(page), page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if name == "api-docs":
        screenshot(page, "phone-api-docs", full_page=False)


@pytest.mark.parametrize("name", PAGES)
def test_no_request_fails_and_the_page_comes_compressed(site, new_page, name):
    """Under the real CSP: no console error, no failed sub-request (a page without a favicon
    link makes Chromium ask for /favicon.ico, a 404), and the HTML arrives brotli-encoded."""
    page = new_page()
    failed, console = [], []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 and
            r.request.resource_type != "document" else None)
    page.on("console", lambda m: console.append(m.text) if m.type == "error" and "status of 40" not in m.text
            else None)
    response = page.goto(site + PAGES[name])
    page.wait_for_load_state("networkidle")
    assert failed == [] and console == [], (failed, console)
    icon = page.locator('link[rel="icon"]')
    assert icon.count() == 1 and icon.get_attribute("href") == "/static/favicon.svg"
    if response.status == 200:
        assert response.headers.get("content-encoding") == "br", response.headers


@pytest.mark.parametrize("encoding,decode", [("gzip", gzip.decompress), ("br", brotli.decompress)])
def test_the_server_sends_compressed_bodies_that_decode_to_the_plain_ones(site, encoding, decode):
    """Through granian and the ASGI bridge, not only the Flask test client."""
    for path in ("/?q=leaky+heart+valve", "/static/style.css", "/openapi.json"):
        def get(**headers):
            with urllib.request.urlopen(urllib.request.Request(site + path, headers=headers), timeout=30) as r:
                return r.headers, r.read()
        plain_headers, plain = get()
        packed_headers, packed = get(**{"Accept-Encoding": encoding})
        assert plain_headers.get("Content-Encoding") is None
        assert packed_headers["Content-Encoding"] == encoding and int(packed_headers["Content-Length"]) == len(packed)
        assert decode(packed) == plain and len(packed) < len(plain), path
