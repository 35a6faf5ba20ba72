"""The committed OpenAPI document is what the app serves."""

from fastapi import FastAPI

from service_kit.testing import assert_openapi_matches_contract


def test_openapi_matches_the_contract(app: FastAPI) -> None:
    assert_openapi_matches_contract(app, "listings")
