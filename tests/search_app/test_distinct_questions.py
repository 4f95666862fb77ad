"""One result per question on real queries, over the shipped page plus the
NIH collection (issue 15): the top ten are ten distinct questions with clean
titles, on the readers' page and in the API, and paging counts questions.
Skipped cleanly when ../shared/ is absent."""
from __future__ import annotations

import re
import shutil

import pytest

from indexer.build import publish_articles
from indexer.index import IndexStore
from indexer.settings import DEFAULT_CORPUS_DIR, PROJECT_ROOT
from indexer.sources import load_corpus
from tests.conftest import MEDQUAD, require_shared

HEAVY_FIXTURES = {"combined_index_dir", "combined_app", "combined_client"}

QUERIES = ["what is mitral regurgitation", "crushing chest pain and my left arm is numb", "why do my ankles swell",
           "leaky heart valve", "mitral valve prolapse", "heart attack symptoms"]


@pytest.fixture(scope="session")
def combined_index_dir(tmp_path_factory, embedder):
    """corpus/ and the NIH corpus in one index, built once per session
    (embeddings cached under data/cache/, like the NIH index's)."""
    require_shared(MEDQUAD)
    corpus = load_corpus([DEFAULT_CORPUS_DIR, MEDQUAD])
    assert not corpus.errors, corpus.errors[:3]
    root = tmp_path_factory.mktemp("combined-index")
    store = IndexStore(root, cache_path=PROJECT_ROOT / "data" / "cache" / "medquad-embeddings.sqlite")
    with store.lock():
        publish_articles(store, corpus.articles, corpus.pages, embedder)
    return root


@pytest.fixture(scope="session")
def combined_app(combined_index_dir, embedder):
    from search_app import create_app
    from search_app.config import Config
    return create_app(Config(index_dir=combined_index_dir), embedder=embedder)


@pytest.fixture
def combined_client(combined_app):
    return combined_app.test_client()


def clean(title: str) -> bool:
    return "(are)" not in title and " ?" not in title and "? ?" not in title and "??" not in title


def page_titles(html: str) -> list[str]:
    found = re.findall(r'<h3 class="title" id="result-\d+">(.*?)</h3>', html, re.S)
    return [re.sub(r"<[^>]+>", "", t).strip() for t in found]


@pytest.mark.parametrize("query", QUERIES)
def test_the_top_ten_are_ten_distinct_questions_with_clean_titles(combined_client, query):
    api = combined_client.get("/api/v1/search", query_string={"q": query, "k": 10}).get_json()
    titles = [r["article"]["title"] for r in api["results"]]
    assert len(titles) == 10 and len({t.casefold() for t in titles}) == 10, titles
    assert all(map(clean, titles)), titles
    page = page_titles(combined_client.get("/", query_string={"q": query}).get_data(as_text=True))
    assert page == titles  # the page shows the API's titles, in the same order


def test_the_answers_of_the_shipped_page_are_one_result(combined_client):
    api = combined_client.get("/api/v1/search", query_string={"q": "what is mitral regurgitation", "k": 10})
    results = api.get_json()["results"]
    page = [r for r in results if r["page"] == "what-is-mitral-regurgitation" and r["article"]["kind"] == "answer"]
    assert len(page) == 1, [r["article"]["id"] for r in results]
    top = page[0]
    answers = {top["article"]["id"], *(a["article"]["id"] for a in top["also"])}
    assert answers == {f"mr-answer-{i}" for i in range(1, 7)}
    for also in top["also"]:  # nothing hidden: each collapsed answer with its passage, score and byline
        assert also["passage"]["text"] and isinstance(also["score"], float) and also["attribution"]
        assert also["score"] <= top["score"]
    assert "By David H. Adams, MD, Cardiothoracic Surgeon" in {a["attribution"] for a in top["also"]} | \
        {top["attribution"]}


def test_nih_copies_of_one_question_are_one_result_with_also_from(combined_client):
    results = combined_client.get("/api/v1/search", query_string={"q": "heart attack symptoms", "k": 10}).get_json()
    symptoms = [r for r in results["results"]
                if r["article"]["title"].casefold() == "what are the symptoms of heart attack?"]
    assert len(symptoms) == 1 and symptoms[0]["also"]
    assert {a["source"] for a in symptoms[0]["also"]} | {symptoms[0]["source"]} >= {
        "National Heart, Lung, and Blood Institute (NHLBI)"}
    html = combined_client.get("/", query_string={"q": "heart attack symptoms"}).get_data(as_text=True)
    assert '<details class="also">' in html and "more answers to this question: from " in html


def test_paging_and_total_count_questions(combined_client):
    def page(offset, k=10):
        return combined_client.get("/api/v1/search", query_string={"q": "heart attack symptoms", "k": k,
                                                                   "offset": offset}).get_json()
    first, second = page(0), page(10)
    keys = [r["article"]["title"].casefold() for r in first["results"] + second["results"]]
    assert len(keys) == len(set(keys)) == 20
    assert [r["rank"] for r in second["results"]] == list(range(11, 21))
    everything, offset = [], 0
    while offset is not None:
        answer = page(offset, 50)
        everything += answer["results"]
        offset = answer["next_offset"]
    assert len(everything) == first["total"]  # total counts questions, every one once
    assert len({r["article"]["title"].casefold() for r in everything}) == len(everything)


def test_results_link_to_every_answer_of_their_question(combined_client):
    html = combined_client.get("/", query_string={"q": "what is mitral regurgitation"}).get_data(as_text=True)
    link = re.search(r'<a href="(/questions/[^"]+)">All (\d+) answers to this question side by side</a>', html)
    assert link and int(link.group(2)) == 6
    question = combined_client.get(link.group(1))
    assert question.status_code == 200
    text = question.get_data(as_text=True)
    assert text.count('<li class="answer">') == 6 and 'role="search"' in text
    assert "David H. Adams" in text and "Douglas E. Severance" in text and "Unattributed answer on" in text


def test_an_unknown_question_is_a_404_page(combined_client):
    response = combined_client.get("/questions/no-such-article")
    assert response.status_code == 404 and "That page does not exist." in response.get_data(as_text=True)
