"""The API's responses, as pydantic models that document every response:
the OpenAPI document (`search_app/api/openapi.py`) is generated from them and
the responses are built from them (`search_app/api/responses.py`), so a
response cannot drift from what is documented. The request parameters'
models are in `search_app/api/params.py`.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from search_app.api.params import FILTER_CANDIDATES, Mode
from search_app.api.repair_schema import REPAIRS_DOC, SOURCE_TEXT_DOC, TextRepair
from search_app.api.urgent_schema import URGENT_DOC, Urgent

class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Descriptions several models share, so /api/docs explains every field.
PASSAGE_ID = "Passage id (see `GET /api/v1/passages/{passage_id}`); valid within `generation`."
POSITION = "0-based position of the passage in its article."
OF = "How many passages the article has."
SENTENCES = "The passage's sentences, in order (`text` is them joined; a list item starts with `- `)."
SOURCE = "The organisation behind the article, when known."
PAGE = "Id of the source page the article came from (its disclaimer is shown with it), when known."
GENERATION = "The index generation that answered: passage ids belong to it."
KIND = "`article` (a whole article), `answer` (one answer on a Q&A page) or `teaser` (a related-article card)."
URL = "Where the article was published, when the corpus records it."
NEXT_OFFSET = "`offset` for the next page; null when there is none."


class Author(_Out):
    """The person who wrote the article; both null when it is unattributed or by an organisation."""

    name: str | None = Field(description="The person's name as the source signs it.")
    credentials: str | None = Field(description="Their degrees and role as signed, e.g. `MD, Cardiothoracic Surgeon`.")


class ArticleRef(_Out):
    id: str = Field(description="The article id (see `GET /api/v1/articles/{article_id}`).")
    title: str = Field(description="The title as a reader should see it (\"What is (are) X ?\" -> \"What is X?\": "
                             "indexer/titles.py).")
    source_title: str = Field(description="The title exactly as the source wrote it, for provenance.")
    url: str | None = Field(description=URL)
    kind: str = Field(description=KIND)


class PassageRef(_Out):
    id: int = Field(description=PASSAGE_ID)
    position: int = Field(description=POSITION)
    of: int = Field(description=OF)
    heading: str | None = Field(default=None, description="The section heading in force where the passage starts "
                                                          "(not part of `text`), when the article has headings.")


class MatchedSentence(_Out):
    index: int = Field(description="Which of the passage's sentences it is, from 0 (the passage's `sentences`: "
                                   "`GET /api/v1/passages/{passage_id}`).")
    text: str = Field(description="The sentence.")


class InterpretedAs(_Out):
    corrections: dict[str, str] = Field(description="Spelling corrections applied: typed word -> corrected word.")
    expansions: list[str] = Field(description="Clinical terms added for everyday words (e.g. leaky valve -> "
                                              "regurgitation).")


class Filters(_Out):
    author: str | None = Field(description="The `author` filter as applied (whitespace collapsed), or null.")
    source: str | None = Field(description="The `source` filter as applied, or null.")
    article: str | None = Field(description="The `article` filter as applied, or null.")


ATTRIBUTION_DOC = ("Who stands behind the text, in the words the readers' page shows: `By NAME, CREDENTIALS` "
                   "(a person), `From ORGANISATION`, or `Unattributed answer on ‘PAGE TITLE’` (with `at SITE` "
                   "when a web address is recorded).")


class AlsoPassage(_Out):
    id: int = Field(description=PASSAGE_ID)
    position: int = Field(description=POSITION)
    text: str = Field(description="The answer's passage that best matches the query.")


class AlsoAnswer(_Out):
    """Another answer to a result's question, collapsed into that result."""

    article: ArticleRef = Field(description="The article of this answer.")
    author: Author
    source: str | None = Field(description=SOURCE)
    attribution: str = Field(description=ATTRIBUTION_DOC)
    passage: AlsoPassage = Field(description="Its passage that best matches the query.")
    score: float = Field(description="This answer's own fused ranking score (comparable within one response).")
    similarity: float | None = Field(description="Cosine similarity of its passage to the query; null in "
                                                 "`lexical` mode.")


class SearchHit(_Out):
    rank: int = Field(description="1-based rank, counting from the first result of the whole list.")
    score: float = Field(description="Fused ranking score; comparable within one response only.")
    similarity: float | None = Field(description="Cosine similarity of the passage to the query; null in "
                                                 "`lexical` mode.")
    good_match: bool = Field(description="Whether the passage is close enough to the query to answer it (its "
                                         "`similarity` reaches the index model's no-good-match threshold; always "
                                         "true in `lexical` mode).")
    text: str = Field(description="The passage shown for this result.")
    passage: PassageRef = Field(description="Which passage of the article this is.")
    matched_sentence: MatchedSentence | None = Field(description="The sentence sharing most words with the "
                                                                 "query; null if none does.")
    other_passages: list[int] = Field(description="Ids of the article's other passages (when grouping).")
    article: ArticleRef = Field(description="The article the passage is from.")
    author: Author
    source: str | None = Field(description="The organisation behind the article, when known.")
    attribution: str = Field(description=ATTRIBUTION_DOC)
    page: str | None = Field(description="Id of the source page the article came from, when known.")
    also: list[AlsoAnswer] = Field(description="Other answers to the same question (same display title, any "
                                               "case), collapsed into this result, best first: with "
                                               "`group=true` a result is one question, and `k`, `offset` and "
                                               "`total` count questions. Empty when nothing was collapsed.")


