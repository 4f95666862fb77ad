"""/robots.txt: what search engines may crawl.

The readers' page and the API's documentation are for people and may be
indexed. The JSON API under /api/v1/ is not a page: every query string is a
new address, so a crawler following it would only spend the rate limit and
the index's time. /openapi.json stays crawlable, like /api/docs, which is
made from it. The editors' pages under /editors/ are private (and 404 to
anyone without the token); they are listed so no crawler even tries.
"""
from __future__ import annotations

from flask import Blueprint, current_app

robots = Blueprint("robots", __name__)

ROBOTS_TXT = """\
User-agent: *
Allow: /
Disallow: /api/v1/
Disallow: /editors/
"""
ROBOTS_CACHE_CONTROL = "public, max-age=86400"


@robots.get("/robots.txt")
def robots_txt():
    response = current_app.response_class(ROBOTS_TXT, mimetype="text/plain")
    response.headers["Cache-Control"] = ROBOTS_CACHE_CONTROL
    return response
