"""The search itself (search_app/search/) imports no Flask or werkzeug: it
can be used by a command, a benchmark or another server, and tested with
no web app."""
from __future__ import annotations

import subprocess
import sys

from indexer.settings import PROJECT_ROOT

CHECK = """
import pkgutil, importlib, sys
import search_app.search
for info in pkgutil.iter_modules(search_app.search.__path__):
    importlib.import_module("search_app.search." + info.name)
web = sorted(m for m in sys.modules if m.split(".")[0] in ("flask", "werkzeug", "search_app") and
             not m.startswith("search_app.search") and m != "search_app")
print(" ".join(web))
"""


def test_the_search_package_loads_no_web_framework():
    found = subprocess.run([sys.executable, "-c", CHECK], cwd=PROJECT_ROOT, capture_output=True, text=True,
                           check=True, env={"PYTHONPATH": str(PROJECT_ROOT), "HF_HUB_OFFLINE": "1"})
    assert found.stdout.split() == [], found.stdout
