"""The urgent notice in the API (search_app/api/urgent_schema.py, filled by
api/responses.py from search_app/search/urgent.py): a search that describes
an emergency carries the same notice the readers' page shows, GET and POST;
any other search carries null."""
from __future__ import annotations

import html as html_lib

import pytest

SEARCH = "/api/v1/search"
HEART_ATTACK = "crushing chest pain and my left arm is numb"


def both_ways(client, q: str) -> list[dict]:
    answers = [client.get(SEARCH, query_string={"q": q}), client.post(SEARCH, json={"q": q})]
    assert [a.status_code for a in answers] == [200, 200]
    return [a.get_json() for a in answers]


def page_notice(client, q: str) -> str | None:
    page = client.get("/", query_string={"q": q}).get_data(as_text=True)
    if '<section class="urgent"' not in page:
        return None
    section = page.split('<section class="urgent"')[1].split("</section>")[0]
    return " ".join(html_lib.unescape(section).split())


def test_a_heart_attack_description_carries_the_notice(client):
    for body in both_ways(client, HEART_ATTACK):
        urgent = body["urgent"]
        assert urgent["level"] == "emergency"
        assert urgent["numbers"] == [{"number": "911", "region": "US"}, {"number": "112", "region": "Europe"}]
        assert urgent["conditions"] == ["a heart attack"]
        assert "911" in urgent["message"] and "112" in urgent["message"] and urgent["title"]
        assert body["results"], "the results come with the notice, not instead of it"


def test_the_api_says_what_the_page_says(client):
    for q in (HEART_ATTACK, "his face is drooping and his speech is slurred", "my husband is not breathing"):
        urgent = both_ways(client, q)[0]["urgent"]
        notice = page_notice(client, q)
        assert notice is not None, q
        assert urgent["title"] in notice
        assert f"can be a sign of {' or '.join(urgent['conditions'])}." in notice, (q, notice)


@pytest.mark.parametrize("q", ["leaky heart valve", "what are the symptoms of a heart attack"])
def test_general_questions_carry_null(client, q):
    for body in both_ways(client, q):
        assert "urgent" in body and body["urgent"] is None
    assert page_notice(client, q) is None
