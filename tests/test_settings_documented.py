"""Every HEARTSEARCH_* variable the code reads is documented in the README's
configuration table (as datasette's tests check its options): a setting an
operator cannot find does not exist for them."""
from __future__ import annotations

import re

from indexer.config import PROJECT_ROOT

VARIABLE = re.compile(r"HEARTSEARCH_[A-Z][A-Z0-9_]*[A-Z0-9]")


def variables_read_in_code() -> set[str]:
    found = set()
    for package in ("indexer", "search_app"):
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            found |= set(VARIABLE.findall(path.read_text("utf-8")))
    return found


def documented_in_readme() -> set[str]:
    rows = [line for line in (PROJECT_ROOT / "README.md").read_text("utf-8").splitlines()
            if line.startswith("| `HEARTSEARCH_")]
    return {name for row in rows for name in VARIABLE.findall(row.split("|")[1])}  # the first cell


def test_every_setting_read_in_code_has_a_row_in_the_readme():
    code = variables_read_in_code()
    assert len(code) > 10  # the scan found the settings at all
    assert sorted(code - documented_in_readme()) == []
