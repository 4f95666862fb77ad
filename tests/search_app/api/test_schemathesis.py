"""Schemathesis against the real production server (granian, `python -m
search_app`) on loopback, reading the /openapi.json that server serves: for
every operation, generated requests that fit the document (positive) and,
where there are parameters, requests that break it (negative). No response
may be a server error or differ from the document in status, content type or
body shape. Examples are bounded (MAX_EXAMPLES per operation and mode) and
derandomized, so the run is repeatable and takes well under two minutes."""
from __future__ import annotations

import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from search_app.config import Config
from search_app.api.openapi import build_spec
from tests.servers import running_server

MAX_EXAMPLES = int(os.environ.get("HEARTSEARCH_SCHEMATHESIS_EXAMPLES", "25"))
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]

# The operations, read from the document the app builds (the test below checks
# that the served one is the same).
SPEC = build_spec(Config())
OPERATIONS = [(method.upper(), path, bool(op["parameters"][:-1] or "requestBody" in op))
              for path, methods in SPEC["paths"].items() for method, op in methods.items()]
CASES = [pytest.param(method, path, mode, id=f"{method} {path} {mode.value}")
         for method, path, has_params in OPERATIONS
         for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
         if has_params or mode is GenerationMode.POSITIVE]


@pytest.fixture(scope="module")
def server(seed_index_dir):
    with running_server(seed_index_dir, HEARTSEARCH_RATE_LIMIT="0") as base:
        yield base


@pytest.fixture(scope="module")
def api_schema(server):
    return schemathesis.openapi.from_url(server + "/openapi.json", timeout=30)


@pytest.fixture(scope="module")
def session():
    with requests.Session() as s:
        yield s


def test_served_document_is_the_one_the_app_builds(server):
    served = requests.get(server + "/openapi.json", timeout=30).json()
    assert served == SPEC
    assert served["openapi"] == "3.1.0"


@pytest.mark.parametrize("method,path,mode", CASES)
def test_operation_conforms_to_the_document(api_schema, server, session, method, path, mode):
    operation = api_schema[path][method]

    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        case.call_and_validate(base_url=server, session=session, checks=CHECKS, timeout=30)

    check()
