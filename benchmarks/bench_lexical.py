"""Lexical search at scale: SQLite FTS5 against bm25s.

Why: HeartSearch's lexical retriever was BM25 in SQLite FTS5, inside each
index generation. bm25s, a BM25 library built on sparse matrices, is often
said to be much faster. This measured both on the same passages, the same
words and the same queries, and is why the project moved (2026-11-29) to
its own numpy postings per segment (indexer/index/lexical.py: bm25s's way
of scoring, FTS5's exact formula, incremental through segments), which
benchmarks/bench_search.py measures. The FTS5 side here is the table and
query the project used until then.

What is compared
  passages  the real ones: the 954 NIH articles of medquad-heart.jsonl cut by
            indexer.chunking.chunk_article (~6.3k). 1k = the first 1,000 of
            them; larger sizes add copies of the real passages in which ~10%
            of the words are dropped at random (so copies are similar, not
            identical, and scores do not tie).
  words     both engines get the same tokens: indexer.text.stems (Snowball
            stems, no stop words) of the passage's embedded text, plus the
            stems of its article's topic synonyms.
              fts5       the project's table (`body` and `synonyms` columns,
                         as in indexer.index.SCHEMA) and the project's query
                         (Generation.lexical on a one-segment generation:
                         bm25 with column weights 1.0 / 0.5).
              bm25s      one field: body + synonym stems. method "robertson",
                         k1 = 1.2, b = 0.75: the BM25 formula FTS5 uses (one
                         difference: a term in over half the passages gets
                         idf 0 in bm25s, 1e-6 in FTS5).
            Quality is also given with the synonyms left out on both sides
            ("body only"): there the two engines compute the same scores, so
            any difference left is the engine, not the fields.
  queries   the 100 dev queries (../shared/eval/dev-queries.jsonl), turned
            into the terms the searcher sends: search_app.search.query.plan_query
            with spelling correction and the glossary (`lexical_terms`).
            top-k = 100, one query at a time (as a request does).

Measured per size
  build     FTS5: create the table and insert every passage (one SQLite file,
            journal off, as the indexer writes a generation).
            bm25s: `index()`, then `save()` to disk (an index must persist).
  query     median and p99 latency over the dev queries (several rounds):
              fts5                Generation.lexical's SQL
              bm25s retrieve      BM25.retrieve(k=100), the documented way
              bm25s get_scores    BM25.get_scores, then np.argpartition(-scores, k)
            The known bm25s trap: `retrieve` spends most of its time picking
            the top k out of an array of (mostly zero) scores for every
            passage; scoring, then one argpartition, avoids its overhead.
  update    FTS5: delete one article's passages, and insert them again
            (median over several articles). bm25s cannot update an index:
            an update is a full rebuild (its build + save time).
  quality   at the real size only: MRR@10 and Recall@10 at article level
            (passages → their article, first occurrence; pytrec_eval via
            search_app.evaluation.metrics), each engine's top 100 passages.

Run in the benchmark venv (bm25s is not a project requirement):

    bash benchmarks/peer_env.sh
    PYTHONPATH=. benchmarks/.venv-peer/bin/python benchmarks/bench_lexical.py [--quick]

prints a table and writes benchmarks/results/lexical.json (git-ignored).
Skips with a message when ../shared is absent.
"""
from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.common import DEV_QUERIES, MEDQUAD, RESULTS_DIR, library_versions, machine_facts, write_json  # noqa: E402

RESULTS = RESULTS_DIR / "lexical.json"
SIZES = (1_000, 10_000, 100_000)
TOP_K = 100
DROP_IN_COPIES = 0.10   # share of words dropped from each copied passage
UPDATE_ARTICLES = 20    # articles deleted and re-inserted to time FTS5 updates


# ------------------------------------------------------------------ passages

@dataclass(frozen=True)
class Doc:
    """One passage as the lexical index sees it: already stemmed."""
    article_id: str
    body: tuple[str, ...]       # stems of the passage's embedded text
    synonyms: tuple[str, ...]   # stems of its article's topic synonyms


def real_docs(corpus_path: Path = MEDQUAD) -> tuple[list[Doc], list, float]:
    """The real passages, stemmed as the indexer stems them; also the
    articles and the seconds chunking and stemming took (the same work for
    both engines, so not part of either's build time)."""
    from indexer.chunking import chunk_article
    from indexer.sources import load_corpus
    from indexer.text import stems
    articles = load_corpus([corpus_path]).articles
    started = time.perf_counter()
    docs = []
    for article in articles:
        synonyms = tuple(stems(" ; ".join(article.synonyms)))
        for passage in chunk_article(article):
            docs.append(Doc(article.id, tuple(stems(passage.embed_text)), synonyms))
    return docs, articles, time.perf_counter() - started


