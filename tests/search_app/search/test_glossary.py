"""The lay-language glossary: the shipped file, its parser and the matcher.
Pure unit tests: no model, no index."""
from __future__ import annotations


import pytest

from search_app.search.glossary import CATEGORIES, DEFAULT_PATH, Glossary, GlossaryEntry, phrase_key
from search_app.search.query import QueryOptions, plan_query


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return Glossary.load()


def small(*rows: tuple[str, str, str]) -> Glossary:
    """A glossary from ("lay", "clinical; clinical", "category") rows."""
    return Glossary.from_entries(
        GlossaryEntry(lay, tuple(c.strip() for c in clinical.split(";")), category)
        for lay, clinical, category in rows)


def write(tmp_path, *lines: str):
    path = tmp_path / "glossary.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- the shipped file

def test_shipped_glossary_loads_with_enough_entries(glossary):
    assert len(glossary) >= 200
    assert all(isinstance(e, GlossaryEntry) for e in glossary)


def test_shipped_glossary_uses_every_category(glossary):
    assert {e.category for e in glossary} == CATEGORIES


def test_no_lay_phrase_equals_its_own_clinical_phrase(glossary):
    for entry in glossary:
        for term in entry.clinical:
            assert phrase_key(term) != phrase_key(entry.lay), entry


def test_shipped_glossary_is_lower_case_and_carries_its_review_note():
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    assert "Reviewed: entries are general lay↔clinical equivalences, not fitted to any evaluation set" in text
    for line in text.splitlines():
        if line and not line.startswith("#"):
            assert line == line.lower(), line


@pytest.mark.parametrize("query, clinical", [
    ("heart attack", "myocardial infarction"),
    ("mini stroke", "transient ischemic attack"),
    ("clogged arteries", "atherosclerosis"),
    ("enlarged heart", "cardiomegaly"),
    ("hole in the heart", "atrial septal defect"),
    ("blue baby", "tetralogy of fallot"),
    ("leaky valve", "valvular insufficiency"),
    ("floppy valve", "mitral valve prolapse"),
    ("irregular heartbeat", "arrhythmia"),
    ("racing heart", "tachycardia"),
    ("slow heartbeat", "bradycardia"),
    ("heart flutter", "atrial flutter"),
    ("quivering heart", "atrial fibrillation"),
    ("a fib", "atrial fibrillation"),
    ("high blood pressure", "hypertension"),
    ("blood clot in leg", "deep vein thrombosis"),
    ("clot in lung", "pulmonary embolism"),
    ("fainting", "syncope"),
    ("swollen ankles", "edema"),
    ("oedema", "edema"),
    ("chest pain", "angina"),
    ("bad cholesterol", "low-density lipoprotein"),
    ("ekg", "electrocardiogram"),
    ("heart ultrasound", "echocardiogram"),
    ("water pills", "diuretics"),
    ("blood thinners", "anticoagulants"),
    ("clot busters", "thrombolytics"),
    ("bypass surgery", "coronary artery bypass grafting"),
    ("shock to reset the heart", "cardioversion"),
    ("upper chambers", "atria"),
    ("main artery", "aorta"),
])
def test_shipped_glossary_covers_common_lay_terms(glossary, query, clinical):
    found = [c for _lay, terms in glossary.expansions(query) for c in terms]
    assert clinical in found, (query, glossary.expansions(query))


# ---------------------------------------------------------------- parse errors

@pytest.mark.parametrize("bad_line, message", [
    ("water pills\tdiuretics", "expected 3 TAB-separated columns"),
    ("water pills\tdiuretics\tdrug\textra", "found 4"),
    ("water pills    diuretics    drug", "are the columns separated by TABs"),
    ("\tdiuretics\tdrug", "empty lay phrase"),
    ("water pills\t\tdrug", "empty clinical column"),
    ("water pills\tdiuretics\t", "empty category"),
    ("water pills\tdiuretics; \tdrug", "empty clinical phrase"),
    ("water pills\tdiuretics\tmedicine", "unknown category 'medicine'"),
    ("Water Pills\tdiuretics\tdrug", "must be lower case"),
    ("water pills\twater pill\tdrug", "only repeats the lay phrase"),
    ("water pills\tdiuretics; diuretic\tdrug", "given twice"),
])
def test_parse_errors_name_path_and_line(tmp_path, bad_line, message):
    path = write(tmp_path, "# a comment", "", "heart attack\tmyocardial infarction\tcondition", bad_line)
    with pytest.raises(ValueError) as caught:
        Glossary.load(path)
    assert str(caught.value).startswith(f"{path}:4: ")
    assert message in str(caught.value)


def test_duplicate_lay_phrase_is_an_error(tmp_path):
    path = write(tmp_path, "water pills\tdiuretics\tdrug", "# comment", "water pills\tloop diuretics\tdrug")
    with pytest.raises(ValueError, match=r":3: duplicate lay phrase 'water pills', first given on line 1"):
        Glossary.load(path)


def test_lay_phrases_matching_the_same_words_are_duplicates(tmp_path):
    path = write(tmp_path, "mini stroke\ttransient ischemic attack\tcondition",
                 "mini-strokes\ttransient ischemic attack\tcondition")
    with pytest.raises(ValueError, match=r":2: duplicate lay phrase 'mini-strokes' \(matches the same words as 'mini stroke'\)"):
        Glossary.load(path)


