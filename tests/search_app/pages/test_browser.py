"""The readers' page in real headless Chromium (Debian's chromium driven by
Python Playwright), served by the real production server (`python -m
search_app`, granian) on loopback, on a real index built with the real model.

Screenshots of the main states are saved under tests/artifacts/ (git-ignored)
for a person to look at: landing, results, emergency notice, no good match,
phone width, hostile text, JavaScript off.
"""
from __future__ import annotations

import shutil
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser import DESKTOP, PHONE, Watch, no_horizontal_scroll, require_browser, screenshot
from tests.servers import running_server

require_browser()

from indexer.build import publish_articles  # noqa: E402
from indexer.models import Article  # noqa: E402
from indexer.index import IndexStore  # noqa: E402

HOSTILE = Article(
    id="hostile-test-article",
    title="<script>alert(1)</script> Leaky heart valve <img src=x onerror=alert(1)>",
    text=("A leaky heart valve <script>alert(2)</script> lets blood flow backwards. "
          "<img src=x onerror=alert(3)> Valve repair <svg onload=alert(4)></svg> can fix a leaky valve.\n\n"
          "Second part: <iframe src=javascript:alert(5)></iframe> a leaky heart valve may need surgery. "
          "<a href=javascript:alert(6)>click</a> and \"><script>alert(7)</script> end."),
    author="<img src=x onerror=alert(8)>Mallory",
    credentials="<script>alert(9)</script>MD",
    source="<b onmouseover=alert(10)>Evil Org</b>",
    url="https://example.org/\"><script>alert(11)</script>",
)
HOSTILE_QUERY = "<script>alert(12)</script> leaky heart valve <img src=x onerror=alert(13)>"


@pytest.fixture(scope="module")
def hostile_site(seed_index_dir, embedder, tmp_path_factory):
    index = tmp_path_factory.mktemp("hostile") / "index"
    shutil.copytree(seed_index_dir, index)
    store = IndexStore(index)
    generation = store.open_current()
    with store.lock():
        publish_articles(store, generation.articles() + [HOSTILE], generation.pages(), embedder)
    with running_server(index) as base:
        yield base


@pytest.fixture
def page_for(browser):
    """page_for(base, viewport=..., javascript=...) -> (page, watch); closed after the test."""
    contexts = []

    def make(base: str, viewport=DESKTOP, javascript: bool = True):
        context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
        contexts.append(context)
        page = context.new_page()
        return page, Watch(base).attach(page)

    yield make
    for context in contexts:
        context.close()


def search(page, question: str) -> None:
    """What a reader does: type the question in the labelled box, press Search."""
    page.get_by_label("Ask a question about the heart").fill(question)
    with page.expect_navigation():
        page.get_by_role("button", name="Search").click()


CONTRAST_CHECK = """() => {
  const parse = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map(parseFloat); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = ({r, g, b}) => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = el => { for (let e = el; e; e = e.parentElement) {
    const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0.99) return c; }
    return {r: 255, g: 255, b: 255, a: 1}; };
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const st = getComputedStyle(el); const box = el.getBoundingClientRect();
    if (st.display === 'none' || st.visibility === 'hidden' || box.width < 2 || box.height < 2) continue;
    const a = lum(parse(st.color)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(st.fontSize), large = size >= 24 || (parseInt(st.fontWeight) >= 700 && size >= 18.66);
    if (ratio < (large ? 3 : 4.5)) bad.push(`${el.tagName}.${el.className} ${ratio.toFixed(2)}: ${el.textContent.trim().slice(0, 40)}`);
  }
  return bad;
}"""


# ---------------------------------------------------------------- the main path

def test_landing_page_offers_examples_and_the_disclaimer(site, page_for):
    page, watch = page_for(site)
    response = page.goto(site + "/")
    assert response.status == 200
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert page.get_by_role("search").is_visible()
    assert page.get_by_label("Ask a question about the heart").is_visible()
    assert page.get_by_role("link", name="leaky heart valve").is_visible()
    assert page.locator(".disclaimer-bar").is_visible() and "not medical advice" in page.locator(
        ".disclaimer-bar").inner_text()
    assert page.locator("footer").get_by_text("should not be used for medical advice").count() == 1
    assert page.evaluate(CONTRAST_CHECK) == []
    screenshot(page, "landing")
    watch.assert_clean()