NO_GOOD_MATCH_DOC = ("True when no result on this page is a `good_match`: the readers' page then shows \"No good "
                     "match\" and none of them, rather than unrelated text; an app should do the same.")


class SearchResponse(_Out):
    query: str = Field(description="The query as searched (whitespace collapsed).")
    urgent: Urgent | None = Field(description=URGENT_DOC)
    mode: Mode = Field(description="The retrieval mode used: the request's `mode`, else the default (`hybrid`).")
    k: int = Field(description="How many results were asked for.")
    offset: int = Field(description="How many results were skipped.")
    total: int = Field(description="How many results there are in all (with filters: among the top "
                                   f"{FILTER_CANDIDATES} candidates).")
    next_offset: int | None = Field(description=NEXT_OFFSET)
    filters: Filters = Field(description="The filters the search applied.")
    interpreted_as: InterpretedAs = Field(description="How the query was read: spelling corrections and expansions.")
    generation: str = Field(description=GENERATION)
    took_ms: float = Field(description="Time spent answering, in milliseconds.")
    no_good_match: bool = Field(description=NO_GOOD_MATCH_DOC)
    results: list[SearchHit] = Field(description="The results, best first.")


class PassageDetail(_Out):
    id: int = Field(description=PASSAGE_ID)
    position: int = Field(description=POSITION)
    of: int = Field(description=OF)
    text: str = Field(description="The passage's text.")
    sentences: list[str] = Field(description=SENTENCES)
    article: ArticleRef = Field(description="The article the passage is from.")
    author: Author
    source: str | None = Field(description=SOURCE)
    attribution: str = Field(description=ATTRIBUTION_DOC)
    page: str | None = Field(description=PAGE)
    disclaimer: str | None = Field(description="The source page's disclaimer, to be shown with the passage.")
    generation: str = Field(description=GENERATION)


class ArticlePassage(_Out):
    id: int = Field(description=PASSAGE_ID)
    position: int = Field(description=POSITION)
    heading: str | None = Field(default=None, description="The section heading in force where it starts.")
    text: str = Field(description="The passage's text.")
    sentences: list[str] = Field(description=SENTENCES)


class _ArticleFields(_Out):
    """What every article response says about the article itself."""

    id: str = Field(description="The article id, unique in the corpus.")
    title: str = Field(description="The title as a reader should see it (\"What is (are) X ?\" -> \"What is X?\": "
                             "indexer/titles.py).")
    source_title: str = Field(description="The title exactly as the source wrote it, for provenance.")
    kind: str = Field(description=KIND)
    url: str | None = Field(description=URL)
    author: Author
    source: str | None = Field(description=SOURCE)
    attribution: str = Field(description=ATTRIBUTION_DOC)
    page: str | None = Field(description=PAGE)


class ArticleSummary(_ArticleFields):
    passages: int = Field(description="How many passages the article has.")


class ListFilters(_Out):
    author: str | None = Field(description="The `author` filter as applied, or null.")
    source: str | None = Field(description="The `source` filter as applied, or null.")


class ArticleList(_Out):
    total: int = Field(description="How many articles match the filters.")
    offset: int = Field(description="How many articles were skipped.")
    limit: int = Field(description="How many articles were asked for.")
    next_offset: int | None = Field(description=NEXT_OFFSET)
    filters: ListFilters = Field(description="The filters the list applied.")
    generation: str = Field(description=GENERATION)
    articles: list[ArticleSummary] = Field(description="The articles, by id.")


class ArticleDetail(_ArticleFields):
    disclaimer: str | None = Field(description="The source page's disclaimer, to be shown with the article.")
    generation: str = Field(description=GENERATION)
    passage_count: int = Field(description=OF)
    passages: list[ArticlePassage] = Field(description="All the article's passages, in order.")
    repairs: list[TextRepair] = Field(default_factory=list, description=REPAIRS_DOC)
    source_text: str | None = Field(default=None, description=SOURCE_TEXT_DOC)


class Health(_Out):
    status: Literal["ok"] = Field(description="`ok`: the server is running.")


class Ready(_Out):
    status: Literal["ready"] = Field(description="`ready`: an index is loaded and searches are answered.")
    generation: str = Field(description="The live index generation.")
    passages: int = Field(description="Passages in that generation.")
    model: str = Field(description="The embedding model the index was built with.")


class ErrorDetail(_Out):
    code: str = Field(description="Machine-readable, e.g. `empty_query`, `invalid_k`, `not_found`, "
                                  "`rate_limited`.")
    message: str = Field(description="A sentence for people.")
    field: str | None = Field(description="The parameter at fault, when there is one.")


class ErrorResponse(_Out):
    error: ErrorDetail = Field(description="What went wrong; every error of the API has this one shape.")


RESPONSE_MODELS = (SearchResponse, PassageDetail, ArticleList, ArticleDetail, Health, Ready, ErrorResponse)
