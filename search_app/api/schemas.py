"""The API's schemas, as pydantic models: request parameters (these validate
every request) and responses (these document every response). The OpenAPI
document (`search_app/api/openapi.py`) is generated from these same models, so
what is documented is what is checked.

Request models are built per configuration (`search_params_model(config)`),
because the longest query and the largest `k` are settings. Query strings are
validated leniently ("10" is the number 10); JSON bodies strictly (10, not
"10"). Unknown parameters and unknown body fields are ignored.
"""
from __future__ import annotations

import functools
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from search_app.search.query import InputError, normalise_query
from search_app.shared_http import ascii_whole_number
from search_app.api.repair_schema import REPAIRS_DOC, SOURCE_TEXT_DOC, TextRepair
from search_app.api.urgent_schema import URGENT_DOC, Urgent
from search_app.search.settings import DEFAULT_SETTINGS, MODES

MAX_OFFSET = 1000               # deepest search offset
FILTER_CANDIDATES = DEFAULT_SETTINGS.filter_candidates  # filters apply to this many top search candidates
MAX_FILTER_CHARS = 200
MAX_LIST_OFFSET = 1_000_000     # deepest offset into the article list
MAX_LIST_LIMIT = 100
DEFAULT_LIST_LIMIT = 20
MAX_PASSAGE_ID = 2 ** 63 - 1    # largest id SQLite can hold
MAX_ARTICLE_ID_CHARS = 500

Mode = Literal["hybrid", "dense", "lexical"]
assert set(Mode.__args__) == set(MODES)

def _ascii_int(raw: Any) -> Any:
    """Query-string numbers: ASCII digits only (pydantic's lax int takes `1_0` as 10)."""
    if isinstance(raw, str) and ascii_whole_number(raw) is None:
        raise PydanticCustomError("int_parsing", "not a whole number in ASCII digits")
    return raw


ASCII_DIGITS = BeforeValidator(_ascii_int)

_RANGE_ERRORS = {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}


def _filter_text(raw: Any) -> Any:
    """Filters: whitespace collapsed; blank is the same as not given."""
    if isinstance(raw, str):
        raw = " ".join(raw.split())
        return raw or None
    return raw


FilterText = Annotated[str, Field(min_length=1, max_length=MAX_FILTER_CHARS)]

AUTHOR_DOC = ("Only results whose author's name contains this text (case-insensitive), e.g. `Adams`. "
              "Unattributed passages never match.")
SOURCE_DOC = ("Only results whose source organisation contains this text (case-insensitive), "
              "e.g. `Kidney Foundation`.")


# --------------------------------------------------------------------------- requests

@functools.lru_cache(maxsize=8)
def _search_params_model(max_query_chars: int, max_k: int, default_k: int) -> type[BaseModel]:
    class SearchParams(BaseModel):
        """What to search for: the query string of `GET /api/v1/search`, or the JSON body of
        `POST /api/v1/search`. Unknown fields are ignored."""

        model_config = ConfigDict(extra="ignore", title="SearchParams")

        q: str = Field(min_length=1, max_length=max_query_chars, examples=["leaky heart valve"],
                       description=f"The question, in everyday words. Whitespace and control characters are "
                                   f"collapsed; empty is `empty_query`, over {max_query_chars} characters is "
                                   f"`query_too_long`.")
        k: Annotated[int, Field(ge=1, le=max_k), ASCII_DIGITS] | None = Field(
            default=default_k, examples=[5], description=f"How many results, 1 to {max_k} (`invalid_k`).")
        offset: Annotated[int, Field(ge=0, le=MAX_OFFSET), ASCII_DIGITS] | None = Field(
            default=0, examples=[0],
            description=f"How many results to skip, 0 to {MAX_OFFSET} (`invalid_offset`). "
                        f"Use the response's `next_offset` for the next page.")
        mode: Mode | None = Field(
            default=None, examples=["hybrid"],
            description="Retrieval: `hybrid` (default: meaning and words), `dense` (meaning only) or "
                        "`lexical` (words only) (`invalid_mode`).")
        group: bool | None = Field(
            default=True, examples=[True],
            description="`true`: one result per question (its best article's best passage, that article's "
                        "other passages in `other_passages`, other answers to the same question in `also`); "
                        "`false`: one result per passage (`invalid_group`).")
        author: FilterText | None = Field(default=None, examples=["Adams"],
                                          description=AUTHOR_DOC + " See the note on filters.")
        source: FilterText | None = Field(default=None, examples=["National Kidney Foundation"],
                                          description=SOURCE_DOC + " See the note on filters.")
        article: Annotated[str, Field(min_length=1, max_length=MAX_ARTICLE_ID_CHARS)] | None = Field(
            default=None, examples=["mr-answer-2"],
            description="Only results from the article with this exact id. See the note on filters.")

        @field_validator("q", mode="before")
        @classmethod
        def _clean_query(cls, raw: Any) -> str:
            try:
                return normalise_query("" if raw is None else raw, max_query_chars)  # null: not given
            except InputError as err:
                raise PydanticCustomError(err.code, err.message) from None

        @field_validator("author", "source", "article", mode="before")
        @classmethod
        def _clean_filter(cls, raw: Any) -> Any:
            return _filter_text(raw)

    return SearchParams


