"""search_app/api/docs_page.py: what /api/docs shows comes from the OpenAPI
document, so every field of every response model is on the page (checked
against the pydantic models themselves, not against a list written here)."""
from __future__ import annotations

import typing

import pytest
from pydantic import BaseModel

from search_app.api import schemas
from search_app.api.docs_page import code_pieces, describe, docs_view, response_fields
from search_app.api.openapi import build_spec, operations
from search_app.config import Config


@pytest.fixture(scope="module")
def spec():
    return build_spec(Config())


def model_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every field of a model, nested ones as `a[].b`, read from the model's own annotations."""
    paths = []
    for name, info in model.model_fields.items():
        paths.append(prefix + name)
        annotation = info.annotation
        options = (annotation,) if typing.get_origin(annotation) is list else typing.get_args(annotation)
        for arg in options or (annotation,):
            is_list = typing.get_origin(arg) is list
            if is_list:
                arg = typing.get_args(arg)[0]
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                paths += model_paths(arg, prefix + name + ("[]." if is_list else "."))
    return paths


@pytest.mark.parametrize("model", schemas.RESPONSE_MODELS, ids=lambda m: m.__name__)
def test_every_response_field_is_listed(spec, model):
    rows = response_fields(spec["components"]["schemas"], model.__name__)
    assert [r["name"] for r in rows] == model_paths(model)
    assert all(r["type"] for r in rows)
    assert [r["name"] for r in rows if not r["description"]] == []  # every field says what it means


def test_nested_fields_say_what_they_are(spec):
    rows = {r["name"]: r for r in response_fields(spec["components"]["schemas"], "SearchResponse")}
    assert rows["urgent"]["type"] == "object or null" and "emergency" in rows["urgent"]["description"]
    assert rows["urgent.numbers[].number"]["type"] == "text"
    assert rows["results"]["type"] == "list of objects"
    assert rows["interpreted_as.corrections"]["type"] == "object of text"


def test_each_operation_on_the_page_has_its_success_fields_and_the_error_body(spec):
    view = docs_view(spec, {op.operation_id: op for op in operations(Config())})
    by_id = {op["id"]: op for op in view["operations"]}
    assert len(by_id) == 7
    assert [f["name"] for f in by_id["search"]["fields"]][:2] == ["query", "urgent"]
    assert all(op["fields"] for op in view["operations"])
    assert {"405", "500"} <= {r["status"] for r in by_id["health"]["responses"]}
    assert [f["name"] for f in view["error_fields"]] == ["error", "error.code", "error.message", "error.field"]
    assert view["contact"]["name"]


def test_describe_and_code_pieces():
    assert describe({"type": "integer", "minimum": 1, "maximum": 50, "default": 10}) == \
        "whole number, 1 to 50, default 10"
    assert describe({"anyOf": [{"type": "string"}, {"type": "null"}]}) == "text or null"
    assert code_pieces("a `b` c") == [("a ", False), ("b", True), (" c", False)]
