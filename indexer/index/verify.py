"""Deep checks of one generation, beyond what opening it already checks:
run on every new segment before it is published, and by `indexer verify`.
They go through the Segment and Generation API, so they check the index as
readers see it."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from indexer.index.generation import Generation
from indexer.index.segment import Segment

# fp16 or int8 storage decodes to vectors a little off unit length.
NORM_TOLERANCE = {"flat": 1e-3, "fp16": 1e-2, "sq8": 5e-2}


def verify_generation(generation: Generation, segments: Sequence[Segment] | None = None) -> list[str]:
    """Problems found, none if the generation is sound. `segments` limits
    the per-segment checks (checksums, ids, vector norms) to those, e.g.
    the ones a build has just written."""
    segments = generation.segments if segments is None else segments
    problems = generation.verify_checksums(segments)
    if problems:
        return problems  # further checks would only repeat the damage
    for segment in segments:
        problems += _segment_problems(segment)
    if generation.manifest.get("articles") != len(generation.article_hashes()):
        problems.append("article count differs from the manifest")
    return problems


def _segment_problems(segment: Segment) -> list[str]:
    problems = [f"{segment.name}: article {article_id!r} has no passages"
                for article_id in segment.articles_without_passages()]
    problems += [f"{segment.name}: passage {pid} belongs to no article" for pid in segment.passages_without_article()]
    if segment.passage_ids() != list(range(segment.first_passage, segment.first_passage + segment.passage_total)):
        problems.append(f"{segment.name}: passage ids are not the contiguous range its vectors use")
    if segment.article_numbers() != list(range(segment.first_article, segment.first_article + segment.article_total)):
        problems.append(f"{segment.name}: article numbers are not the contiguous range its vectors use")
    if len(segment.lexical_index.lengths) != segment.passage_total:
        problems.append(f"{segment.name}: the lexical index does not cover every passage")
    if np.any(np.diff(segment.passage_articles) < 0):
        problems.append(f"{segment.name}: passages are not grouped by article")
    if segment.passage_total:
        storage = segment.meta["vector_index"].get("storage", "flat")
        tolerance = NORM_TOLERANCE.get(storage, 1e-3)
        for kind, vectors in (("vectors", segment.index.reconstruct_n(0, segment.index.ntotal)),
                              ("stored vectors", segment.stored_vectors(0, segment.passage_total))):
            bad = int(np.sum(np.abs(np.linalg.norm(vectors, axis=1) - 1.0) > tolerance))
            if bad:
                problems.append(f"{segment.name}: {bad} {kind} are not unit length")
    return problems
