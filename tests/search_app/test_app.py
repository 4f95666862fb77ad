"""search_app/app.py: response compression (flask-compress). HTML, CSS and
JSON are sent brotli- or gzip-compressed to a client that asks, and decode to
exactly the body sent to one that does not; tiny bodies are not compressed;
ETags name the variant, so conditional requests stay right."""
from __future__ import annotations

import gzip

import brotli
import pytest

DECODE = {"gzip": gzip.decompress, "br": brotli.decompress}
COMPRESSED = ["/", "/?q=leaky+heart+valve", "/static/style.css", "/api/v1/search?q=leaky+heart+valve",
              "/api/v1/articles", "/openapi.json", "/api/docs"]


@pytest.mark.parametrize("path", COMPRESSED)
@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_pages_css_and_json_are_compressed_and_decode_to_the_same_body(client, path, encoding):
    plain = client.get(path)
    packed = client.get(path, headers={"Accept-Encoding": encoding})
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == encoding
    assert "accept-encoding" in packed.headers["Vary"].lower() and "accept-encoding" in plain.headers["Vary"].lower()
    body = DECODE[encoding](packed.get_data())
    if path.startswith("/api/v1/search"):   # took_ms differs between two searches
        body, expected = (b.replace(b'"took_ms"', b"") for b in (body, plain.get_data()))
        assert len(body) > 0.8 * len(expected)
    else:
        assert body == plain.get_data()
    assert len(packed.get_data()) < len(plain.get_data())
    assert int(packed.headers["Content-Length"]) == len(packed.get_data())


def test_a_browser_accept_encoding_gets_brotli(client):
    response = client.get("/", headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert response.headers["Content-Encoding"] == "br"


def test_tiny_bodies_are_sent_as_they_are(client):
    response = client.get("/api/v1/health", headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200 and "Content-Encoding" not in response.headers
    response = client.get("/robots.txt", headers={"Accept-Encoding": "gzip, br"})
    assert "Content-Encoding" not in response.headers


@pytest.mark.parametrize("path", ["/openapi.json", "/api/docs", "/static/style.css"])
def test_etags_name_the_variant_and_revalidate_with_a_304(client, path):
    plain = client.get(path)
    packed = client.get(path, headers={"Accept-Encoding": "br"})
    assert packed.headers["ETag"] != plain.headers["ETag"] and packed.headers["ETag"].endswith(':br"')
    again = client.get(path, headers={"Accept-Encoding": "br", "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b"" and "Content-Type" not in again.headers
    again = client.get(path, headers={"If-None-Match": plain.headers["ETag"]})
    assert again.status_code == 304

