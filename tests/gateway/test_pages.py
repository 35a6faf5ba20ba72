"""The gateway's pages service (gateway/pages) and how dynamic.yml uses it, without Traefik.

The same app runs behind the real Traefik in test_gateway.py and in the e2e stack.
"""

import copy
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gateway_pages.app import CONTRACTS_DIR, create_app, error_code
from gateway_pages.openapi import MergeError, load_documents, merge, unresolved_refs

REPO = Path(__file__).resolve().parents[2]
DYNAMIC = REPO / "gateway" / "dynamic.yml"


@pytest.fixture(scope="module")
def contracts() -> dict[str, dict[str, Any]]:
    return load_documents(CONTRACTS_DIR)


async def ask(path: str, method: str = "GET") -> httpx.Response:
    app = create_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pages") as client:
        return await client.request(method, path)


# --------------------------------------------------------------------------- error pages


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (404, "not_found"),
        (413, "payload_too_large"),
        (429, "rate_limited"),
        (502, "bad_gateway"),
        (503, "service_unavailable"),
        (504, "gateway_timeout"),
        (401, "unauthorized"),
        (418, "i_m_a_teapot"),
    ],
)
async def test_every_refusal_is_json_with_a_stable_code(status: int, code: str) -> None:
    response = await ask(f"/errors/{status}")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"detail", "code"} and body["code"] == code and body["detail"]
    assert error_code(status) == code


async def test_429_says_when_to_retry_and_413_names_the_limit() -> None:
    limited = await ask("/errors/429/30")
    assert limited.headers["retry-after"] == "30"
    assert limited.json() == {"detail": "Too many requests; retry after 30 s", "code": "rate_limited"}
    assert (await ask("/errors/429")).headers["retry-after"] == "1"
    too_large = await ask("/errors/413/1048576")
    assert too_large.json()["detail"] == "Request body is larger than this route accepts (1 MiB)"


@pytest.mark.parametrize("path", ["/", "/errors", "/errors/99", "/errors/600", "/errors/404/x", "/nothing", "/docs/x"])
async def test_anything_else_is_a_json_404(path: str) -> None:
    response = await ask(path)
    assert (response.status_code, response.json()) == (404, {"detail": "Not Found", "code": "not_found"})


