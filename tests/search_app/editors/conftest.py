"""The editors' browser tests' Chromium (one per module), as the readers'
page tests have it (tests/search_app/pages/conftest.py)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def browser():
    from tests.browser import launched_chromium
    with launched_chromium() as chromium:
        yield chromium
