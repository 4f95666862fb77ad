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
