"""Reading one published generation: its segments minus the articles deleted
from them, searched and looked up as if they were one index."""
from __future__ import annotations

import bisect
import functools
import json
from collections import Counter
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from indexer.index.errors import IndexCorrupt
from indexer.index.files import read_json
from indexer.index.history import Entry
from indexer.index.layout import (ARTICLE_COLUMNS, FORMAT_VERSION, MANIFEST, PassageRecord, article_from_row,
                                  generation_id, passage_record)
from indexer.index.lexical import BM25_B, BM25_K1, inverse_document_frequencies, top_k
from indexer.index.segment import Segment, open_segment
from indexer.index.vectors import live_selector, search_params
from indexer.models import Article, Page


class Generation:
    """One published, read-only index generation, safe to share across
    threads: its segments minus the articles deleted from them."""

    def __init__(self, path: Path, segments_dir: Path):
        self.path, self.name = path, path.name
        self.manifest = read_json(path / MANIFEST, f"generation {path}")
        if self.manifest.get("format_version") != FORMAT_VERSION:
            raise IndexCorrupt(f"generation {path} has format {self.manifest.get('format_version')!r}, "
                               f"this code reads {FORMAT_VERSION}; rebuild with `python -m indexer build` (or `make index`)")
        try:
            entries = self.manifest["segments"]
            self.segments = [open_segment(segments_dir / e["name"]) for e in entries]
        except (KeyError, TypeError) as err:
            raise IndexCorrupt(f"generation {path}: {MANIFEST} lists its segments wrongly ({err})")
        self.deleted = frozenset(int(n) for n in self.manifest.get("deleted_articles", []))
        self._check_agreement(entries)
        self._first_passages = [s.first_passage for s in self.segments]
        self._first_articles = [s.first_article for s in self.segments]

    def _check_agreement(self, entries: list[dict]) -> None:
        dimension = self.manifest.get("dimension")
        for entry, segment in zip(entries, self.segments):
            if segment.index.d != dimension or segment.passage_total != entry.get("passages") \
                    or segment.meta.get("model") != self.manifest.get("model"):
                raise IndexCorrupt(
                    f"generation {self.path} disagrees with segment {segment.name}: manifest says "
                    f"{entry.get('passages')} passages of dimension {dimension} by {self.manifest.get('model')}, "
                    f"the segment has {segment.passage_total} of dimension {segment.index.d} "
                    f"by {segment.meta.get('model')}")
        ranges = [(s.first_passage, s.first_passage + s.passage_total) for s in self.segments]
        if any(a[1] > b[0] for a, b in zip(ranges, ranges[1:])):
            raise IndexCorrupt(f"generation {self.path}: segments' passage ids overlap")
        live = sum(s.passage_total for s in self.segments) - self.deleted_passage_count
        if live != self.manifest.get("passages"):
            raise IndexCorrupt(f"generation {self.path}: manifest says {self.manifest.get('passages')} "
                               f"passages, its segments hold {live} live ones")

    # ---------------------------------------------------------------- summary
    @property
    def model(self) -> str:
        return self.manifest["model"]

    @property
    def identity(self) -> Entry:
        """Name and id: a server compares this, not the name, with CURRENT,
        because a rebuilt index folder starts again at gen-000001."""
        return Entry(self.name, generation_id(self.manifest))

    @property
    def passage_count(self) -> int:
        return int(self.manifest["passages"])

    @functools.cached_property
    def deleted_passage_count(self) -> int:
        return sum(int(np.count_nonzero(~live)) for live in self._live_masks if live is not None)

    @functools.cached_property
    def _live_masks(self) -> list[np.ndarray | None]:
        """Per segment: which local passages are live (None: all of them)."""
        return [None if article_live is None else article_live[s.passage_articles - s.first_article]
                for s, article_live in zip(self.segments, self._live_article_masks)]

    @functools.cached_property
    def _selectors(self) -> dict[bool, list]:
        """Per segment, for passages (False) and articles (True): a FAISS
        selector skipping deleted entries with the bitmap it reads, or None."""
        return {articles: [None if live is None else live_selector(live) for live in masks]
                for articles, masks in ((False, self._live_masks), (True, self._live_article_masks))}

    @functools.cached_property
    def _live_article_masks(self) -> list[np.ndarray | None]:
        """Per segment: which local article numbers are live (None: all)."""
        deleted = np.fromiter(self.deleted, dtype=np.int64)
        masks = []
        for s in self.segments:
            mask = ~np.isin(np.arange(s.first_article, s.first_article + s.article_total), deleted)
            masks.append(None if mask.all() else mask)
        return masks

    def index_summary(self) -> list[dict]:
        """Per segment: passages, vector index type and its measured recall."""
        return [{"segment": s.name, "passages": s.passage_total, **s.meta["vector_index"]}
                for s in self.segments]

    # ---------------------------------------------------------------- search
    def _segment_number(self, pid: int) -> int | None:
        """Which segment holds passage id `pid` (segments hold ascending ranges)."""
        i = bisect.bisect_right(self._first_passages, pid) - 1
        return i if i >= 0 and pid < self._first_passages[i] + self.segments[i].passage_total else None

    def _segment_of_passage(self, pid: int) -> Segment | None:
        i = self._segment_number(pid)
        return None if i is None else self.segments[i]

    def _segment_of_article(self, num: int) -> Segment | None:
        i = bisect.bisect_right(self._first_articles, num) - 1
        return self.segments[i] if i >= 0 and num < self._first_articles[i] + self.segments[i].article_total \
            else None

    def _merged_search(self, vectors: np.ndarray, k: int, articles: bool):
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.manifest["dimension"])
        found_scores, found_ids = [], []
        masks = self._live_article_masks if articles else self._live_masks
        for segment, live, selector in zip(self.segments, masks, self._selectors[articles]):
            index = segment.article_index if articles else segment.index
            if index.ntotal == 0 or (live is not None and not live.any()):
                continue
            info = segment.meta["article_index" if articles else "vector_index"]
            params = search_params(index, info, selector[0] if selector else None)
            scores, ids = index.search(vectors, max(1, min(k, index.ntotal)), params=params)
            first = segment.first_article if articles else segment.first_passage
            found_scores.append(scores)
            found_ids.append(np.where(ids >= 0, ids + first, -1))
        if not found_scores:
            return np.full((len(vectors), 1), -np.inf, dtype=np.float32), np.full((len(vectors), 1), -1)
        scores, ids = np.hstack(found_scores), np.hstack(found_ids)
        scores = np.where(ids >= 0, scores, -np.inf)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :max(1, k)]
        return np.take_along_axis(scores, order, 1), np.take_along_axis(ids, order, 1)

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Passage (scores, ids), best first, per query row; id -1 = none."""
        return self._merged_search(vectors, k, articles=False)

    def search_articles(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Whole-article vectors; ids are article numbers (see `article_ids`)."""
        return self._merged_search(vectors, k, articles=True)

    def lexical(self, terms: Sequence[str], k: int, *, k1: float = BM25_K1,
                b: float = BM25_B) -> list[tuple[int, float]]:
        """BM25 over stemmed words: (passage id, score), best first, scored
        with the statistics of the whole generation (indexer.index.lexical);
        `k1` and `b` are BM25's term-saturation and length-normalisation knobs."""
        terms = [t for t in dict.fromkeys(terms) if t]
        if not terms or k < 1:
            return []
        rows_total = sum(s.passage_total for s in self.segments)
        average_length = sum(s.token_total for s in self.segments) / max(1, rows_total)
        idf = inverse_document_frequencies(terms, [s.lexical_index for s in self.segments], rows_total)
        if not idf:
            return []
        found: list[tuple[int, float]] = []
        for segment, live in zip(self.segments, self._live_masks):
            scores = segment.lexical_index.scores(idf, average_length, k1=k1, b=b)
            if live is not None:
                scores[~live] = 0.0
            found += [(segment.first_passage + int(i), float(scores[i])) for i in top_k(scores, k)]
        return sorted(found, key=lambda item: (-item[1], item[0]))[:k]

    # ---------------------------------------------------------------- lookups
    @functools.cached_property
    def article_ids(self) -> list[str | None]:
        """Article id by article number (None: deleted or unused number)."""
        ids: list[str | None] = [None] * self.manifest.get("next_article", 0)
        for num, article_id in self._live_article_columns("num", "id"):
            ids[num] = article_id
        return ids

    @functools.cached_property
    def passage_articles(self) -> np.ndarray:
        """Article number of each passage, by passage id (-1: no such passage)."""
        out = np.full(self.manifest.get("next_passage", 0), -1, dtype=np.int64)
        for segment in self.segments:
            out[segment.first_passage:segment.first_passage + segment.passage_total] = segment.passage_articles
        return out

    def passage_range(self, article_num: int) -> tuple[int, int]:
        """Passage ids [start, end) of one article."""
        segment = self._segment_of_article(article_num)
        if segment is None:
            return 0, 0
        local = segment.passage_articles
        start, end = np.searchsorted(local, [article_num, article_num + 1])
        return segment.first_passage + int(start), segment.first_passage + int(end)

    @functools.cached_property
    def vocabulary(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for segment in self.segments:
            counts.update(segment.vocabulary())
        return dict(counts)

    def passage_vectors(self, ids: Sequence[int]) -> np.ndarray:
        """The stored vectors of `ids`, in order. A run of consecutive ids in
        one segment (an article's passages) is read in one call: a search
        reads every passage of the articles on its page."""
        ids = [int(pid) for pid in ids]
        rows: list[np.ndarray] = []
        start = 0
        while start < len(ids):
            segment = self._segment_of_passage(ids[start])
            if segment is None:
                raise KeyError(f"no passage {ids[start]} in generation {self.name}")
            end, last = start + 1, segment.first_passage + segment.passage_total
            while end < len(ids) and ids[end] == ids[end - 1] + 1 and ids[end] < last:
                end += 1
            rows.append(segment.stored_vectors(ids[start] - segment.first_passage, end - start))
            start = end
        return np.vstack(rows) if rows else np.zeros((0, self.manifest["dimension"]), dtype=np.float32)

    def passage_stems(self, ids: Iterable[int]) -> dict[int, str]:
        """Each live passage's distinct word stems, by id, as one string with
        a space before and after every stem (" heart valv leak "), so that
        `" valv " in stems` asks whether the passage has that stem: all a
        search needs to choose which passage of an article to show, without
        reading (or splitting) the passages it will not show."""
        found: dict[int, str] = {}
        articles = self.passage_articles
        for i, pids in self._by_segment(ids).items():
            for pid, text_stems in self.segments[i].passage_stems(pids):
                if int(articles[pid]) not in self.deleted:
                    found[pid] = f" {text_stems} "
        return found

    def _by_segment(self, ids: Iterable[int]) -> dict[int, list[int]]:
        by_segment: dict[int, list[int]] = {}
        for pid in ids:
            i = self._segment_number(int(pid))
            if i is not None:
                by_segment.setdefault(i, []).append(int(pid))
        return by_segment

    def passages(self, ids: Iterable[int]) -> dict[int, PassageRecord]:
        """Live passages by id (unknown or deleted ids are left out)."""
        found = {}
        for i, pids in self._by_segment(ids).items():
            for record in self.segments[i].passage_records(pids):
                if record["article_num"] not in self.deleted:
                    found[record["id"]] = passage_record(record)
        return found

    def article_passages(self, article_id: str) -> list[PassageRecord]:
        for segment in reversed(self.segments):  # the newest version of an article is the live one
            records = segment.article_passage_records(article_id)
            if records and records[0]["article_num"] not in self.deleted:
                return [passage_record(record) for record in records]
        return []

    def _live_article_rows(self, columns: tuple[str, ...]) -> Iterator:
        """Rows (with `num` and `columns`) of the live articles, in article-number order."""
        for segment in self.segments:
            for found in segment.article_rows(("num", *(c for c in columns if c != "num"))):
                if found["num"] not in self.deleted:
                    yield found

    def _live_article_columns(self, *columns: str) -> Iterator[tuple]:
        """`columns` of the live articles as tuples in that order, in
        article-number order: the bulk reads behind the lookups below."""
        for segment in self.segments:
            for found in segment.article_values(("num", *columns)):
                if found[0] not in self.deleted:
                    yield found[1:]

    def _live_article_map(self, key: str, value: str) -> dict:
        return dict(self._live_article_columns(key, value))

    def article_rows(self) -> list[tuple[int, str, str | None, list[str]]]:
        """(num, title, url, synonyms) of every live article."""
        return [(found["num"], found["title"], found["url"], json.loads(found["synonyms"]))
                for found in self._live_article_rows(("title", "url", "synonyms"))]

    def articles(self) -> list[Article]:
        found = [article_from_row(r) for r in self._live_article_rows(ARTICLE_COLUMNS)]
        return sorted(found, key=lambda a: a.id)

    def article_origins(self) -> dict[str, str]:
        """Id -> origin (file, or file:line) of each live article: what an
        editor's command needs to know which file an article came from,
        without reading any article text."""
        return self._live_article_map("id", "origin")

    def article_hashes(self) -> dict[str, str]:
        """Id -> content hash of each live article (a copy: the generation
        never changes, so it is read once)."""
        return dict(self._article_hashes)

    @functools.cached_property
    def _article_hashes(self) -> dict[str, str]:
        return self._live_article_map("id", "content_hash")

    def article_numbers(self) -> dict[str, int]:
        return self._live_article_map("id", "num")

    def passage_counts(self) -> dict[str, int]:
        return self._live_article_map("id", "passages")

    def pages(self) -> list[Page]:
        return list(self.pages_by_id.values())

    @functools.cached_property
    def pages_by_id(self) -> dict[str, Page]:
        """The generation's pages by id, read once: every response that
        attributes a passage looks its page up."""
        return {p["id"]: Page(id=p["id"], title=p["title"], url=p.get("url"), disclaimer=p.get("disclaimer"),
                              origin=p.get("origin", "")) for p in self.manifest.get("pages", [])}

    def counts_by_source(self) -> dict[str, int]:
        counts = Counter(found["source"] or "" for found in self._live_article_rows(("source",)))
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    def repair_counts(self) -> tuple[int, int, dict[str, int]]:
        """What the import repaired (indexer.repair) in the live articles:
        how many have a repair, how many had their text changed, and the
        repairs by kind (most first)."""
        repaired = changed = 0
        kinds: Counter[str] = Counter()
        for found in self._live_article_rows(("original_text", "repairs")):
            found_kinds = [r["kind"] for r in json.loads(found["repairs"])]
            kinds.update(found_kinds)
            repaired += bool(found_kinds)
            changed += found["original_text"] is not None
        return repaired, changed, dict(sorted(kinds.items(), key=lambda item: (-item[1], item[0])))

    def live_passages(self) -> Iterator[tuple[Segment, np.ndarray]]:
        """(segment, live local ids) for each segment."""
        for segment, live in zip(self.segments, self._live_masks):
            yield segment, (np.arange(segment.passage_total) if live is None else np.flatnonzero(live))

    def vectors(self) -> np.ndarray:
        """All live passage vectors, in passage-id order (float16-rounded where quantised)."""
        parts = [segment.stored_vectors(0, segment.passage_total)[local] for segment, local in self.live_passages()]
        return np.vstack(parts) if parts else np.zeros((0, self.manifest["dimension"]), dtype=np.float32)

    # ---------------------------------------------------------------- checks
    def missing_files(self) -> list[Path]:
        """Files of this generation no longer on disk (its folder deleted or
        moved while it is served): readiness must then say not ready, since
        what is not yet read into memory can no longer be."""
        files = [self.path / MANIFEST, *(path for segment in self.segments for path in segment.files())]
        return [path for path in files if not path.exists()]

    def verify_checksums(self, segments: Sequence[Segment] | None = None) -> list[str]:
        problems = []
        for segment in self.segments if segments is None else segments:
            problems += segment.verify_checksums()
        return problems

    def close(self) -> None:
        """Let go of the segments (each closes once no generation uses it)."""
        self.segments = []
        for name in ("_live_masks", "_live_article_masks", "_selectors"):
            self.__dict__.pop(name, None)
