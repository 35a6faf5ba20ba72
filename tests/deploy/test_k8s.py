"""deploy/k8s/ checked without a cluster: the same invariants as compose, plus the gateway routes."""

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from . import checks

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def docs() -> list[Doc]:
    return checks.load_k8s()


def _find(docs: list[Doc], kind: str, name: str) -> Doc:
    return next(doc for doc in docs if doc["kind"] == kind and doc["metadata"]["name"] == name)


def test_the_committed_manifests_pass_every_check(docs: list[Doc]) -> None:
    assert checks.k8s_problems(docs) == []


def test_every_path_routed_by_the_gateway_is_routed_by_the_ingress(docs: list[Doc]) -> None:
    routed = {
        route["match"]
        for name in ("marketplace", "marketplace-internal")
        for route in _find(docs, "IngressRoute", name)["spec"]["routes"]
    }
    rules = {router["rule"] for router in checks.render_dynamic()["http"]["routers"].values()}
    assert rules == routed


def test_kustomize_applies_every_manifest_and_image(docs: list[Doc]) -> None:
    """What `kubectl apply -k` would render: every file listed, every image pinned (no kubectl here)."""
    kustomization = yaml.safe_load((checks.K8S_DIR / "kustomization.yaml").read_text())
    on_disk = {path.name for path in checks.K8S_DIR.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == on_disk
    kinds = [doc["kind"] for doc in docs]
    assert kinds.count("Deployment") == 7 and kinds.count("IngressRoute") == 2 and "Job" in kinds
    pinned = {image["name"] for image in kustomization["images"]}
    used = {
        container["image"]
        for doc in docs
        if doc["kind"] in ("Deployment", "Job")
        for container in [
            *doc["spec"]["template"]["spec"]["containers"],
            *doc["spec"]["template"]["spec"].get("initContainers", []),
        ]
    }
    assert used <= pinned, used - pinned


def _container(docs: list[Doc], name: str) -> Doc:
    container: Doc = _find(docs, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]
    return container


def _drop_probe(docs: list[Doc]) -> None:
    del _container(docs, "listings")["readinessProbe"]


def _drop_route(docs: list[Doc]) -> None:
    _find(docs, "IngressRoute", "marketplace")["spec"]["routes"].pop(0)


def _skip_forward_auth(docs: list[Doc]) -> None:
    route = _find(docs, "IngressRoute", "marketplace")["spec"]["routes"][1]
    route["middlewares"] = [m for m in route["middlewares"] if m["name"] != "auth"]


def _drop_hpa(docs: list[Doc]) -> None:
    docs.remove(_find(docs, "HorizontalPodAutoscaler", "chat"))


def _drop_pdb(docs: list[Doc]) -> None:
    docs.remove(_find(docs, "PodDisruptionBudget", "requests"))


def _drop_env(docs: list[Doc]) -> None:
    container = _container(docs, "chat")
    container["env"] = [item for item in container["env"] if item["name"] != "DATABASE_URL"]


def _drop_secret_item(docs: list[Doc]) -> None:
    volumes = _find(docs, "Deployment", "auth")["spec"]["template"]["spec"]["volumes"]
    secret = next(volume for volume in volumes if volume["name"] == "auth-secrets")["secret"]
    secret["items"] = [item for item in secret["items"] if item["key"] != "code_hmac_secret"]


def _commit_a_secret(docs: list[Doc]) -> None:
    docs.append({"kind": "Secret", "metadata": {"name": "leak"}, "stringData": {"password": "hunter2"}})


def _drop_deployment(docs: list[Doc]) -> None:
    docs.remove(_find(docs, "Deployment", "auth-verifier"))


def _drop_resources(docs: list[Doc]) -> None:
    del _container(docs, "auth")["resources"]


def _change_body_limit(docs: list[Doc]) -> None:
    _find(docs, "Middleware", "limit-json")["spec"]["buffering"]["maxRequestBodyBytes"] = 10**9


def _drop_database_host(docs: list[Doc]) -> None:
    del _find(docs, "ConfigMap", "marketplace-config")["data"]["POSTGRES_HOST"]


def _any_origin(docs: list[Doc]) -> None:
    _find(docs, "Middleware", "cors")["spec"]["headers"]["accessControlAllowOriginList"] = ["*"]


def _rate_limit_drifted(docs: list[Doc]) -> None:
    _find(docs, "Middleware", "users-list-rate-limit")["spec"]["rateLimit"]["average"] = 30


def _verifier_directly(docs: list[Doc]) -> None:
    forward = _find(docs, "Middleware", "auth")["spec"]["forwardAuth"]
    forward["address"] = "http://auth-verifier.marketplace.svc.cluster.local:8000/verify"


def _drop_internal_route(docs: list[Doc]) -> None:
    docs.remove(_find(docs, "IngressRoute", "marketplace-internal"))


def _pages_elsewhere(docs: list[Doc]) -> None:
    _find(docs, "Middleware", "proxy-errors")["spec"]["errors"]["service"]["name"] = "auth"


BROKEN: dict[str, tuple[Callable[[list[Doc]], None], str]] = {
    "any origin": (_any_origin, "Middleware cors: production needs an explicit list"),
    "retry-after drifted": (_rate_limit_drifted, "users-list-rate-limit: its 429 page must say Retry-After 2"),
    "forwardAuth straight to the verifier": (_verifier_directly, "auth: must call the pod's own internal entry point"),
    "internal route removed": (_drop_internal_route, "no route for router verifier on entry point internal"),
    "error pages elsewhere": (_pages_elsewhere, "proxy-errors: error pages must come from the gateway-pages"),
    "pages removed": (
        lambda docs: docs.remove(_find(docs, "Deployment", "gateway-pages")),
        "'pages' has no Deployment",
    ),
    "probe removed": (_drop_probe, "listings/listings: readinessProbe must GET /ready"),
    "route removed": (_drop_route, "IngressRoute: no route for router auth-public"),
    "forward-auth skipped": (_skip_forward_auth, "IngressRoute auth-protected: middlewares"),
    "HPA removed": (_drop_hpa, "chat: no HorizontalPodAutoscaler"),
    "PDB removed": (_drop_pdb, "Deployment requests: no PodDisruptionBudget"),
    "env var removed": (_drop_env, "Deployment chat: required setting DATABASE_URL"),
    "secret file removed": (_drop_secret_item, "Deployment auth: required setting CODE_HMAC_SECRET"),
    "secret committed": (_commit_a_secret, "Secret leak: values must not be committed"),
    "deployment removed": (_drop_deployment, "Procfile process 'verifier' has no Deployment"),
    "resources removed": (_drop_resources, "resources.requests.cpu missing"),
    "middleware drifted": (_change_body_limit, "Middleware limit-json: settings differ"),
    "database host removed": (_drop_database_host, "POSTGRES_HOST"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_the_checker_reports_broken_manifests(docs: list[Doc], case: str) -> None:
    mutate, expected = BROKEN[case]
    broken = copy.deepcopy(docs)
    mutate(broken)
    problems = checks.k8s_problems(broken)
    assert any(expected in problem for problem in problems), problems
