"""Schemathesis against the sandbox's own OpenAPI document: no 5xx, and every response is documented.

Every operation gets generated requests (valid and invalid) with the demo organization's full-scope key;
each response must not be a server error, its status must be one the document lists, and its headers,
content type and body must match what the document says.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mcp_anyreach.sandbox import open_sandbox

SANDBOX = open_sandbox(":memory:")
AUTH = {"Authorization": f"Bearer {SANDBOX.seed.demo.api_key}"}
schema = schemathesis.openapi.from_asgi("/openapi.json", SANDBOX.app)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
def test_every_sandbox_operation_answers_without_a_server_error_and_as_documented(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=AUTH, checks=CHECKS)


def test_the_document_covers_every_route_of_the_sandbox() -> None:
    paths = set(SANDBOX.app.openapi()["paths"])
    assert {"/core/phone-numbers", "/core/trunks", "/core/inbound-routing-config"} <= paths
    assert all(path.startswith("/core/") for path in paths)
