"""The readers' page, rendered by the real app on the real index."""
import re
import shutil

from indexer.build import publish_articles
from indexer.models import Article
from indexer.store import IndexStore
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
    assert "unattributed" in html.split('<li class="result">')[1]


def test_query_is_kept_in_the_box_and_empty_query_is_a_friendly_message(client):
    html = client.get("/?q=leaky+valve").get_data(as_text=True)
    assert 'value="leaky valve"' in html
    response = client.get("/?q=+++")
    assert response.status_code == 400
    assert "Type a question" in response.get_data(as_text=True)


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
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert "&lt;b&gt;Mallory&lt;/b&gt;" in html
    assert not re.search(r"<script|<img|<b>M", html)
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
