"""Spelling correction and query planning, on small vocabularies."""
from search_app.search.query import PhraseTable, QueryOptions, corpus_synonym_table, plan_query
from search_app.search.spelling import SpellingCorrector

VOCAB = {"heart": 500, "murmur": 20, "arrhythmia": 40, "mitral": 30, "valve": 80, "hearth": 2,
         "swollen": 12, "ankles": 9, "tummy": 1}


def test_misspellings_are_corrected_to_frequent_corpus_words():
    speller = SpellingCorrector(VOCAB)
    assert speller.correct_word("hart") == "heart"          # not the rarer "hearth"
    assert speller.correct_word("murmer") == "murmur"
    assert speller.correct_word("arrythmia") == "arrhythmia"
    assert speller.correct_word("swolen") == "swollen"


def test_known_short_stop_and_protected_words_are_left_alone():
    speller = SpellingCorrector(VOCAB, protected=frozenset({"afib"}))
    assert speller.correct_word("heart") is None     # already a corpus word
    assert speller.correct_word("zebra") is None     # nothing near it in the corpus
    assert speller.correct_word("bp") is None        # too short
    assert speller.correct_word("afib") is None      # a glossary word
    assert speller.correct_word("which") is None     # stop word


def test_plan_corrects_then_expands_for_both_retrievers():
    speller = SpellingCorrector(VOCAB)
    synonyms = PhraseTable({"mini stroke": ("Transient ischemic attack",)})
    plan = plan_query("my hart had a mini-stroke", QueryOptions(synonyms=True), speller=speller,
                      synonyms=synonyms)
    assert plan.corrections == {"hart": "heart"}
    assert plan.expansions == ["Transient ischemic attack"]
    assert plan.dense_text == "my heart had a mini stroke (Transient ischemic attack)"
    assert {"heart", "hart", "transient", "ischem", "attack"} <= set(plan.lexical_terms)


def test_options_switch_pieces_off():
    speller = SpellingCorrector(VOCAB)
    plan = plan_query("hart", QueryOptions(spelling=False), speller=speller)
    assert plan.corrections == {} and plan.dense_text == "hart"


def test_corpus_synonyms_point_to_the_topic_and_skip_ambiguous_ones():
    table = corpus_synonym_table([
        ("What is TIA?", ("Transient ischemic attack", "Mini-stroke", "TIA")),
        ("What is AF?", ("Atrial fibrillation", "AF", "Irregular heartbeat")),
        ("What is arrhythmia?", ("Arrhythmia", "Irregular heartbeat")),
    ])
    assert table.expansions("had a mini stroke") == ["Transient ischemic attack"]
    assert table.expansions("tia") == []                  # too short to trust
    assert table.expansions("irregular heartbeat") == []  # names two topics


def test_real_english_words_are_not_typos_unless_next_to_a_very_common_corpus_word():
    vocab = {"want": 40, "heart": 5000}
    speller = SpellingCorrector(vocab, english=frozenset({"went", "hart"}))
    assert speller.correct_word("went") is None       # a real word; "want" is not that common
    assert speller.correct_word("hart") == "heart"    # a real word, but one edit from a top word
