"""Property-based fuzzing (hypothesis), bounded: the query parser and the
importers never fail in any way other than their own clear errors."""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from indexer.models import Article, Page
from indexer.sources import CorpusError, load_corpus
from search_app.search.glossary import Glossary
from search_app.search.query import QueryOptions, plan_query
from search_app.search.query import InputError, normalise_query
from search_app.search.spelling import SpellingCorrector

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None)

SPELLER = SpellingCorrector({"heart": 40, "valve": 30, "mitral": 12, "regurgitation": 9, "leaky": 3,
                             "atrium": 5, "ventricle": 4, "murmur": 6},
                            frozenset({"leaky"}), frozenset({"heart", "went", "valve"}))
GLOSSARY = Glossary.load()

# Text that looks like queries: words from the domain, syntax characters,
# control characters, odd Unicode.
query_text = st.one_of(
    st.text(max_size=600),
    st.lists(st.sampled_from(["leaky", "hart", "valve", "OR", "NEAR(", '"', "*", "\x00", "\x1b", "\u202e",
                              "\ufeff", "e\u0301", "ß", "İ", "\U0001f494", "-", "(", ")", ":", "^", "  ",
                              "heart attack", "high blood pressure", "palpitations", "mitral"]),
             max_size=40).map(" ".join),
)

fuzz_stats = {"queries": 0, "query_errors": 0, "files": 0, "importer_errors": 0, "failures": 0}


@FUZZ
@given(raw=query_text, max_chars=st.integers(min_value=1, max_value=600))
def test_query_parser_never_fails_unexpectedly(raw, max_chars):
    fuzz_stats["queries"] += 1
    try:
        query = normalise_query(raw, max_chars)
    except InputError as err:
        fuzz_stats["query_errors"] += 1
        assert err.code in ("empty_query", "query_too_long", "invalid_query") and err.field == "q"
        return
    try:
        assert query and len(query) <= max_chars and query == query.strip()
        assert all(ch.isprintable() for ch in query)
        for options in (QueryOptions(), QueryOptions(spelling=False, glossary=False, synonyms=True)):
            plan = plan_query(query, options, SPELLER, GLOSSARY)
            assert plan.text == query
            assert all(isinstance(t, str) and t for t in plan.lexical_terms)
            assert len(plan.lexical_terms) == len(set(plan.lexical_terms))
    except Exception:
        fuzz_stats["failures"] += 1
        raise


FIELDS = ["id", "title", "kind", "author", "credentials", "source", "url", "page", "synonyms", "text", "autor"]
markdown_text = st.one_of(
    st.text(max_size=2000),
    st.builds(lambda fields, body: "---\n" + "".join(f"{k}: {v}\n" for k, v in fields) + "---\n" + body,
              st.lists(st.tuples(st.sampled_from(FIELDS), st.text(max_size=80)), max_size=8),
              st.text(max_size=500)),
)
jsonl_text = st.one_of(
    st.text(max_size=2000),
    st.lists(st.one_of(
        st.dictionaries(st.sampled_from(FIELDS + ["focus", "qtype"]),
                        st.one_of(st.none(), st.text(max_size=60), st.integers(), st.booleans(),
                                  st.lists(st.text(max_size=10), max_size=3)), max_size=8)
        .map(lambda d: __import__("json").dumps(d)),
        st.text(max_size=100)), max_size=10).map("\n".join),
)


def _import(suffix: str, content: str | bytes) -> None:
    fuzz_stats["files"] += 1
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{suffix}"
        if isinstance(content, str):
            path.write_text(content, "utf-8", errors="surrogatepass")
        else:
            path.write_bytes(content)
        try:
            corpus = load_corpus([path])  # must not raise: every problem is a CorpusError in .errors
        except Exception:
            fuzz_stats["failures"] += 1
            raise
        fuzz_stats["importer_errors"] += len(corpus.errors)
        for item in corpus.articles + corpus.pages:
            assert isinstance(item, (Article, Page))
        for err in corpus.errors:
            assert isinstance(err, CorpusError) and str(err).startswith(str(path) + ":")


@FUZZ
@given(content=markdown_text)
def test_markdown_importer_returns_articles_or_corpus_errors(content):
    _import(".md", content)


@FUZZ
@given(content=jsonl_text)
def test_jsonl_importer_returns_articles_or_corpus_errors(content):
    _import(".jsonl", content)


@FUZZ
@given(content=st.binary(max_size=2000), suffix=st.sampled_from([".md", ".jsonl", ".xml", ".txt"]))
def test_importers_on_arbitrary_bytes(content, suffix):
    _import(suffix, content)


def test_zz_fuzz_scorecard(scorecard):
    """Runs after the fuzz tests above (file order): one scorecard row."""
    scorecard.add("hypothesis fuzz", "normalise_query + plan_query; markdown/jsonl/xml/text importers on "
                  "arbitrary text and bytes", fuzz_stats["queries"] + fuzz_stats["files"], fuzz_stats["failures"],
                  0, notes=f"{fuzz_stats['query_errors']} clear query errors, "
                            f"{fuzz_stats['importer_errors']} clear importer errors")
    assert fuzz_stats["failures"] == 0