def varied_copy(doc: Doc, copy: int, rng: random.Random) -> Doc:
    """A near-duplicate: about DROP_IN_COPIES of the body's words left out."""
    kept = tuple(w for w in doc.body if rng.random() >= DROP_IN_COPIES) or doc.body
    return Doc(f"{doc.article_id}-copy{copy}", kept, doc.synonyms)


def docs_of_size(real: list[Doc], size: int) -> list[Doc]:
    """`size` passages: the first real ones, then varied copies of them all."""
    if size <= len(real):
        return real[:size]
    rng = random.Random(size)
    docs, copy = list(real), 1
    while len(docs) < size:
        docs.extend(varied_copy(d, copy, rng) for d in real[:size - len(docs)])
        copy += 1
    return docs


def passages_by_article(docs: list[Doc]) -> dict[str, list[int]]:
    """Passage ids (positions) of each article."""
    ids: dict[str, list[int]] = {}
    for i, doc in enumerate(docs):
        ids.setdefault(doc.article_id, []).append(i)
    return ids


# ------------------------------------------------------------------ queries

def dev_query_terms(articles, queries) -> list[list[str]]:
    """What the searcher would send to the lexical index for each query:
    plan_query's lexical_terms, with the project's spelling corrector (built
    on the corpus vocabulary, as a generation stores it) and glossary."""
    from indexer.text import words
    from search_app.search.glossary import Glossary
    from search_app.search.query import plan_query
    from search_app.search.spelling import SpellingCorrector, load_english_words
    vocabulary: dict[str, int] = {}
    for a in articles:
        for word in words(f"{a.title} {a.text} {' '.join(a.synonyms)}"):
            vocabulary[word] = vocabulary.get(word, 0) + 1
    glossary = Glossary.load()
    speller = SpellingCorrector(vocabulary, glossary.lay_words, load_english_words())
    return [plan_query(q.query, speller=speller, glossary=glossary).lexical_terms for q in queries]


# ------------------------------------------------------------------ FTS5

# The project's lexical table and query, as indexer/index/layout.py has them (SCHEMA
# and Generation.lexical, one segment): keep these two in step with it.
FTS_TABLE = "CREATE VIRTUAL TABLE passages_fts USING fts5(body, synonyms, tokenize='unicode61')"
FTS_QUERY = ("SELECT rowid, -bm25(passages_fts, 1.0, 0.5) FROM passages_fts "
             "WHERE passages_fts MATCH ? ORDER BY bm25(passages_fts, 1.0, 0.5) LIMIT ?")


def check_in_step_with_store() -> list[str]:
    """Warnings if indexer/index/layout.py no longer has the table or query above."""
    source = (ROOT / "indexer" / "index" / "layout.py").read_text("utf-8")
    return [f"warning: indexer/index/layout.py no longer contains {what}; update bench_lexical.py"
            for what, text in (("FTS_TABLE", FTS_TABLE), ("FTS_QUERY", FTS_QUERY.split(" FROM ")[0]))
            if text not in source]


def match_expression(terms: list[str]) -> str:
    """Generation.lexical's MATCH: the distinct terms, each quoted, ORed."""
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in dict.fromkeys(terms) if t)


class FtsIndex:
    """The project's lexical table in an SQLite file of its own."""

    def __init__(self, path: Path):
        self.path = path
        self._db = sqlite3.connect(path)

    def lexical(self, terms: list[str], k: int) -> list[tuple[int, float]]:
        """(passage id, score), best first: Generation.lexical's query."""
        match = match_expression(terms)
        return self._db.execute(FTS_QUERY, (match, k)).fetchall() if match else []

    def count_matches(self, terms: list[str]) -> int:
        """How many passages contain at least one of `terms`."""
        match = match_expression(terms)
        if not match:
            return 0
        return self._db.execute("SELECT count(*) FROM passages_fts WHERE passages_fts MATCH ?", (match,)).fetchone()[0]

    def insert(self, rows: list[tuple[int, str, str]]) -> None:
        self._db.executemany("INSERT INTO passages_fts(rowid, body, synonyms) VALUES (?,?,?)", rows)
        self._db.commit()

    def delete(self, ids: list[int]) -> None:
        self._db.execute(f"DELETE FROM passages_fts WHERE rowid IN ({','.join('?' * len(ids))})", ids)
        self._db.commit()

    def close(self) -> None:
        self._db.close()


