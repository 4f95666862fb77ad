"""The editors' blueprint: `/editors/insights`, `/editors/sign-in`,
`/editors/sign-out`.

Who gets what (the 404 rule):

* HEARTSEARCH_EDITOR_TOKEN unset: every address under /editors/, any
  method, is the site's ordinary 404 page, exactly as for an address that
  never existed.
* Set: `GET /editors/sign-in` shows the sign-in form (an editor's browser
  could never sign in otherwise; the form only tells a visitor that editors
  exist). Everything else under /editors/ answers a request without the
  right token (no credential, a wrong Bearer token, a cookie made from
  another token or expired) with the same 404, whatever the method. A wrong
  token posted to the form gets the form again, also with status 404.
* The token itself travels only in an `Authorization` header or a form body,
  never in an address: the sign-in form posts, its redirect goes to a fixed
  address, and a `token` in a query string is ignored.

Every response under /editors/ is `Cache-Control: no-store` (no proxy or
browser keeps an editor's page or a cookie-setting answer) and
`X-Robots-Tag: noindex`. The access log (search_app/app.py `RequestLog`)
writes the method, the path and the status only; nothing here logs a
header, a cookie or a form field.
"""
from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from markupsafe import Markup

from search_app.editors import auth
from search_app.editors.chart import chart_svg, share

editors = Blueprint("editors", __name__, url_prefix="/editors")

PREFIX = "/editors"
OPEN_WHEN_SET = frozenset({"editors.sign_in", "editors.sign_in_post", "editors.sign_out"})
EDITOR_HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
# Sign-in posts a minute per address, on a bucket of their own (made in
# app.py, shared by every worker like the API's), whatever the page and API
# limits are set to: with a token of 16+ characters, 10 guesses a minute get
# nowhere.
SIGN_IN_PER_MINUTE = 10
SIGN_IN_BURST = 5
SINCE_CHOICES = (("24h", "Last 24 hours"), ("7d", "Last 7 days"), ("30d", "Last 30 days"), ("all", "Everything kept"))
DEFAULT_SINCE = "30d"
SINCE_PATTERN = re.compile(r"[1-9][0-9]{0,5}[hdw]")
# A report is computed per request, but kept this long per (generation,
# period, k) in each worker, so reloading the page or switching back and
# forth between periods does not re-read the log and re-cluster every time.
REPORT_CACHE_SECONDS = 30.0
REPORT_CACHE_ENTRIES = 8

FAILED = "Sign-in failed. Check the token and try again."
EXPIRED = "The sign-in form had expired. Please enter the token again."
ELSEWHERE = "Please sign in from this site's own sign-in form."


def editor_token() -> str | None:
    return current_app.config["HEARTSEARCH"].editor_token or None


def is_https() -> bool:
    """HTTPS as the browser sees it: the request itself, or (when trusted
    proxies are configured) the protocol the nearest one reports."""
    config = current_app.config["HEARTSEARCH"]
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
    return request.is_secure or bool(config.proxy_hops and forwarded == "https")


def set_cookie(response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path=auth.COOKIE_PATH, secure=is_https(), httponly=True,
                        samesite="Strict")


