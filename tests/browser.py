"""Real headless Chromium for the page tests: Debian's /usr/bin/chromium
driven by Python Playwright (`make install-browser` installs both; we never
run `playwright install` or download a browser)."""
from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

from indexer.settings import PROJECT_ROOT

CHROMIUM = Path(os.environ.get("HEARTSEARCH_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"   # screenshots; git-ignored
PHONE = {"width": 390, "height": 844}
# axe-core, the accessibility checker injected into pages: `make install-browser` puts it here (npm).
AXE_JS = PROJECT_ROOT / "data" / "node" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}


def require_browser() -> None:
    """Skip (with the fix) when the browser or its driver is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: run `make install-browser` (apt-get install chromium) "
                    f"to run the browser tests", allow_module_level=True)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("Python Playwright is not installed: run `make install-browser` to run the browser tests",
                    allow_module_level=True)


def require_axe() -> Path:
    """axe-core's script. Skipped only when npm is not there to install it;
    with npm present a missing axe is a setup step not run, so it fails."""
    if AXE_JS.exists():
        return AXE_JS
    if shutil.which("npm") is None:
        pytest.skip("npm not found, so axe-core cannot be installed: the accessibility (axe) checks did not run; "
                    "install npm and run `make install-browser`")
    pytest.fail(f"axe-core is not installed at {AXE_JS}: run `make install-browser` (npm install axe-core)")


@contextlib.contextmanager
def launched_chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Watch:
    """What a page did that a reader would never want: dialogs (alert() ran),
    JavaScript errors, console errors (CSP violations land there), and
    requests to anywhere but our own server."""

    base: str
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def attach(self, page) -> "Watch":
        def on_dialog(dialog):
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()
        page.on("dialog", on_dialog)
        page.on("pageerror", lambda err: self.errors.append(str(err)))
        page.on("console", lambda msg: self.console.append(f"{msg.type}: {msg.text}"))
        page.on("request", lambda req: self.requests.append(req.url))
        return self

    @property
    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(self.base + "/")]

    @property
    def console_errors(self) -> list[str]:
        return [line for line in self.console if line.startswith("error")]

    def assert_clean(self) -> None:
        assert not self.dialogs, f"a dialog opened (script ran): {self.dialogs}"
        assert not self.errors, f"page errors: {self.errors}"
        assert not self.console_errors, f"console errors (CSP violations?): {self.console_errors}"
        assert not self.foreign_requests, f"requests left the server (CDN? font?): {self.foreign_requests}"


def screenshot(page, name: str, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
