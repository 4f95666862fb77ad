"""The API's request parameters, as pydantic models that validate every
request; the OpenAPI document (`search_app/api/openapi.py`) is generated from
them, so what is documented is what is checked. The responses' models are in
`search_app/api/schemas.py`.

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
from search_app.search.settings import DEFAULT_SETTINGS, MODES
from search_app.shared_http import ascii_whole_number

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
