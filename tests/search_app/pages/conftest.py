"""The page tests' shared browser and server: one Chromium and one real
production server over the seed index per test module."""
from __future__ import annotations

import pytest

from tests.browser import launched_chromium
from tests.servers import running_server


@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def site(seed_index_dir):
    with running_server(seed_index_dir) as base:
        yield base
