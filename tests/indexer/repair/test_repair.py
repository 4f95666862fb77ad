"""indexer.repair: every repair together, per article and over the NIH corpus."""
from collections import Counter

import pytest

from indexer.chunking import chunk_article
from indexer.repair import repair_text
from indexer.sources.base import make_article

# NHLBI-0000091-1, shortened.
MVP = ("Espaol\n\nMuch of the time, MVP doesnt cause any problems. This can lead topalpitations, shortness of "
       "breath, chest pain, and other symptoms.\n\nNormal Mitral Valve\n\nThe mitral valve controls blood flow. "
       "For more information, go to the Health TopicsHow the Heart Worksarticle. Risk factors include - Smoking "
       "- Diabetes")

# What the rules did to the 954 NIH entries when they were written (docs/quality.md,
# "Text repair at import"): a change to a rule or to the lexicon shows here.
MEASURED = {"heading": 862, "list": 224, "glued": 158, "spacing": 47, "furniture": 8}


def test_an_nih_text_is_repaired_and_every_change_recorded():
    repaired = repair_text(MVP)
    assert repaired.text == (
        "Much of the time, MVP doesnt cause any problems. This can lead to palpitations, shortness of "
        "breath, chest pain, and other symptoms.\n\nNormal Mitral Valve\n\nThe mitral valve controls blood flow. "
        "For more information, go to the Health Topics How the Heart Works article. Risk factors include\n"
        "- Smoking\n- Diabetes")
    assert Counter(r.kind for r in repaired.repairs) == {"furniture": 1, "glued": 3, "list": 1, "heading": 1}


def test_repairing_repaired_text_changes_nothing():
    once = repair_text(MVP)
    twice = repair_text(once.text)
    assert twice.text == once.text
    assert [r.kind for r in twice.repairs] == ["heading"]  # headings are found again, not changed


def test_the_import_keeps_the_source_text_and_an_unrepaired_text_keeps_none():
    article = make_article({"id": "a", "title": "MVP", "text": MVP}, "f:1")
    assert article.source_text() == MVP and article.text != MVP and article.repairs
    plain = make_article({"id": "b", "title": "MVP", "text": "Nothing to repair here."}, "f:2")
    assert plain.original_text is None and plain.repairs == () and plain.source_text() == plain.text
    assert make_article({"id": "a", "title": "MVP", "text": MVP}, "g:9").content_hash() == article.content_hash()


@pytest.mark.slow  # the shared NIH corpus
def test_the_named_nih_entries_no_longer_serve_glued_words(nih_corpus):
    by_id = {a.id: a for a in nih_corpus.articles}
    for article_id, glued in (("NHLBI-0000066-1", "congenitalheart"), ("NHLBI-0000091-1", "topalpitations")):
        article = by_id[article_id]
        assert glued in article.source_text()
        for passage in chunk_article(article):
            assert glued not in passage.text and glued not in passage.embed_text
            assert "Worksarticle" not in passage.text and "mitral,and" not in passage.text


@pytest.mark.slow  # the shared NIH corpus
def test_the_repairs_over_the_nih_corpus_are_the_measured_ones(nih_corpus):
    kinds = Counter(r.kind for a in nih_corpus.articles for r in a.repairs)
    assert kinds == MEASURED, "a rule or the lexicon changed: measure again (docs/quality.md) and update"


@pytest.mark.slow  # the shared NIH corpus
def test_the_repair_depends_on_the_text_alone(nih_corpus):
    """One article imported alone gets the same text as inside the whole
    corpus: publishing it cannot change (and re-embed) any other."""
    for article in nih_corpus.articles[::50]:
        alone = make_article({"id": article.id, "title": article.title, "text": article.source_text()}, "x:1")
        assert (alone.text, alone.repairs) == (article.text, article.repairs)
