"""search_app/api/openapi.py: the OpenAPI document, built from the same
pydantic models that validate requests. Checked without an app or a model:
every reference resolves, every example is valid against its own schema,
and the documented limits follow the configuration.
(test_contract.py checks the document against the running app.)"""
from __future__ import annotations

import json

import jsonschema_rs
import pytest

from search_app.api.openapi import build_spec
from search_app.config import Config


@pytest.fixture(scope="module")
def spec():
    return build_spec(Config())


def references(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


def resolve(spec: dict, ref: str):
    assert ref.startswith("#/"), ref
    node = spec
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_every_reference_resolves(spec):
    refs = set(references(spec))
    assert len(refs) > 10
    for ref in refs:
        resolve(spec, ref)


def test_every_operation_has_a_unique_id_and_answers_errors_in_one_shape(spec):
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids)) == 7
    for name, response in spec["components"]["responses"].items():
        assert response["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse"), name


def test_the_post_example_is_valid_against_its_request_schema(spec):
    body = spec["paths"]["/api/v1/search"]["post"]["requestBody"]["content"]["application/json"]
    document = {**resolve(spec, body["schema"]["$ref"]), "$defs": spec["components"]["schemas"]}
    local = json.loads(json.dumps(document).replace("#/components/schemas/", "#/$defs/"))
    validator = jsonschema_rs.validator_for(local)
    assert validator.is_valid(body["example"])
    assert not validator.is_valid({**body["example"], "k": "5"})   # strict: a number, not text
    assert not validator.is_valid({"k": 5})                          # q is required


def test_documented_limits_follow_the_configuration():
    def k_maximum(config):
        parameters = build_spec(config)["paths"]["/api/v1/search"]["get"]["parameters"]
        k = next(p for p in parameters if p.get("name") == "k")
        return k["schema"]["maximum"]
    assert k_maximum(Config()) == Config().max_k
    assert k_maximum(Config(max_k=20)) == 20


# --------------------------------------------------------------------------- lint (Spectral's rules, here)

def test_info_names_a_contact(spec):
    assert spec["info"]["contact"]["name"]


def test_every_operation_declares_405_and_500_with_the_error_body(spec):
    """Generated clients parse only what is declared: an undeclared 405 or 500 raises instead."""
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            for status in ("405", "500"):
                response = resolve(spec, op["responses"][status]["$ref"])
                assert response["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse"), \
                    (path, method, status)
    assert "Allow" in resolve(spec, "#/components/responses/MethodNotAllowed")["headers"]


def test_every_component_schema_is_used(spec):
    """No orphan schemas (Spectral's oas3-unused-component): each is reached from an operation."""
    schemas = spec["components"]["schemas"]
    reached, todo = set(), [r for r in references(spec["paths"])] + [r for r in references(spec["components"]
                                                                                          ["responses"])]
    while todo:
        ref = todo.pop()
        if ref.startswith("#/components/schemas/") and ref not in reached:
            reached.add(ref)
            todo.extend(references(resolve(spec, ref)))
    assert {ref.rsplit("/", 1)[1] for ref in reached} == set(schemas)
    assert "ArticleListParams" not in schemas   # spelled out as the list's query parameters instead


def test_search_responses_declare_the_urgent_notice(spec):
    response = spec["components"]["schemas"]["SearchResponse"]
    assert "urgent" in response["required"]
    assert response["properties"]["urgent"]["anyOf"] == [{"$ref": "#/components/schemas/Urgent"},
                                                         {"type": "null"}]
    urgent = spec["components"]["schemas"]["Urgent"]
    assert set(urgent["properties"]) == {"level", "title", "message", "numbers", "conditions"}
    assert set(spec["components"]["schemas"]["EmergencyNumber"]["properties"]) == {"number", "region"}


def test_the_json_search_declares_the_408_a_slow_body_gets(spec):
    response = resolve(spec, spec["paths"]["/api/v1/search"]["post"]["responses"]["408"]["$ref"])
    assert response["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
    assert "request_timeout" in response["description"]
