"""The readers' page, rendered by the real app on the real index."""
import re
import shutil

import pytest

from indexer.build import publish_articles
from indexer.models import Article
from indexer.index import IndexStore
from search_app import create_app
from search_app.config import Config


def test_empty_page_shows_form_examples_and_disclaimer(client):
    html = client.get("/").get_data(as_text=True)
    assert '<label for="q">' in html and 'name="q"' in html
    assert "Try asking" in html and "leaky heart valve" in html
    assert "should not be used for medical advice" in html


def test_results_show_title_passage_and_attribution(client):
    response = client.get("/?q=valvular+heart+disease+rheumatic+fever+Marfan")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    first = html.split('<li class="result">')[1]
    assert "What is mitral regurgitation (MR)?" in first
    assert "David H. Adams" in first and "MD, Cardiothoracic Surgeon" in first
    assert "should not be used for medical advice" in html


def test_teaser_shows_its_source_and_unattributed_answers_say_so(client):
    html = client.get("/?q=dialysis+patients+heart+risk").get_data(as_text=True)
    first = html.split('<li class="result">')[1]
    assert "National Kidney Foundation" in first and "Related article" in first
    html = client.get("/?q=systole+diastole+jet").get_data(as_text=True)
    assert "Unattributed answer on ‘" in html.split('<li class="result">')[1]


def test_query_is_kept_in_the_box_and_empty_query_is_a_friendly_message(client):
    html = client.get("/?q=leaky+valve").get_data(as_text=True)
    assert 'value="leaky valve"' in html
    response = client.get("/?q=+++")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Type a question" in html and "Try asking" in html and "leaky heart valve" in html


def test_page_never_shows_a_stack_trace(client):
    response = client.get("/?q=" + "x" * 5000)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Traceback" not in html and "longer than 500" in html
    response = client.get("/no/such/page")
    assert response.status_code == 404 and "does not exist" in response.get_data(as_text=True)


def test_hostile_text_in_articles_and_queries_is_escaped(seed_index_dir, embedder, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(seed_index_dir, index)
    store = IndexStore(index)
    evil = Article(id="evil", title="<script>alert('t')</script> valve",
                   text='Leaky valve <img src=x onerror="alert(1)"> and <script>alert(2)</script>.',
                   author="<b>Mallory</b>", url="https://example.org/?a=\"><script>")
    generation = store.open_current()
    with store.lock():
        publish_articles(store, generation.articles() + [evil], generation.pages(), embedder)
    client = create_app(Config(index_dir=index), embedder=embedder).test_client()
    html = client.get('/?q=<script>alert(1)</script> leaky valve onerror').get_data(as_text=True)
    # Query words inside the hostile text are marked up piece by piece; the
    # text between the marks is still escaped.
    text = re.sub(r'</?(?:strong class="term"|strong|mark class="match"|mark)>', "", html)
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in text
    assert "&lt;b&gt;Mallory&lt;/b&gt;" in text
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt; leaky valve onerror"' in html
    assert 'href="https://example.org/?a=&#34;&gt;&lt;script&gt;" rel="noopener noreferrer"' in html
    assert not re.search(r"<script|<img|<b>M|onerror=\"", html)
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp


# ---------------------------------------------------------------- results in detail

def first_result(html: str) -> str:
    return html.split('<li class="result">')[1].split("</li>\n        \n")[0]


def test_matched_sentence_is_highlighted_and_query_words_marked(client):
    html = client.get("/?q=valvular+heart+disease+rheumatic+fever+Marfan").get_data(as_text=True)
    first = first_result(html)
    match = re.search(r'<mark class="match">(.*?)</mark>', first, re.S).group(1)
    assert "Marfan" in match and "rheumatic" in match  # the sentence sharing most query words
    assert '<strong class="term">Marfan</strong>' in first
    assert '<strong class="term">rheumatic</strong>' in first and '<strong class="term">fever</strong>' in first


def test_more_from_this_article_lists_its_other_passages_without_javascript(client):
    html = client.get("/?q=mitral+valve+surgery+repair+leaflets").get_data(as_text=True)
    assert '<details class="more">' in html and "<summary>More from this article" in html
    block = html.split('<details class="more">')[1].split("</details>")[0]
    assert block.count("<li value=") >= 1


def test_page_has_landmarks_labels_headings_and_no_script_or_inline_style(client):
    response = client.get("/?q=leaky+heart+valve")
    html = response.get_data(as_text=True)
    for needle in ('<html lang="en">', '<header class="site">', '<main id="main"', '<footer class="site">',
                   'role="search"', '<label for="q">', 'id="q" name="q"', '<h1', 'href="#main"',
                   'name="viewport"'):
        assert needle in html, needle
    assert "<script" not in html and "<style" not in html and 'style="' not in html
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html.split("<main")[0])  # no CDN, no web font
    assert "@import" not in client.get("/static/style.css").get_data(as_text=True)
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_disclaimer_is_on_every_state_of_the_page(client):
    for url in ("/", "/?q=leaky+heart+valve", "/?q=tax+return+deadline", "/?q=+", "/?q=" + "x" * 600):
        html = client.get(url).get_data(as_text=True)
        assert 'class="disclaimer-bar"' in html and "not medical advice" in html, url


