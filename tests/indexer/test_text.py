"""indexer/text.py: the one word rule, stop-word sets and web-address check
that the index, the searcher, the glossary, the urgent notice, the Q&A page
importer and the readers' page share (issue 14). Fast: no model, no server.

Several cases pin what the five tokenisers this replaced did differently
(apostrophes, hyphens, Unicode letters, digits), so the unified rule keeps
each caller's old results."""
import pytest

from indexer.text import (ARTICLES, GLOSSARY_IGNORED, OPENING_STOP_WORDS, STOP_WORDS, content_words,
                          fold, is_web_url, stem, stems, word_spans, words)


# --- fold -----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, folded", [
    ("Heart VALVE", "heart valve"),
    ("Español Ménière", "espanol meniere"),
    ("don’t", "don't"),                 # curly apostrophe made straight
    ("ﬁbrillation", "fibrillation"),    # compatibility ligature spelled out
    ("e\u0301", "e"),                   # a combining accent after its letter
    ("Straße", "straße"),               # no decomposition: stays (and splits words below)
])
def test_fold(raw, folded):
    assert fold(raw) == folded


# --- words: the lexical index's rule; ranking depends on it, so these pin it -------------------

@pytest.mark.parametrize("text, expected", [
    ("Leaky heart valve?", ["leaky", "heart", "valve"]),
    ("mini-stroke", ["mini", "stroke"]),                      # hyphens split
    ("heart's", ["heart's"]),                                  # one apostrophe suffix kept
    ("heart’s", ["heart's"]),                                  # curly one too
    ("o'brien's", ["o'brien", "s"]),                           # only one suffix
    ("rock'n'roll", ["rock'n", "roll"]),
    ("services'2008", ["services", "2008"]),                   # a suffix is letters only
    ("parents' 'quoted'", ["parents", "quoted"]),              # stray apostrophes dropped
    ("COVID-19 in 2020s", ["covid", "19", "in", "2020s"]),
    ("x² β-blocker", ["x2", "blocker"]),                       # ² folds to 2; Greek is not a word letter
    ("Straße", ["stra", "e"]),                                 # letters folding can't make ASCII split
    ("snake_case", ["snake", "case"]),
    ("", []),
])
def test_words(text, expected):
    assert words(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Long-term heart", ["long-term", "heart"]),
    ("o'brien's", ["o'brien's"]),
    ("services'2008", ["services'2008"]),
    ("Smith-Jones’s", ["smith-jones's"]),
    ("--a-- -b-", ["a", "b"]),                                 # hyphens only inside a word
    ("What is mitral regurgitation (MR)?", ["what", "is", "mitral", "regurgitation", "mr"]),
])
def test_words_with_compounds_keep_hyphenated_and_apostrophe_words_whole(text, expected):
    """The Q&A importer's old tokeniser ([^\\W_]+(?:['’-][^\\W_]+)*, lower-cased),
    which compares paragraph openings by these compounds."""
    assert words(text, compounds=True) == expected


def test_content_words_and_stems():
    assert content_words("What is the outlook for heart failure?") == ["outlook", "heart", "failure"]
    assert stems("Treating leaking valves") == ["treat", "leak", "valv"]
    assert stem("heart's") == stem("heart") == "heart"


# --- word_spans: the same words, with where they stand in the text as written ---------------

@pytest.mark.parametrize("text", [
    "Leaky heart valve?", "Mitral-valve PROLAPSE, o'brien's rock'n'roll", "Ménière’s disease",
    "ﬁbrillation and Straße", "COVID-19 x² β-blocker", "e\u0301te\u0301", "İstanbul", "ΟΔΟΣ heart",
    "services'2008", "  ", "",
])
def test_word_spans_give_the_words_of_words(text):
    spans = word_spans(text)
    assert [w for _, _, w in spans] == words(text)
    for start, end, word in spans:
        assert words(text[start:end]) == [word]        # each span is exactly its word, as written


def test_word_spans_point_into_the_text_as_written():
    text = "Ménière’s and ﬁbrillation: Heart’s VALVE"
    assert [(text[s:e], w) for s, e, w in word_spans(text)] == [
        ("Ménière’s", "meniere's"), ("and", "and"), ("ﬁbrillation", "fibrillation"),
        ("Heart’s", "heart's"), ("VALVE", "valve")]


def test_word_spans_split_where_words_split():
    """The readers' page used to mark a whole [^\\W_]+(?:['’][^\\W_]+)* token;
    it now marks the word that matched. The two differ only inside tokens
    holding several words (in the shipped text: "Services'2008", once)."""
    text = "Human Services'2008 Guidelines"
    assert [text[s:e] for s, e, _ in word_spans(text)] == ["Human", "Services", "2008", "Guidelines"]
    name = "O'Brien's"
    assert [name[s:e] for s, e, _ in word_spans(name)] == ["O'Brien", "s"]


# --- stop-word sets ---------------------------------------------------------------------------

def test_stop_words_keep_topic_words():
    assert {"the", "what", "not", "can't", "s"} <= STOP_WORDS
    assert not {"heart", "blood", "valve", "pain", "may"} & STOP_WORDS


def test_the_phrase_matchers_sets_are_small_and_named_for_their_reasons():
    assert ARTICLES == {"a", "an", "the"}
    assert "a" not in GLOSSARY_IGNORED and {"the", "an", "my", "their"} <= GLOSSARY_IGNORED  # "a fib"
    assert "in" not in GLOSSARY_IGNORED                                                     # "hole in the heart"
    assert ARTICLES <= STOP_WORDS and GLOSSARY_IGNORED <= STOP_WORDS
    # The Q&A importer's: "may" is in it, "what"/"how"/"not" are not (its splits depend on that).
    assert "may" in OPENING_STOP_WORDS and not {"what", "how", "not", "more"} & OPENING_STOP_WORDS
    assert OPENING_STOP_WORDS - {"may"} <= STOP_WORDS


# --- is_web_url -------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "https://www.nhlbi.nih.gov/health/heart", "http://example.org", "HTTPS://EXAMPLE.ORG/a?b=c#d",
])
def test_web_urls(url):
    assert is_web_url(url)


@pytest.mark.parametrize("url", [
    None, "", "javascript:alert(1)", "ftp://example.org", "//example.org", "https://", "https://a b",
    " https://example.org", "www.example.org", "data:text/html,hi", "https:/example.org",
])
def test_not_web_urls(url):
    assert not is_web_url(url)
