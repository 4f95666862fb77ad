"""The question page: every answer to one question side by side, searchable."""
from __future__ import annotations

import re


def test_every_answer_of_the_shipped_page_side_by_side_with_its_byline(client):
    response = client.get("/questions/mr-answer-3")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<h2 id="question-title" class="question-title">What is mitral regurgitation (MR)?</h2>' in html
    assert 'role="search"' in html and "6 answers" in html
    bylines = [re.sub(r"<[^>]+>", "", b).strip() for b in re.findall(r'<h3 class="byline"[^>]*>(.*?)</h3>', html, re.S)]
    assert len(bylines) == 6
    assert "By David H. Adams, MD, Cardiothoracic Surgeon" in bylines
    assert "By Douglas E. Severance, MD, Family Practitioner" in bylines
    assert bylines.count("Unattributed answer on ‘What is mitral regurgitation (MR)?’") == 4
    assert "should not be used for medical advice" in html  # the page's disclaimer


def test_a_whole_answer_is_shown_once(client):
    html = client.get("/questions/mr-answer-5").get_data(as_text=True)
    assert html.count("Also known as mitral incompetence") == 1 and "Marfan syndrome" in html


def test_an_unknown_article_is_a_404_page(client):
    response = client.get("/questions/no-such-article")
    assert response.status_code == 404 and "That page does not exist." in response.get_data(as_text=True)
    assert client.get("/questions/").status_code == 404
