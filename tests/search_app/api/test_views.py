"""The JSON API through Flask's test client, on a real index and model."""
import pytest

from search_app import create_app
from search_app.config import Config
from indexer.index import IndexMissing
from search_app.search.live_index import IndexMismatch


def search(client, **params):
    return client.get("/api/v1/search", query_string=params)


def test_leaky_heart_valve_finds_mitral_regurgitation_first(client):
    body = search(client, q="leaky heart valve", k=5).get_json()
    assert body["query"] == "leaky heart valve"
    top = body["results"][0]
    assert top["rank"] == 1
    assert top["article"]["title"] == "What is mitral regurgitation (MR)?"
    assert top["article"]["id"].startswith("mr-answer-")
    assert "valve" in top["text"].lower()
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)


def test_dialysis_question_finds_the_kidney_foundation_teaser(client):
    body = search(client, q="heart problems for people on dialysis", k=3).get_json()
    teasers = [r for r in body["results"] if r["article"]["id"] == "mr-related-dialysis-risk"]
    assert teasers, body
    assert teasers[0]["source"] == "National Kidney Foundation"
    assert teasers[0]["attribution"] == "From National Kidney Foundation"
    assert teasers[0]["author"] == {"name": None, "credentials": None}
    assert teasers[0]["article"]["kind"] == "teaser"


def test_result_fields_and_attribution_of_a_signed_answer(client):
    body = search(client, q="valvular heart disease rheumatic fever Marfan syndrome risk", k=10).get_json()
    adams = [r for r in body["results"] if r["article"]["id"] == "mr-answer-5"]
    assert adams and adams[0]["rank"] == 1  # the best of the page's answers leads its question
    r = adams[0]
    assert r["author"] == {"name": "David H. Adams", "credentials": "MD, Cardiothoracic Surgeon"}
    assert r["attribution"] == "By David H. Adams, MD, Cardiothoracic Surgeon"
    assert set(r) >= {"rank", "score", "text", "article", "author", "source", "passage"}
    assert set(r["article"]) >= {"id", "title", "url"}
    assert body["generation"].startswith("gen-")


def test_unattributed_answers_say_so(client):
    body = search(client, q="systole diastole jet of blood", k=3).get_json()
    r = body["results"][0]
    assert r["article"]["id"] == "mr-answer-3"
    assert r["author"]["name"] is None
    assert r["attribution"] == "Unattributed answer on ‘What is mitral regurgitation (MR)?’"


def test_k_limits_results(client):
    assert len(search(client, q="heart", k=2).get_json()["results"]) == 2
    body = search(client, q="heart").get_json()  # the shipped corpus holds five questions
    assert len(body["results"]) == min(10, body["total"]) and body["total"] >= 5
    assert len(search(client, q="heart", group="false").get_json()["results"]) == 10


@pytest.mark.parametrize("params,code,field", [
    ({"q": ""}, "empty_query", "q"),
    ({"q": "   \t  "}, "empty_query", "q"),
    ({}, "empty_query", "q"),
    ({"q": "\x00\x01"}, "empty_query", "q"),
    ({"q": "a" * 501}, "query_too_long", "q"),
    ({"q": "heart " * 2000}, "query_too_long", "q"),
    ({"q": "heart", "k": 0}, "invalid_k", "k"),
    ({"q": "heart", "k": 51}, "invalid_k", "k"),
    ({"q": "heart", "k": "ten"}, "invalid_k", "k"),
    ({"q": "heart", "k": "-3"}, "invalid_k", "k"),
    ({"q": "heart", "offset": "1001"}, "invalid_offset", "offset"),
    ({"q": "heart", "mode": "fuzzy"}, "invalid_mode", "mode"),
])
def test_bad_input_gets_a_400_with_one_error_shape(client, params, code, field):
    response = search(client, **params)
    assert response.status_code == 400
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == code and error["field"] == field and error["message"]


def test_exactly_500_characters_is_accepted(client):
    assert search(client, q="a" * 500).status_code == 200


