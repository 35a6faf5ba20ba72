"""The Dockerfiles and .dockerignore, read as text (no engine here to build them)."""

import re
from pathlib import Path

import pytest

from . import checks

SERVICES = ("auth", "listings", "requests", "chat")
PAGES_DOCKERFILE = checks.ROOT / "gateway" / "pages" / "Dockerfile"
DOCKERFILES = [checks.ROOT / "services" / name / "Dockerfile" for name in SERVICES] + [
    checks.DEPLOY / "migrate.Dockerfile",
    PAGES_DOCKERFILE,
]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.parent.name + "/" + path.name)
def test_images_are_slim_non_root_and_pinned(dockerfile: Path) -> None:
    text = dockerfile.read_text()
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    assert "pip install -c /tmp/requirements/constraints.txt -r /tmp/requirements/runtime.txt" in text
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and not user[-1].startswith(("root", "0")), "the last USER must not be root"
    assert "COPY contracts/ contracts/" in text, "services read contracts/vocabulary.json at run time"
    assert "COPY libs/service_kit/service_kit/ libs/service_kit/service_kit/" in text
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M):
        for path in source.split():
            assert (checks.ROOT / path).exists(), f"{dockerfile}: COPY {path} does not exist"


@pytest.mark.parametrize("name", SERVICES)
def test_service_images_probe_health_and_serve_the_factory(name: str) -> None:
    dockerfile = checks.ROOT / "services" / name / "Dockerfile"
    text = dockerfile.read_text()
    assert re.search(r"HEALTHCHECK .*\n.*python.*http://127\.0\.0\.1:8000/health", text)
    assert f"PYTHONPATH=/app/libs/service_kit:/app/services/{name}" in text
    target = checks.app_target(checks.dockerfile_cmd(dockerfile))
    assert target == f"{name}_service.main:create_app" and checks.target_exists(target)
    assert "--factory" in checks.dockerfile_cmd(dockerfile)


def test_the_pages_image_serves_what_the_procfile_serves() -> None:
    text = PAGES_DOCKERFILE.read_text()
    assert re.search(r"HEALTHCHECK .*\n.*python.*http://127\.0\.0\.1:8000/health", text)
    assert "PYTHONPATH=/app/libs/service_kit:/app/gateway/pages" in text
    target = checks.app_target(checks.dockerfile_cmd(PAGES_DOCKERFILE))
    assert target == checks.app_target(checks.procfile_processes()["pages"]) == "gateway_pages.app:create_app"
    assert checks.target_exists(target)


def test_the_build_context_keeps_local_state_out() -> None:
    lines = (checks.ROOT / ".dockerignore").read_text().splitlines()
    assert "**" in lines, "allow-list: everything is excluded unless listed"
    allowed = [line[1:] for line in lines if line.startswith("!")]
    assert not any(line.startswith((".venv", "var", "deploy/.secrets", "deploy/.env")) for line in allowed)
    for path in (
        "contracts/",
        "libs/service_kit/service_kit/",
        "requirements/constraints.txt",
        "deploy/migrate.py",
        "gateway/pages/gateway_pages/",
    ):
        assert path in allowed
