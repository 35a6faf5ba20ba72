"""deploy/Dockerfile (every image, one stage each) and .dockerignore, read as text (no engine here)."""

import re

import pytest

from . import checks

DOCKERFILE = checks.DEPLOY / "Dockerfile"
SERVICES = ("auth", "listings", "requests", "chat", "notifications")
# Every shared library (libs/<name>/<name>/), as scripts/link_packages.py finds them.
LIBRARIES = sorted(
    path.name for path in (checks.ROOT / "libs").iterdir() if (path / path.name / "__init__.py").is_file()
)


def test_images_are_slim_non_root_and_pinned() -> None:
    text = DOCKERFILE.read_text()
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    assert "pip install -c /tmp/requirements/constraints.txt -r /tmp/requirements/runtime.txt" in text
    stages = re.split(r"^FROM ", text, flags=re.M)[1:]
    for stage in stages[2:]:  # migrate, pages, service: each ends as the unprivileged user
        users = re.findall(r"^USER (\S+)", stage, re.M)
        assert users and not users[-1].startswith(("root", "0")), f"stage {stage.splitlines()[0]}: USER root"
    assert "COPY contracts/ contracts/" in text, "services read contracts/vocabulary.json at run time"
    assert "COPY libs/ libs/" in text
    for library in LIBRARIES:
        assert re.search(rf"PYTHONPATH=\S*/app/libs/{library}[:\s]", text), f"{library} is not on the path"
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M):
        for path in source.split():
            concrete = path.replace("${SERVICE}", "auth")
            assert (checks.ROOT / concrete).exists(), f"COPY {path} does not exist"


@pytest.mark.parametrize("name", SERVICES)
def test_the_service_stage_probes_health_and_serves_the_factory(name: str) -> None:
    service_stage = DOCKERFILE.read_text().split("AS service", 1)[1]
    assert re.search(r"HEALTHCHECK .*\n.*python.*http://127\.0\.0\.1:8000/health", service_stage)
    assert "PYTHONPATH=$PYTHONPATH:/app/services/${SERVICE}" in service_stage
    command = checks.dockerfile_cmd(DOCKERFILE, "service", {"SERVICE": name})
    target = checks.app_target(command)
    assert target == f"{name}_service.main:create_app" and checks.target_exists(target)
    assert "--factory" in command
    # The default target is the service stage.
    assert checks.dockerfile_cmd(DOCKERFILE, args={"SERVICE": name}) == command


def test_the_pages_and_migrate_stages_run_what_the_project_runs() -> None:
    pages = checks.dockerfile_cmd(DOCKERFILE, "pages")
    target = checks.app_target(pages)
    assert target == checks.app_target(checks.procfile_processes()["pages"]) == "gateway_pages.app:create_app"
    assert checks.target_exists(target)
    assert checks.dockerfile_cmd(DOCKERFILE, "migrate") == ["python", "deploy/migrate.py"]


def test_the_build_context_keeps_local_state_out() -> None:
    lines = (checks.ROOT / ".dockerignore").read_text().splitlines()
    assert "**" in lines, "allow-list: everything is excluded unless listed"
    allowed = [line[1:] for line in lines if line.startswith("!")]
    assert not any(line.startswith((".venv", "var", "deploy/.secrets", "deploy/.env")) for line in allowed)
    libraries = [f"libs/{library}/{library}/" for library in LIBRARIES]
    for path in (
        "contracts/",
        *libraries,
        "requirements/constraints.txt",
        "deploy/migrate.py",
        "gateway/pages/gateway_pages/",
    ):
        assert path in allowed