def test_unknown_api_route_and_wrong_method_are_json(client):
    response = client.get("/api/v1/nope")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    response = client.post("/api/v1/health")
    assert response.status_code == 405 and response.get_json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_search_by_post_with_a_json_body(client):
    response = client.post("/api/v1/search", json={"q": "leaky heart valve", "k": 5})
    body = response.get_json()
    assert response.status_code == 200 and len(body["results"]) == 5
    assert body["results"][0]["article"]["title"] == "What is mitral regurgitation (MR)?"
    assert client.post("/api/v1/search", data="q=heart").status_code == 415


def test_every_response_names_its_generation_and_request_id(client):
    response = search(client, q="heart", k=1)
    assert response.get_json()["generation"].startswith("gen-") and response.headers["X-Request-ID"]


def test_health_and_ready(client):
    assert client.get("/api/v1/health").get_json() == {"status": "ok"}
    ready = client.get("/api/v1/ready").get_json()
    assert ready["status"] == "ready" and ready["passages"] >= 10


def test_missing_index_is_a_clear_startup_error(tmp_path, embedder):
    with pytest.raises(IndexMissing, match="python -m indexer build"):
        create_app(Config(index_dir=tmp_path / "none"), embedder=embedder)


def test_index_built_with_another_model_is_a_clear_startup_error(seed_index_dir, embedder):
    class OtherModel:
        name, dimension, max_tokens = "some-other-model", 768, 512

        def encode(self, texts, **kwargs):
            raise AssertionError("not called")

    with pytest.raises(IndexMismatch, match="all-MiniLM-L6-v2.*rebuild it with `python -m indexer build"):
        create_app(Config(index_dir=seed_index_dir), embedder=OtherModel())


def test_security_headers_on_api_responses(client):
    response = search(client, q="heart")
    assert "script-src" not in response.headers["Content-Security-Policy"]  # no script allowed at all
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --------------------------------------------------------------------------- docs caching, 204 and 405 headers

@pytest.mark.parametrize("path", ["/openapi.json", "/api/docs"])
def test_docs_are_cacheable_and_revalidate_with_a_304(client, path):
    """Both documents change only with the code: an ETag and Cache-Control,
    and If-None-Match with that ETag is a 304 without the body."""
    first = client.get(path)
    etag = first.headers.get("ETag")
    assert first.status_code == 200 and etag, dict(first.headers)
    assert "max-age=" in first.headers.get("Cache-Control", "")
    again = client.get(path)
    assert again.headers.get("ETag") == etag and again.get_data() == first.get_data()
    revalidated = client.get(path, headers={"If-None-Match": etag})
    assert revalidated.status_code == 304 and revalidated.get_data() == b""
    assert "Content-Type" not in revalidated.headers


def test_options_204_has_no_content_type(client):
    response = client.options("/api/v1/search")
    assert response.status_code == 204 and response.get_data() == b""
    assert "Content-Type" not in response.headers, dict(response.headers)


def test_405_on_a_page_route_says_what_is_allowed(client):
    response = client.post("/")
    assert response.status_code == 405
    assert {"GET", "HEAD"} <= {m.strip() for m in response.headers.get("Allow", "").split(",")}, \
        dict(response.headers)


def test_the_api_says_when_nothing_is_a_good_match_as_the_page_does(client):
    for query in ("how do I bake sourdough bread", "best football team"):
        body = client.get("/api/v1/search", query_string={"q": query}).get_json()
        page = client.get("/", query_string={"q": query}).get_data(as_text=True)
        assert "No good match for" in page
        assert body["no_good_match"] is True and body["results"], query  # shown to clients, flagged
        assert not any(hit["good_match"] for hit in body["results"])
    body = client.get("/api/v1/search", query_string={"q": "leaky heart valve"}).get_json()
    assert body["no_good_match"] is False and body["results"][0]["good_match"] is True
    lexical = client.get("/api/v1/search", query_string={"q": "mitral", "mode": "lexical"}).get_json()
    assert lexical["no_good_match"] is False and all(hit["good_match"] for hit in lexical["results"])
