import pytest

from indexer.chunking import ChunkingConfig, chunk_article, count_tokens, model_window, split_sentences
from indexer.embedding import MODELS
from indexer.models import Article


def article(text, title="Title"):
    return Article(id="a", title=title, text=text)


def test_sentences_split_on_full_stops_but_not_abbreviations():
    text = "Dr. Adams saw the patient, e.g. on Monday. The valve leaked! Was it severe? Yes."
    assert split_sentences(text) == [
        "Dr. Adams saw the patient, e.g. on Monday.", "The valve leaked!", "Was it severe?", "Yes."]


def test_paragraphs_always_break_sentences():
    assert split_sentences("First line without stop\n\nSecond paragraph.") == [
        "First line without stop", "Second paragraph."]


def test_short_article_is_one_passage_with_title_in_embed_text():
    passages = chunk_article(article("One sentence. Two sentences.", title="What is MR?"))
    assert len(passages) == 1
    assert passages[0].text == "One sentence. Two sentences."
    assert passages[0].embed_text == "What is MR?\nOne sentence. Two sentences."


def test_long_article_splits_with_one_sentence_overlap_and_keeps_every_sentence():
    sentences = [f"Sentence number {i} has exactly seven words." for i in range(30)]
    config = ChunkingConfig(max_words=40, overlap_sentences=1)
    passages = chunk_article(article(" ".join(sentences)), config)
    assert len(passages) > 1
    assert [p.position for p in passages] == list(range(len(passages)))
    for p in passages:
        assert len(p.text.split()) <= 40 + 40 // 3
    for before, after in zip(passages, passages[1:]):
        assert before.sentences[-1] == after.sentences[0]  # the overlap
    covered = {s for p in passages for s in p.sentences}
    assert covered == set(sentences)


def test_a_giant_sentence_is_cut_to_the_budget():
    passages = chunk_article(article("word " * 1000), ChunkingConfig(max_words=100))
    assert all(len(p.text.split()) <= 100 for p in passages)
    assert sum(len(p.text.split()) for p in passages) >= 1000


@pytest.mark.parametrize("model", MODELS)
def test_passages_fit_the_model_window_on_the_real_corpus(model, seed_corpus):
    """Each registered model's own tokenizer and window (no weights loaded)."""
    for art in seed_corpus.articles:
        for p in chunk_article(art):
            assert count_tokens(p.embed_text, model) <= model_window(model), p.embed_text[:80]


def test_the_token_counter_agrees_with_the_loaded_model(embedder, seed_corpus):
    texts = [p.embed_text for a in seed_corpus.articles[:3] for p in chunk_article(a)]
    everything = "\n".join(a.text for a in seed_corpus.articles)  # past the window
    texts += ["ÉCG — 心臓 naïve", "", everything]
    assert [count_tokens(t, embedder.name) for t in texts] == [embedder.count_tokens(t) for t in texts]
    assert model_window(embedder.name) == embedder.max_tokens
    assert count_tokens(texts[-1], embedder.name) > embedder.max_tokens  # counted before truncation


def test_a_short_tail_is_folded_into_the_passage_before():
    sentences = [f"Sentence number {i} has exactly seven words." for i in range(6)] + ["Call 911."]
    passages = chunk_article(article(" ".join(sentences)), ChunkingConfig(max_words=42))
    assert len(passages) == 1 or passages[-1].sentences[-1] == "Call 911."
    assert all(len(p.text.split()) > 5 for p in passages)
