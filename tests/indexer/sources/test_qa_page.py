"""Consumer Q&A pages: the importer must split and attribute a page the way
corpus/what-is-mitral-regurgitation/ was split by hand (corpus/README.md)."""
import pytest

from indexer.settings import DEFAULT_CORPUS_DIR
from indexer.models import Article, Page
from indexer.sources import load_corpus
from indexer.sources.qa_page import Line, QaPageImporter, collapse_repeats, parse_signature
from tests.conftest import SHARED

SEED_PAGE = SHARED / "seeds" / "000_ce45b90e3b86a855.txt"
PAGE_ID = "000-ce45b90e3b86a855"


@pytest.fixture
def imported():
    if not SEED_PAGE.exists():
        pytest.skip(f"{SEED_PAGE} not found: the shared seed pages live outside the repository")
    corpus = load_corpus([SEED_PAGE])
    assert not corpus.errors, corpus.errors
    return corpus


@pytest.fixture(scope="module")
def by_hand():
    corpus = load_corpus([DEFAULT_CORPUS_DIR / "what-is-mitral-regurgitation"])
    assert not corpus.errors
    return corpus


def fields(article: Article) -> tuple:
    return (article.kind, article.title, article.text, article.author, article.credentials,
            article.source, article.url)


def test_the_seed_page_imports_exactly_as_the_hand_made_corpus(imported, by_hand):
    hand = {a.id: a for a in by_hand.articles}
    auto = {a.id: a for a in imported.articles}
    for n in range(1, 7):
        assert fields(auto[f"{PAGE_ID}-answer-{n}"]) == fields(hand[f"mr-answer-{n}"]), n
    hand_teasers = sorted(fields(a) for a in by_hand.articles if a.kind == "teaser")
    auto_teasers = sorted(fields(a) for a in imported.articles if a.kind == "teaser")
    assert auto_teasers == hand_teasers
    assert len(imported.articles) == len(by_hand.articles) == 10
    assert all(a.page == PAGE_ID for a in imported.articles)


def test_signatures_open_the_answer_below_them(imported):
    auto = {a.id: a for a in imported.articles}
    adams, severance = auto[f"{PAGE_ID}-answer-5"], auto[f"{PAGE_ID}-answer-6"]
    assert (adams.author, adams.credentials) == ("David H. Adams", "MD, Cardiothoracic Surgeon")
    assert adams.text.startswith("Also known as") and adams.text.count("\n\n") == 1
    assert (severance.author, severance.credentials) == ("Douglas E. Severance", "MD, Family Practitioner")
    assert all(auto[f"{PAGE_ID}-answer-{n}"].author is None for n in range(1, 5))
    assert not any("Dr. " in a.text or "Surgeon" in a.text for a in imported.articles)


def test_the_disclaimer_becomes_the_page(imported, by_hand):
    [page] = imported.pages
    assert page.id == PAGE_ID and page.title == "What is mitral regurgitation (MR)?"
    assert page.disclaimer == by_hand.pages[0].disclaimer
    assert not any("medical advice" in a.text for a in imported.articles)


HTML_PAGE = """<!doctype html>
<html><head><title>Site name | Palpitations</title>
<style>p { color: red }</style><script>document.write("tracking")</script></head>
<body>
<h1>What are heart palpitations?</h1>
<p>Heart palpitations are the feeling
   that your heart is racing &amp; pounding.</p>
<p>Heart palpitations are often harmless.</p>
<p>They can also be a sign of an arrhythmia.</p>
<p>Dr. Jane Q. Roe, MD, FACC<br>Cardiologist</p>
<p>Most palpitations need no treatment.<script>alert("x")</script> Write &lt;script&gt; if you must.</p>
<p>See a doctor if you also feel faint.</p>
<h2>Continue Learning about Heart Rhythm</h2>
<div>Living With AFib</div><div>Living With AFib</div>
<div>American Heart Association</div>
<div>Atrial fibrillation is the most common...</div>
<div><a href="/afib">Read More</a></div>
<div>Is Coffee Bad For Your Heart?</div>
<div><a href="/coffee">Start Slideshow</a></div>
<p>Important: Not medical advice.</p>
</body></html>
"""