async def test_the_docs_page_shows_the_merged_document() -> None:
    page = await ask("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in page.text
    assert (await ask("/openapi.json", "POST")).status_code == 404


# --------------------------------------------------------------------------- the merged OpenAPI document


async def test_every_path_of_every_service_appears_once_and_every_ref_resolves(
    contracts: dict[str, dict[str, Any]],
) -> None:
    merged = (await ask("/openapi.json")).json()
    expected = [(path, method) for doc in contracts.values() for path, item in doc["paths"].items() for method in item]
    got = [(path, method) for path, item in merged["paths"].items() for method in item]
    assert sorted(got) == sorted(expected)
    assert len(set(got)) == len(got)
    assert unresolved_refs(merged) == []
    for service, doc in contracts.items():
        for path, item in doc["paths"].items():
            for method, operation in item.items():
                assert merged["paths"][path][method]["tags"][0] == service
                assert merged["paths"][path][method]["operationId"] == operation["operationId"]
    assert [tag["name"] for tag in merged["tags"]] == sorted(contracts)


def test_colliding_component_names_are_prefixed_per_service(contracts: dict[str, dict[str, Any]]) -> None:
    merged = merge(contracts, title="t", version="1")
    schemas = merged["components"]["schemas"]
    # chat and listings both name a schema PropertyCard, with different fields.
    assert "PropertyCard" not in schemas
    assert schemas["ChatPropertyCard"] == contracts["chat"]["components"]["schemas"]["PropertyCard"]
    assert schemas["ListingsPropertyCard"] == contracts["listings"]["components"]["schemas"]["PropertyCard"]
    text = json.dumps(merged)
    assert '"#/components/schemas/PropertyCard"' not in text
    # Identical definitions are kept once under their own name.
    assert "HTTPValidationError" in schemas and "AuthHTTPValidationError" not in schemas


def test_refs_are_rewritten_only_in_the_service_that_owns_the_copy() -> None:
    def doc(path: str, fields: dict[str, Any]) -> dict[str, Any]:
        ref = {"$ref": "#/components/schemas/Card"}
        return {
            "openapi": "3.1.0",
            "info": {"title": path, "version": "1"},
            "paths": {path: {"get": {"responses": {"200": {"content": {"application/json": {"schema": ref}}}}}}},
            "components": {"schemas": {"Card": {"properties": fields}, "Same": {"type": "string"}}},
        }

    merged = merge({"a": doc("/a", {"x": {}}), "b": doc("/b", {"y": {}})}, title="t", version="1")
    schema = merged["paths"]["/b"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/BCard"}
    assert merged["components"]["schemas"]["ACard"] == {"properties": {"x": {}}}
    assert set(merged["components"]["schemas"]) == {"ACard", "BCard", "Same"}
    assert unresolved_refs(merged) == []


def test_a_path_claimed_by_two_services_or_a_dangling_ref_is_an_error(contracts: dict[str, dict[str, Any]]) -> None:
    twice = copy.deepcopy(contracts)
    twice["chat"]["paths"]["/users/me"] = twice["auth"]["paths"]["/users/me"]
    with pytest.raises(MergeError, match="/users/me"):
        merge(twice, title="t", version="1")
    broken = copy.deepcopy(contracts)
    broken["auth"]["paths"]["/users/me"]["get"]["x-ref"] = {"$ref": "#/components/schemas/Nowhere"}
    assert unresolved_refs(merge(broken, title="t", version="1")) == ["#/components/schemas/Nowhere"]


def test_the_app_refuses_to_start_on_a_broken_merge(tmp_path: Path, contracts: dict[str, dict[str, Any]]) -> None:
    for name, doc in contracts.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(doc))
    auth = contracts["auth"]
    (tmp_path / "copy.json").write_text(json.dumps(auth))
    with pytest.raises(MergeError):
        create_app(tmp_path)
    with pytest.raises(MergeError):
        create_app(tmp_path / "empty")


# --------------------------------------------------------------------------- dynamic.yml against the contracts


def dynamic() -> dict[str, Any]:
    """dynamic.yml with its template actions replaced by placeholders (enough to read routes)."""
    lines = [line for line in DYNAMIC.read_text().splitlines() if not re.fullmatch(r"\s*\{\{.*\}\}\s*", line)]
    data: dict[str, Any] = yaml.safe_load(re.sub(r"\{\{.*?\}\}", "0", "\n".join(lines)))
    return data["http"]


def rule_matches(rule: str, method: str, path: str) -> bool:
    """Evaluates the subset of Traefik's rule language dynamic.yml uses (HeaderRegexp taken as false)."""
    matchers = {
        "PathRegexp": lambda pattern: re.search(pattern, path) is not None,
        "PathPrefix": path.startswith,
        "Method": lambda name: name == method,
        "HeaderRegexp": lambda _name, _pattern: False,
    }
    expression = re.sub(r"`([^`]*)`", lambda m: repr(m.group(1)), rule).replace("&&", " and ").replace("||", " or ")
    return bool(eval(expression, {"__builtins__": {}}, matchers))  # noqa: S307 - our own rule strings, no builtins


def router_for(http: dict[str, Any], method: str, path: str) -> str:
    candidates = [
        (router.get("priority", 0), name)
        for name, router in http["routers"].items()
        if "web" in router["entryPoints"] and rule_matches(router["rule"], method, path)
    ]
    return max(candidates)[1]


def caught_statuses(http: dict[str, Any], router: str) -> set[int]:
    caught: set[int] = set()
    for name in http["routers"][router].get("middlewares", []):
        for block in (http["middlewares"][name].get("errors") or {}).get("status", []):
            low, _, high = str(block).partition("-")
            caught |= set(range(int(low), int(high or low) + 1))
    return caught


def test_every_documented_operation_is_routed_to_its_service(contracts: dict[str, dict[str, Any]]) -> None:
    http = dynamic()
    for service, doc in contracts.items():
        for template, item in doc["paths"].items():
            path = re.sub(r"\{[^}]+\}", "12", template)
            for method in item:
                for variant in (path, path + "/"):
                    router = router_for(http, method.upper(), variant)
                    assert http["routers"][router]["service"] == service, (method, variant, router)


def test_error_pages_never_hide_a_documented_answer(contracts: dict[str, dict[str, Any]]) -> None:
    """An errors middleware replaces every answer of its statuses, the service's own too.

    So no service route catches 500 (a service's own 500 reaches the client as
    it is), and a 5xx a service documents is never caught on its route.
    """
    http = dynamic()
    for name, router in http["routers"].items():
        if router["service"] != "pages" and "web" in router["entryPoints"]:
            assert 500 not in caught_statuses(http, name), name
    for doc in contracts.values():
        for template, item in doc["paths"].items():
            path = re.sub(r"\{[^}]+\}", "12", template)
            for method, operation in item.items():
                router = router_for(http, method.upper(), path)
                documented = {int(status) for status in operation.get("responses", {}) if status.isdigit()}
                hidden = {status for status in documented & caught_statuses(http, router) if status >= 500}
                assert not hidden, f"{method.upper()} {template}: {router} replaces the documented {sorted(hidden)}"


def test_the_checks_above_can_fail() -> None:
    http = dynamic()
    assert router_for(http, "GET", "/users/list") == "auth-list"
    assert router_for(http, "POST", "/users/list") == "auth-protected"
    assert router_for(http, "OPTIONS", "/docs/auth") == "not-found"
    assert caught_statuses(http, "auth-public") == {413, 502, 504}
    assert caught_statuses(http, "auth-list") >= {413, 429, 502, 503, 504}


def test_the_upload_size_rule_matches_exactly_the_bodies_over_the_limit() -> None:
    http = dynamic()
    limit = http["middlewares"]["limit-multipart"]["buffering"]["maxRequestBodyBytes"]
    assert http["middlewares"]["upload-too-large-page"]["replacePath"]["path"] == f"/errors/413/{limit}"
    for name in ("uploads-too-large", "uploads-too-large-optional"):
        (pattern,) = re.findall(r"HeaderRegexp\(`Content-Length`, `([^`]*)`\)", http["routers"][name]["rule"])
        over = re.compile(pattern)
        for length in [*range(limit - 2000, limit + 2000), 0, 1, 10**7, 7 * 10**7, 10**9, 10**15, limit * 10]:
            assert bool(over.fullmatch(str(length))) == (length > limit), (name, length)
