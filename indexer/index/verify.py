"""Deep checks of one generation, beyond what opening it already checks."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from indexer.index import Generation, Segment

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
    problems = []
    rows = segment.query("SELECT a.id FROM articles a LEFT JOIN passages p ON p.article_id = a.id "
                         "WHERE p.id IS NULL")
    problems += [f"{segment.name}: article {r[0]!r} has no passages" for r in rows]
    rows = segment.query("SELECT p.id FROM passages p LEFT JOIN articles a ON a.id = p.article_id "
                         "WHERE a.id IS NULL")
    problems += [f"{segment.name}: passage {r[0]} belongs to no article" for r in rows]
    ids = [r[0] for r in segment.query("SELECT id FROM passages ORDER BY id")]
    if ids != list(range(segment.first_passage, segment.first_passage + segment.passage_total)):
        problems.append(f"{segment.name}: passage ids are not the contiguous range its vectors use")
    nums = [r[0] for r in segment.query("SELECT num FROM articles ORDER BY num")]
    if nums != list(range(segment.first_article, segment.first_article + segment.article_total)):
        problems.append(f"{segment.name}: article numbers are not the contiguous range its vectors use")
    if len(segment.lexical_index.lengths) != segment.passage_total:
        problems.append(f"{segment.name}: the lexical index does not cover every passage")
    if np.any(np.diff(segment.passage_articles) < 0):
        problems.append(f"{segment.name}: passages are not grouped by article")
    if segment.passage_total:
        storage = segment.meta["vector_index"].get("storage", "flat")
        norms = np.linalg.norm(segment.index.reconstruct_n(0, segment.index.ntotal), axis=1)
        bad = int(np.sum(np.abs(norms - 1.0) > NORM_TOLERANCE.get(storage, 1e-3)))
        if bad:
            problems.append(f"{segment.name}: {bad} vectors are not unit length")
    return problems
