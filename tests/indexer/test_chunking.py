import functools

import pytest

from indexer.chunking import ChunkingConfig, chunk_article, count_tokens, model_window, split_sentences
from indexer.embedding import MODELS
from indexer.models import Article
from tests.conftest import MEDQUAD, require_shared


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


# --- headings, list items and sentence boundaries (indexer.repair.blocks) ---

VALVES = ("This can make your heart work harder and affect its ability to pump blood.\n\nOverview\n\n"
          "How the Heart Valves Work\n\nAt the start of each heartbeat, blood returning from the body and lungs "
          "fills the atria (the heart's two upper chambers).")  # NHLBI-0000066-1


def test_a_heading_is_the_passages_heading_not_glued_to_the_next_sentence():
    (passage,) = chunk_article(article(VALVES, title="Heart Valve Disease"))
    assert "Overview" not in passage.text and "How the Heart Valves Work" not in passage.text
    assert passage.text.startswith("This can make your heart work harder")
    # the model and the lexical index still read the heading, in its place
    assert "blood. Overview How the Heart Valves Work At the start" in passage.embed_text


def test_a_passage_starting_under_a_heading_carries_it_and_embeds_it():
    text = VALVES + " " + " ".join(f"Sentence number {i} has exactly seven words." for i in range(12))
    passages = chunk_article(article(text, title="Heart Valve Disease"), ChunkingConfig(max_words=30))
    later = [p for p in passages if p.heading]
    assert passages[0].heading is None and later
    assert all(p.heading == "Overview: How the Heart Valves Work" for p in later)
    assert later[0].embed_text.startswith("Heart Valve Disease\nOverview: How the Heart Valves Work\n")
    assert not any(p.text.startswith(("Overview", "How the Heart")) for p in passages)


def test_list_items_are_lines_of_their_own():
    text = "Factors that can raise your triglyceride level include\n- Being overweight\n- Smoking\n\nEat less."
    (passage,) = chunk_article(article(text))
    assert passage.text == "Factors that can raise your triglyceride level include\n- Being overweight\n- Smoking\nEat less."
    assert passage.sentences[1:3] == ("- Being overweight", "- Smoking")
    assert "include - Being overweight - Smoking Eat less." in passage.embed_text  # as the source wrote it


def test_a_short_list_stays_in_one_passage_with_the_sentence_that_leads_into_it():
    # MPlusHealthTopics-0000070-1 after the list repair
    before = " ".join(f"Sentence number {i} has exactly seven words." for i in range(3))
    text = (f"{before} But you may feel\n- Palpitations\n- Shortness of breath\n- Chest pain\n"
            "- Dizziness or fainting\n- Fatigue")
    passages = chunk_article(article(text), ChunkingConfig(max_words=30))
    holding = [p for p in passages if "- Palpitations" in p.sentences]
    assert len(holding) == 1 and holding[0].sentences[-6:] == (
        "But you may feel", "- Palpitations", "- Shortness of breath", "- Chest pain", "- Dizziness or fainting",
        "- Fatigue")


def test_a_long_sentence_stays_whole_and_a_giant_one_is_cut_at_clauses():
    long = "The valve " + " ".join(f"word{i % 7}" for i in range(80)) + " leaks."
    passages = chunk_article(article(f"Short one. {long} Short two."), ChunkingConfig(max_words=60))
    assert long in [s for p in passages for s in p.sentences]
    clauses = "; ".join(" ".join(f"w{i}x{j}" for j in range(40)) for i in range(5)) + "."
    pieces = [s for p in chunk_article(article(clauses)) for s in p.sentences]
    assert len(pieces) > 1 and all(piece.endswith((";", ".")) for piece in pieces)


@functools.lru_cache(maxsize=1)
def _load_nih():
    from indexer.sources import load_corpus
    return load_corpus([MEDQUAD]).articles


def _nih_articles():
    require_shared(MEDQUAD)
    return _load_nih()


# What may stand before a passage's first sentence and end its last: the
# end of a sentence, a clause (an over-long sentence cut at ; : — , or a
# table cell's %) or a list item or line.
_ENDS = (".", "!", "?", "…", ")", "\"", "”", "’", "'", ":", ";", ",", "—", "%", "]")


def _on_boundaries(sentence: str, lines: list[str]) -> bool:
    plain = sentence[2:] if sentence.startswith("- ") else sentence
    for line in lines:
        at = line.find(plain)
        if at < 0:
            continue
        starts = at == 0 or line[:at].rstrip().endswith(_ENDS) or line[:at].strip() in ("-", "*", "•")
        ends = at + len(plain) == len(line) or plain.endswith(_ENDS)
        if starts and ends:
            return True
    return False


@pytest.mark.slow  # the shared NIH corpus
def test_nih_passages_begin_and_end_on_sentence_boundaries():
    """Every passage starts where a sentence, clause, list item or line
    starts and ends where one ends: no word windows on the NIH corpus."""
    cut = []
    for art in _nih_articles():
        lines = [" ".join(line.split()) for block in art.text.split("\n\n") for line in block.split("\n")]
        for p in chunk_article(art):
            for sentence in (p.sentences[0], p.sentences[-1]):
                if not _on_boundaries(sentence, lines):
                    cut.append((art.id, sentence[:60]))
    assert not cut, cut[:5]


def test_the_boundary_check_sees_a_word_window():
    lines = ["The heart pumps blood through the body every day."]
    assert _on_boundaries("The heart pumps blood through the body every day.", lines)
    assert not _on_boundaries("pumps blood through", lines)


@pytest.mark.slow  # tokenizes every NIH passage with each model's tokenizer
@pytest.mark.parametrize("model", MODELS)
def test_nih_passages_fit_the_model_window(model):
    for art in _nih_articles():
        for p in chunk_article(art):
            assert count_tokens(p.embed_text, model) <= model_window(model), (art.id, p.embed_text[:80])