def test_type_a_question_and_see_ranked_results_with_attribution(site, page_for):
    page, watch = page_for(site)
    page.goto(site + "/")
    search(page, "leaky heart valve")

    assert parse_qs(urlsplit(page.url).query) == {"q": ["leaky heart valve"]}  # shareable URL
    assert page.title().startswith("leaky heart valve")
    assert page.get_by_label("Ask a question about the heart").input_value() == "leaky heart valve"
    results = page.locator("li.result")
    assert results.count() >= 3
    assert page.get_by_role("heading", name="Results 1–").is_visible()
    first = results.first
    assert first.locator("h3").inner_text() == "What is mitral regurgitation (MR)?"
    shown = first.locator("p.passage").first   # the result's own passage (its other answers follow, folded)
    assert shown.locator("mark.match").count() == 1 and shown.locator("strong.term").count() >= 1
    for i in range(results.count()):  # every result says who stands behind it
        byline = results.nth(i).locator(".byline").first.inner_text()  # the result's own, before `also`'s
        assert byline.startswith(("By ", "From ", "Unattributed ")), byline
    bylines = [" ".join(b.split()) for b in page.locator(".byline").all_text_contents()]  # folded ones too
    assert any("By David H. Adams, MD, Cardiothoracic Surgeon" in b for b in bylines)
    assert any(b.startswith("Unattributed answer on ‘") for b in bylines)

    # The question's other answers open without any script
    also = first.locator("details.also")
    assert not also.locator(".also-answers").is_visible()
    also.locator("summary").click()
    assert also.locator(".also-answers li").first.is_visible()
    assert page.evaluate(CONTRAST_CHECK) == []
    screenshot(page, "results-leaky-heart-valve")
    watch.assert_clean()


def test_keyboard_focus_order_and_skip_link(site, page_for):
    page, watch = page_for(site)
    page.goto(site + "/?q=leaky+heart+valve")
    seen = []
    for _ in range(5):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("(() => { const e = document.activeElement;"
                                  " return e.id || e.className || e.tagName; })()"))
    assert seen[:4] == ["skip", "brand", "q", "BUTTON"], seen
    assert seen[4] == "SUMMARY" or seen[4].startswith("A"), seen   # then the first result
    # Enter on the first expander (a result's other answers, or "More from this article") opens it
    page.locator("details summary").first.focus()
    page.keyboard.press("Enter")
    assert page.locator("details").first.get_attribute("open") is not None
    # the skip link moves focus to the main content
    page.goto(site + "/?q=leaky+heart+valve")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    watch.assert_clean()


# ---------------------------------------------------------------- helpful states

def test_emergency_notice_comes_before_the_results(site, page_for):
    page, watch = page_for(site)
    page.goto(site + "/")
    search(page, "crushing chest pain right now")
    alert = page.get_by_role("alert")
    assert alert.is_visible()
    text = alert.inner_text()
    assert "call emergency services" in text and "911" in text and "112" in text and "heart attack" in text
    below = page.locator(".results-section, .no-match").first
    assert alert.bounding_box()["y"] < below.bounding_box()["y"]
    assert page.evaluate(CONTRAST_CHECK) == []
    screenshot(page, "emergency-notice")

    page.goto(site + "/?q=" + "what are the symptoms of a heart attack".replace(" ", "+"))
    assert page.locator(".urgent").count() == 0 and page.locator("li.result").count() >= 1
    watch.assert_clean()


def test_no_good_match_says_so_and_suggests_rephrasing(site, page_for):
    page, watch = page_for(site)
    page.goto(site + "/")
    search(page, "how do I bake sourdough bread")
    assert page.get_by_role("heading", name="No good match for “how do I bake sourdough bread”").is_visible()
    assert page.locator("li.result").count() == 0
    assert page.get_by_text("not showing unrelated text").is_visible()
    assert page.get_by_role("link", name="leaky heart valve").is_visible()  # something that works
    assert page.evaluate(CONTRAST_CHECK) == []
    screenshot(page, "no-good-match")
    watch.assert_clean()