def test_comments_blank_lines_and_crlf_are_fine(tmp_path):
    path = tmp_path / "g.tsv"
    path.write_bytes(b"# header\r\n\r\n  # indented comment\r\nwater pills\tdiuretics; loop diuretics\tdrug\r\n")
    g = Glossary.load(path)
    assert list(g) == [GlossaryEntry("water pills", ("diuretics", "loop diuretics"), "drug")]


def test_from_entries_validates():
    with pytest.raises(ValueError, match="unknown category"):
        small(("water pills", "diuretics", "pills"))
    with pytest.raises(ValueError, match="duplicate lay phrase"):
        small(("water pills", "diuretics", "drug"), ("water pill", "diuretics", "drug"))
    with pytest.raises(ValueError, match="no clinical phrase"):
        Glossary.from_entries([GlossaryEntry("water pills", (), "drug")])


# ---------------------------------------------------------------- matching

@pytest.fixture
def tiny() -> Glossary:
    return small(
        ("pad", "peripheral artery disease", "condition"),
        ("mini stroke", "transient ischemic attack", "condition"),
        ("water pills", "diuretics", "drug"),
        ("clogged artery", "atherosclerosis", "condition"),
        ("blood pressure", "arterial pressure", "test"),
        ("high blood pressure", "hypertension", "condition"),
        ("blood pressure pills", "antihypertensives", "drug"),
        ("heart attack", "myocardial infarction; acute coronary syndrome", "condition"),
        ("raynaud's", "raynaud phenomenon", "condition"),
        ("hole in the heart", "septal defect", "condition"),
    )


def lays(g: Glossary, query: str) -> list[str]:
    return [lay for lay, _ in g.expansions(query)]


def test_matches_whole_words_only(tiny):
    assert lays(tiny, "heating padding for the chest") == []
    assert lays(tiny, "pads on my legs") == ["pad"]
    assert lays(tiny, "what is PAD?") == ["pad"]
    assert lays(tiny, "minis stroke") == []


def test_hyphen_and_space_are_alike(tiny):
    assert lays(tiny, "mini-stroke") == ["mini stroke"]
    assert lays(tiny, "mini stroke") == ["mini stroke"]
    assert lays(tiny, "mini  -  stroke") == ["mini stroke"]


def test_plural_and_singular_match(tiny):
    assert lays(tiny, "water pill") == ["water pills"]
    assert lays(tiny, "water pills") == ["water pills"]
    assert lays(tiny, "clogged arteries") == ["clogged artery"]
    assert lays(tiny, "mini-strokes") == ["mini stroke"]


def test_longest_match_wins_without_overlaps(tiny):
    assert tiny.expansions("high blood pressure") == [("high blood pressure", ("hypertension",))]
    assert lays(tiny, "blood pressure at night") == ["blood pressure"]


def test_equally_long_overlaps_go_to_the_rightmost(tiny):
    # "high blood pressure" and "blood pressure pills" both cover three words
    assert lays(tiny, "high blood pressure pills") == ["blood pressure pills"]


def test_several_matches_come_in_query_order(tiny):
    assert lays(tiny, "water pills after a heart attack with PAD") == ["water pills", "heart attack", "pad"]


def test_case_punctuation_and_apostrophes(tiny):
    assert lays(tiny, "HEART ATTACK!!") == ["heart attack"]
    assert lays(tiny, "Heart-Attack, water pills?") == ["heart attack", "water pills"]
    assert lays(tiny, "Raynaud’s in winter") == ["raynaud's"]
    assert lays(tiny, "raynauds") == ["raynaud's"]


def test_filler_words_are_ignored(tiny):
    assert lays(tiny, "a hole in my heart") == ["hole in the heart"]
    assert lays(tiny, "hole in heart") == ["hole in the heart"]


def test_no_match_gives_nothing(tiny):
    assert tiny.expansions("") == []
    assert tiny.expansions("   ") == []
    assert tiny.expansions("how much sleep do I need") == []


# ------------------------------------------- what the search embeds (plan_query)

def dense(query: str, glossary) -> str:
    """What the dense retriever is given for `query` with only the glossary on."""
    return plan_query(query, QueryOptions(spelling=False), glossary=glossary).dense_text


def test_the_clinical_terms_are_appended(tiny):
    assert dense("my mini stroke", tiny) == "my mini stroke (transient ischemic attack)"
    assert dense("heart attack", tiny) == "heart attack (myocardial infarction; acute coronary syndrome)"
    assert dense("Water Pills and PAD", tiny) == "Water Pills and PAD (diuretics; peripheral artery disease)"


def test_an_unmatched_query_is_unchanged(tiny):
    for query in ["how much sleep do I need", "padding", "spaced out"]:
        assert dense(query, tiny) == query


def test_terms_already_in_the_query_are_not_added(tiny):
    assert dense("heart attack or myocardial infarction", tiny) == \
        "heart attack or myocardial infarction (acute coronary syndrome)"
    assert dense("pad (peripheral artery disease)", tiny) == "pad (peripheral artery disease)"


def test_each_term_is_named_once():
    g = small(("blood thinners", "anticoagulants; warfarin", "drug"),
              ("coumadin", "warfarin", "drug"))
    assert dense("blood thinners like coumadin", g) == "blood thinners like coumadin (anticoagulants; warfarin)"


def test_the_shipped_glossary_bridges_lay_words(glossary):
    assert dense("my mini-stroke", glossary) == "my mini-stroke (transient ischemic attack)"
    assert dense("Water pills", glossary) == "Water pills (diuretics)"
    assert dense("how to sleep better", glossary) == "how to sleep better"



def test_lay_words_protect_glossary_words_from_spelling_fixes(glossary):
    assert {"afib", "ekg", "stent", "pills"} <= glossary.lay_words