def fts_rows(docs: list[Doc], ids, with_synonyms: bool = True) -> list[tuple[int, str, str]]:
    return [(i, " ".join(docs[i].body), " ".join(docs[i].synonyms) if with_synonyms else "") for i in ids]


def build_fts(docs: list[Doc], path: Path, with_synonyms: bool = True) -> tuple[FtsIndex, float]:
    """Write the table as the indexer writes a generation; seconds taken."""
    rows = fts_rows(docs, range(len(docs)), with_synonyms)
    started = time.perf_counter()
    db = sqlite3.connect(path)
    db.executescript(f"PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; {FTS_TABLE};")
    db.executemany("INSERT INTO passages_fts(rowid, body, synonyms) VALUES (?,?,?)", rows)
    db.commit()
    db.close()
    seconds = time.perf_counter() - started
    index = FtsIndex(path)
    index._db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;")
    return index, seconds


def fts_search(index: FtsIndex, terms: list[str], k: int = TOP_K) -> list[int]:
    return [pid for pid, _score in index.lexical(terms, k)]


def time_fts_updates(index: FtsIndex, docs: list[Doc], count: int) -> dict:
    """Delete one article's passages, then insert them again, for `count`
    articles spread over the index: median milliseconds of each."""
    by_article = list(passages_by_article(docs).values())
    step = max(1, len(by_article) // count)
    deletes, inserts = [], []
    for ids in by_article[::step][:count]:
        rows = fts_rows(docs, ids)
        started = time.perf_counter()
        index.delete(ids)
        deletes.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        index.insert(rows)
        inserts.append((time.perf_counter() - started) * 1000)
    return {"articles": len(deletes), "delete_ms_median": round(statistics.median(deletes), 2),
            "insert_ms_median": round(statistics.median(inserts), 2),
            "passages_per_article_median": statistics.median(len(ids) for ids in by_article[::step][:count])}


# ------------------------------------------------------------------ bm25s

def build_bm25s(docs: list[Doc], folder: Path, with_synonyms: bool = True):
    """`index()` then `save()`; (retriever, index seconds, save seconds)."""
    import bm25s
    tokens = [list(d.body + d.synonyms) if with_synonyms else list(d.body) for d in docs]
    started = time.perf_counter()
    retriever = bm25s.BM25(k1=1.2, b=0.75, method="robertson")
    retriever.index(tokens, show_progress=False)
    indexed = time.perf_counter()
    retriever.save(str(folder))
    return retriever, indexed - started, time.perf_counter() - indexed


def bm25s_retrieve(retriever, terms: list[str], k: int = TOP_K) -> list[int]:
    """The documented way: BM25.retrieve."""
    ids, scores = retriever.retrieve([terms], k=k, show_progress=False, n_threads=0)
    return [int(i) for i, s in zip(ids[0], scores[0]) if s > 0]


def bm25s_scores_topk(retriever, terms: list[str], k: int = TOP_K) -> list[int]:
    """Score every passage, then one argpartition for the top k."""
    known = [t for t in terms if t in retriever.vocab_dict]
    if not known:
        return []
    scores = retriever.get_scores(known)
    top = np.argpartition(-scores, k)[:k] if len(scores) > k else np.arange(len(scores))
    top = top[np.argsort(-scores[top], kind="stable")]
    return [int(i) for i in top if scores[i] > 0]


# ------------------------------------------------------------------ measuring

def latencies_ms(search, queries: list[list[str]], rounds: int) -> dict:
    """Median and p99 of one search per query, over `rounds` passes (the
    first query of the first pass warms up and is not counted)."""
    search(queries[0])
    times = []
    for _ in range(rounds):
        for terms in queries:
            started = time.perf_counter()
            search(terms)
            times.append((time.perf_counter() - started) * 1000)
    return {"p50": round(float(np.percentile(times, 50)), 3), "p99": round(float(np.percentile(times, 99)), 3),
            "searches": len(times)}


def matching_passages(index: FtsIndex, queries: list[list[str]]) -> int:
    """Median number of passages containing at least one query term: FTS5
    computes bm25() for every one of them before it can sort."""
    return int(statistics.median(index.count_matches(terms) for terms in queries))


def folder_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def bench_size(real: list[Doc], size: int, queries: list[list[str]], rounds: int, workdir: Path,
               log=print) -> dict:
    docs = docs_of_size(real, size)
    fts, fts_seconds = build_fts(docs, workdir / f"fts-{size}.sqlite")
    retriever, bm_index_s, bm_save_s = build_bm25s(docs, workdir / f"bm25s-{size}")
    log(f"  {size:>7} passages: built (fts5 {fts_seconds:.2f}s, bm25s {bm_index_s + bm_save_s:.2f}s); timing queries")
    result = {
        "passages": len(docs),
        "matching_passages_median": matching_passages(fts, queries),
        "build_s": {"fts5": round(fts_seconds, 3), "bm25s_index": round(bm_index_s, 3),
                    "bm25s_save": round(bm_save_s, 3), "bm25s": round(bm_index_s + bm_save_s, 3)},
        "bytes_on_disk": {"fts5": folder_bytes(fts.path), "bm25s": folder_bytes(workdir / f"bm25s-{size}")},
        "query_ms": {
            "fts5": latencies_ms(lambda t: fts_search(fts, t), queries, rounds),
            "bm25s_retrieve": latencies_ms(lambda t: bm25s_retrieve(retriever, t), queries, rounds),
            "bm25s_get_scores": latencies_ms(lambda t: bm25s_scores_topk(retriever, t), queries, rounds),
        },
    }
    result["update"] = {"fts5": time_fts_updates(fts, docs, UPDATE_ARTICLES),
                        "bm25s_full_rebuild_s": result["build_s"]["bm25s"]}
    fts.close()
    return result


def article_ranking(passage_ids: list[int], docs: list[Doc]) -> list[str]:
    return list(dict.fromkeys(docs[i].article_id for i in passage_ids))


def quality(real: list[Doc], queries, terms: list[list[str]], workdir: Path) -> dict:
    """MRR@10 and Recall@10 (article level) of each engine on the real passages."""
    from search_app.evaluation.metrics import mean_metrics, score_runs
    engines = {}
    for fields, with_synonyms in (("body+synonyms", True), ("body only", False)):
        fts, _ = build_fts(real, workdir / f"quality-{with_synonyms}.sqlite", with_synonyms)
        retriever, _, _ = build_bm25s(real, workdir / f"quality-bm25s-{with_synonyms}", with_synonyms)
        engines[("fts5", fields)] = lambda t, fts=fts: fts_search(fts, t)
        engines[("bm25s retrieve", fields)] = lambda t, r=retriever: bm25s_retrieve(r, t)
        engines[("bm25s get_scores", fields)] = lambda t, r=retriever: bm25s_scores_topk(r, t)
    rows = []
    for (engine, fields), search in engines.items():
        runs = {q.qid: article_ranking(search(t), real) for q, t in zip(queries, terms)}
        means = mean_metrics(score_runs(queries, runs), [q.qid for q in queries])
        rows.append({"engine": engine, "fields": fields, "MRR@10": round(means["MRR@10"], 4),
                     "R@10": round(means["R@10"], 4), "R@50": round(means["R@50"], 4)})
    return {"passages": len(real), "queries": len(queries), "rows": rows}


# ------------------------------------------------------------------ report

def machine() -> dict:
    """The shared machine facts, plus this benchmark's own libraries."""
    facts = machine_facts()
    facts["libraries"].update(library_versions(("bm25s", "numpy")))
    return facts


def format_tables(report: dict) -> str:
    lines = ["build and query (top-k = 100; ms per query, median / p99)", "",
             f"{'passages':>9} | {'matching':>8} | {'build fts5':>10} | {'build bm25s':>11} | {'fts5':>15} | "
             f"{'bm25s retrieve':>15} | {'bm25s get_scores':>16} | {'fts5 del/ins ms':>15} | {'MB fts5/bm25s':>13}",
             "-" * 135]
    for r in report["sizes"]:
        q, u = r["query_ms"], r["update"]["fts5"]
        cell = lambda m: f"{m['p50']:.2f} / {m['p99']:.2f}"  # noqa: E731
        lines.append(f"{r['passages']:>9} | {r['matching_passages_median']:>8} | "
                     f"{r['build_s']['fts5']:>9.2f}s | {r['build_s']['bm25s']:>10.2f}s | "
                     f"{cell(q['fts5']):>15} | {cell(q['bm25s_retrieve']):>15} | {cell(q['bm25s_get_scores']):>16} | "
                     f"{u['delete_ms_median']:>6.1f} / {u['insert_ms_median']:<6.1f} | "
                     f"{r['bytes_on_disk']['fts5'] / 1e6:>5.1f} / {r['bytes_on_disk']['bm25s'] / 1e6:<5.1f}")
    lines += ["", "matching: median passages containing a query term (FTS5 scores each of them).",
              "bm25s has no update: changing one article = rebuilding (build bm25s column above).",
              "", f"quality at article level, {report['quality']['passages']} real passages, "
                  f"{report['quality']['queries']} dev queries", "",
              f"{'engine':<18} {'fields':<14} {'MRR@10':>7} {'R@10':>7} {'R@50':>7}", "-" * 57]
    for row in report["quality"]["rows"]:
        lines.append(f"{row['engine']:<18} {row['fields']:<14} {row['MRR@10']:>7.3f} {row['R@10']:>7.3f} "
                     f"{row['R@50']:>7.3f}")
    lines += ["", "recommendation: " + report["recommendation"]]
    return "\n".join(lines)


def recommend(report: dict) -> str:
    """Switch only if bm25s is clearly faster at the largest size (2x at the
    median) without losing quality (MRR@10 within 0.01) — FTS5 also updates
    in place and lives in the generation's one SQLite file."""
    largest = report["sizes"][-1]
    fts_ms = largest["query_ms"]["fts5"]["p50"]
    fast_ms = largest["query_ms"]["bm25s_get_scores"]["p50"]
    slow_ms = largest["query_ms"]["bm25s_retrieve"]["p50"]
    mrr = {(r["engine"], r["fields"]): r["MRR@10"] for r in report["quality"]["rows"]}
    delta = mrr[("bm25s get_scores", "body+synonyms")] - mrr[("fts5", "body+synonyms")]
    facts = (f"at {largest['passages']:,} passages FTS5 answers in {fts_ms:.2f} ms (median), bm25s in "
             f"{fast_ms:.2f} ms via get_scores+argpartition and {slow_ms:.2f} ms via retrieve; "
             f"build {largest['build_s']['fts5']:.1f} s vs {largest['build_s']['bm25s']:.1f} s; "
             f"MRR@10 bm25s - FTS5 = {delta:+.3f}.")
    if fast_ms * 2 <= fts_ms and delta >= -0.01:
        return "switch to bm25s (get_scores + argpartition, never retrieve): " + facts
    return "keep FTS5: " + facts


def run(sizes, rounds: int, workdir: Path, log=print) -> dict:
    from search_app.evaluation.metrics import load_queries
    for warning in check_in_step_with_store():
        log(warning)
    queries = load_queries(DEV_QUERIES)
    real, articles, stem_seconds = real_docs()
    terms = dev_query_terms(articles, queries)
    log(f"{len(articles)} articles, {len(real)} real passages (chunked and stemmed in {stem_seconds:.1f}s), "
        f"{len(queries)} dev queries; load average {os.getloadavg()[0]:.1f}")
    report = {"machine": machine(),
              "settings": {"top_k": TOP_K, "rounds": rounds, "drop_in_copies": DROP_IN_COPIES,
                           "bm25": "k1=1.2 b=0.75 (FTS5's); bm25s method robertson",
                           "fts5_weights": "body 1.0, synonyms 0.5 (Generation.lexical)"},
              "real_passages": len(real), "chunk_and_stem_s": round(stem_seconds, 2),
              "quality": quality(real, queries, terms, workdir),
              "sizes": [bench_size(real, size, terms, rounds, workdir, log) for size in sizes]}
    report["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    report["recommendation"] = recommend(report)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="See the module docstring for what exactly is measured.")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="passage counts, comma-separated (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the dev queries per timing")
    parser.add_argument("--quick", action="store_true", help="smoke run: sizes 1000,10000 and one round")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write the results")
    args = parser.parse_args(argv)
    if not (MEDQUAD.exists() and DEV_QUERIES.exists()):
        print(f"skipped: needs {MEDQUAD} and {DEV_QUERIES} (../shared is not here)")
        return 0
    try:
        import bm25s  # noqa: F401
    except ImportError:
        print("bm25s is not installed here: run `bash benchmarks/peer_env.sh` and use "
              "benchmarks/.venv-peer/bin/python", file=sys.stderr)
        return 2
    sizes = (1_000, 10_000) if args.quick else tuple(int(s) for s in args.sizes.split(","))
    rounds = 1 if args.quick else args.rounds
    with tempfile.TemporaryDirectory(prefix="bench-lexical-") as tmp:
        report = run(sizes, rounds, Path(tmp))
    print()
    print(format_tables(report))
    write_json(args.json, report)
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