def test_empty_query_shows_example_questions(site, page_for):
    page, watch = page_for(site)
    page.goto(site + "/")
    with page.expect_navigation():
        page.get_by_role("button", name="Search").click()
    assert page.get_by_role("alert").inner_text().startswith("Type a question")
    assert page.get_by_role("link", name="leaky heart valve").is_visible()
    watch.console.clear()  # the 400 status of an empty search is logged by Chromium as a failed resource
    watch.assert_clean()


# ---------------------------------------------------------------- phone, JavaScript off

@pytest.mark.parametrize("path,name", [
    ("/", "phone-landing"),
    ("/?q=leaky+heart+valve", "phone-results"),
    ("/?q=crushing+chest+pain+right+now", "phone-emergency"),
    ("/?q=best+football+team", None),
    ("/?q=" + "x" * 300, None),   # one very long word
])
def test_phone_width_has_no_horizontal_scrolling(site, page_for, path, name):
    page, watch = page_for(site, viewport=PHONE)
    page.goto(site + path)
    for summary in page.locator("details summary").all():
        summary.click()   # open every expander: long passages must wrap too
    assert no_horizontal_scroll(page), page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert page.get_by_label("Ask a question about the heart").bounding_box()["width"] > 150
    if name:
        screenshot(page, name, full_page=False)   # the first screen, as a phone shows it
        screenshot(page, name + "-full")


def test_search_works_with_javascript_off(site, page_for):
    page, watch = page_for(site, javascript=False)
    page.goto(site + "/")
    search(page, "heart problems in dialysis patients")
    assert "q=heart+problems+in+dialysis+patients" in page.url
    first = page.locator("li.result").first
    assert "National Kidney Foundation" in first.inner_text()
    page.locator("details summary").first.click()
    assert page.locator("details[open]").count() == 1
    screenshot(page, "javascript-off-results")
    watch.assert_clean()


# ---------------------------------------------------------------- hostile text

def test_hostile_article_and_query_render_as_text_and_run_nothing(hostile_site, page_for):
    page, watch = page_for(hostile_site)
    page.goto(hostile_site + "/")
    search(page, HOSTILE_QUERY)
    page.wait_for_timeout(500)  # give any onerror/onload a chance to fire
    hostile = page.locator("li.result", has_text="Mallory")
    assert hostile.count() == 1
    assert "<script>alert(1)</script> Leaky heart valve <img src=x onerror=alert(1)>" in \
        hostile.locator("h3").inner_text()
    assert "<img src=x onerror=alert(8)>Mallory" in hostile.locator(".byline").first.inner_text()
    assert page.get_by_role("heading", name="Results 1–").inner_text().count("<script>alert(12)</script>") == 1
    for summary in page.locator("details.more summary").all():
        summary.click()
    page.wait_for_timeout(300)
    shown = hostile.inner_text()   # passage and "more from this article", all as plain text
    for fragment in ("<script>alert(2)</script>", "<img src=x onerror=alert(3)>", "<svg onload=alert(4)></svg>",
                     "<iframe src=javascript:alert(5)></iframe>", "<a href=javascript:alert(6)>click</a>",
                     '"><script>alert(7)</script>'):
        assert fragment in shown, fragment
    dom = page.evaluate("""() => ({
        scripts: document.scripts.length,
        embedded: document.querySelectorAll('img, svg, iframe, object, embed').length,
        handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(
            a => a.name.startsWith('on'))).length,
        jsLinks: [...document.querySelectorAll('a')].filter(a => a.href.startsWith('javascript')).length})""")
    assert dom == {"scripts": 0, "embedded": 0, "handlers": 0, "jsLinks": 0}
    link = hostile.locator("h3 a")
    assert link.get_attribute("rel") == "noopener noreferrer"
    assert link.get_attribute("href") == HOSTILE.url
    screenshot(page, "hostile-text")
    watch.assert_clean()
