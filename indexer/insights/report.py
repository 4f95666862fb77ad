"""The editors' insights report, built from the private search log: what
readers ask, what finds no good answer (grouped by meaning:
indexer/insights/clusters.py), and how often the urgent notice fired.

The k rule (docs/privacy.md, "What the report shows"): a query's text
appears only when that exact normalised text was asked at least k times in
the period, as a top question or as a group's wording, so no single
reader's words are shown. Counts, days and triggers are aggregates.

The log is read with SQL aggregates (per day, per text, per trigger) rather
than row by row, so a month of searches is never held in memory; the only
write is the vector cache (clusters.query_vectors).

CSV is one table, one row per figure, columns `CSV_COLUMNS`:
  summary    key searches | no_good_match | dropped | k   (count; share for no_good_match)
  since      key: the period's start (ISO, UTC) or "all"
  until      key: the period's end (ISO, UTC)
  day        key YYYY-MM-DD, count = searches, share = no good match share
  question   key the text (asked >= k times), count
  unanswered key the wording, count, best_similarity, best_article_id, best_title, wording_from
  urgent     key the trigger, count, share of all searches
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from indexer.insights.clusters import ASKED, ARTICLE, Cluster, query_vectors, unanswered_clusters
from indexer.insights.log import HOUR_FORMAT, SEARCH_LOG, connect, read_dropped

SHOWN = 20   # top questions and groups in the text report (json and csv have them all)
CSV_COLUMNS = ("section", "key", "count", "share", "best_similarity", "best_article_id", "best_title",
               "wording_from")
_SINCE = re.compile(r"^\s*(\d+)\s*([hdw])\s*$", re.IGNORECASE)
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


@dataclass
class DayCount:
    day: date
    searches: int
    no_good_match: int


@dataclass
class QuestionCount:
    query: str
    count: int


@dataclass
class InsightsReport:
    since: datetime | None
    until: datetime
    total: int
    no_good_match: int
    days: list[DayCount] = field(default_factory=list)
    top_questions: list[QuestionCount] = field(default_factory=list)
    unanswered: list[Cluster] = field(default_factory=list)  # groups of at least k searches
    unanswered_in_small_groups: int = 0   # searches in groups under k: counted, never shown (one reader's question)
    urgent_by_trigger: dict[str, int] = field(default_factory=dict)
    k: int = 3
    dropped: int = 0


# The longest period a report may ask for (the log keeps 30 days by default;
# a longer one is a typo, and a huge one would overflow the date arithmetic).
MAX_SINCE = timedelta(days=3650)


def parse_since(text: str) -> timedelta:
    """"7d", "24h", "2w": a period back from now, in whole hours at least
    (the log keeps only the hour of a search), at most MAX_SINCE."""
    found = _SINCE.match(text or "")
    if not found or int(found.group(1)) == 0:
        raise ValueError(f"{text!r} is not a period: give a positive whole number and a unit, "
                         f"h (hours), d (days) or w (weeks), e.g. 24h, 7d, 30d")
    count = int(found.group(1))
    if count > MAX_SINCE.days * 24:  # more hours than the longest period has: too long in any unit
        raise ValueError(f"{text!r} is longer than {MAX_SINCE.days} days")
    span = timedelta(**{_UNITS[found.group(2).lower()]: count})
    if span > MAX_SINCE:
        raise ValueError(f"{text!r} is longer than {MAX_SINCE.days} days")
    return span


# ------------------------------------------------------------------ building

def build_report(index_dir: Path, since: timedelta | None, k: int, embedder=None, *,
                 now: datetime | None = None) -> InsightsReport:
    """The report of the searches logged from `since` ago (None: all the
    log keeps) to `now`. Opens the live generation (IndexMissing if none)
    and, only if some unanswered text has no cached vector, its model
    (`embedder` stands in for it)."""
    from indexer.embedding import LazyEmbedder
    from indexer.index import IndexStore

    if k < 2:
        raise ValueError(f"k must be at least 2 (a text asked once is one reader's words), got {k}")
    until = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    start = _hour_floor(until - since) if since is not None else None
    generation = IndexStore(index_dir).open_current()
    try:
        log_path = Path(index_dir) / SEARCH_LOG
        report = InsightsReport(since=start, until=until, total=0, no_good_match=0, k=k)
        if not log_path.exists():
            return report
        summary = read_summary(log_path, start, k)
        report.total, report.no_good_match = summary.total, summary.no_good_match
        report.days = fill_days(summary.days, start, until)
        report.top_questions = top_questions(summary.asked, k)
        report.urgent_by_trigger = summary.urgent
        report.dropped = read_dropped(log_path)
        if summary.unanswered:
            model = embedder or LazyEmbedder(generation.model)
            texts = list(summary.unanswered)
            vectors = query_vectors(log_path, texts, model, generation.manifest["dimension"])
            groups = unanswered_clusters(summary.unanswered, summary.asked, vectors, generation, k)
            # A group of fewer than k searches would say that one or two readers asked
            # something near an article: counted, never shown, like a text asked under k times.
            report.unanswered = [g for g in groups if g.count >= k]
            report.unanswered_in_small_groups = sum(g.count for g in groups if g.count < k)
        return report
    finally:
        generation.close()


@dataclass
class LogSummary:
    total: int = 0
    no_good_match: int = 0
    days: dict[date, tuple[int, int]] = field(default_factory=dict)   # day -> (searches, no good match)
    asked: dict[str, int] = field(default_factory=dict)               # text -> searches
    unanswered: dict[str, int] = field(default_factory=dict)          # text -> no-good-match searches
    urgent: dict[str, int] = field(default_factory=dict)              # trigger -> searches


def read_summary(log_path: Path, start: datetime | None, k: int) -> LogSummary:
    """The aggregates the report needs. `asked` holds only texts asked >= k
    times or ever unanswered: the rest are never shown nor clustered."""
    where, args = ("WHERE hour >= ?", (start.strftime(HOUR_FORMAT),)) if start else ("", ())
    summary = LogSummary()
    db = connect(log_path, readonly=True)
    try:
        for day, searches, unanswered in db.execute(
                f"SELECT substr(hour, 1, 10), count(*), sum(no_good_match) FROM searches {where} "
                f"GROUP BY 1 ORDER BY 1", args):
            summary.days[date.fromisoformat(day)] = (searches, unanswered)
        for text, searches, unanswered in db.execute(
                f"SELECT query, count(*), sum(no_good_match) FROM searches {where} GROUP BY query "
                f"HAVING count(*) >= ? OR sum(no_good_match) > 0", (*args, k)):
            summary.asked[text] = searches
            if unanswered:
                summary.unanswered[text] = unanswered
        for triggers, searches in db.execute(
                f"SELECT urgent, count(*) FROM searches {where} {'AND' if where else 'WHERE'} urgent != '' "
                f"GROUP BY urgent", args):
            for trigger in filter(None, (t.strip() for t in triggers.split(","))):
                summary.urgent[trigger] = summary.urgent.get(trigger, 0) + searches
    finally:
        db.close()
    summary.total = sum(s for s, _ in summary.days.values())
    summary.no_good_match = sum(u for _, u in summary.days.values())
    summary.urgent = dict(sorted(summary.urgent.items(), key=lambda item: (-item[1], item[0])))
    return summary


def _hour_floor(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def fill_days(days: dict[date, tuple[int, int]], start: datetime | None, until: datetime) -> list[DayCount]:
    """One entry per UTC day from the period's first day (or the log's, with
    no period) to its last, days without searches included, so a chart's
    gaps are real."""
    if not days and start is None:
        return []
    first = start.date() if start is not None else min(days)
    last = max(until.date(), max(days) if days else first)
    out, day = [], first
    while day <= last:
        searches, unanswered = days.get(day, (0, 0))
        out.append(DayCount(day=day, searches=searches, no_good_match=unanswered))
        day += timedelta(days=1)
    return out


def top_questions(asked: dict[str, int], k: int) -> list[QuestionCount]:
    """The k rule applied: texts asked >= k times, most asked first."""
    return [QuestionCount(query=text, count=count)
            for text, count in sorted(asked.items(), key=lambda item: (-item[1], item[0])) if count >= k]


# ------------------------------------------------------------------ formats

def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def _moment(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "the start of the log"


def cluster_line(cluster: Cluster, k: int) -> str:
    """"23 searches about “fainting during pregnancy”; best match 0.22 (Title)"."""
    searches = f"{cluster.count} search{'es' if cluster.count != 1 else ''}"
    if cluster.wording_from == ASKED:
        head = f"{searches} about “{cluster.wording}”"
    elif cluster.wording_from == ARTICLE:
        head = f"{searches} nearest to “{cluster.wording}” (no wording asked {k} times)"
    elif cluster.wording:
        head = f"{searches} with the words “{cluster.wording}”"
    else:
        head = f"{searches} (wording withheld: no text or word used {k} times)"
    if cluster.best_article_id is None:
        return f"{head}; no article to match"
    best = f"; best match {cluster.best_similarity:.2f}"
    return head + best + ("" if cluster.wording_from == ARTICLE else f" ({cluster.best_title or cluster.best_article_id})")


def format_text(report: InsightsReport) -> str:
    lines = [f"Search insights from {_moment(report.since)} to {_moment(report.until)}",
             f"{report.total} searches, {report.no_good_match} with no good match "
             f"({_percent(report.no_good_match, report.total)}); "
             f"{report.dropped} log rows dropped (queue full or write failed).",
             f"Readers' words are shown only when the same text was asked at least {report.k} times.", "",
             "Searches per day (UTC)", "  day         searches  no good match"]
    lines += [f"  {d.day.isoformat()}  {d.searches:8d}  {d.no_good_match:8d} {_percent(d.no_good_match, d.searches):>5}"
              for d in report.days] or ["  (no searches)"]
    lines += ["", f"Most asked (at least {report.k} times)"]
    lines += [f"  {q.count:6d}  {q.query}" for q in report.top_questions[:SHOWN]] or ["  (no text asked that often)"]
    lines += _more(report.top_questions, "question", sum(q.count for q in report.top_questions[SHOWN:]))
    lines += ["", "Unanswered, grouped by meaning (no good match); best match: the article nearest the",
              "group's searches and their mean similarity to it"]
    lines += [f"  {cluster_line(c, report.k)}" for c in report.unanswered[:SHOWN]] or ["  (none)"]
    lines += _more(report.unanswered, "group", sum(c.count for c in report.unanswered[SHOWN:]))
    if report.unanswered_in_small_groups:
        lines.append(f"  and {report.unanswered_in_small_groups} searches in groups of fewer than {report.k} "
                     "(not shown)")
    lines += ["", "Urgent notice shown, by trigger"]
    lines += [f"  {n:6d}  {trigger}" for trigger, n in report.urgent_by_trigger.items()] or ["  (never)"]
    return "\n".join(lines) + "\n"


def _more(items: list, what: str, searches: int) -> list[str]:
    rest = len(items) - SHOWN
    return [f"  … and {rest} more {what}{'s' if rest != 1 else ''} ({searches} searches): "
            f"--format json or csv lists them all"] if rest > 0 else []


def format_json(report: InsightsReport) -> str:
    def plain(value):
        if isinstance(value, (date, datetime)):
            return value.isoformat()
        raise TypeError(f"{type(value).__name__} is not JSON")
    return json.dumps(asdict(report), default=plain, ensure_ascii=False, indent=2) + "\n"


def csv_rows(report: InsightsReport) -> list[dict]:
    """The one table of the module docstring."""
    rows = [{"section": "summary", "key": "searches", "count": report.total},
            {"section": "summary", "key": "no_good_match", "count": report.no_good_match,
             "share": _share(report.no_good_match, report.total)},
            {"section": "summary", "key": "dropped", "count": report.dropped},
            {"section": "summary", "key": "k", "count": report.k},
            {"section": "since", "key": report.since.isoformat() if report.since else "all"},
            {"section": "until", "key": report.until.isoformat()}]
    rows += [{"section": "day", "key": d.day.isoformat(), "count": d.searches,
              "share": _share(d.no_good_match, d.searches)} for d in report.days]
    rows += [{"section": "question", "key": q.query, "count": q.count} for q in report.top_questions]
    rows += [{"section": "unanswered", "key": c.wording, "count": c.count, "best_similarity": c.best_similarity,
              "best_article_id": c.best_article_id, "best_title": c.best_title, "wording_from": c.wording_from}
             for c in report.unanswered]
    rows.append({"section": "summary", "key": "unanswered_in_small_groups", "count": report.unanswered_in_small_groups})
    rows += [{"section": "urgent", "key": trigger, "count": n, "share": _share(n, report.total)}
             for trigger, n in report.urgent_by_trigger.items()]
    return rows


def format_csv(report: InsightsReport) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in csv_rows(report):
        writer.writerow({column: _cell(row.get(column)) for column in CSV_COLUMNS})
    return out.getvalue()


def _cell(value) -> object:
    """A text a spreadsheet would run as a formula ("=HYPERLINK(...)" asked
    k times is a reader's text like any other) gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


FORMATS = {"text": format_text, "json": format_json, "csv": format_csv}
