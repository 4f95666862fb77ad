"""Whether a result answers the question at all: the readers' page shows
"No good match" instead of unrelated text, and the API says the same
(`good_match`, `no_good_match`), so an app built on it can too.

A hit is a good match when its similarity (cosine of the shown passage to
the query) reaches the threshold measured for the model that embedded the
answering generation: its registry spec's `no_good_match_similarity`
(indexer/embedding/registry.py; how it was measured: docs/quality.md, "No
good match"). A lexical-only hit has no similarity and is taken as good.
"""
from __future__ import annotations

from typing import Iterable

from indexer.embedding.registry import DEFAULT_MODEL, UnknownModel, model_spec
from indexer.index import Generation
from search_app.search.hits import Hit


def no_good_match_similarity(generation: Generation) -> float:
    try:
        return model_spec(generation.model).no_good_match_similarity
    except UnknownModel:  # a model handed in by hand (a test's stand-in): the default model's figure
        return model_spec(DEFAULT_MODEL).no_good_match_similarity


def is_good(hit: Hit, threshold: float) -> bool:
    return hit.similarity is None or hit.similarity >= threshold


def any_good(hits: Iterable[Hit], generation: Generation) -> bool:
    threshold = no_good_match_similarity(generation)
    return any(is_good(hit, threshold) for hit in hits)