def search_params_model(config) -> type[BaseModel]:
    return _search_params_model(config.max_query_chars, config.max_k, config.default_k)


class ArticleListParams(BaseModel):
    """Paging and filters for `GET /api/v1/articles`. Unknown parameters are ignored."""

    model_config = ConfigDict(extra="ignore")

    offset: Annotated[int, Field(ge=0, le=MAX_LIST_OFFSET), ASCII_DIGITS] | None = Field(
        default=0, examples=[0], description=f"How many articles to skip, 0 to {MAX_LIST_OFFSET} (`invalid_offset`).")
    limit: Annotated[int, Field(ge=1, le=MAX_LIST_LIMIT), ASCII_DIGITS] | None = Field(
        default=DEFAULT_LIST_LIMIT, examples=[20],
        description=f"How many articles, 1 to {MAX_LIST_LIMIT} (`invalid_limit`).")
    author: FilterText | None = Field(default=None, examples=["Adams"], description=AUTHOR_DOC)
    source: FilterText | None = Field(default=None, examples=["National Kidney Foundation"], description=SOURCE_DOC)

    @field_validator("author", "source", mode="before")
    @classmethod
    def _clean_filter(cls, raw: Any) -> Any:
        return _filter_text(raw)


class PassagePath(BaseModel):
    passage_id: int = Field(ge=0, le=MAX_PASSAGE_ID, examples=[1],
                            description="A passage id from a search result (`passage.id`). Ids belong to one "
                                        "index generation. Not a whole number, or unknown: 404.")


class ArticlePath(BaseModel):
    article_id: str = Field(min_length=1, max_length=MAX_ARTICLE_ID_CHARS, pattern=r"^[^/]+$",
                            examples=["mr-answer-2"], description="An article id (`article.id`). Unknown: 404.")


# What a parameter's error says: code, message when it is not the right type,
# message when it is out of range.
def _field_errors(max_k: int) -> dict[str, tuple[str, str, str]]:
    def number(name: str, low: int, high: int) -> tuple[str, str, str]:
        return (f"invalid_{name}", f"{name} must be a whole number from {low} to {high}.",
                f"{name} must be from {low} to {high}.")

    def text(name: str, what: str, limit: int = MAX_FILTER_CHARS) -> tuple[str, str, str]:
        message = f"{name} must be {what} of at most {limit} characters."
        return f"invalid_{name}", message, message

    return {
        "k": number("k", 1, max_k),
        "mode": ("invalid_mode", f"mode must be one of {', '.join(MODES)}.",
                 f"mode must be one of {', '.join(MODES)}."),
        "group": ("invalid_group", "group must be true or false.", "group must be true or false."),
        "limit": number("limit", 1, MAX_LIST_LIMIT),
        "author": text("author", "text"),
        "source": text("source", "text"),
        "article": text("article", "an article id", MAX_ARTICLE_ID_CHARS),
    }


