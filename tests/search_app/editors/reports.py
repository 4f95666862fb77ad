"""A hand-made insights report for the editors' page tests: the page is
tested on what it shows (hostile text included), whatever a log held; the
real report over a real log is tested in test_views.py too."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from indexer.insights.report import Cluster, DayCount, InsightsReport, QuestionCount

HOSTILE = '<script>alert("x")</script> & "quotes"'
UNTIL = datetime(2025, 3, 30, 14, 0, tzinfo=timezone.utc)


def sample_report(days: int = 7, hostile: bool = False, k: int = 3, article_id: str = "mr-answer-2") -> InsightsReport:
    first = UNTIL.date() - timedelta(days=days - 1)
    counts = [DayCount(first + timedelta(n), 40 + 9 * (n % 4) + n, 6 + 3 * (n % 3)) for n in range(days)]
    total, missed = sum(d.searches for d in counts), sum(d.no_good_match for d in counts)
    top = [QuestionCount("leaky heart valve", 31), QuestionCount("what causes mitral regurgitation", 12),
           QuestionCount(HOSTILE if hostile else "can surgery fix a heart valve", 4)]
    title = "What is mitral regurgitation (MR)?"
    clusters = [Cluster(23, "fainting during pregnancy", "asked", article_id, title, 0.22),
                Cluster(9, HOSTILE if hostile else "Heart valve disease and the kidneys", "article", article_id,
                        title, 0.31),
                Cluster(4, "sourdough bread", "words", None, None, None)]
    urgent = {"a heart attack": 17, "a stroke": 3, HOSTILE if hostile else "cardiac arrest": 1}
    since = datetime(first.year, first.month, first.day, tzinfo=timezone.utc)
    return InsightsReport(since=since, until=UNTIL, total=total, no_good_match=missed,
                          days=counts, top_questions=top, unanswered=clusters, urgent_by_trigger=urgent, k=k,
                          dropped=0)
