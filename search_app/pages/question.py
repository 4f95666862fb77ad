"""The question page, `/questions/<article id>`: every answer to that
article's question side by side, each with its attribution line.

It is the shape of the shipped Q&A page itself (one question, several
signed and unsigned answers) and where a result's "All N answers to this
question" leads. Which articles answer the same question is the searcher's
per-generation knowledge (search_app/search/questions.py); the answers are
read from that same generation, so ids and texts never mix generations.
"""
from __future__ import annotations

from dataclasses import dataclass

from search_app.pages.more import article_text
from search_app.search.results import Attribution, attribution_label, site_of
from indexer.titles import display_title


@dataclass(frozen=True)
class Answer:
    article_id: str
    title: str
    attribution: Attribution
    sentences: list[str]
    url: str | None
    site: str | None
    teaser: bool


@dataclass(frozen=True)
class QuestionPage:
    title: str
    answers: list[Answer]
    disclaimers: list[str]


def question_page(generation, questions, article_id: str, safe_url) -> QuestionPage | None:
    """The page for `article_id`'s question; None when the id is unknown.
    `safe_url`: the page's rule for which addresses may be links."""
    pages = generation.pages_by_id
    answers, page_ids = [], set()
    for member in questions.members(article_id):
        passages = generation.article_passages(member)
        if not passages:
            continue
        first = passages[0]
        page_ids.add(first.page_id)
        url = safe_url(first.article_url)
        answers.append(Answer(member, display_title(first.article_title), attribution_label(first, pages),
                              article_text(passages), url, site_of(url), first.article_kind == "teaser"))
    if not answers:
        return None
    leader = next((a for a in answers if a.article_id == article_id), answers[0])
    disclaimers = [pages[i].disclaimer for i in sorted(filter(None, page_ids)) if i in pages and pages[i].disclaimer]
    return QuestionPage(leader.title, answers, disclaimers)
