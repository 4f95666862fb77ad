"""Segmented generations: an edit writes one small segment and reuses the
rest; deleted passages never come back; merging keeps the segment count
bounded; an approximate (IVF) segment measures its own recall."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from indexer.build import publish_articles
from indexer.cli import main
from indexer.models import Article
from indexer.index import MAX_SEGMENTS, IndexStore
from indexer.text import stems
from tests.conftest import MEDQUAD, PROJECT_ROOT, require_shared


def publish(store: IndexStore, articles, pages, embedder, **kwargs):
    with store.lock():
        return publish_articles(store, articles, pages, embedder, **kwargs)


def article(n: int, text: str | None = None) -> Article:
    return Article(id=f"extra-{n}", title=f"Extra article {n}",
                   text=text or f"Extra article number {n} about the pulmonary valve and its leaflets.")


def test_an_edit_writes_one_small_segment_and_reuses_the_rest(writable_index, seed_corpus, embedder):
    store = IndexStore(writable_index)
    before = store.open_current()
    (base,) = before.manifest["segments"]
    old_ids = list(range(*before.passage_range(before.article_numbers()["mr-answer-1"])))
    old_text = before.passages(old_ids)[old_ids[0]].text
    edited = replace(next(a for a in seed_corpus.articles if a.id == "mr-answer-1"),
                     text="Edited: the mitral valve lets blood leak backwards into the atrium.")
    articles = [edited if a.id == edited.id else a for a in seed_corpus.articles]

    report = publish(store, articles, seed_corpus.pages, embedder)

    live = store.open_current()
    names = [s["name"] for s in live.manifest["segments"]]
    assert names[0] == base["name"] and len(names) == 2, "the old segment is reused, one is added"
    # Its one passage (and its article vector, here the same text) were all the model saw.
    assert live.segments[1].passage_total == 1 and report.embedded == 1
    assert live.manifest["deleted_articles"] == [before.article_numbers()["mr-answer-1"]]
    assert live.passage_count == before.passage_count - len(old_ids) + 1
    assert live.passages(old_ids) == {}, "the old version's passages are gone"
    assert [r.text for r in live.article_passages("mr-answer-1")] == [edited.text]
    # Neither retriever can reach the old version any more.
    old_vectors = before.passage_vectors(old_ids)
    _, found = live.search(old_vectors, 50)
    assert not set(found.ravel()) & set(old_ids)
    hits = live.lexical(stems(old_text), 500)
    assert not {pid for pid, _ in hits} & set(old_ids)
    assert main(["verify", "--index-dir", str(writable_index)]) == 0


def test_lexical_scores_across_segments_equal_one_segment_scores(writable_index, seed_corpus, embedder):
    """BM25 statistics are summed over segments: adding articles in separate
    segments ranks exactly like one full build."""
    store = IndexStore(writable_index)
    extras = [article(n) for n in range(3)]
    for n in range(1, 4):
        publish(store, seed_corpus.articles + extras[:n], seed_corpus.pages, embedder)
    segmented = store.open_current()
    assert len(segmented.segments) == 4 and not segmented.deleted

    full_store = IndexStore(writable_index.parent / "full", cache_path=store.cache_path)
    publish(full_store, seed_corpus.articles + extras, seed_corpus.pages, embedder)
    full = full_store.open_current()
    assert len(full.segments) == 1

    for query in ("mitral valve leak", "pulmonary valve leaflets", "kidney dialysis risk", "surgery"):
        def by_article(generation):
            articles = generation.passage_articles
            ids = generation.article_ids
            return [(ids[articles[pid]], round(score, 6)) for pid, score in generation.lexical(stems(query), 100)]
        got, want = by_article(segmented), by_article(full)
        assert sorted(got, key=lambda x: (-x[1], x[0])) == sorted(want, key=lambda x: (-x[1], x[0])), query


def test_lexical_scores_are_sqlite_fts5_bm25_scores(seed_index_dir):
    """The numpy BM25 computes exactly what SQLite's FTS5 bm25() does over
    the same stemmed words (body weight 1.0, synonyms 0.5)."""
    import sqlite3
    generation = IndexStore(seed_index_dir).open_current()
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE fts USING fts5(body, synonyms)")
    synonyms = {a.id: " ".join(stems(" ; ".join(a.synonyms))) for a in generation.articles()}
    for segment in generation.segments:
        for pid, article_id, embed_text in segment.query("SELECT id, article_id, embed_text FROM passages"):
            db.execute("INSERT INTO fts(rowid, body, synonyms) VALUES (?,?,?)",
                       (pid, " ".join(stems(embed_text)), synonyms[article_id]))
    for query in ("mitral valve leak", "kidney dialysis", "heart surgery repair", "drug free treatment"):
        terms = stems(query)
        match = " OR ".join(f'"{t}"' for t in terms)
        expected = db.execute("SELECT rowid, -bm25(fts, 1.0, 0.5) FROM fts WHERE fts MATCH ? "
                              "ORDER BY bm25(fts, 1.0, 0.5), rowid LIMIT 100", (match,)).fetchall()
        got = generation.lexical(terms, 100)
        assert len(got) == len(expected) > 0, query
        assert dict(got) == pytest.approx(dict(expected), rel=1e-9, abs=1e-9), query


def test_removing_an_article_removes_it_everywhere(writable_index, seed_corpus, embedder):
    store = IndexStore(writable_index)
    kept = [a for a in seed_corpus.articles if a.id != "mr-related-dialysis-risk"]
    publish(store, kept, seed_corpus.pages, embedder)
    live = store.open_current()
    assert "mr-related-dialysis-risk" not in live.article_hashes()
    assert live.article_passages("mr-related-dialysis-risk") == []
    assert "mr-related-dialysis-risk" not in {a.id for a in live.articles()}
    hits = live.lexical(stems("National Kidney Foundation dialysis"), 100)
    assert all(live.article_ids[live.passage_articles[pid]] != "mr-related-dialysis-risk" for pid, _ in hits)


def test_merging_keeps_the_segment_count_bounded(writable_index, seed_corpus, embedder):
    store = IndexStore(writable_index)
    articles = list(seed_corpus.articles)
    for n in range(MAX_SEGMENTS + 3):
        articles.append(article(n))
        report = publish(store, articles, seed_corpus.pages, embedder)
        assert len(store.open_current().segments) <= MAX_SEGMENTS, report.summary()
    live = store.open_current()
    assert {a.id for a in live.articles()} == {a.id for a in articles}
    assert live.article_hashes() == {a.id: a.content_hash() for a in articles}
    assert main(["verify", "--index-dir", str(writable_index)]) == 0
    # Segments no kept generation names are gone from disk.
    referenced = {e["name"] for g in store.generation_names()
                  for e in json.loads((store.generations_dir / g / "manifest.json").read_text())["segments"]}
    assert {p.name for p in store.segments_dir.iterdir()} == referenced


def test_a_mostly_deleted_segment_is_merged_away(writable_index, seed_corpus, embedder):
    store = IndexStore(writable_index)
    base = store.open_current().segments[0].name
    publish(store, seed_corpus.articles[:4], seed_corpus.pages, embedder)  # 6 of 10 removed
    live = store.open_current()
    assert base not in [s.name for s in live.segments] and not live.deleted
    assert {a.id for a in live.articles()} == {a.id for a in seed_corpus.articles[:4]}
    # Rollback still reaches the generation that used the old segment.
    assert store.rollback() and store.open_current().segments[0].name == base


def test_an_abandoned_segment_is_cleaned_up(writable_index):
    store = IndexStore(writable_index)
    orphan = store.new_segment_folder()
    orphan.mkdir()
    (orphan / "vectors.faiss").write_bytes(b"half written")
    with store.lock():
        removed = store.clean_leftovers()
    assert orphan.name in removed and not orphan.exists()
    assert store.open_current().passage_count > 0


@pytest.fixture(scope="module")
def ivf_index_dir(tmp_path_factory, embedder):
    """The NIH corpus with the approximate index switched on at 1,000
    vectors, so its ~6k passages get an IVF segment."""
    require_shared(MEDQUAD)
    from indexer.sources import load_corpus
    corpus = load_corpus([MEDQUAD])
    root = tmp_path_factory.mktemp("ivf-index")
    store = IndexStore(root, cache_path=PROJECT_ROOT / "data" / "cache" / "medquad-embeddings.sqlite")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HEARTSEARCH_ANN_MIN_VECTORS", "1000")
        publish(store, corpus.articles, corpus.pages, embedder)
    return root


def test_ivf_segment_reports_its_measured_recall(ivf_index_dir, capsys):
    live = IndexStore(ivf_index_dir).open_current()
    info = live.segments[0].meta["vector_index"]
    assert info["type"] == "ivf" and info["probes"] == "reader questions" and info["probe_queries"] >= 50
    assert info["recall_at_10"] >= 0.98
    assert main(["status", "--index-dir", str(ivf_index_dir)]) == 0
    assert "IVF" in capsys.readouterr().out


def test_ivf_search_agrees_with_exact_search(ivf_index_dir, medquad_index_dir, embedder):
    """Same corpus, same vectors: the approximate index's top 10 overlaps the
    exact index's top 10 on reader questions it was not tuned on."""
    approximate = IndexStore(ivf_index_dir).open_current()
    exact = IndexStore(medquad_index_dir).open_current()
    assert exact.segments[0].meta["vector_index"]["type"] == "flat"
    queries = embedder.encode(["my heart flutters when I lie down", "swollen feet at the end of the day",
                               "what is a hole in the heart", "can children get high blood pressure",
                               "tiredness after a heart attack", "valve surgery without opening the chest"])
    overlaps = []
    for query in queries:
        def texts(generation):
            _, ids = generation.search(query[None], 10)
            return {r.text for r in generation.passages(ids[0]).values()}
        overlaps.append(len(texts(approximate) & texts(exact)) / 10)
    assert np.mean(overlaps) >= 0.95, overlaps


