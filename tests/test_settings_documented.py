"""indexer/settings.py: every HEARTSEARCH_* variable is read there and
nowhere else, and each has a row in the README's configuration table (as
datasette's tests check its options): a setting an operator cannot find does
not exist for them."""
from __future__ import annotations

import re

import pytest

from indexer import settings
from indexer.settings import PROJECT_ROOT

VARIABLE = re.compile(r"HEARTSEARCH_[A-Z][A-Z0-9_]*[A-Z0-9]")
ENVIRONMENT_READ = re.compile(r"(?:environ\.get|getenv|environ\[)\(?\s*[\"']HEARTSEARCH_")
SETTINGS_MODULE = PROJECT_ROOT / "indexer" / "settings.py"


def product_modules():
    for package in ("indexer", "search_app"):
        yield from (PROJECT_ROOT / package).rglob("*.py")


def variables_read_in_code() -> set[str]:
    return {name for path in product_modules() for name in VARIABLE.findall(path.read_text("utf-8"))}


def documented_in_readme() -> set[str]:
    rows = [line for line in (PROJECT_ROOT / "README.md").read_text("utf-8").splitlines()
            if line.startswith("| `HEARTSEARCH_")]
    return {name for row in rows for name in VARIABLE.findall(row.split("|")[1])}  # the first cell


def test_every_setting_read_in_code_has_a_row_in_the_readme():
    code = variables_read_in_code()
    assert len(code) > 10  # the scan found the settings at all
    assert sorted(code - documented_in_readme()) == []


def test_every_variable_named_in_code_is_a_setting():
    assert sorted(variables_read_in_code() - {s.name for s in settings.ALL}) == []


def test_only_the_settings_module_reads_the_environment():
    readers = [str(path.relative_to(PROJECT_ROOT)) for path in product_modules()
               if path != SETTINGS_MODULE and ENVIRONMENT_READ.search(path.read_text("utf-8"))]
    assert readers == []


def test_unset_or_blank_is_the_default(monkeypatch):
    for setting in settings.ALL:
        monkeypatch.delenv(setting.name, raising=False)
        assert setting.read() == setting.default, setting.name
        monkeypatch.setenv(setting.name, "  ")
        assert setting.read() == setting.default, setting.name


@pytest.mark.parametrize("setting", [s for s in settings.ALL if s.kind in ("int", "float", "bool", "choice")],
                         ids=lambda s: s.name)
def test_a_mistyped_value_is_an_error_naming_the_variable(setting, monkeypatch):
    monkeypatch.setenv(setting.name, "twelve")
    with pytest.raises(ValueError, match=setting.name):
        setting.read()


def test_a_value_below_the_minimum_or_not_finite_is_refused(monkeypatch):
    monkeypatch.setenv("HEARTSEARCH_THREADS", "0")
    with pytest.raises(ValueError, match="HEARTSEARCH_THREADS must be at least 1"):
        settings.THREADS.read()
    monkeypatch.setenv("HEARTSEARCH_HEADER_TIMEOUT", "nan")
    with pytest.raises(ValueError, match="HEARTSEARCH_HEADER_TIMEOUT"):
        settings.HEADER_TIMEOUT.read()
