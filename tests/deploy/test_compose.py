"""deploy/compose.yml checked without a container engine, on the real file and on broken copies."""

import copy
from collections.abc import Callable
from typing import Any

import pytest

from . import checks

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def compose() -> Doc:
    return checks.load_compose()


def test_the_committed_compose_file_passes_every_check(compose: Doc) -> None:
    assert checks.compose_problems(compose) == []


def test_chat_runs_as_many_replicas_as_the_local_stack(compose: Doc) -> None:
    chat_processes = [p for p in checks.procfile_processes() if checks.COMPOSE_SERVICE_OF.get(p) == "chat"]
    assert compose["services"]["chat"]["deploy"]["replicas"] >= len(chat_processes) == 2
    assert compose["services"]["gateway"]["environment"]["CHAT_URLS"] == "http://chat:8000"


def test_every_secret_and_password_fails_fast_when_unset() -> None:
    text = checks.COMPOSE_FILE.read_text()
    for variable in ("POSTGRES_PASSWORD", "RABBITMQ_PASSWORD", "REDIS_PASSWORD", "JWT_PUBLIC_KEYS_DIR"):
        assert f"${{{variable}:?" in text, variable
    assert "guest" not in text


def _drop(path: list[str]) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        for key in path[:-1]:
            doc = doc[key]
        del doc[path[-1]]

    return mutate


def _set(path: list[str], value: Any) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        for key in path[:-1]:
            doc = doc[key]
        doc[path[-1]] = value

    return mutate


def _second_dynamic_copy(doc: Doc) -> None:
    doc["services"]["gateway"]["volumes"][1] = "./gateway-routes.yml:/etc/traefik/dynamic.yml:ro"


def _publish_auth(doc: Doc) -> None:
    doc["services"]["auth"]["ports"] = ["8101:8000"]


def _no_migrate_dependency(doc: Doc) -> None:
    del doc["services"]["listings"]["depends_on"]["migrate"]


def _console_sms_in_production(doc: Doc) -> None:
    doc["services"]["auth"]["environment"]["SMS_PROVIDER"] = "console"


def _secret_without_fail_fast(doc: Doc) -> None:
    doc["secrets"]["code_hmac_secret"]["file"] = "${CODE_HMAC_SECRET_FILE}"


def _gateway_env(name: str, value: str) -> Callable[[Doc], None]:
    return _set(["services", "gateway", "environment", name], value)


BROKEN: dict[str, tuple[Callable[[Doc], None], str]] = {
    "pages removed": (_drop(["services", "gateway-pages"]), "needs compose service 'gateway-pages'"),
    "gateway does not wait for pages": (
        _drop(["services", "gateway", "depends_on", "gateway-pages"]),
        "gateway: must depend on gateway-pages",
    ),
    "pages runs another app": (
        _set(["services", "gateway-pages", "command"], ["uvicorn", "auth_service.main:create_app", "--factory"]),
        "but the Procfile runs 'gateway_pages.app:create_app'",
    ),
    "any origin by default": (
        _gateway_env("CORS_ALLOWED_ORIGINS", "${CORS_ALLOWED_ORIGINS:-*}"),
        "CORS_ALLOWED_ORIGINS",
    ),
    "development gateway": (_gateway_env("ENVIRONMENT", "development"), "ENVIRONMENT must default to production"),
    "internal port moved": (_gateway_env("GATEWAY_INTERNAL_PORT", "9999"), "GATEWAY_INTERNAL_PORT must be 8091"),
    "unknown gateway setting": (_gateway_env("CORS_ORIGINS", "x"), "CORS_ORIGINS is set but"),
    "service removed": (_drop(["services", "listings"]), "needs compose service 'listings'"),
    "verifier removed": (_drop(["services", "verifier"]), "needs compose service 'verifier'"),
    "env var removed": (_drop(["services", "auth", "environment", "DATABASE_URL"]), "required setting DATABASE_URL"),
    "secret removed": (_set(["services", "auth", "secrets"], ["jwt_private_key"]), "CODE_HMAC_SECRET"),
    "healthcheck removed": (_drop(["services", "requests", "healthcheck"]), "requests: no healthcheck"),
    "traefik mount changed": (_second_dynamic_copy, "must be gateway/dynamic.yml"),
    "upstream variable removed": (_drop(["services", "gateway", "environment", "CHAT_URLS"]), "CHAT_URLS"),
    "port published": (_publish_auth, "auth: publishes ports"),
    "migrations not first": (_no_migrate_dependency, "listings: must depend on migrate"),
    "one chat replica": (_set(["services", "chat", "deploy", "replicas"], 1), "chat: deploy.replicas is 1"),
    "missing Dockerfile": (
        _set(["services", "chat", "build", "dockerfile"], "deploy/Dockerfile.gone"),
        "does not exist",
    ),
    "wrong app": (
        _set(["services", "verifier", "command"], ["uvicorn", "auth_service.main:create_app", "--factory"]),
        "but the Procfile runs 'auth_service.verifier:create_verifier_app'",
    ),
    "settings refuse the values": (_console_sms_in_production, "AuthSettings refuses"),
    "secret without fail-fast": (_secret_without_fail_fast, "secret code_hmac_secret"),
    "media not on a volume": (_set(["services", "listings", "volumes"], []), "MEDIA_DIR /data/media is not a volume"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_the_checker_reports_a_broken_copy(compose: Doc, case: str) -> None:
    mutate, expected = BROKEN[case]
    broken = copy.deepcopy(compose)
    mutate(broken)
    problems = checks.compose_problems(broken)
    assert any(expected in problem for problem in problems), problems