def validate(model: type[BaseModel], data: dict, *, strict: bool, max_k: int = 50):
    """`model` validated from `data`, or an InputError for the first bad field
    (fields are checked in the order they are declared: q, k, offset, ...)."""
    try:
        return model.model_validate(data, strict=strict)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        field = str(error["loc"][0]) if error["loc"] else None
        kind = error["type"]
        if field == "q":
            if kind == "missing":
                raise InputError("empty_query", "Type a question or a few words to search for.", "q")
            if kind in ("empty_query", "query_too_long", "invalid_query"):
                raise InputError(kind, error["msg"], "q")
            raise InputError("invalid_query", "The query must be text.", "q")
        if field == "offset":
            high = MAX_OFFSET if "q" in model.model_fields else MAX_LIST_OFFSET
            code, type_msg, range_msg = (
                "invalid_offset", f"offset must be a whole number from 0 to {high}.", f"offset must be from 0 to {high}.")
        else:
            code, type_msg, range_msg = _field_errors(max_k).get(
                field, (f"invalid_{field}", f"{field} is not valid.", f"{field} is not valid."))
        raise InputError(code, range_msg if kind in _RANGE_ERRORS else type_msg, field) from None


# --------------------------------------------------------------------------- responses

class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Author(_Out):
    """The person who wrote the article; both null when it is unattributed or by an organisation."""

    name: str | None
    credentials: str | None


class ArticleRef(_Out):
    id: str
    title: str = Field(description="The title as a reader should see it (\"What is (are) X ?\" -> \"What is X?\": "
                             "search_app/search/titles.py).")
    source_title: str = Field(description="The title exactly as the source wrote it, for provenance.")
    url: str | None = Field(description="Where the article was published, when known.")
    kind: str = Field(description="`article`, `answer`, `teaser`, ... as the importer labelled it.")


class PassageRef(_Out):
    id: int = Field(description="Passage id (see `GET /api/v1/passages/{passage_id}`); valid within `generation`.")
    position: int = Field(description="0-based position of the passage in its article.")
    of: int = Field(description="How many passages the article has.")
    heading: str | None = Field(default=None, description="The section heading in force where the passage starts "
                                                          "(not part of `text`), when the article has headings.")


class MatchedSentence(_Out):
    index: int = Field(description="Index into the passage's sentences.")
    text: str


class InterpretedAs(_Out):
    corrections: dict[str, str] = Field(description="Spelling corrections applied: typed word -> corrected word.")
    expansions: list[str] = Field(description="Clinical terms added for everyday words (e.g. leaky valve -> "
                                              "regurgitation).")


class Filters(_Out):
    author: str | None
    source: str | None
    article: str | None


ATTRIBUTION_DOC = ("Who stands behind the text, in the words the readers' page shows: `By NAME, CREDENTIALS` "
                   "(a person), `From ORGANISATION`, or `Unattributed answer on ‘PAGE TITLE’` (with `at SITE` "
                   "when a web address is recorded).")


class AlsoPassage(_Out):
    id: int = Field(description="Passage id (see `GET /api/v1/passages/{passage_id}`).")
    position: int = Field(description="0-based position of the passage in its article.")
    text: str = Field(description="The answer's passage that best matches the query.")


class AlsoAnswer(_Out):
    """Another answer to a result's question, collapsed into that result."""

    article: ArticleRef
    author: Author
    source: str | None
    attribution: str = Field(description=ATTRIBUTION_DOC)
    passage: AlsoPassage
    score: float = Field(description="This answer's own fused ranking score (comparable within one response).")
    similarity: float | None = Field(description="Cosine similarity of its passage to the query; null in "
                                                 "`lexical` mode.")


