"""Deep checks of one generation, beyond what opening it already checks."""
from __future__ import annotations

import numpy as np

from indexer.store import Generation


def verify_generation(generation: Generation) -> list[str]:
    problems = generation.verify_checksums()
    if problems:
        return problems  # further checks would only repeat the damage
    rows = generation._query(
        "SELECT a.id FROM articles a LEFT JOIN passages p ON p.article_id = a.id "
        "WHERE p.id IS NULL")
    problems += [f"article {r[0]!r} has no passages" for r in rows]
    rows = generation._query(
        "SELECT p.id FROM passages p LEFT JOIN articles a ON a.id = p.article_id WHERE a.id IS NULL")
    problems += [f"passage {r[0]} belongs to no article" for r in rows]
    ids = [r[0] for r in generation._query("SELECT id FROM passages ORDER BY id")]
    if ids != list(range(len(ids))):
        problems.append("passage ids are not the contiguous vector ids 0..n-1")
    if generation.passage_count:
        norms = np.linalg.norm(generation.vectors(), axis=1)
        bad = int(np.sum(np.abs(norms - 1.0) > 1e-3))
        if bad:
            problems.append(f"{bad} vectors are not unit length")
    if generation.manifest.get("articles") != len(generation.article_hashes()):
        problems.append("article count differs from the manifest")
    return problems
