"""The insights report (indexer/insights/report.py) and its command, on
synthetic logs: the k rule in every format, per-day counts and shares, the
urgent notice by trigger, --since, the formats, and the CLI's errors."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone

import pytest

from indexer.insights.clusters import Cluster
from indexer.insights.report import (CSV_COLUMNS, DayCount, InsightsReport, QuestionCount, build_report,
                                     csv_rows, fill_days, format_csv, format_json, format_text, parse_since,
                                     read_summary, top_questions)
from indexer.settings import PROJECT_ROOT
from tests.indexer.insights.synthetic import NOW, rows, write_log

ALL_FORMATS = (format_text, format_json, format_csv)


# ------------------------------------------------------------------ fast: pure parts

@pytest.mark.parametrize("text, expected", [("7d", timedelta(days=7)), ("24h", timedelta(hours=24)),
                                            ("30D", timedelta(days=30)), ("2w", timedelta(weeks=2)),
                                            (" 1h ", timedelta(hours=1))])
def test_since_periods(text, expected):
    assert parse_since(text) == expected


@pytest.mark.parametrize("text", ["", "7", "d", "0d", "-3d", "7days", "1.5d", "7m", "inf"])
def test_a_bad_period_is_refused_with_the_units_named(text):
    with pytest.raises(ValueError, match=r"h \(hours\), d \(days\) or w \(weeks\)"):
        parse_since(text)


def test_a_period_longer_than_ten_years_is_refused_not_overflowed():
    assert parse_since("3650d") == timedelta(days=3650)
    for text in ("3651d", "600w", "87601h", "800000d", "9" * 30 + "d"):
        with pytest.raises(ValueError, match="longer than 3650 days"):
            parse_since(text)


def test_days_are_filled_so_a_chart_shows_quiet_days():
    days = {date(2025, 6, 8): (4, 1), date(2025, 6, 10): (2, 2)}
    filled = fill_days(days, datetime(2025, 6, 7, 15, tzinfo=timezone.utc), NOW)
    assert [(d.day.day, d.searches, d.no_good_match) for d in filled] == [(7, 0, 0), (8, 4, 1), (9, 0, 0),
                                                                       (10, 2, 2)]
    assert [d.day.day for d in fill_days(days, None, NOW)] == [8, 9, 10]
    assert fill_days({}, None, NOW) == []


def test_top_questions_keep_only_texts_asked_k_times():
    asked = {"how to do cpr": 5, "leaky heart valve": 3, "my rare words": 2, "another": 1}
    assert top_questions(asked, 3) == [QuestionCount("how to do cpr", 5), QuestionCount("leaky heart valve", 3)]
    assert [q.query for q in top_questions(asked, 2)] == ["how to do cpr", "leaky heart valve", "my rare words"]


def test_the_log_summary_counts_days_shares_and_triggers(tmp_path):
    log = write_log(tmp_path, [
        *rows("how to do cpr", 3, hours_ago=1),
        *rows("fainting when pregnant", 2, bad=True, hours_ago=2),
        *rows("crushing chest pain left arm", 2, urgent=("heart attack",), hours_ago=26),
        *rows("face drooping and chest pain", 1, urgent=("stroke", "heart attack"), hours_ago=27),
        *rows("best football team", 1, bad=True, hours_ago=30),
        *rows("too old to count", 4, bad=True, hours_ago=24 * 40)])
    everything = read_summary(log, None, 3)
    assert everything.total == 13 and everything.no_good_match == 7
    recent = read_summary(log, datetime(2025, 6, 8, 0, tzinfo=timezone.utc), 3)
    assert recent.total == 9 and recent.no_good_match == 3
    assert recent.days == {date(2025, 6, 9): (4, 1), date(2025, 6, 10): (5, 2)}
    assert recent.urgent == {"heart attack": 3, "stroke": 1}
    assert recent.unanswered == {"fainting when pregnant": 2, "best football team": 1}
    assert recent.asked == {"how to do cpr": 3, "fainting when pregnant": 2, "best football team": 1}


def _report(**extra) -> InsightsReport:
    fields = dict(since=datetime(2025, 6, 9, 15, tzinfo=timezone.utc), until=NOW, total=10, no_good_match=4,
                  days=[DayCount(date(2025, 6, 9), 6, 3), DayCount(date(2025, 6, 10), 4, 1)],
                  top_questions=[QuestionCount("how to do cpr", 5)],
                  unanswered=[Cluster(3, "fainting when pregnant", "asked", "a-1", "Fainting", 0.22),
                              Cluster(1, "Heart murmurs", "article", "a-2", "Heart murmurs", 0.31)],
                  urgent_by_trigger={"heart attack": 2}, k=3, dropped=7)
    fields.update(extra)
    return InsightsReport(**fields)


def test_text_reads_like_the_issue_asks():
    text = format_text(_report())
    assert "10 searches, 4 with no good match (40%); 7 log rows dropped" in text
    assert "2025-06-09         6         3   50%" in text
    assert "3 searches about “fainting when pregnant”; best match 0.22 (Fainting)" in text
    assert "1 search nearest to “Heart murmurs” (no wording asked 3 times); best match 0.31" in text
    assert "     5  how to do cpr" in text and "     2  heart attack" in text


def test_json_is_the_dataclasses():
    data = json.loads(format_json(_report()))
    assert data["since"] == "2025-06-09T15:00:00+00:00" and data["k"] == 3 and data["dropped"] == 7
    assert data["days"][0] == {"day": "2025-06-09", "searches": 6, "no_good_match": 3}
    assert data["unanswered"][0] == {"count": 3, "wording": "fainting when pregnant", "wording_from": "asked",
                                     "best_article_id": "a-1", "best_title": "Fainting", "best_similarity": 0.22}
    assert data["urgent_by_trigger"] == {"heart attack": 2}


def test_csv_is_one_table_a_row_a_figure():
    table = list(csv.DictReader(io.StringIO(format_csv(_report()))))
    assert tuple(table[0]) == CSV_COLUMNS
    by = {(r["section"], r["key"]): r for r in table}
    assert by["summary", "searches"]["count"] == "10" and by["summary", "no_good_match"]["share"] == "0.4"
    assert by["day", "2025-06-09"]["count"] == "6" and by["day", "2025-06-09"]["share"] == "0.5"
    assert by["since", "2025-06-09T15:00:00+00:00"] and by["until", NOW.isoformat()]
    assert by["unanswered", "fainting when pregnant"]["best_article_id"] == "a-1"
    assert by["urgent", "heart attack"]["share"] == "0.2"
    assert len(table) == len(csv_rows(_report()))


def test_csv_never_hands_a_spreadsheet_a_formula():
    report = _report(top_questions=[QuestionCount("=hyperlink(\"http://x\")", 4)])
    cells = [r["key"] for r in csv.DictReader(io.StringIO(format_csv(report)))]
    assert "'=hyperlink(\"http://x\")" in cells


def test_an_empty_report_formats():
    empty = InsightsReport(since=None, until=NOW, total=0, no_good_match=0)
    assert "(no searches)" in format_text(empty) and "(never)" in format_text(empty)
    assert json.loads(format_json(empty))["since"] is None
    assert list(csv.DictReader(io.StringIO(format_csv(empty))))[4]["key"] == "all"


def run_cli(*args, index_dir):
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "indexer", "insights", *args, "--index-dir", str(index_dir)],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("args, message", [(("--since", "7 days"), "is not a period"),
                                           (("--since", "0h"), "is not a period"),
                                           (("--since", "800000d"), "longer than 3650 days"),
                                           (("--since", "1" + "0" * 22 + "d"), "longer than 3650 days"),
                                           (("--min-count", "1"), "at least 2"),
                                           (("--format", "xml"), "invalid choice")])
def test_bad_arguments_exit_2_with_a_message(tmp_path, args, message):
    proc = run_cli(*args, index_dir=tmp_path)
    assert proc.returncode == 2 and message in proc.stderr and proc.stdout == ""


def test_a_bad_min_count_setting_exits_2(tmp_path, monkeypatch):
    monkeypatch.setenv("HEARTSEARCH_INSIGHTS_MIN_COUNT", "1")
    proc = run_cli(index_dir=tmp_path)
    assert proc.returncode == 2 and "HEARTSEARCH_INSIGHTS_MIN_COUNT must be at least 2" in proc.stderr


def test_no_index_exits_3_and_creates_nothing(tmp_path):
    proc = run_cli(index_dir=tmp_path / "nowhere")
    assert proc.returncode == 3 and "no index at" in proc.stderr
    assert not (tmp_path / "nowhere").exists()


# ------------------------------------------------------------------ real index and model

def test_no_log_is_an_empty_report_and_said(writable_index):
    proc = run_cli("--format", "json", index_dir=writable_index)
    assert proc.returncode == 0, proc.stderr
    assert "no search log" in proc.stderr and json.loads(proc.stdout)["total"] == 0


def _k_log(index_dir):
    write_log(index_dir, [*rows("how to do cpr", 3), *rows("my aunt's rare question", 2),
                          *rows("zebra dreams ukulele", 3, bad=True), *rows("heart pounding cucumber", 2, bad=True),
                          *rows("how to do cpr quickly", 1, bad=True)])


def test_a_text_asked_twice_never_appears_in_any_format(writable_index, embedder):
    _k_log(writable_index)
    report = build_report(writable_index, None, 3, embedder)
    for render in ALL_FORMATS:
        out = render(report)
        assert "how to do cpr" in out and "zebra dreams ukulele" in out       # asked 3 times
        assert "aunt" not in out and "cucumber" not in out and "quickly" not in out  # asked 2 times, once
    with_two = build_report(writable_index, None, 2, embedder)
    assert "my aunt's rare question" in format_text(with_two)


def test_the_report_on_a_real_index(writable_index, embedder):
    write_log(writable_index, [*rows("leaky heart valve", 4, hours_ago=2),
                               *rows("what is mitral regurgitation", 3, hours_ago=30),
                               *rows("best football team", 3, bad=True, hours_ago=2),
                               *rows("crushing chest pain", 2, urgent=("heart attack",), hours_ago=3),
                               *rows("old question", 5, bad=True, hours_ago=24 * 10)])
    report = build_report(writable_index, timedelta(days=7), 3, embedder, now=NOW)
    assert report.total == 12 and report.no_good_match == 3 and report.k == 3
    assert report.since == datetime(2025, 6, 3, 15, tzinfo=timezone.utc) and len(report.days) == 8
    assert [(d.searches, d.no_good_match) for d in report.days[-2:]] == [(3, 0), (9, 3)]
    assert report.urgent_by_trigger == {"heart attack": 2}
    assert [q.query for q in report.top_questions] == ["leaky heart valve", "best football team",
                                                      "what is mitral regurgitation"]
    assert [(c.count, c.wording, c.wording_from) for c in report.unanswered] == [(3, "best football team", "asked")]
    day = build_report(writable_index, timedelta(hours=24), 3, embedder, now=NOW)
    assert day.total == 9 and "what is mitral regurgitation" not in format_text(day)
    everything = build_report(writable_index, None, 3, embedder, now=NOW)
    assert everything.total == 17 and everything.days[0].day == date(2025, 5, 31)


def test_the_command_prints_each_format(writable_index):
    write_log(writable_index, [*rows("how to do cpr", 3, hours_ago=0), *rows("best football team", 3, bad=True)],
              now=datetime.now(timezone.utc))
    text = run_cli("--since", "30d", index_dir=writable_index)
    assert text.returncode == 0, text.stderr
    assert "Search insights from" in text.stdout and "about “best football team”; best match" in text.stdout
    data = json.loads(run_cli("--format", "json", index_dir=writable_index).stdout)
    assert data["total"] == 6 and data["unanswered"][0]["count"] == 3
    table = list(csv.DictReader(io.StringIO(run_cli("--format", "csv", "--min-count", "4",
                                                    index_dir=writable_index).stdout)))
    assert not [r for r in table if r["section"] == "question"]