class SearchHit(_Out):
    rank: int = Field(description="1-based rank, counting from the first result of the whole list.")
    score: float = Field(description="Fused ranking score; comparable within one response only.")
    similarity: float | None = Field(description="Cosine similarity of the passage to the query; null in "
                                                 "`lexical` mode.")
    text: str = Field(description="The passage shown for this result.")
    passage: PassageRef
    matched_sentence: MatchedSentence | None = Field(description="The sentence sharing most words with the "
                                                                 "query; null if none does.")
    other_passages: list[int] = Field(description="Ids of the article's other passages (when grouping).")
    article: ArticleRef
    author: Author
    source: str | None = Field(description="The organisation behind the article, when known.")
    attribution: str = Field(description=ATTRIBUTION_DOC)
    page: str | None = Field(description="Id of the source page the article came from, when known.")
    also: list[AlsoAnswer] = Field(description="Other answers to the same question (same display title, any "
                                               "case), collapsed into this result, best first: with "
                                               "`group=true` a result is one question, and `k`, `offset` and "
                                               "`total` count questions. Empty when nothing was collapsed.")


class SearchResponse(_Out):
    query: str = Field(description="The query as searched (whitespace collapsed).")
    urgent: Urgent | None = Field(description=URGENT_DOC)
    mode: Mode
    k: int
    offset: int
    total: int = Field(description="How many results there are in all (with filters: among the top "
                                   f"{FILTER_CANDIDATES} candidates).")
    next_offset: int | None = Field(description="`offset` for the next page; null when there is none.")
    filters: Filters
    interpreted_as: InterpretedAs
    generation: str = Field(description="The index generation that answered.")
    took_ms: float = Field(description="Time spent answering, in milliseconds.")
    results: list[SearchHit]


class PassageDetail(_Out):
    id: int
    position: int
    of: int
    text: str
    sentences: list[str]
    article: ArticleRef
    author: Author
    source: str | None
    attribution: str = Field(description=ATTRIBUTION_DOC)
    page: str | None
    disclaimer: str | None = Field(description="The source page's disclaimer, to be shown with the passage.")
    generation: str


class ArticlePassage(_Out):
    id: int
    position: int
    heading: str | None = Field(default=None, description="The section heading in force where it starts.")
    text: str
    sentences: list[str]


class _ArticleFields(_Out):
    """What every article response says about the article itself."""

    id: str
    title: str = Field(description="The title as a reader should see it (\"What is (are) X ?\" -> \"What is X?\": "
                             "search_app/search/titles.py).")
    source_title: str = Field(description="The title exactly as the source wrote it, for provenance.")
    kind: str
    url: str | None
    author: Author
    source: str | None
    attribution: str = Field(description=ATTRIBUTION_DOC)
    page: str | None


class ArticleSummary(_ArticleFields):
    passages: int = Field(description="How many passages the article has.")


class ListFilters(_Out):
    author: str | None
    source: str | None


class ArticleList(_Out):
    total: int = Field(description="How many articles match the filters.")
    offset: int
    limit: int
    next_offset: int | None
    filters: ListFilters
    generation: str
    articles: list[ArticleSummary]


class ArticleDetail(_ArticleFields):
    disclaimer: str | None
    generation: str
    passage_count: int
    passages: list[ArticlePassage] = Field(description="All the article's passages, in order.")
    repairs: list[TextRepair] = Field(default_factory=list, description=REPAIRS_DOC)
    source_text: str | None = Field(default=None, description=SOURCE_TEXT_DOC)


class Health(_Out):
    status: Literal["ok"]


class Ready(_Out):
    status: Literal["ready"]
    generation: str = Field(description="The live index generation.")
    passages: int = Field(description="Passages in that generation.")
    model: str = Field(description="The embedding model the index was built with.")


class ErrorDetail(_Out):
    code: str = Field(description="Machine-readable, e.g. `empty_query`, `invalid_k`, `not_found`, "
                                  "`rate_limited`.")
    message: str = Field(description="A sentence for people.")
    field: str | None = Field(description="The parameter at fault, when there is one.")


class ErrorResponse(_Out):
    error: ErrorDetail


RESPONSE_MODELS = (SearchResponse, PassageDetail, ArticleList, ArticleDetail, Health, Ready, ErrorResponse)
