"""What every page carries for browsers and search engines (templates/base.html:
meta description, favicon link, the disclaimer inside a landmark), the urgent
notice's tel: links, and /robots.txt (search_app/pages/robots.py)."""
from __future__ import annotations

import re

import pytest

PAGES = ["/", "/?q=leaky+heart+valve", "/?q=crushing+chest+pain+right+now", "/?q=how+do+I+bake+sourdough+bread",
         "/?q=", "/no-such-page", "/api/docs"]


def test_robots_txt_allows_the_site_and_keeps_crawlers_off_the_json_api(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "User-agent: *" and "Allow: /" in lines and "Disallow: /api/v1/" in lines
    assert not any(line in ("Disallow: /", "Disallow: /api/docs") for line in lines)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_a_description_a_favicon_and_the_disclaimer_in_a_landmark(client, path):
    html = client.get(path).get_data(as_text=True)
    description = re.search(r'<meta name="description" content="([^"]{50,160})">', html)
    assert description, "no meta description of 50 to 160 characters"
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    assert client.get("/static/favicon.svg").status_code == 200
    bar = re.search(r'<aside class="disclaimer-bar"[^>]*aria-label="[^"]+"[^>]*>(.*?)</aside>', html, re.S)
    assert bar and "not medical advice" in bar.group(1)


def test_the_urgent_notice_makes_the_numbers_tel_links(client):
    html = client.get("/?q=crushing+chest+pain+right+now").get_data(as_text=True)
    notice = html.split('<section class="urgent"')[1].split("</section>")[0]
    assert '<a href="tel:911"><strong>911</strong></a> in the US' in notice
    assert '<a href="tel:112"><strong>112</strong></a> in Europe' in notice