def under_editors(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


@editors.record_once
def _set_up(state) -> None:
    """Checked while the app is built, so a bad token stops the server at
    start-up. The sign-in limiter is made by the app factory beside the
    other limiters (the web areas do not import each other), also before
    the workers are forked: its buckets are shared memory."""
    auth.check_token_setting(state.app.config["HEARTSEARCH"].editor_token or None)
    state.app.extensions["editor_reports"] = ReportCache()


@editors.before_app_request
def gatekeeper():
    """Runs for every request, before routing errors are raised, so that an
    unknown method or address under /editors/ is a 404 too, not a 405 that
    would tell a visitor which addresses exist."""
    if not under_editors(request.path):
        return None
    token = editor_token()
    if token is None:
        abort(404)
    if request.endpoint in OPEN_WHEN_SET and request.method in ("GET", "HEAD", "POST"):
        return None
    if not auth.is_editor(token, request.headers.get("Authorization"), request.cookies.get(auth.SESSION_COOKIE)):
        abort(404)
    return None


@editors.after_app_request
def editor_headers(response):
    if under_editors(request.path):
        for name, value in EDITOR_HEADERS.items():
            response.headers[name] = value
    return response


# ---------------------------------------------------------------- sign-in

def _form_token() -> str:
    """The browser's form token, kept while it has one (several open tabs
    keep working), else a new one."""
    return auth.usable_form_token(request.cookies.get(auth.FORM_COOKIE)) or auth.new_form_token()


def _sign_in_form(message: str | None, status: int, headers: dict | None = None):
    form_token = _form_token()
    response = current_app.make_response((render_template("editors_sign_in.html", message=message,
                                                          form_token=form_token), status, headers or {}))
    set_cookie(response, auth.FORM_COOKIE, form_token, auth.SESSION_SECONDS)  # (re)set: its Max-Age restarts
    return response


def _posted_from_this_site() -> str | None:
    """None when the post passes the cross-site checks, else the message."""
    if auth.cross_site(request.headers.get("Sec-Fetch-Site")):
        return ELSEWHERE
    if not auth.form_token_matches(request.cookies.get(auth.FORM_COOKIE), request.form.get("form_token")):
        return EXPIRED
    return None


@editors.get("/sign-in")
def sign_in():
    return _sign_in_form(None, 200)


@editors.post("/sign-in")
def sign_in_post():
    limiter = current_app.extensions["editor_sign_in_limiter"]
    decision = limiter.take(request.remote_addr or "unknown")
    if not decision.allowed:
        wait = decision.retry_after
        return _sign_in_form(f"Too many sign-in attempts. Try again in {wait} second{'s' if wait != 1 else ''}.",
                             429, {"Retry-After": str(wait)})
    refused = _posted_from_this_site()
    if refused:
        return _sign_in_form(refused, 400)
    token = editor_token()
    if not auth.same_secret(request.form.get("token", ""), token):
        return _sign_in_form(FAILED, 404)
    response = redirect(url_for("editors.insights"), 303)
    set_cookie(response, auth.SESSION_COOKIE, auth.session_value(token), auth.SESSION_SECONDS)
    return response


@editors.post("/sign-out")
def sign_out():
    """Forgets the session in this browser. A copied cookie stays good until
    its expiry: changing the token is what ends every session at once."""
    refused = _posted_from_this_site()
    if refused:
        return _sign_in_form(refused, 400)
    response = redirect(url_for("editors.sign_in"), 303)
    response.delete_cookie(auth.SESSION_COOKIE, path=auth.COOKIE_PATH, secure=is_https(), httponly=True,
                           samesite="Strict")
    return response


# ---------------------------------------------------------------- the report

def parse_since(value: str | None) -> tuple[str, timedelta | None]:
    """`all`, or a period as `python -m indexer insights --since` takes it
    (24h, 7d, 2w, ...; indexer/insights/report.py), up to ten years:
    ValueError otherwise. The key is the canonical spelling, for the cache
    and the period links."""
    from indexer.insights.report import parse_since as period
    value = (value or DEFAULT_SINCE).strip().lower()
    if value == "all":
        return value, None
    if len(value) > 8 or not SINCE_PATTERN.fullmatch(value):
        raise ValueError("since")
    return value, period(value)  # at most MAX_SINCE: longer is its ValueError


class ReportCache:
    """The last few reports of this worker, REPORT_CACHE_SECONDS each. One
    lock: two editors asking at once get one computation, not two competing
    for the server's cores with the readers' searches."""

    def __init__(self, seconds: float = REPORT_CACHE_SECONDS, entries: int = REPORT_CACHE_ENTRIES):
        self.seconds, self.entries = seconds, entries
        self._lock = threading.Lock()
        self._reports: dict[tuple, tuple[float, object]] = {}

    def get(self, key: tuple, compute):
        with self._lock:
            now = time.monotonic()
            kept = self._reports.get(key)
            if kept and now - kept[0] < self.seconds:
                return kept[1]
            report = compute()
            self._reports[key] = (time.monotonic(), report)
            if len(self._reports) > self.entries:
                del self._reports[min(self._reports, key=lambda k: self._reports[k][0])]
            return report


def compute_report(index_dir, since: timedelta | None, k: int):
    """The report over the live generation with the model already loaded for
    the readers' searches (loading a second copy per page view would cost
    seconds and memory)."""
    from indexer.insights.report import build_report
    live = current_app.extensions["live_index"]
    generation = live.generation
    return build_report(index_dir, since, k, embedder=live.embedder_for(generation))


@editors.get("/insights")
def insights():
    config = current_app.config["HEARTSEARCH"]
    try:
        since_key, since = parse_since(request.args.get("since"))
    except ValueError:
        return render_template("error.html", message="Choose one of the periods offered (for example 7d or "
                               "30d).", code=400), 400
    k = config.insights_min_count
    generation = current_app.extensions["live_index"].generation.name
    report = current_app.extensions["editor_reports"].get(
        (generation, since_key, k), lambda: compute_report(config.index_dir, since, k))
    first = report.since.date() if report.since is not None else None
    chart = Markup(chart_svg(report.days, first, report.until.date()))  # escaped by ElementTree (editors/chart.py)
    signed_in = auth.bearer_token(request.headers.get("Authorization")) is None
    form_token = _form_token()
    response = current_app.make_response(render_template(
        "editors_insights.html", report=report, chart=chart, since_key=since_key, periods=SINCE_CHOICES,
        share=share, signed_in=signed_in, form_token=form_token,
        days=[d for d in report.days if d.searches], urgent=sorted(report.urgent_by_trigger.items(),
                                                                    key=lambda item: (-item[1], item[0]))))
    if signed_in:
        set_cookie(response, auth.FORM_COOKIE, form_token, auth.SESSION_SECONDS)  # for the sign-out form
    return response
