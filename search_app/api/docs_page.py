"""What the /api/docs page shows, read from the OpenAPI document alone
(`search_app/api/openapi.py` builds it from the pydantic models), so the page
cannot list a parameter or a response field the API does not have, nor miss
one it has. Pure functions over the document: the route and the template
live in `openapi.py` and `templates/api_docs.html`.
"""
from __future__ import annotations

REF_PREFIX = "#/components/schemas/"
TYPE_WORDS = {"integer": "whole number", "string": "text", "boolean": "true or false", "number": "number",
              "object": "object", "array": "list", "null": "null"}


def describe(schema: dict) -> str:
    """A parameter's schema in words: "integer, 1 to 50, default 10"."""
    if "enum" in schema:
        words = "one of " + ", ".join(str(v) for v in schema["enum"])
    elif "const" in schema:
        words = f"always {schema['const']}"
    elif "anyOf" in schema:
        words = " or ".join(describe(o) for o in schema["anyOf"])
    elif "$ref" in schema:
        words = "object"
    else:
        words = TYPE_WORDS.get(schema.get("type"), schema.get("type", "value"))
        if schema.get("type") == "array":
            words = "list of " + describe(schema.get("items", {}))
        elif isinstance(schema.get("additionalProperties"), dict):
            words = "object of " + describe(schema["additionalProperties"])
        if "minimum" in schema or "maximum" in schema:
            words += f", {schema.get('minimum', '…')} to {schema.get('maximum', '…')}"
        if "minLength" in schema or "maxLength" in schema:
            words += f", {schema.get('minLength', 0)} to {schema.get('maxLength', '…')} characters"
    if schema.get("default") is not None:
        default = schema["default"]
        words += f", default {str(default).lower() if isinstance(default, bool) else default}"
    return words


def _model_of(schema: dict) -> tuple[str | None, bool, bool]:
    """(referenced model, is a list of it, may be null) for a property."""
    options = schema.get("anyOf", [schema])
    nullable = {"type": "null"} in options
    for option in options:
        if "$ref" in option:
            return option["$ref"].removeprefix(REF_PREFIX), False, nullable
        items = option.get("items", {})
        if option.get("type") == "array" and "$ref" in items:
            return items["$ref"].removeprefix(REF_PREFIX), True, nullable
    return None, False, nullable


def response_fields(schemas: dict, model: str, prefix: str = "", seen: tuple[str, ...] = ()) -> list[dict]:
    """Every field of a response model, nested ones as `results[].article.title`,
    in the order the models declare them (the order of the JSON)."""
    if model in seen:   # a model that contains itself: named once, not walked again
        return []
    schema = schemas[model]
    rows = []
    for name, prop in schema.get("properties", {}).items():
        path = prefix + name
        nested, is_list, nullable = _model_of(prop)
        if nested:
            kind = ("list of objects" if is_list else "object") + (" or null" if nullable else "")
        else:
            kind = describe(prop)
        description = prop.get("description") or (schemas[nested].get("description", "") if nested else "")
        rows.append({"name": path, "type": kind, "description": " ".join(description.split())})
        if nested:
            rows += response_fields(schemas, nested, path + ("[]." if is_list else "."), seen + (model,))
    return rows


def _responses(op: dict, components: dict) -> tuple[list[dict], list[dict]]:
    """The operation's responses in words, and the fields of its success body."""
    responses, fields = [], []
    for status, response in op["responses"].items():
        if "$ref" in response:
            response = components["responses"][response["$ref"].rsplit("/", 1)[1]]
        responses.append({"status": status, "description": response["description"]})
        if status.startswith("2"):
            ref = response["content"]["application/json"]["schema"]["$ref"]
            fields = response_fields(components["schemas"], ref.removeprefix(REF_PREFIX))
    return responses, fields


def _body_fields(op: dict, components: dict) -> list[dict]:
    if "requestBody" not in op:
        return []
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].removeprefix(REF_PREFIX)
    body_schema = components["schemas"][ref]
    return [{"name": name, "required": name in body_schema.get("required", ()),
             "description": prop.get("description", ""), "type": describe(prop)}
            for name, prop in body_schema["properties"].items()]


def _operation_view(path: str, method: str, op: dict, components: dict, example) -> dict:
    params = [p for p in op["parameters"] if "$ref" not in p] + [
        components["parameters"][p["$ref"].rsplit("/", 1)[1]] for p in op["parameters"] if "$ref" in p]
    responses, fields = _responses(op, components)
    return {
        "method": method.upper(), "path": path, "id": op["operationId"], "summary": op["summary"],
        "description": op["description"], "responses": responses, "fields": fields,
        "body": _body_fields(op, components),
        "params": [{"name": p["name"], "in": p["in"], "required": p["required"],
                    "description": p.get("description", ""), "type": describe(p["schema"])} for p in params],
        "example": example.example, "example_body": example.example_body,
    }


def docs_view(spec: dict, examples: dict) -> dict:
    """The page's data. `examples`: operationId -> an object with `example`
    (a path and query) and `example_body` (a JSON body, or empty)."""
    components = spec["components"]
    view = [_operation_view(path, method, op, components, examples[op["operationId"]])
            for path, methods in spec["paths"].items() for method, op in methods.items()]
    return {"operations": view, "overview": [para.replace("\n", " ") for para in
                                             spec["info"]["description"].split("\n\n")],
            "error_fields": response_fields(components["schemas"], "ErrorResponse"),
            "contact": spec["info"].get("contact", {}),
            "version": spec["info"]["version"], "title": spec["info"]["title"]}


def code_pieces(text: str) -> list[tuple[str, bool]]:
    """`text` cut at backticks into (piece, is_code) pairs; the template
    escapes each piece (nothing is marked up as a string)."""
    return [(piece, i % 2 == 1) for i, piece in enumerate(text.split("`")) if piece]
