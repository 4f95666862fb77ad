"""Private search insights (issue 18): the search log the web app writes
(`log`: what is stored and how, off the request path; `masking`: what is
masked before it is) and the editors' report built from it. The indexer owns
the log file because it lives beside the index; `search_app` records into it
through `SearchLog` and never the reverse. What is kept, and what never is:
docs/privacy.md.
"""
from indexer.insights.log import SEARCH_LOG, SearchEvent, SearchLog, SearchRow, delete_older_than, read_searches
from indexer.insights.masking import mask

__all__ = ["SEARCH_LOG", "SearchEvent", "SearchLog", "SearchRow", "delete_older_than", "mask", "read_searches"]
