"""`python -m indexer insights`: its arguments and output, declared here
rather than in indexer/cli.py (which registers it) so that module stays one
screen of commands; the report itself is indexer/insights/report.py.

Exit status as the other commands (indexer/cli.py's EPILOG): 0 with a
report (an empty one when there is no log yet: logging is off, or nobody
has searched, which is not an error); 2 for a bad --since, --min-count or
$HEARTSEARCH_INSIGHTS_MIN_COUNT; 3 when there is no index (the report
needs the live generation's model and articles) or its model cannot be
loaded: the IndexError_ itself is reported by cli.main.
"""
from __future__ import annotations

import argparse
import sys

EXIT_OK, EXIT_USAGE, EXIT_INDEX = 0, 2, 3  # indexer/cli.py's, which imports this module


def add_insights_parser(sub) -> None:
    p = sub.add_parser("insights", help="what readers searched for and did not find (the private search log)",
                       description="The editors' report from the private search log beside the index: "
                                   "searches per day and the share with no good match, the most asked "
                                   "questions, unanswered questions grouped by meaning, the urgent notice "
                                   "by trigger. A reader's words appear only when the same text was asked "
                                   "at least --min-count times (docs/privacy.md).")
    p.add_argument("--since", type=_since, default=None, metavar="PERIOD",
                   help="only the last PERIOD: 24h, 7d, 2w (default: everything the log keeps)")
    p.add_argument("--format", choices=("text", "json", "csv"), default="text", help="default: text")
    p.add_argument("--min-count", type=_min_count, default=None, metavar="K",
                   help="times the same text must be asked before it is shown, at least 2 "
                        "(default: $HEARTSEARCH_INSIGHTS_MIN_COUNT, else 3)")


def _since(value: str):
    """A period, or "all" (the same as leaving --since out, as the editors' page spells it)."""
    from indexer.insights.report import parse_since
    if value.strip().lower() == "all":
        return None
    try:
        return parse_since(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _min_count(value: str) -> int:
    """At least 2: with 1, every text anyone typed would be shown."""
    if not value.strip().isdigit() or int(value) < 2:
        raise argparse.ArgumentTypeError(f"{value!r}: give a whole number, at least 2 "
                                         f"(a text asked once is one reader's words)")
    return int(value)


def cmd_insights(args, store) -> int:
    from indexer.embedding import ModelUnavailable
    from indexer.index import IndexMissing
    from indexer.insights.log import SEARCH_LOG
    from indexer.insights.report import FORMATS, build_report
    from indexer.settings import INSIGHTS_MIN_COUNT
    try:
        k = args.min_count or INSIGHTS_MIN_COUNT.read()
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    if store.current_name() is None:
        raise IndexMissing(f"no index at {store.root}; the report needs the live index (its model and articles)")
    if not (store.root / SEARCH_LOG).exists():
        print(f"note: no search log at {store.root / SEARCH_LOG} (HEARTSEARCH_SEARCH_LOG is off, or nobody "
              f"has searched yet): the report is empty", file=sys.stderr)
    try:
        report = build_report(store.root, args.since, k)
    except ModelUnavailable as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INDEX
    sys.stdout.write(FORMATS[args.format](report))
    return EXIT_OK
