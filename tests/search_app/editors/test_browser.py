"""The editors' page in real headless Chromium, served by the real
production server with HEARTSEARCH_EDITOR_TOKEN set, over a real search log:
signing in through the form works under the real CSP with nothing blocked
(no console error: a CSP violation would be one), the cookie the browser
keeps is HttpOnly and SameSite=Strict, nothing scrolls sideways at 390 px,
and axe-core finds no accessibility violation. Screenshots at 1280 and
390 px go to tests/artifacts/editors-*.png."""
from __future__ import annotations

import shutil
from datetime import datetime, timezone

import pytest

from tests.browser import DESKTOP, PHONE, Watch, no_horizontal_scroll, require_axe, require_browser, screenshot
from tests.search_app.editors.test_views import TOKEN, synthetic_rows, write_log
from tests.search_app.pages.test_accessibility import AXE_RUN
from tests.servers import running_server

require_browser()


@pytest.fixture(scope="module")
def editors_site(seed_index_dir, tmp_path_factory):
    index = tmp_path_factory.mktemp("editors") / "index"
    shutil.copytree(seed_index_dir, index)
    write_log(index, synthetic_rows(datetime.now(timezone.utc)))
    with running_server(index, HEARTSEARCH_EDITOR_TOKEN=TOKEN, HEARTSEARCH_WORKERS="1") as base:
        yield base


@pytest.fixture
def new_context(browser):
    contexts = []

    def make(**options):
        context = browser.new_context(**options)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def sign_in(page, base: str, token: str = TOKEN):
    page.goto(base + "/editors/sign-in")
    page.fill("#token", token)
    with page.expect_navigation():
        page.click("button[type=submit]")


@pytest.mark.parametrize("name,viewport", [("desktop", DESKTOP), ("phone", PHONE)])
def test_an_editor_signs_in_with_the_form_and_the_page_passes_the_real_csp(editors_site, new_context, name,
                                                                          viewport):
    context = new_context(viewport=viewport)
    page = context.new_page()
    watch = Watch(editors_site).attach(page)
    page.goto(editors_site + "/editors/sign-in")
    sign_in(page, editors_site, TOKEN + "-wrong")
    assert page.url == editors_site + "/editors/sign-in"
    assert "Sign-in failed" in page.locator("[role=alert]").inner_text()
    assert not [c for c in context.cookies() if c["name"] == "heartsearch_editor"]
    assert no_horizontal_scroll(page)
    screenshot(page, f"editors-sign-in-failed-{name}")
    watch.console = [line for line in watch.console if "404" not in line]   # the wrong token's 404 status
    sign_in(page, editors_site)
    assert page.url == editors_site + "/editors/insights"
    assert page.locator("h1").inner_text() == "Search insights"
    [cookie] = [c for c in context.cookies() if c["name"] == "heartsearch_editor"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/editors"
    assert TOKEN not in cookie["value"]
    chart = page.locator("svg.insights-chart")
    assert chart.count() == 1 and chart.bounding_box()["width"] > 300
    for summary in page.locator("details summary").all():
        summary.click()
    assert no_horizontal_scroll(page), page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    screenshot(page, f"editors-insights-{name}")
    watch.assert_clean()
    with page.expect_navigation():
        page.click("text=Sign out")
    assert page.url == editors_site + "/editors/sign-in"
    assert not [c for c in context.cookies() if c["name"] == "heartsearch_editor"]
    assert page.goto(editors_site + "/editors/insights").status == 404


@pytest.mark.parametrize("path", ["/editors/insights", "/editors/sign-in"])
def test_axe_finds_no_violations_on_the_editors_pages(editors_site, new_context, path):
    axe = require_axe()
    # axe is a script, so it runs only with the CSP bypassed, in this context alone.
    context = new_context(bypass_csp=True, extra_http_headers={"Authorization": f"Bearer {TOKEN}"})
    page = context.new_page()
    assert page.goto(editors_site + path).status == 200
    for summary in page.locator("details summary").all():
        summary.click()
    page.add_script_tag(path=str(axe))
    violations = page.evaluate(AXE_RUN)
    assert violations == [], "\n".join(f"{v['id']} ({v['impact']}): {v['help']}\n  " + "\n  ".join(v["nodes"])
                                       for v in violations)
