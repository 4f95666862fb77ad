"""The /api/v1 contract through Flask's test client, on the real index and
model: every endpoint, every parameter, every error status (400, 404, 405,
413, 415, 429, 503, 500), request ids, the access log, CORS, and that
/openapi.json documents exactly the routes the app has. Every JSON body is
checked against the response model that documents it."""
from __future__ import annotations

import logging
import re
import shutil

import pytest
from pydantic import BaseModel

from indexer.index import IndexStore
from search_app import create_app
from search_app.api import params, schemas
from search_app.config import Config
from search_app.api.openapi import build_spec

SEARCH = "/api/v1/search"


def body_of(response, model: type[BaseModel]) -> dict:
    """The response's JSON, after checking it fits `model` exactly (no
    missing, extra or mistyped field)."""
    assert response.is_json, response.get_data(as_text=True)[:300]
    body = response.get_json()
    model.model_validate(body, strict=True)
    return body


def error_of(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    error = body_of(response, schemas.ErrorResponse)["error"]
    assert error["code"] == code and error["message"]
    assert error["field"] == field
    return error


def get_search(client, **params):
    response = client.get(SEARCH, query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return body_of(response, schemas.SearchResponse)


def post_search(client, body):
    return client.post(SEARCH, json=body)


@pytest.fixture
def make_app(seed_index_dir, embedder):
    def make(**settings):
        return create_app(Config(index_dir=seed_index_dir, **settings), embedder=embedder)
    return make


# --------------------------------------------------------------------------- GET/POST /api/v1/search

def test_search_response_has_everything_a_client_needs(client):
    body = get_search(client, q="leaky heart valve", k=3)
    assert body["query"] == "leaky heart valve" and body["k"] == 3 and body["offset"] == 0
    assert body["mode"] == "hybrid" and body["generation"].startswith("gen-") and body["took_ms"] > 0
    assert body["total"] >= len(body["results"]) == 3 and body["next_offset"] == 3
    assert body["filters"] == {"author": None, "source": None, "article": None}
    assert "regurgitation" in " ".join(body["interpreted_as"]["expansions"])
    top = body["results"][0]
    assert top["rank"] == 1 and top["article"]["title"] == "What is mitral regurgitation (MR)?"
    assert top["matched_sentence"]["text"] in top["text"]
    assert top["attribution"] and isinstance(top["similarity"], float)


def test_post_with_a_json_body_gives_the_same_results_as_get(client):
    got = get_search(client, q="leaky heart valve", k=4, mode="dense")
    response = post_search(client, {"q": "leaky heart valve", "k": 4, "mode": "dense"})
    posted = body_of(response, schemas.SearchResponse)
    strip = lambda b: {k: v for k, v in b.items() if k != "took_ms"}  # noqa: E731
    assert strip(posted) == strip(got)


def test_k_and_offset_page_through_one_ranking(client):
    whole = get_search(client, q="heart", k=4)["results"]
    first = get_search(client, q="heart", k=2)
    second = get_search(client, q="heart", k=2, offset=first["next_offset"])
    assert [r["article"]["id"] for r in first["results"] + second["results"]] == [r["article"]["id"] for r in whole]
    assert [r["rank"] for r in second["results"]] == [3, 4]
    last = get_search(client, q="heart", k=50)
    assert last["next_offset"] is None and len(last["results"]) == last["total"]
    assert get_search(client, q="heart", offset=1000)["results"] == []


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_every_mode(client, mode):
    body = get_search(client, q="mitral valve leak", k=3, mode=mode)
    assert body["mode"] == mode and body["results"]
    if mode == "lexical":
        assert all(r["similarity"] is None for r in body["results"])


def test_group_false_gives_one_result_per_passage(client):
    grouped = get_search(client, q="mitral regurgitation", k=50)
    passages = get_search(client, q="mitral regurgitation", k=50, group="false")
    assert all(r["other_passages"] == [] for r in passages["results"])
    ids = [r["passage"]["id"] for r in passages["results"]]
    assert len(ids) == len(set(ids))
    assert passages["total"] >= grouped["total"]


def test_filters_by_source_author_and_article(client):
    kidney = get_search(client, q="heart", source="kidney foundation")
    assert kidney["filters"]["source"] == "kidney foundation" and kidney["results"]
    assert all("Kidney Foundation" in r["source"] for r in kidney["results"])
    assert kidney["total"] == len(kidney["results"])
    assert [r["rank"] for r in kidney["results"]] == list(range(1, len(kidney["results"]) + 1))

    adams = get_search(client, q="heart valve", author="  ADAMS ")
    assert adams["filters"]["author"] == "ADAMS"
    assert adams["results"] and all(r["author"]["name"] == "David H. Adams" for r in adams["results"])

    one = get_search(client, q="heart", article="mr-answer-3", group="false")
    assert one["results"] and {r["article"]["id"] for r in one["results"]} == {"mr-answer-3"}

    nobody = get_search(client, q="heart", author="Nobody Atall")
    assert nobody["results"] == [] and nobody["total"] == 0 and nobody["next_offset"] is None


def test_filtered_results_page_with_offset(client):
    everything = get_search(client, q="heart valve", author="d", k=50, group="false")
    assert everything["total"] >= 2
    second = get_search(client, q="heart valve", author="d", k=1, offset=1, group="false")
    assert second["results"][0]["rank"] == 2
    assert second["results"][0]["passage"] == everything["results"][1]["passage"]


def test_empty_values_and_unknown_parameters_are_ignored(client):
    plain = get_search(client, q="heart")
    same = get_search(client, q="heart", k="", offset="", mode="", group="", author="", source="", article="",
                      colour="blue")
    assert [r["passage"] for r in same["results"]] == [r["passage"] for r in plain["results"]]
    assert same["k"] == 10 and same["mode"] == "hybrid"


@pytest.mark.parametrize("params,code,field", [
    ({}, "empty_query", "q"),
    ({"q": ""}, "empty_query", "q"),
    ({"q": " \t\n"}, "empty_query", "q"),
    ({"q": "a" * 501}, "query_too_long", "q"),
    ({"q": "heart", "k": "0"}, "invalid_k", "k"),
    ({"q": "heart", "k": "51"}, "invalid_k", "k"),
    ({"q": "heart", "k": "2.5"}, "invalid_k", "k"),
    ({"q": "heart", "k": "ten"}, "invalid_k", "k"),
    ({"q": "heart", "offset": "-1"}, "invalid_offset", "offset"),
    ({"q": "heart", "offset": "1001"}, "invalid_offset", "offset"),
    ({"q": "heart", "offset": "x"}, "invalid_offset", "offset"),
    ({"q": "heart", "mode": "fuzzy"}, "invalid_mode", "mode"),
    ({"q": "heart", "mode": "HYBRID"}, "invalid_mode", "mode"),
    ({"q": "heart", "group": "maybe"}, "invalid_group", "group"),
    ({"q": "heart", "author": "x" * 201}, "invalid_author", "author"),
    ({"q": "heart", "source": "x" * 201}, "invalid_source", "source"),
    ({"q": "heart", "article": "x" * 501}, "invalid_article", "article"),
    ({"q": "", "k": "0"}, "empty_query", "q"),               # the first bad parameter is reported
    ({"q": "heart", "k": "0", "mode": "x"}, "invalid_k", "k"),
])
def test_search_parameter_errors(client, params, code, field):
    error_of(client.get(SEARCH, query_string=params), 400, code, field)


def test_messages_are_the_ones_clients_already_know(client):
    assert error_of(client.get(SEARCH, query_string={"q": "x", "k": 99}), 400, "invalid_k", "k")["message"] == \
        "k must be from 1 to 50."
    assert error_of(client.get(SEARCH, query_string={"q": "x", "k": "a"}), 400, "invalid_k", "k")["message"] == \
        "k must be a whole number from 1 to 50."
    assert error_of(client.get(SEARCH, query_string={"q": ""}), 400, "empty_query", "q")["message"] == \
        "Type a question or a few words to search for."
    assert error_of(client.get(SEARCH, query_string={"q": "x", "mode": "a"}), 400, "invalid_mode", "mode")[
        "message"] == "mode must be one of hybrid, dense, lexical."


@pytest.mark.parametrize("body,code,field", [
    ({}, "empty_query", "q"),
    ({"q": None}, "empty_query", "q"),
    ({"q": 5}, "invalid_query", "q"),
    ({"q": ["heart"]}, "invalid_query", "q"),
    ({"q": "   "}, "empty_query", "q"),
    ({"q": "a" * 501}, "query_too_long", "q"),
    ({"q": "heart", "k": "5"}, "invalid_k", "k"),             # JSON is checked strictly
    ({"q": "heart", "k": 5.0}, "invalid_k", "k"),
    ({"q": "heart", "k": True}, "invalid_k", "k"),
    ({"q": "heart", "k": 0}, "invalid_k", "k"),
    ({"q": "heart", "offset": -1}, "invalid_offset", "offset"),
    ({"q": "heart", "offset": "1"}, "invalid_offset", "offset"),
    ({"q": "heart", "mode": 1}, "invalid_mode", "mode"),
    ({"q": "heart", "mode": "everything"}, "invalid_mode", "mode"),
    ({"q": "heart", "group": "false"}, "invalid_group", "group"),
    ({"q": "heart", "author": 7}, "invalid_author", "author"),
    ({"q": "heart", "source": {"$ne": None}}, "invalid_source", "source"),
    ({"q": "heart", "article": ["mr-answer-1"]}, "invalid_article", "article"),
])
def test_post_body_errors_name_the_field(client, body, code, field):
    error_of(post_search(client, body), 400, code, field)


def test_post_body_nulls_mean_not_given_and_unknown_fields_are_ignored(client):
    response = post_search(client, {"q": "heart", "k": None, "offset": None, "mode": None, "group": None,
                                    "author": None, "source": None, "article": None, "colour": "blue"})
    body = body_of(response, schemas.SearchResponse)
    assert body["k"] == 10 and body["offset"] == 0 and body["mode"] == "hybrid"
    assert len(body["results"]) == min(10, body["total"]) and body["total"] >= 5  # five questions in corpus/


@pytest.mark.parametrize("data,code", [
    (b"{", "invalid_json"),
    (b"\xff\xfe{}", "invalid_json"),
    (b"[" * 30_000 + b"]" * 30_000, "invalid_json"),
    (b'["heart"]', "invalid_body"),
    (b'"heart"', "invalid_body"),
    (b"null", "invalid_body"),
])
def test_post_body_that_is_not_a_json_object_is_a_400(client, data, code):
    error_of(client.post(SEARCH, data=data, content_type="application/json"), 400, code, None)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
def test_post_without_json_content_type_is_a_415(client, content_type):
    kwargs = {"content_type": content_type} if content_type else {}
    response = client.post(SEARCH, data=b'{"q": "heart"}', **kwargs)
    error_of(response, 415, "unsupported_media_type")


def test_json_content_type_with_charset_or_suffix_is_accepted(client):
    for content_type in ("application/json; charset=utf-8", "application/vnd.heartsearch+json"):
        response = client.post(SEARCH, data=b'{"q": "heart", "k": 1}', content_type=content_type)
        assert len(body_of(response, schemas.SearchResponse)["results"]) == 1


def test_body_over_the_limit_is_a_413(client, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = b'{"q": "' + b"a" * limit + b'"}'
    error_of(client.post(SEARCH, data=body, content_type="application/json"), 413, "body_too_large")


# --------------------------------------------------------------------------- passages and articles

def test_passage_by_id(client):
    hit = get_search(client, q="dialysis", k=1)["results"][0]
    response = client.get(f"/api/v1/passages/{hit['passage']['id']}")
    passage = body_of(response, schemas.PassageDetail)
    assert passage["text"] == hit["text"] and passage["article"] == hit["article"]
    assert passage["attribution"] == hit["attribution"] and passage["source"] == hit["source"]
    assert passage["position"] == hit["passage"]["position"] and passage["of"] == hit["passage"]["of"]
    assert " ".join(passage["sentences"]).strip()
    assert passage["generation"].startswith("gen-")


@pytest.mark.parametrize("path", ["/api/v1/passages/999999", "/api/v1/passages/abc", "/api/v1/passages/-1",
                                  "/api/v1/passages/1.5", "/api/v1/passages/99999999999999999999999",
                                  "/api/v1/passages/", "/api/v1/articles/no-such-article",
                                  "/api/v1/articles/%00", "/api/v1/nope", "/api/v2/search?q=heart", "/api/"])
def test_unknown_ids_and_addresses_are_a_json_404(client, path):
    error_of(client.get(path), 404, "not_found")


def test_article_list_pages_and_counts(client, seed_index_dir):
    generation = IndexStore(seed_index_dir).open_current()
    all_ids = sorted(a.id for a in generation.articles())
    listing = body_of(client.get("/api/v1/articles", query_string={"limit": 100}), schemas.ArticleList)
    assert listing["total"] == len(all_ids) and [a["id"] for a in listing["articles"]] == all_ids
    assert listing["next_offset"] is None and listing["limit"] == 100
    assert sum(a["passages"] for a in listing["articles"]) == generation.passage_count
    first = body_of(client.get("/api/v1/articles", query_string={"limit": 3}), schemas.ArticleList)
    rest = body_of(client.get("/api/v1/articles", query_string={"offset": first["next_offset"], "limit": 100}),
                   schemas.ArticleList)
    assert [a["id"] for a in first["articles"] + rest["articles"]] == all_ids
    assert body_of(client.get("/api/v1/articles"), schemas.ArticleList)["limit"] == 20


def test_article_list_filters(client):
    kidney = body_of(client.get("/api/v1/articles?source=KIDNEY"), schemas.ArticleList)
    assert kidney["total"] >= 1 and all("Kidney" in a["source"] for a in kidney["articles"])
    assert kidney["filters"] == {"author": None, "source": "KIDNEY"}
    adams = body_of(client.get("/api/v1/articles?author=adams"), schemas.ArticleList)
    assert [a["author"]["name"] for a in adams["articles"]] == ["David H. Adams"] * adams["total"]
    assert adams["articles"][0]["attribution"] == "By David H. Adams, MD, Cardiothoracic Surgeon"
    none = body_of(client.get("/api/v1/articles?author=nobody&source=kidney"), schemas.ArticleList)
    assert none["total"] == 0 and none["articles"] == []


@pytest.mark.parametrize("params,code,field", [
    ({"limit": "0"}, "invalid_limit", "limit"),
    ({"limit": "101"}, "invalid_limit", "limit"),
    ({"limit": "many"}, "invalid_limit", "limit"),
    ({"offset": "-1"}, "invalid_offset", "offset"),
    ({"offset": "x"}, "invalid_offset", "offset"),
    ({"author": "x" * 201}, "invalid_author", "author"),
    ({"source": "x" * 201}, "invalid_source", "source"),
])
def test_article_list_parameter_errors(client, params, code, field):
    error_of(client.get("/api/v1/articles", query_string=params), 400, code, field)


def test_article_with_its_passages(client):
    listing = body_of(client.get("/api/v1/articles?limit=100"), schemas.ArticleList)
    summary = next(a for a in listing["articles"] if a["passages"] > 1)
    article = body_of(client.get(f"/api/v1/articles/{summary['id']}"), schemas.ArticleDetail)
    for key in ("id", "title", "kind", "url", "author", "source", "attribution", "page"):
        assert article[key] == summary[key], key
    assert article["passage_count"] == summary["passages"] == len(article["passages"])
    assert [p["position"] for p in article["passages"]] == list(range(len(article["passages"])))
    passage = body_of(client.get(f"/api/v1/passages/{article['passages'][1]['id']}"), schemas.PassageDetail)
    assert passage["text"] == article["passages"][1]["text"] and passage["article"]["id"] == article["id"]
    signed = body_of(client.get("/api/v1/articles/mr-answer-5"), schemas.ArticleDetail)
    assert signed["author"] == {"name": "David H. Adams", "credentials": "MD, Cardiothoracic Surgeon"}
    assert signed["disclaimer"]  # the source page's disclaimer travels with its articles


# --------------------------------------------------------------------------- health and ready

def test_health_and_ready(client, seed_index_dir):
    assert body_of(client.get("/api/v1/health"), schemas.Health) == {"status": "ok"}
    ready = body_of(client.get("/api/v1/ready"), schemas.Ready)
    live = IndexStore(seed_index_dir).open_current()
    assert ready == {"status": "ready", "generation": live.name, "passages": live.passage_count,
                     "model": "all-MiniLM-L6-v2"}


# --------------------------------------------------------------------------- 405, 503, 500

@pytest.mark.parametrize("method,path,allowed", [
    ("post", "/api/v1/health", "GET, HEAD, OPTIONS"),
    ("delete", "/api/v1/search", "GET, HEAD, OPTIONS, POST"),
    ("put", "/api/v1/articles", "GET, HEAD, OPTIONS"),
    ("patch", "/api/v1/articles/mr-answer-1", "GET, HEAD, OPTIONS"),
    ("post", "/api/v1/passages/1", "GET, HEAD, OPTIONS"),
    ("post", "/api/v1/ready", "GET, HEAD, OPTIONS"),
])
def test_wrong_method_is_a_json_405_naming_the_right_ones(client, method, path, allowed):
    response = getattr(client, method)(path, json={"q": "heart"})
    error_of(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == allowed


class LostIndex:
    """A searcher whose index folder has lost its CURRENT: every look-up asks
    the store, which says the index is missing."""

    def __init__(self, store: IndexStore):
        self.store = store

    @property
    def generation(self):
        return self.store.open_current()

    def search(self, *args, **kwargs):
        return self.generation


def test_index_unavailable_is_a_503_with_retry_after(make_app, seed_index_dir, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(seed_index_dir, index)
    app = make_app()
    (index / "CURRENT").unlink()
    lost = LostIndex(IndexStore(index))
    app.extensions["live_index"] = app.extensions["searcher"].index = lost
    client = app.test_client()
    for path in (SEARCH + "?q=heart", "/api/v1/passages/1", "/api/v1/articles", "/api/v1/articles/mr-answer-1",
                 "/api/v1/ready"):
        response = client.get(path)
        error_of(response, 503, "index_unavailable")
        assert int(response.headers["Retry-After"]) >= 1
        assert str(index) not in response.get_data(as_text=True)  # no server paths in answers
    error_of(client.post(SEARCH, json={"q": "heart"}), 503, "index_unavailable")
    assert client.get("/api/v1/health").status_code == 200  # liveness is not readiness


def test_unexpected_failure_is_a_json_500_that_leaks_nothing(make_app, monkeypatch):
    app = make_app()

    def broken(*args, **kwargs):
        raise RuntimeError("faiss exploded: /secret/path")
    monkeypatch.setattr(app.extensions["searcher"], "search", broken)
    response = app.test_client().get(SEARCH, query_string={"q": "heart"})
    error = error_of(response, 500, "internal_error")
    assert "secret" not in error["message"] and "Traceback" not in response.get_data(as_text=True)


# --------------------------------------------------------------------------- rate limiting (429)

def test_rate_limit_per_address_with_retry_after(make_app):
    app = make_app(rate_limit=3)
    client = app.test_client()
    for remaining in (2, 1, 0):
        response = client.get("/api/v1/articles")
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "3"
        assert response.headers["X-RateLimit-Remaining"] == str(remaining)
    for request in (lambda c: c.get(SEARCH + "?q=heart"), lambda c: c.post(SEARCH, json={"q": "heart"}),
                    lambda c: c.get("/api/v1/nope")):
        response = request(client)
        error = error_of(response, 429, "rate_limited")
        assert 1 <= int(response.headers["Retry-After"]) <= 20 and "3 a minute" in error["message"]
    # health and ready are never limited; nor are other addresses
    assert client.get("/api/v1/health").status_code == 200 and client.get("/api/v1/ready").status_code == 200
    other = client.get("/api/v1/articles", environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert other.status_code == 200
    # nor is the readers' page (it is not part of the API)
    assert client.get("/").status_code == 200


def test_rate_limiting_is_off_when_configured_so(client):
    for _ in range(5):
        response = client.get("/api/v1/articles")
        assert response.status_code == 200 and "X-RateLimit-Limit" not in response.headers


def test_server_default_config_has_rate_limiting_on(monkeypatch):
    monkeypatch.delenv("HEARTSEARCH_RATE_LIMIT", raising=False)
    assert Config.from_env().rate_limit == 120
    monkeypatch.setenv("HEARTSEARCH_RATE_LIMIT", "0")
    assert Config.from_env().rate_limit == 0
    monkeypatch.setenv("HEARTSEARCH_RATE_LIMIT", "-5")
    with pytest.raises(ValueError, match="HEARTSEARCH_RATE_LIMIT"):
        Config.from_env()


def test_token_bucket_refills_and_says_how_long_to_wait():
    from search_app.api.ratelimit import RateLimiter
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])  # one a second, bursts of 60
    assert all(limiter.take("a").allowed for _ in range(60))
    refused = limiter.take("a")
    assert not refused.allowed and refused.retry_after == 1
    now[0] += 1.0
    assert limiter.take("a").allowed and not limiter.take("a").allowed
    assert limiter.take("b").allowed
    small = RateLimiter(6, max_clients=3, clock=lambda: now[0])
    for address in "pqrst":
        small.take(address)
    assert len(small) <= 3  # bounded memory


# --------------------------------------------------------------------------- request ids, access log, CORS

def test_request_id_is_echoed_when_sane_and_made_otherwise(client):
    response = client.get("/api/v1/health", headers={"X-Request-ID": "trace-42.a:b"})
    assert response.headers["X-Request-ID"] == "trace-42.a:b"
    for offered in ("", "has space", "x" * 200, "<script>", "ünïcode"):
        response = client.get("/api/v1/health", headers={"X-Request-ID": offered})
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"]), offered
    ids = {client.get("/api/v1/health").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3
    assert client.get("/api/v1/nope").headers["X-Request-ID"]  # errors too


def test_one_access_log_line_per_request_without_the_query(client, caplog):
    caplog.set_level(logging.INFO, logger="heartsearch.access")
    with client.get(SEARCH, query_string={"q": "my private symptom"}, headers={"X-Request-ID": "abc123"}):
        pass
    with client.get("/api/v1/articles/nope"):
        pass
    lines = [r.getMessage() for r in caplog.records if r.name == "heartsearch.access"]
    assert len(lines) == 2, lines
    assert re.fullmatch(r"GET /api/v1/search 200 \d+\.\dms id=abc123 addr=127\.0\.0\.1", lines[0]), lines[0]
    assert lines[1].startswith("GET /api/v1/articles/nope 404 ")
    assert "private" not in " ".join(lines)


def test_cors_for_configured_origins_only(make_app, client):
    app = make_app(cors_origins=("https://clinic.example",))
    cors = app.test_client()
    allowed = cors.get("/api/v1/health", headers={"Origin": "https://clinic.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://clinic.example"
    assert "X-Request-ID" in allowed.headers["Access-Control-Expose-Headers"]
    assert "Origin" in allowed.headers["Vary"]
    other = cors.get("/api/v1/health", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = cors.options(SEARCH, headers={"Origin": "https://clinic.example",
                                              "Access-Control-Request-Method": "POST",
                                              "Access-Control-Request-Headers": "Content-Type"})
    assert preflight.status_code == 204  # no content; Allow lists the methods (issue 13, item 10)
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    spec = cors.get("/openapi.json", headers={"Origin": "https://clinic.example"})
    assert spec.headers["Access-Control-Allow-Origin"] == "https://clinic.example"
    # default: no origin is allowed
    assert "Access-Control-Allow-Origin" not in client.get("/api/v1/health",
                                                           headers={"Origin": "https://clinic.example"}).headers
    anyone = make_app(cors_origins=("*",)).test_client()
    assert anyone.get(SEARCH + "?q=heart", headers={"Origin": "https://x.example"}).headers[
        "Access-Control-Allow-Origin"] == "*"


def test_cors_origins_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("HEARTSEARCH_CORS_ORIGINS", "https://a.example/, https://b.example")
    assert Config.from_env().cors_origins == ("https://a.example", "https://b.example")
    monkeypatch.delenv("HEARTSEARCH_CORS_ORIGINS")
    assert Config.from_env().cors_origins == ()


# --------------------------------------------------------------------------- the OpenAPI document and docs page

def flask_path(rule: str) -> str:
    return re.sub(r"<(?:[^<>:]+:)?([^<>:]+)>", r"{\1}", rule)


def test_openapi_documents_exactly_the_routes_the_app_has(app, client):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0" and spec == build_spec(app.config["HEARTSEARCH"])
    routes = {(flask_path(rule.rule), method.lower()) for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/v1") for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, methods in spec["paths"].items() for method in methods}
    assert documented == routes


def test_openapi_parameters_are_the_validating_models(app, client):
    spec = client.get("/openapi.json").get_json()
    search = spec["paths"]["/api/v1/search"]
    names = [p["name"] for p in search["get"]["parameters"] if "name" in p]
    model = params.search_params_model(app.config["HEARTSEARCH"])
    assert names == list(model.model_fields)
    assert search["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"] == \
        "#/components/schemas/SearchParams"
    assert spec["components"]["schemas"]["SearchParams"] == model.model_json_schema()
    q = next(p for p in search["get"]["parameters"] if p.get("name") == "q")
    assert q["required"] and q["schema"]["maxLength"] == 500
    k = next(p for p in search["get"]["parameters"] if p.get("name") == "k")
    assert (k["schema"]["minimum"], k["schema"]["maximum"], k["schema"]["default"]) == (1, 50, 10)
    listing = [p["name"] for p in spec["paths"]["/api/v1/articles"]["get"]["parameters"] if "name" in p]
    assert listing == list(params.ArticleListParams.model_fields)


def test_openapi_follows_the_configuration(make_app):
    app = make_app(max_query_chars=80)
    spec = app.test_client().get("/openapi.json").get_json()
    q = next(p for p in spec["paths"]["/api/v1/search"]["get"]["parameters"] if p.get("name") == "q")
    assert q["schema"]["maxLength"] == 80
    error_of(app.test_client().get(SEARCH, query_string={"q": "a" * 81}), 400, "query_too_long", "q")


def test_openapi_documents_every_error_status_each_operation_can_give(client):
    spec = client.get("/openapi.json").get_json()
    expected = {
        ("/api/v1/search", "get"): {"200", "400", "429", "503"},
        ("/api/v1/search", "post"): {"200", "400", "408", "413", "415", "429", "503"},
        ("/api/v1/passages/{passage_id}", "get"): {"200", "404", "429", "503"},
        ("/api/v1/articles", "get"): {"200", "400", "429", "503"},
        ("/api/v1/articles/{article_id}", "get"): {"200", "404", "429", "503"},
        ("/api/v1/health", "get"): {"200"},
        ("/api/v1/ready", "get"): {"200", "503"},
    }
    for (path, method), statuses in expected.items():   # and every operation: wrong method, our fault
        assert set(spec["paths"][path][method]["responses"]) == statuses | {"405", "500"}, (path, method)
    for response in spec["components"]["responses"].values():
        assert response["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ErrorResponse"
    assert "Retry-After" in spec["components"]["responses"]["TooManyRequests"]["headers"]


def test_docs_page_is_readable_html_made_from_the_spec(client):
    response = client.get("/api/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    spec = client.get("/openapi.json").get_json()
    for path, methods in spec["paths"].items():
        for method in methods:
            assert f"{method.upper()} {path}" in html
    for name in ("q", "k", "offset", "mode", "author", "source", "article", "limit", "X-Request-ID"):
        assert f"<code>{name}</code>" in html
    assert "curl" in html and "/openapi.json" in html
    # works under the page's CSP: no script, no inline style, nothing from another host
    assert "<script" not in html and "style=" not in html and "<style" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "style-src 'self'" in response.headers["Content-Security-Policy"]


# --------------------------------------------------------------------------- over HTTP, the real server

def test_real_server_limits_rate_echoes_request_ids_and_keeps_the_error_shape(seed_index_dir):
    import json
    import urllib.error
    import urllib.request

    from tests.servers import running_server

    def call(url, data=None, headers=None, method=None):
        request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.headers, json.loads(response.read())
        except urllib.error.HTTPError as err:
            return err.code, err.headers, json.loads(err.read())

    with running_server(seed_index_dir, HEARTSEARCH_RATE_LIMIT="4") as base:
        status, headers, _ = call(base + "/api/v1/articles", headers={"X-Request-ID": "e2e-1"})
        assert status == 200 and headers["X-Request-ID"] == "e2e-1" and headers["Server"] == "HeartSearch"
        status, headers, body = call(base + SEARCH, data=b'{"q": "' + b"a" * 70_000 + b'"}',
                                     headers={"Content-Type": "application/json"})
        assert status == 413 and body["error"]["code"] == "body_too_large"
        status, headers, body = call(base + SEARCH, method="DELETE")
        assert status == 405 and body["error"]["code"] == "method_not_allowed"  # every /api/v1 request counts: 3 used
        status, headers, body = call(base + SEARCH + "?q=heart")
        assert status == 200
        status, headers, body = call(base + SEARCH + "?q=heart")
        assert status == 429 and body["error"]["code"] == "rate_limited" and int(headers["Retry-After"]) >= 1
        status, headers, body = call(base + "/api/v1/ready")
        assert status == 200 and body["status"] == "ready"
