"""The reliability scorecard: every scenario adds one row (what was done, how
many requests or inputs, how many failed, how many articles were lost) and
the table is printed at the end of the session and written to
tests/artifacts/reliability-scorecard.json.

Long scenarios (`@pytest.mark.long`) run only with HEARTSEARCH_LONG=1
(`make reliability`); `make test` runs the quick ones."""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass

import pytest

from indexer.settings import PROJECT_ROOT

ARTIFACT = PROJECT_ROOT / "tests" / "artifacts" / "reliability-scorecard.json"
LONG = os.environ.get("HEARTSEARCH_LONG") == "1"


@dataclass
class Row:
    scenario: str
    done: str
    count: int
    failures: int
    lost: int
    notes: str = ""


class Scorecard:
    def __init__(self):
        self.rows: list[Row] = []

    def add(self, scenario: str, done: str, count: int, failures: int, lost: int, notes: str = "") -> None:
        self.rows.append(Row(scenario, done, int(count), int(failures), int(lost), notes))


_SCORECARD = Scorecard()


@pytest.fixture
def scorecard() -> Scorecard:
    return _SCORECARD


def pytest_collection_modifyitems(config, items):
    if LONG:
        return
    skip = pytest.mark.skip(reason="long reliability scenario: run with HEARTSEARCH_LONG=1 (make reliability)")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)


def _table(rows: list[Row]) -> list[str]:
    head = ("scenario", "what was done", "n", "failures", "lost", "notes")
    cells = [head] + [(r.scenario, r.done, str(r.count), str(r.failures), str(r.lost), r.notes) for r in rows]
    widths = [min(max(len(c[i]) for c in cells), 60 if i in (1, 5) else 200) for i in range(len(head))]

    def fmt(c):
        return "  ".join((c[i][:widths[i]]).ljust(widths[i]) if i not in (2, 3, 4) else c[i].rjust(widths[i])
                         for i in range(len(head))).rstrip()
    return [fmt(cells[0]), "  ".join("-" * w for w in widths)] + [fmt(c) for c in cells[1:]]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    rows = _SCORECARD.rows
    if not rows:
        return
    terminalreporter.section("reliability scorecard")
    for line in _table(rows):
        terminalreporter.write_line(line)
    total_lost = sum(r.lost for r in rows)
    terminalreporter.write_line(f"{len(rows)} scenarios, {sum(r.count for r in rows)} requests/inputs, "
                                f"{sum(r.failures for r in rows)} failures, {total_lost} articles lost")
    try:
        ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
        ARTIFACT.write_text(json.dumps({"measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                        "long": LONG, "rows": [asdict(r) for r in rows]}, indent=2), "utf-8")
        terminalreporter.write_line(f"written to {ARTIFACT.relative_to(PROJECT_ROOT)}")
    except OSError as err:
        terminalreporter.write_line(f"could not write {ARTIFACT}: {err}")
