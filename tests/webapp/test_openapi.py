"""The OpenAPI document: valid 3.1, complete for the declared routes, and a valid 3.0 copy."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from webapp.openapi import build_openapi, openapi_path

from .sample_api import ENDPOINTS


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return build_openapi(ENDPOINTS, title="Test API", version="1.2.3", description="For tests.")


def test_document_is_valid_openapi_31(doc: dict[str, Any]) -> None:
    assert doc["openapi"] == "3.1.0"
    assert doc["info"] == {"title": "Test API", "version": "1.2.3", "description": "For tests."}
    validate(doc)


def test_validator_would_catch_a_broken_document(doc: dict[str, Any]) -> None:
    broken = {**doc, "paths": {"no-leading-slash": {}}}
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_paths_strip_regex_and_hide_excluded(doc: dict[str, Any]) -> None:
    assert set(doc["paths"]) == {
        "/api/v1/items/{item_id}",
        "/api/v1/items",
        "/api/v1/items/{item_id}/internal",
        "/api/v1/uploads",
        "/api/v1/boom",
        "/api/v1/text",
        "/api/v1/raw",
        "/api/v1/dict",
        "/api/v1/unlimited",
        "/api/v1/other-items",
    }
    assert openapi_path(r"/a/{id:\d+}/b/{name}") == (
        "/a/{id}/b/{name}",
        [("id", r"\d+"), ("name", None)],
    )


def test_path_parameters(doc: dict[str, Any]) -> None:
    delete = doc["paths"]["/api/v1/items/{item_id}"]["delete"]
    (param,) = delete["parameters"]
    assert param == {
        "name": "item_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": r"^(?:\d+)$"},
    }


def test_query_parameters_from_model(doc: dict[str, Any]) -> None:
    op = doc["paths"]["/api/v1/items"]["get"]
    params = {p["name"]: p for p in op["parameters"]}
    assert set(params) == {"tag", "limit", "status"}
    assert params["tag"]["schema"]["type"] == "array"
    assert params["tag"]["description"] == "Keep items with any of these tags."
    assert params["limit"]["schema"]["minimum"] == 1
    assert params["limit"]["required"] is False
    assert all(p["in"] == "query" for p in params.values())
    # The query model is inlined as parameters, not left as an orphan schema.
    assert "ItemQuery" not in doc["components"]["schemas"]
    assert "Status" in doc["components"]["schemas"]


def test_request_body_and_responses(doc: dict[str, Any]) -> None:
    op = doc["paths"]["/api/v1/items"]["post"]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ItemCreate"}
    assert op["requestBody"]["required"] is True
    assert set(op["responses"]) == {"201", "400", "413", "415", "422", "429", "500"}
    created = op["responses"]["201"]["content"]["application/json"]["schema"]
    assert created == {"$ref": "#/components/schemas/ItemPublic"}
    envelope = op["responses"]["422"]["content"]["application/json"]["schema"]
    assert envelope == {"$ref": "#/components/schemas/ErrorEnvelope"}
    assert op["responses"]["422"]["x-error-codes"] == ["validation_error"]
    assert "ErrorBody" in doc["components"]["schemas"]


def test_list_response_and_no_content(doc: dict[str, Any]) -> None:
    listing = doc["paths"]["/api/v1/items"]["get"]["responses"]["200"]
    schema = listing["content"]["application/json"]["schema"]
    assert schema == {"type": "array", "items": {"$ref": "#/components/schemas/ItemPublic"}}
    deleted = doc["paths"]["/api/v1/items/{item_id}"]["delete"]["responses"]
    assert deleted["204"] == {"description": "No content"}
    text = doc["paths"]["/api/v1/text"]["get"]["responses"]["200"]
    assert "text/plain" in text["content"]


def test_declared_errors_listed(doc: dict[str, Any]) -> None:
    op = doc["paths"]["/api/v1/items/{item_id}"]["get"]
    assert op["responses"]["404"]["x-error-codes"] == ["not_found"]
    assert "No item." in op["responses"]["404"]["description"]
    assert "422" not in op["responses"]  # no body, no query: nothing to validate


def test_roles_security_and_tags(doc: dict[str, Any]) -> None:
    op = doc["paths"]["/api/v1/items/{item_id}/internal"]["get"]
    assert op["x-roles"] == ["admin", "examiner"]
    assert op["security"] == [{"oauth2": []}, {"bearerAuth": []}, {"sessionCookie": []}]
    assert {"401", "403"} <= set(op["responses"])
    public = doc["paths"]["/api/v1/items/{item_id}"]["get"]
    assert "security" not in public
    assert "401" not in public["responses"]
    assert "429" not in doc["paths"]["/api/v1/unlimited"]["get"]["responses"]
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert schemes["sessionCookie"]["in"] == "cookie"
    assert set(schemes["oauth2"]["flows"]) == {"password", "clientCredentials"}
    assert op["tags"] == ["items"]
    assert doc["tags"] == [{"name": "items"}, {"name": "misc"}]


def test_summary_and_description_from_docstring(doc: dict[str, Any]) -> None:
    op = doc["paths"]["/api/v1/items/{item_id}"]["get"]
    assert op["summary"] == "Fetch one item."
    assert op["description"] == "Answers 404 when the item does not exist."


def test_operation_ids_unique(doc: dict[str, Any]) -> None:
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert "list_items" in ids
    assert "misc_list_items" in ids


def test_nested_defs_hoisted(doc: dict[str, Any]) -> None:
    item = doc["components"]["schemas"]["ItemPublic"]
    assert item["properties"]["status"]["$ref"] == "#/components/schemas/Status"
    assert "$defs" not in str(doc)