def test_ivf_segment_skips_deleted_passages(ivf_index_dir, tmp_path, embedder):
    import shutil
    root = tmp_path / "copy"
    shutil.copytree(ivf_index_dir, root)
    store = IndexStore(root, cache_path=PROJECT_ROOT / "data" / "cache" / "medquad-embeddings.sqlite")
    live = store.open_current()
    articles = live.articles()
    gone = articles[0]
    ids = list(range(*live.passage_range(live.article_numbers()[gone.id])))
    vectors = live.passage_vectors(ids)
    publish(store, articles[1:], live.pages(), embedder)
    after = store.open_current()
    assert after.segments[0].meta["vector_index"]["type"] == "ivf" and after.deleted
    _, found = after.search(vectors, 20)
    assert not set(found.ravel()) & set(ids)
    assert len(set(found[0])) == 20 and -1 not in found[0], "the selector still returns a full page"


def test_ivf_passage_vectors_are_read_from_the_stored_array_as_the_index_holds_them(ivf_index_dir):
    """An IVF segment gives vectors back one at a time, slowly; the search
    reads them from passage_vectors.npy instead (float16, as the index
    stores them): the same vectors to float16 rounding, in the order asked."""
    generation = IndexStore(ivf_index_dir).open_current()
    (segment,) = generation.segments
    assert segment.meta["vector_index"]["type"] == "ivf"
    ids = list(range(100, 140)) + [7, 3]
    from_index = np.stack([segment.index.reconstruct(pid) for pid in ids])
    assert np.allclose(generation.passage_vectors(ids), from_index, atol=2e-3)
    assert np.array_equal(generation.passage_vectors(ids)[-2:], generation.passage_vectors([7, 3]))
