"""The bench's short cut ranks as the full search does, on the NIH index
(heavy: the real model and index; skipped without ../shared/)."""
import dataclasses

import pytest

from search_app.evaluation.bench import Bench
from search_app.evaluation.folds import query_topics, reciprocal_rank, topic_reciprocal_rank
from search_app.evaluation.metrics import load_queries
from search_app.evaluation.need_model import NONE, ModelNeeds, SoftmaxRegression, TitleTraining
from tests.conftest import SHARED, require_shared

DEV_QUERIES = SHARED / "eval" / "dev-queries.jsonl"


@pytest.fixture(scope="module")
def bench(medquad_searcher):
    require_shared(DEV_QUERIES)
    generation = medquad_searcher.generation
    return Bench(medquad_searcher.searcher, generation, medquad_searcher.index.embedder_for(generation))


@pytest.fixture(scope="module")
def queries():
    return load_queries(DEV_QUERIES)[::3]


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid", "default"])
def test_the_short_cut_ranks_as_the_full_search_with_the_shipped_settings(bench, queries, mode):
    for q in queries:
        assert bench.groups(q.query, mode) == bench.search_groups(q.query, mode, k=10), q.query


def test_and_with_other_settings(bench, queries):
    shipped = bench.settings
    for settings in (dataclasses.replace(shipped, rrf_k=60.0, weight_lexical=2.0, weight_expanded=0.5),
                     dataclasses.replace(shipped, prefer_asked_need=False,
                                         query=dataclasses.replace(shipped.query, glossary=False))):
        for q in queries:
            assert bench.groups(q.query, "hybrid", settings) == \
                bench.search_groups(q.query, "hybrid", k=10, settings=settings), q.query


def test_topic_level_is_never_below_entry_level(bench, queries):
    for q in queries:
        groups = bench.groups(q.query, "hybrid")
        assert topic_reciprocal_rank(groups, query_topics(q)) >= reciprocal_rank(groups, q.relevant)


def test_the_title_model_reads_needs_from_the_nih_titles(bench):
    """Trained on the corpus's own centred title vectors, never on queries:
    on title-like questions the model reads their need."""
    training = TitleTraining.from_bench(bench)
    assert len(training.labels) == len(bench.generation.article_rows())
    assert {"symptoms", "treatment", "inheritance", NONE} <= set(training.labels)
    reader = ModelNeeds(SoftmaxRegression(3.0).fit(training.x, training.labels), 0.5)
    for query, need in [("what are the signs and symptoms of heart failure", "symptoms"),
                        ("how is atrial fibrillation treated", "treatment"),
                        ("is marfan syndrome inherited", "inheritance")]:
        assert need in reader(query, bench.embedder.encode([query])[0]), query