def test_a_simple_html_page(tmp_path):
    path = tmp_path / "Heart Palpitations.html"
    path.write_text(HTML_PAGE, "utf-8")
    records = list(QaPageImporter().read(path))
    [page] = [r for r in records if isinstance(r, Page)]
    articles = {a.id: a for a in records if isinstance(a, Article)}
    assert page.id == "heart-palpitations" and page.disclaimer == "Important: Not medical advice."
    assert page.title == "What are heart palpitations?"  # the <title> is site furniture
    assert [a.author for a in articles.values() if a.kind == "answer"] == [None, None, "Jane Q. Roe"]
    first = articles["heart-palpitations-answer-1"]
    # "Heart palpitations are ..." opens the question's subject again: a new answer each time.
    assert first.text == "Heart palpitations are the feeling that your heart is racing & pounding."
    assert articles["heart-palpitations-answer-2"].text == ("Heart palpitations are often harmless.\n\n"
                                                           "They can also be a sign of an arrhythmia.")
    roe = articles["heart-palpitations-answer-3"]
    assert roe.credentials == "MD, FACC, Cardiologist"
    assert roe.text == ("Most palpitations need no treatment. Write <script> if you must.\n\n"
                        "See a doctor if you also feel faint.")
    assert "alert" not in roe.text and not any("tracking" in a.text or "color" in a.text for a in articles.values())
    afib, coffee = articles["heart-palpitations-related-1"], articles["heart-palpitations-related-2"]
    assert (afib.kind, afib.title, afib.source, afib.text) == (
        "teaser", "Living With AFib", "American Heart Association", "Atrial fibrillation is the most common...")
    assert (coffee.title, coffee.text, coffee.source, coffee.author) == (
        "Is Coffee Bad For Your Heart?", "Is Coffee Bad For Your Heart?", None, None)


def test_a_signature_with_nothing_below_it_is_reported(tmp_path):
    path = tmp_path / "closing.txt"
    path.write_text("What is angina?\n\nAngina is chest pain.\n\nDr. Jane Roe, MD\nCardiologist\n", "utf-8")
    corpus = load_corpus([path])
    assert [a.author for a in corpus.articles] == [None]  # never handed to the text above it
    [error] = corpus.errors
    assert error.line == 5 and "signature of 'Jane Roe' has no answer below it" in error.message


def test_a_page_with_only_a_question_is_an_error(tmp_path):
    path = tmp_path / "empty-page.txt"
    path.write_text("\n\nWhat is angina?\n", "utf-8")
    [error] = load_corpus([path]).errors
    assert (error.line, error.message) == (3, "found a question but no answers below it")


@pytest.mark.parametrize("name,role,expected", [
    ("Dr. David H. Adams, MD", "Cardiothoracic Surgeon", ("David H. Adams", "MD, Cardiothoracic Surgeon")),
    ("Jane O'Brien-Roe, RN, BSN", "Nurse", ("Jane O'Brien-Roe", "RN, BSN, Nurse")),
    ("Dr. John Smith, Jr., M.D.", "Internist", ("John Smith, Jr.", "M.D., Internist")),
    ("Yes, OK", "Cardiologist", None),                           # one word is not a name
    ("Dr. Jane Roe, MD", "She trained in Boston.", None),        # a sentence is not a role
    ("Mitral valve disease, in short", "Cardiologist", None),    # lowercase: prose, not a name
])
def test_signature_lines(name, role, expected):
    assert parse_signature(Line(1, name), Line(2, role)) == expected


def test_collapse_repeats():
    assert collapse_repeats("National Kidney FoundationNational Kidney Foundation") == "National Kidney Foundation"
    assert collapse_repeats("AbcdAbcdAbcd") == "Abcd"
    assert collapse_repeats("Bora Bora") == "Bora Bora" and collapse_repeats("papa") == "papa"
