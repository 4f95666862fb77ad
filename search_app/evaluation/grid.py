"""The grid the ranking knobs are cross-validated over, per mode.

These are the RankingSettings fields docs/quality.md says were tuned on the
dev queries: the fusion constant and the retrievers' weights. Each mode
varies only the knobs that can change its ranking: lexical alone has one
list, so fusion cannot reorder it, and the dense modes have no BM25 list to
weigh. Left out on purpose: `word_match_bonus` (it chooses which passage of
an article is shown, never which articles rank), `prefer_asked_need` and the
glossary (judged as components, search_app/evaluation/components.py),
`candidates` and BM25's k1 and b (defaults, never tuned).
The shipped value of every knob is on the grid, so the shipped settings
are one of the candidates.
"""
from __future__ import annotations

import dataclasses
import itertools

from search_app.search.settings import RankingSettings

GRID: dict[str, tuple[float, ...]] = {
    "rrf_k": (5.0, 10.0, 20.0, 60.0),
    "weight_lexical": (0.5, 1.0, 2.0),
    "weight_dense_articles": (0.5, 1.0, 2.0),
    "weight_expanded": (0.5, 1.0, 2.0),
}

MODE_KNOBS: dict[str, tuple[str, ...]] = {
    "hybrid": ("rrf_k", "weight_lexical", "weight_dense_articles", "weight_expanded"),
    "dense": ("rrf_k", "weight_dense_articles", "weight_expanded"),
    "lexical": (),
}

Point = tuple[tuple[str, float], ...]  # ((knob, value), ...): hashable, readable


def grid_points(mode: str, shipped: RankingSettings, grid: dict[str, tuple[float, ...]] = GRID) -> list[Point]:
    """Every combination of the mode's knobs; the shipped point first, so
    ties on the train folds go to it. A shipped value missing from the grid
    is added, so the shipped settings are always a candidate."""
    knobs = MODE_KNOBS[mode]
    values = [sorted(set(grid[k]) | {float(getattr(shipped, k))}) for k in knobs]
    points = [tuple(zip(knobs, combo)) for combo in itertools.product(*values)]
    first = shipped_point(mode, shipped)
    return [first] + [p for p in points if p != first]


def shipped_point(mode: str, shipped: RankingSettings) -> Point:
    return tuple((k, float(getattr(shipped, k))) for k in MODE_KNOBS[mode])


def settings_at(point: Point, shipped: RankingSettings) -> RankingSettings:
    return dataclasses.replace(shipped, **dict(point))


def describe(point: Point) -> str:
    """"rrf_k=10 weight_lexical=1" (shipped-only modes: "(no knob)")."""
    return " ".join(f"{k}={v:g}" for k, v in point) or "(no knob)"