# ---------------------------------------------------------------- helpful states

def test_landing_page_shows_example_questions_as_links(client):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/?q=leaky+heart+valve"' in html
    assert '<li class="result">' not in html and "No good match" not in html


def test_off_topic_queries_say_no_good_match_instead_of_showing_unrelated_text(client):
    for query in ("how do I bake sourdough bread", "best football team", "tax return deadline"):
        response = client.get("/", query_string={"q": query})
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "No good match for" in html and "not showing unrelated text" in html, query
        assert '<li class="result">' not in html and "mitral" not in html.lower().split("<main")[1].split(
            "questions that work well")[0], query
        assert "Questions that work well" in html  # suggestions to rephrase


def test_on_topic_queries_just_above_the_threshold_still_get_results(client):
    # "systole diastole jet" is the lowest-scoring on-topic query measured (0.290)
    html = client.get("/?q=systole+diastole+jet").get_data(as_text=True)
    assert '<li class="result">' in html and "No good match" not in html


def test_a_search_failure_is_a_human_sentence_not_a_stack_trace(app, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("faiss exploded: /secret/path")
    monkeypatch.setattr(app.extensions["searcher"], "search", broken)
    response = app.test_client().get("/?q=leaky+heart+valve")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "the search is not working right now" in html
    assert "Traceback" not in html and "RuntimeError" not in html and "/secret/path" not in html
    assert 'value="leaky heart valve"' in html  # the reader's words are not lost


# ---------------------------------------------------------------- emergency notice

def test_emergency_query_shows_the_call_notice_above_the_results(client):
    html = client.get("/?q=crushing+chest+pain+right+now").get_data(as_text=True)
    assert '<section class="urgent" role="alert"' in html
    notice = html.split('<section class="urgent"')[1].split("</section>")[0]
    assert "call emergency services" in notice and "911" in notice and "112" in notice
    assert "a heart attack" in notice
    assert html.index('class="urgent"') < html.index('class="results-section"')
    html = client.get("/?q=his+face+is+drooping+and+speech+is+slurred").get_data(as_text=True)
    assert 'role="alert"' in html and "a stroke" in html.split('<section class="urgent"')[1]


def test_emergency_notice_shows_even_when_nothing_matches(client):
    html = client.get("/?q=my+husband+is+not+breathing").get_data(as_text=True)
    assert '<section class="urgent" role="alert"' in html and "start CPR" in html


def test_general_questions_get_no_emergency_notice(client):
    for query in ("what are the symptoms of a heart attack", "chest pain causes", "stroke risk factors",
                  "how to prevent a stroke"):
        html = client.get("/", query_string={"q": query}).get_data(as_text=True)
        assert 'class="urgent"' not in html, query


# ---------------------------------------------------------------- pagination and URLs

@pytest.fixture(scope="module")
def small_pages(seed_index_dir, embedder):
    return create_app(Config(index_dir=seed_index_dir, page_size=2), embedder=embedder).test_client()


def test_pagination_links_keep_the_query_in_the_url(small_pages):
    # corpus/ holds five questions: the page's six answers (one result) and four related-article teasers.
    html = small_pages.get("/?q=heart+valve").get_data(as_text=True)
    assert html.count('<li class="result">') == 2 and "Results 1–2 for" in html
    assert '<a href="/?q=heart+valve&amp;page=2" rel="next">Next results</a>' in html
    assert 'rel="prev"' not in html
    second = small_pages.get("/?q=heart+valve&page=2").get_data(as_text=True)
    assert '<ol class="results" start="3">' in second and "Results 3–4 for" in second
    assert '<a href="/?q=heart+valve" rel="prev">Previous</a>' in second
    # Page 3 would hold only the dialysis teaser, not a good match:
    # no "Next results" link to a page of unrelated text.
    assert 'rel="next"' not in second
    assert "No more close matches" in small_pages.get("/?q=heart+valve&page=3").get_data(as_text=True)
    first_titles = re.findall(r'id="result-(\d+)"', html)
    second_titles = re.findall(r'id="result-(\d+)"', second)
    assert first_titles == ["1", "2"] and second_titles == ["3", "4"]


def test_odd_page_numbers_are_harmless(small_pages):
    assert "Results 1–2" in small_pages.get("/?q=mitral+valve&page=abc").get_data(as_text=True)
    assert "Results 1–2" in small_pages.get("/?q=mitral+valve&page=-4").get_data(as_text=True)
    response = small_pages.get("/?q=mitral+valve&page=999999")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "No more close matches" in html
    assert '<a href="/?q=mitral+valve">Back to the first results</a>' in html


# ---------------------------------------------------------------- highlighting, unit level

def test_highlight_pieces_are_plain_text_that_add_up_to_the_original():
    from indexer.text import stem
    from search_app.pages.views import mark_terms, passage_segments, safe_url
    text = 'Leaky valve <img src=x onerror="alert(1)"> & <script>valves’ leaks</script>'
    pieces = mark_terms(text, {stem("valve"), stem("onerror"), stem("leak")})
    assert "".join(p.text for p in pieces) == text
    assert [p.text for p in pieces if p.term] == ["valve", "onerror", "valves", "leaks"]  # "leaky": stem leaki
    segments = passage_segments(["One valve.", "Two <b>leaks</b>."], 1, {stem("leak")})
    assert [s.match for s in segments] == [False, True]
    assert [p.text for p in segments[1].pieces] == ["Two <b>", "leaks", "</b>."]
    assert safe_url("javascript:alert(1)") is None and safe_url("https://x.org/a") == "https://x.org/a"


# ---------------------------------------------------------------- one result per question (issue 15)

def test_the_answers_of_one_page_are_one_result_with_the_others_by_byline(client):
    html = client.get("/?q=valvular+heart+disease+rheumatic+fever+Marfan").get_data(as_text=True)
    results = html.split('<li class="result">')[1:]
    titles = re.findall(r'<h3 class="title" id="result-\d+">(.*?)</h3>', html, re.S)
    assert titles.count("What is mitral regurgitation (MR)?") == 1, titles
    first = results[0]
    assert first.count('<p class="byline">') == 6  # the best answer's and the five others', expandable
    assert '<details class="also">' in first and "5 more answers to this question: from Douglas E. Severance; 4 unattributed" in first
    assert '<a href="/questions/mr-answer-5">All 6 answers to this question side by side</a>' in first


def test_more_from_this_article_numbers_every_passage_and_marks_the_shown_one(client):
    first = client.get("/?q=valvular+heart+disease+rheumatic+fever+Marfan").get_data(as_text=True) \
        .split('<li class="result">')[1]
    more = first[first.index('<details class="more">'):]
    assert re.findall(r'<li value="(\d+)"', more) == ["1", "2"]
    assert '<li value="2" class="shown"><em>Shown above.</em></li>' in more
    assert "Also known as mitral incompetence" in more  # the other passage, in full


def test_one_attribution_line_with_the_api_words(client):
    query = "valvular heart disease rheumatic fever Marfan"
    api = client.get("/api/v1/search", query_string={"q": query}).get_json()["results"]
    html = client.get("/", query_string={"q": query}).get_data(as_text=True)
    bylines = [re.sub(r"<[^>]+>", "", b).strip()
               for b in re.findall(r'<p class="byline">(.*?)</p>', html, re.S)]
    expected = [w for r in api for w in [r["attribution"], *(a["attribution"] for a in r["also"])]]
    assert bylines == expected
    assert "By David H. Adams, MD, Cardiothoracic Surgeon" in bylines
    assert "Unattributed answer on ‘What is mitral regurgitation (MR)?’" in bylines


@pytest.fixture(scope="module")
def nih_like_client(seed_index_dir, embedder, tmp_path_factory):
    """The seed index plus one NIH-shaped entry with section headings and a
    flattened list, imported as the importers do (text repair included)."""
    from indexer.sources.base import make_article
    index = tmp_path_factory.mktemp("nih-like") / "index"
    shutil.copytree(seed_index_dir, index)
    store = IndexStore(index)
    entry = make_article({"id": "valves-1", "title": "What is (are) Heart Valve Disease ?", "text": (
        "Overview\n\nHow the Heart Valves Work\n\nAt the start of each heartbeat, blood returning from the "
        "lungs fills the atria. The valves open to let the blood through.\n\nRisk factors for valve disease "
        "include - Rheumatic fever - Old age - Endocarditis, an infection of the heart lining")}, "nih.jsonl:1")
    generation = store.open_current()
    with store.lock():
        publish_articles(store, generation.articles() + [entry], generation.pages(), embedder)
    return create_app(Config(index_dir=index), embedder=embedder).test_client()


def test_headings_are_shown_as_headings_and_lists_as_items_not_glued_into_prose(nih_like_client):
    html = nih_like_client.get("/?q=heartbeat+blood+fills+the+atria+valves+open").get_data(as_text=True)
    first = first_result(html)
    assert "What is Heart Valve Disease?" in first
    assert '<p class="section">Overview: How the Heart Valves Work</p>' in first  # heading runs joined
    plain = re.sub(r"<[^>]+>", "", first)
    assert "Work At the start" not in plain and "Overview How" not in plain
    html = nih_like_client.get("/?q=risk+factors+rheumatic+fever+endocarditis").get_data(as_text=True)
    first = first_result(html)
    items = re.findall(r'<span class="item">(.*?)</span>', first, flags=re.S)
    assert [re.sub(r"<[^>]+>", "", item) for item in items] == [
        "Rheumatic fever", "Old age", "Endocarditis, an infection of the heart lining"]
    assert " - Old age" not in first


def test_the_api_gives_the_passage_heading_apart_from_its_text(nih_like_client):
    body = nih_like_client.get("/api/v1/search?q=heartbeat+blood+fills+the+atria&k=1").get_json()
    hit = body["results"][0]
    assert hit["passage"]["heading"] == "Overview: How the Heart Valves Work"
    assert hit["text"].startswith("At the start") and hit["article"]["source_title"] == \
        "What is (are) Heart Valve Disease ?"


def test_the_api_article_lists_its_repairs_and_keeps_the_source_text(nih_like_client):
    body = nih_like_client.get("/api/v1/articles/valves-1").get_json()
    kinds = {r["kind"]: r for r in body["repairs"]}
    assert kinds.keys() == {"list", "heading"}
    assert kinds["list"]["after"].endswith("include\n- Rheumatic fever\n- Old age\n- Endocarditis, an infection of "
                                           "the heart lining")
    assert "include - Rheumatic fever - Old age" in body["source_text"]
    assert [p["heading"] for p in body["passages"]][0] == "Overview: How the Heart Valves Work"
    seed = nih_like_client.get("/api/v1/articles/mr-answer-5").get_json()
    assert seed["repairs"] == [] and seed["source_text"] is None
