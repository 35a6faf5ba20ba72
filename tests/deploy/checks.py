"""Checks of deploy/compose.yml and deploy/k8s/ without a container engine.

Every check is a function returning a list of problems (empty = fine), so the
tests can run them on the committed files and on deliberately broken copies.
What each service needs is derived at run time from the sources of truth: the
Procfile (which processes the local stack runs), each service's settings class
(which variables are required), gateway/dynamic.yml (routes, middlewares and
upstream variables), gateway/traefik.yml (entry points) and the Dockerfiles
(what the images run).
"""

import copy
import importlib
import json
import os
import re
import shlex
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

import yaml
from pydantic import ValidationError
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yml"
K8S_DIR = DEPLOY / "k8s"

Doc = dict[str, Any]

# Which settings class each process loads (the verifier is auth's code).
SETTINGS = {
    "auth": "auth_service.settings:AuthSettings",
    "verifier": "auth_service.settings:VerifierSettings",
    "listings": "listings_service.settings:ListingsSettings",
    "requests": "requests_service.settings:RequestsSettings",
    "chat": "chat_service.settings:ChatSettings",
    "notifications": "notifications_service.settings:NotificationsSettings",
}
# Procfile process -> compose service. chat_a/chat_b are replicas of one service.
COMPOSE_SERVICE_OF = {
    "gateway": "gateway",
    "pages": "gateway-pages",
    "verifier": "verifier",
    "auth": "auth",
    "listings": "listings",
    "requests": "requests",
    "chat_a": "chat",
    "chat_b": "chat",
    "notifications_a": "notifications",
    "notifications_b": "notifications",
}
# Procfile process -> Kubernetes Deployment (the gateway is the Traefik controller).
DEPLOYMENT_OF = {
    "pages": "gateway-pages",
    "verifier": "auth-verifier",
    "auth": "auth",
    "listings": "listings",
    "requests": "requests",
    "chat_a": "chat",
    "chat_b": "chat",
    "notifications_a": "notifications",
    "notifications_b": "notifications",
}
# Services the local stack runs as several replicas (Procfile <name>_a, <name>_b): scaled on their own.
REPLICATED = ("chat", "notifications")
# Compose service / Deployment -> settings key.
SETTINGS_OF_DEPLOYMENT = {"auth-verifier": "verifier", "auth": "auth", "listings": "listings"} | {
    name: name for name in ("requests", "chat", "notifications")
}
# Processes that are plain images (no settings class, no database): only built and probed.
STATELESS = ("gateway-pages",)
# gateway/dynamic.yml service -> Kubernetes Service (names differ by design, as addresses do).
K8S_SERVICE_OF = {"pages": "gateway-pages", "verifier": "auth-verifier"}
# gateway/dynamic.yml entry point -> the Traefik Helm chart's (TLS terminates on websecure).
K8S_ENTRYPOINT_OF = {"web": "websecure", "internal": "internal"}
INFRASTRUCTURE = ("postgres", "rabbitmq", "redis")
SAMPLE = "s" * 40  # stands for a secret or a required variable the operator provides


# ---- sources of truth --------------------------------------------------------------


@cache  # the sources do not change during a test run
def procfile_processes(procfile: Path = ROOT / "Procfile") -> dict[str, str]:
    processes: dict[str, str] = {}
    for line in procfile.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            processes[name.strip()] = command.strip()
    return processes


def app_target(command: list[str] | str) -> str | None:
    """``module:factory`` that a uvicorn command line serves."""
    words = shlex.split(command) if isinstance(command, str) else command
    if "uvicorn" not in words:
        return None
    return next((word for word in words[words.index("uvicorn") + 1 :] if not word.startswith("-")), None)


def settings_class(key: str) -> type[BaseSettings]:
    module, _, name = SETTINGS[key].partition(":")
    cls: type[BaseSettings] = getattr(importlib.import_module(module), name)
    return cls


@cache  # the sources do not change during a test run
def required_variables(key: str) -> set[str]:
    """Env names of the settings fields without defaults (pydantic-settings: upper-cased field names)."""
    return {name.upper() for name, field in settings_class(key).model_fields.items() if field.is_required()}


@cache  # the sources do not change during a test run
def render_dynamic(path: Path = ROOT / "gateway" / "dynamic.yml") -> Doc:
    """gateway/dynamic.yml as data: template-only lines dropped, inline actions replaced."""
    lines = [line for line in path.read_text().splitlines() if not re.fullmatch(r"\s*\{\{.*\}\}\s*", line)]
    data: Doc = yaml.safe_load(re.sub(r"\{\{.*?\}\}", "TEMPLATE", "\n".join(lines)))
    return data


@cache  # the sources do not change during a test run
def dynamic_env_variables(path: Path = ROOT / "gateway" / "dynamic.yml") -> set[str]:
    return set(re.findall(r'env\s+"([A-Z_]+)"', path.read_text()))


def is_upstream_variable(variable: str) -> bool:
    """AUTH_URL, CHAT_URLS, ...: where the gateway sends requests (the rest are its own settings)."""
    return variable.endswith(("_URL", "_URLS"))


@cache  # the sources do not change during a test run
def internal_port() -> int:
    """The loopback entry point forwardAuth calls the verifier through (gateway/traefik.yml)."""
    static = yaml.safe_load((ROOT / "gateway" / "traefik.yml").read_text())
    return int(static["entryPoints"]["internal"]["address"].rsplit(":", 1)[1])


def dockerfile_cmd(dockerfile: Path, target: str | None = None, args: Mapping[str, str] | None = None) -> list[str]:
    """The command a stage of the Dockerfile runs (the last stage unless ``target``), build args filled in.

    ``["sh", "-c", "exec uvicorn ..."]`` is read as the words of the shell command.
    """
    stages: dict[str, list[str]] = {}
    current = ""
    for line in dockerfile.read_text().splitlines():
        if stage := re.match(r"FROM \S+(?: AS (\S+))?$", line):
            current = stage.group(1) or ""
            stages[current] = []
        elif line.startswith("CMD "):
            stages[current] = json.loads(line.removeprefix("CMD "))
    words = stages.get(target, []) if target else (list(stages.values()) or [[]])[-1]
    if words[:2] == ["sh", "-c"]:
        words = [word for word in shlex.split(words[2]) if word != "exec"]
    return [re.sub(r"\$\{(\w+)\}", lambda match: (args or {}).get(match.group(1), ""), word) for word in words]


@cache  # the sources do not change during a test run
def target_exists(target: str) -> bool:
    """``pkg.module:factory`` is a function defined in a file of some service or of the kit."""
    module, _, attribute = target.partition(":")
    relative = Path(*module.split(".")).with_suffix(".py")
    roots = [ROOT / "libs" / "service_kit", ROOT / "gateway" / "pages", *(ROOT / "services").iterdir()]
    return any(
        (root / relative).is_file() and re.search(rf"^def {attribute}\(", (root / relative).read_text(), re.M)
        for root in roots
    )


# ---- settings validation with the deployment's values --------------------------------


def interpolate(value: str) -> str:
    """Compose interpolation with stand-ins: ${X:-d} -> d, ${X:?m} / ${X} -> a sample value."""

    def replace(match: re.Match[str]) -> str:
        operator, argument = match.group(2), match.group(3)
        return argument if operator in ("-", ":-") else SAMPLE

    return re.sub(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}", replace, value).replace("$$", "$")


@contextmanager
def _only_environment(env: Mapping[str, str]) -> Iterator[None]:
    with mock.patch.dict(os.environ, dict(env), clear=True):
        yield


def settings_problems(where: str, key: str, env: Mapping[str, str], secret_files: set[str]) -> list[str]:
    """Would the service start with these values? Builds its settings class for real."""
    cls = settings_class(key)
    with tempfile.TemporaryDirectory() as secrets_dir:
        for name in secret_files:
            (Path(secrets_dir) / name).write_text(SAMPLE)
        try:
            with _only_environment(env):
                cls(_secrets_dir=secrets_dir)
        except ValidationError as error:
            reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors())
            return [f"{where}: {cls.__name__} refuses the configured values ({reasons})"]
    return []


# ---- compose ---------------------------------------------------------------------------


def load_compose(path: Path = COMPOSE_FILE) -> Doc:
    data: Doc = yaml.safe_load(path.read_text())
    return data


def _environment(service: Doc) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(key): str(value) for key, value in env.items()}


def _secret_files(service: Doc, env: Mapping[str, str]) -> set[str]:
    """Secrets the service's settings can read as files (mounted at /run/secrets = $SECRETS_DIR)."""
    if env.get("SECRETS_DIR") != "/run/secrets":
        return set()
    names: set[str] = set()
    for item in service.get("secrets") or []:
        names.add(item if isinstance(item, str) else item.get("target", item["source"]))
    return names


def _mount_targets(service: Doc) -> set[str]:
    targets = set()
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            parts = interpolate(volume).split(":")
            targets.add(parts[1] if len(parts) > 1 else parts[0])
        else:
            targets.add(volume["target"])
    return targets


def compose_problems(compose: Doc, base: Path = DEPLOY) -> list[str]:
    problems: list[str] = []
    services: dict[str, Doc] = compose.get("services") or {}

    # Every process of the local stack runs here, chat with as many replicas.
    processes = procfile_processes()
    for process in processes:
        name = COMPOSE_SERVICE_OF.get(process)
        if name is None:
            problems.append(f"Procfile process {process!r} has no compose service (add it to COMPOSE_SERVICE_OF)")
        elif name not in services:
            problems.append(f"Procfile process {process!r} needs compose service {name!r}")
    for replicated in REPLICATED:
        local = sum(1 for process in processes if COMPOSE_SERVICE_OF.get(process) == replicated)
        if replicated in services:
            replicas = (services[replicated].get("deploy") or {}).get("replicas", 1)
            if replicas < local:
                problems.append(f"{replicated}: deploy.replicas is {replicas}, the local stack runs {local}")
    for name in [*INFRASTRUCTURE, "migrate"]:
        if name not in services:
            problems.append(f"compose service {name!r} is missing")

    # Only the gateway is published.
    for name, service in services.items():
        if service.get("ports") and name != "gateway":
            problems.append(f"{name}: publishes ports; only the gateway may")
    gateway = services.get("gateway", {})
    if not any(str(port).endswith(":8000") for port in gateway.get("ports") or []):
        problems.append("gateway: container port 8000 is not published")

    # Healthchecks: every long-running service has one.
    for name, service in services.items():
        if name != "migrate" and not (service.get("healthcheck") or {}).get("test"):
            problems.append(f"{name}: no healthcheck")

    problems += _gateway_problems(gateway, services, base)
    for process, command in processes.items():
        name = COMPOSE_SERVICE_OF.get(process)
        if name in SETTINGS and name in services:
            problems += _python_service_problems(name, services[name], app_target(command), compose, base)
        elif name in STATELESS and name in services:
            problems += _image_problems(name, services[name], app_target(command), base)
    problems += _migrate_problems(services.get("migrate", {}), base)

    # Declared volumes and secrets.
    declared_volumes = set(compose.get("volumes") or {})
    declared_secrets = compose.get("secrets") or {}
    for name, service in services.items():
        for volume in service.get("volumes") or []:
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
            if source and not source.startswith(("/", ".", "$", "~", SAMPLE)) and source not in declared_volumes:
                problems.append(f"{name}: volume {source!r} is not declared")
        for secret in service.get("secrets") or []:
            source = secret if isinstance(secret, str) else secret["source"]
            if source not in declared_secrets:
                problems.append(f"{name}: secret {source!r} is not declared")
    for name, secret in declared_secrets.items():
        if not re.fullmatch(r"\$\{\w+:\?[^}]+\}", str(secret.get("file", ""))):
            problems.append(f"secret {name}: file must be ${{VAR:?message}} so compose fails fast when unset")
    if "postgres" in services and not any(
        target.startswith("/var/lib/postgresql") for target in _mount_targets(services["postgres"])
    ):
        problems.append("postgres: data is not on a volume")
    return problems


def _gateway_problems(gateway: Doc, services: Mapping[str, Doc], base: Path) -> list[str]:
    problems: list[str] = []
    if not str(gateway.get("image", "")).startswith("traefik:v3"):
        problems.append("gateway: must be the official traefik v3 image")
    mounts: dict[str, str] = {}
    for volume in gateway.get("volumes") or []:
        host, target, *_ = str(volume).split(":")
        mounts[target] = host
    for name in ("traefik.yml", "dynamic.yml"):
        source = mounts.get(f"/etc/traefik/{name}")
        expected = (ROOT / "gateway" / name).resolve()
        if source is None:
            problems.append(f"gateway: /etc/traefik/{name} is not mounted")
        elif (base / source).resolve() != expected or not expected.is_file():
            problems.append(f"gateway: /etc/traefik/{name} must be gateway/{name} (mounted: {source})")
    for volume in gateway.get("volumes") or []:
        if str(volume).split(":")[1].startswith("/etc/traefik/") and not str(volume).endswith(":ro"):
            problems.append(f"gateway: {volume} must be read-only")
    static = yaml.safe_load((ROOT / "gateway" / "traefik.yml").read_text())
    if static["providers"]["file"]["filename"] != "/etc/traefik/dynamic.yml":
        problems.append("gateway/traefik.yml does not read /etc/traefik/dynamic.yml")
    # Every upstream variable of dynamic.yml points at compose services.
    env = _environment(gateway)
    for variable in sorted(filter(is_upstream_variable, dynamic_env_variables())):
        if variable not in env:
            problems.append(f"gateway: {variable} (used by gateway/dynamic.yml) is not set")
            continue
        for url in env[variable].split(","):
            host = re.sub(r"^\w+://", "", url.strip()).split(":")[0].split("/")[0]
            if host not in services:
                problems.append(f"gateway: {variable} points at {host!r}, not a compose service")
    # The gateway's own settings: production unless overridden, origins the operator must name.
    unknown = set(env) - dynamic_env_variables()
    problems += [f"gateway: {variable} is set but gateway/dynamic.yml does not read it" for variable in sorted(unknown)]
    if interpolate(env.get("ENVIRONMENT", "production")) != "production":
        problems.append("gateway: ENVIRONMENT must default to production")
    if not re.fullmatch(r"\$\{CORS_ALLOWED_ORIGINS:\?[^}]+\}", env.get("CORS_ALLOWED_ORIGINS", "")):
        problems.append("gateway: CORS_ALLOWED_ORIGINS must be ${CORS_ALLOWED_ORIGINS:?message} (no default origins)")
    if "GATEWAY_INTERNAL_PORT" in env and interpolate(env["GATEWAY_INTERNAL_PORT"]) != str(internal_port()):
        problems.append(f"gateway: GATEWAY_INTERNAL_PORT must be {internal_port()}, the port of gateway/traefik.yml")
    for name in [*SETTINGS, *STATELESS]:
        if name in services and (gateway.get("depends_on") or {}).get(name, {}).get("condition") != "service_healthy":
            problems.append(f"gateway: must depend on {name} being service_healthy")
    return problems


def _image_problems(name: str, service: Doc, target: str | None, base: Path) -> list[str]:
    """Built from a Dockerfile that exists, running what the Procfile runs."""
    build = service.get("build")
    if not build:
        return [f"{name}: no build section"]
    dockerfile = (base / build.get("context", ".")) / build.get("dockerfile", "Dockerfile")
    if not dockerfile.is_file():
        return [f"{name}: Dockerfile {dockerfile} does not exist"]
    served = app_target(service.get("command") or dockerfile_cmd(dockerfile, build.get("target"), build.get("args")))
    if served is None or not target_exists(served):
        return [f"{name}: runs {served!r}, which does not exist"]
    if served != target:
        return [f"{name}: runs {served!r} but the Procfile runs {target!r}"]
    return []


def _python_service_problems(name: str, service: Doc, target: str | None, compose: Doc, base: Path) -> list[str]:
    services: dict[str, Doc] = compose["services"]
    problems = _image_problems(name, service, target, base)
    # Migrations and infrastructure first.
    depends = service.get("depends_on") or {}
    if (depends.get("migrate") or {}).get("condition") != "service_completed_successfully":
        problems.append(f"{name}: must depend on migrate with service_completed_successfully")
    for infra in INFRASTRUCTURE:
        if (depends.get(infra) or {}).get("condition") != "service_healthy":
            problems.append(f"{name}: must depend on {infra} being service_healthy")
    for dependency, spec in depends.items():
        if spec.get("condition") == "service_healthy" and not (services.get(dependency) or {}).get("healthcheck"):
            problems.append(f"{name}: waits for {dependency} to be healthy, which has no healthcheck")
    # Required settings are set, and the values pass the settings' own validation.
    env = _environment(service)
    secret_files = _secret_files(service, env)
    for variable in sorted(required_variables(name)):
        if variable not in env and variable.lower() not in secret_files:
            problems.append(f"{name}: required setting {variable} is neither in environment nor a secret file")
    mounts = _mount_targets(service)
    for variable, value in env.items():
        if variable.endswith("_PATH") and value.startswith("/") and not value.startswith("/nonexistent/"):
            if value.startswith("/run/secrets/"):
                if value.removeprefix("/run/secrets/") not in secret_files:
                    problems.append(f"{name}: {variable}={value} but that secret is not mounted")
            elif not any(value.startswith(target.rstrip("/") + "/") for target in mounts):
                problems.append(f"{name}: {variable}={value} is on no mounted volume")
    if "MEDIA_DIR" in env and env["MEDIA_DIR"] not in mounts:
        problems.append(f"{name}: MEDIA_DIR {env['MEDIA_DIR']} is not a volume")
    interpolated = {key: interpolate(value) for key, value in env.items()}
    problems += settings_problems(f"compose {name}", name, interpolated, secret_files)
    return problems


def _migrate_problems(migrate: Doc, base: Path) -> list[str]:
    problems: list[str] = []
    build = migrate.get("build") or {}
    dockerfile = (base / build.get("context", ".")) / build.get("dockerfile", "Dockerfile")
    if not build or not dockerfile.is_file():
        problems.append("migrate: must be built from an existing Dockerfile")
    else:
        command = dockerfile_cmd(dockerfile, build.get("target"), build.get("args"))
        script = next((word for word in command if word.endswith(".py")), None)
        if script is None or not (ROOT / script).is_file():
            problems.append(f"migrate: its image runs {script!r}, which does not exist")
    env = _environment(migrate)
    for service in ("auth", "listings", "requests", "chat", "notifications"):
        if f"{service.upper()}_DATABASE_URL" not in env:
            problems.append(f"migrate: {service.upper()}_DATABASE_URL is not set")
    return problems


# ---- kubernetes ------------------------------------------------------------------------


def load_k8s(directory: Path = K8S_DIR) -> list[Doc]:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    docs: list[Doc] = []
    for resource in kustomization["resources"]:
        docs += [doc for doc in yaml.safe_load_all((directory / resource).read_text()) if doc]
    return docs


def _by_kind(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc.get("kind") == kind}


def _selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def _expand(value: str, env: Mapping[str, str]) -> str:
    return re.sub(r"\$\((\w+)\)", lambda match: env.get(match.group(1), match.group(0)), value)


def _container_env(container: Doc, config_maps: Mapping[str, Doc]) -> tuple[dict[str, str], list[str]]:
    """The container's environment as the kubelet builds it (secret values -> samples)."""
    problems: list[str] = []
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            if name not in config_maps:
                problems.append(f"envFrom ConfigMap {name!r} is not in the manifests")
            env |= {key: str(value) for key, value in (config_maps.get(name, {}).get("data") or {}).items()}
        else:
            problems.append("envFrom of a Secret hides which variables exist; use env with secretKeyRef")
    for item in container.get("env") or []:
        if "value" in item:
            env[item["name"]] = _expand(str(item["value"]), env)
        elif "secretKeyRef" in (item.get("valueFrom") or {}):
            env[item["name"]] = SAMPLE
        elif "configMapKeyRef" in (item.get("valueFrom") or {}):
            ref = item["valueFrom"]["configMapKeyRef"]
            env[item["name"]] = str((config_maps.get(ref["name"], {}).get("data") or {}).get(ref["key"], ""))
    return env, problems


def k8s_problems(docs: list[Doc]) -> list[str]:
    problems: list[str] = []
    deployments = _by_kind(docs, "Deployment")
    services = _by_kind(docs, "Service")
    config_maps = _by_kind(docs, "ConfigMap")
    pdbs = list(_by_kind(docs, "PodDisruptionBudget").values())
    hpas = list(_by_kind(docs, "HorizontalPodAutoscaler").values())

    for process in procfile_processes():
        if process != "gateway" and DEPLOYMENT_OF.get(process) not in deployments:
            problems.append(f"Procfile process {process!r} has no Deployment (expected {DEPLOYMENT_OF.get(process)!r})")

    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]
        labels = pod["metadata"].get("labels") or {}
        if not _selects(deployment["spec"]["selector"].get("matchLabels") or {}, labels):
            problems.append(f"Deployment {name}: selector does not match its pod labels")
        for container in pod["spec"]["containers"]:
            where = f"Deployment {name}/{container['name']}"
            for probe, path in (("readinessProbe", "/ready"), ("livenessProbe", "/health")):
                if ((container.get(probe) or {}).get("httpGet") or {}).get("path") != path:
                    problems.append(f"{where}: {probe} must GET {path}")
            resources = container.get("resources") or {}
            for part, key in (("requests", "cpu"), ("requests", "memory"), ("limits", "memory")):
                if key not in (resources.get(part) or {}):
                    problems.append(f"{where}: resources.{part}.{key} missing")
            if not (container.get("securityContext") or {}).get("readOnlyRootFilesystem"):
                problems.append(f"{where}: root filesystem must be read-only")
        if not (pod["spec"].get("securityContext") or {}).get("runAsNonRoot"):
            problems.append(f"Deployment {name}: must run as non-root")
        if not any(_selects(service["spec"].get("selector") or {}, labels) for service in services.values()):
            problems.append(f"Deployment {name}: no Service selects it")
        if not any(_selects(pdb["spec"]["selector"].get("matchLabels") or {}, labels) for pdb in pdbs):
            problems.append(f"Deployment {name}: no PodDisruptionBudget")
        settings_key = SETTINGS_OF_DEPLOYMENT.get(name)
        if settings_key is not None:
            problems += _k8s_settings_problems(name, settings_key, pod["spec"], config_maps)

    for replicated in REPLICATED:
        if replicated in deployments and not any(hpa["spec"]["scaleTargetRef"]["name"] == replicated for hpa in hpas):
            problems.append(f"{replicated}: no HorizontalPodAutoscaler")
    for hpa in hpas:
        if hpa["spec"]["scaleTargetRef"]["name"] not in deployments:
            problems.append(f"HPA {hpa['metadata']['name']}: targets a missing Deployment")

    # Secrets are referenced, never committed; infrastructure is managed, not pods.
    for doc in docs:
        if doc.get("kind") == "Secret" and (doc.get("data") or doc.get("stringData")):
            problems.append(f"Secret {doc['metadata']['name']}: values must not be committed")
        if doc.get("kind") in ("Deployment", "StatefulSet") and doc["metadata"]["name"] in INFRASTRUCTURE:
            problems.append(f"{doc['metadata']['name']}: managed infrastructure must not run as a pod")
    config = (config_maps.get("marketplace-config") or {}).get("data") or {}
    for host in ("POSTGRES_HOST", "RABBITMQ_HOST", "REDIS_HOST"):
        if host not in config:
            problems.append(f"ConfigMap marketplace-config: {host} missing")

    jobs = _by_kind(docs, "Job")
    migrate = jobs.get("migrate")
    if migrate is None:
        problems.append("no migrate Job")
    else:
        container = migrate["spec"]["template"]["spec"]["containers"][0]
        env, env_problems = _container_env(container, config_maps)
        problems += [f"Job migrate: {problem}" for problem in env_problems]
        for service in ("auth", "listings", "requests", "chat", "notifications"):
            if f"{service.upper()}_DATABASE_URL" not in env:
                problems.append(f"Job migrate: {service.upper()}_DATABASE_URL is not set")

    problems += gateway_route_problems(docs, set(services))
    return problems


def _k8s_settings_problems(name: str, key: str, pod: Doc, config_maps: Mapping[str, Doc]) -> list[str]:
    problems: list[str] = []
    container = pod["containers"][0]
    env, env_problems = _container_env(container, config_maps)
    problems += [f"Deployment {name}: {problem}" for problem in env_problems]
    mounts = {mount["mountPath"]: mount["name"] for mount in container.get("volumeMounts") or []}
    volumes = {volume["name"]: volume for volume in pod.get("volumes") or []}
    secret_files: set[str] = set()
    secrets_dir = env.get("SECRETS_DIR")
    if secrets_dir and secrets_dir in mounts:
        secret = volumes.get(mounts[secrets_dir], {}).get("secret") or {}
        secret_files = {item["path"] for item in secret.get("items") or []}
    for variable in sorted(required_variables(key)):
        if variable not in env and variable.lower() not in secret_files:
            problems.append(f"Deployment {name}: required setting {variable} is neither in env nor a secret file")
    for variable, value in env.items():
        if variable.endswith("_PATH") and value.startswith("/") and not value.startswith("/nonexistent/"):
            directory = str(Path(value).parent)
            if directory not in mounts:
                problems.append(f"Deployment {name}: {variable}={value} is on no mounted volume")
            elif directory == secrets_dir and Path(value).name not in secret_files:
                problems.append(f"Deployment {name}: {variable}={value} but that secret item is not mounted")
    if "MEDIA_DIR" in env and key in ("auth", "listings") and env["MEDIA_DIR"] not in mounts:
        problems.append(f"Deployment {name}: MEDIA_DIR {env['MEDIA_DIR']} is not a volume")
    problems += settings_problems(f"Deployment {name}", key, env, secret_files)
    return problems


def _configured(expected: Any, actual: Any) -> bool:
    """``actual`` says what ``expected`` says, where TEMPLATE (a value dynamic.yml takes from the
    environment) stands for any value the manifest writes itself."""
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and set(expected) == set(actual)
            and all(_configured(value, actual[key]) for key, value in expected.items())
        )
    if isinstance(expected, list):
        if expected == ["TEMPLATE"]:
            return isinstance(actual, list) and bool(actual)
        return isinstance(actual, list) and len(expected) == len(actual) and all(map(_configured, expected, actual))
    if isinstance(expected, str) and "TEMPLATE" in expected:
        pattern = ".+".join(re.escape(part) for part in expected.split("TEMPLATE"))
        return re.fullmatch(pattern, str(actual)) is not None
    return bool(expected == actual)


def gateway_route_problems(docs: list[Doc], service_names: set[str]) -> list[str]:
    """The IngressRoutes and Middlewares say what gateway/dynamic.yml says."""
    problems: list[str] = []
    dynamic = render_dynamic()["http"]
    routes = {
        (entry_point, route["match"]): route
        for doc in docs
        if doc.get("kind") == "IngressRoute"
        for route in doc["spec"].get("routes") or []
        for entry_point in doc["spec"].get("entryPoints") or []
    }
    expected_keys = set()
    for name, router in dynamic["routers"].items():
        for entry_point in router["entryPoints"]:
            key = (K8S_ENTRYPOINT_OF.get(entry_point, entry_point), router["rule"])
            expected_keys.add(key)
            route = routes.get(key)
            if route is None:
                problems.append(f"IngressRoute: no route for router {name} on entry point {key[0]} ({router['rule']})")
                continue
            middlewares = [middleware["name"] for middleware in route.get("middlewares") or []]
            if middlewares != router.get("middlewares", []):
                problems.append(f"IngressRoute {name}: middlewares {middlewares} != {router.get('middlewares', [])}")
            if route.get("priority") != router.get("priority"):
                problems.append(f"IngressRoute {name}: priority {route.get('priority')} != {router.get('priority')}")
            targets = [service["name"] for service in route.get("services") or []]
            expected_service = K8S_SERVICE_OF.get(router["service"], router["service"])
            if targets != [expected_service]:
                problems.append(f"IngressRoute {name}: services {targets} != [{expected_service!r}]")
            problems += [
                f"IngressRoute {name}: Service {t!r} does not exist" for t in targets if t not in service_names
            ]
    extra = set(routes) - expected_keys
    problems += [f"IngressRoute: route {match} on {ep} is not in gateway/dynamic.yml" for ep, match in sorted(extra)]

    crds = {doc["metadata"]["name"]: doc["spec"] for doc in docs if doc.get("kind") == "Middleware"}
    for name, spec in dynamic["middlewares"].items():
        crd = crds.get(name)
        if crd is None:
            problems.append(f"Middleware {name} of gateway/dynamic.yml is missing")
            continue
        if set(crd) != set(spec):
            problems.append(f"Middleware {name}: kind {sorted(crd)} != {sorted(spec)}")
            continue
        expected, actual = copy.deepcopy(spec), copy.deepcopy(crd)
        for kind in expected:
            # Addresses and service references differ by design; everything else must match.
            for field in ("address", "service"):
                expected[kind].pop(field, None)
                actual[kind].pop(field, None)
        if not _configured(expected, actual):
            problems.append(f"Middleware {name}: settings differ from gateway/dynamic.yml")
        if "forwardAuth" in spec:
            path = re.sub(r"^.*?TEMPLATE", "", spec["forwardAuth"]["address"])
            if crd["forwardAuth"]["address"] != f"http://127.0.0.1:{internal_port()}{path}":
                problems.append(f"Middleware {name}: must call the pod's own internal entry point at {path}")
            verifier_route = next(
                (
                    key
                    for key in routes
                    if key[0] == "internal"
                    and any(re.search(pattern, path) for pattern in re.findall(r"PathRegexp\(`([^`]*)`\)", key[1]))
                ),
                None,
            )
            targets = [s["name"] for s in (routes[verifier_route].get("services") or [])] if verifier_route else []
            if targets != ["auth-verifier"]:
                problems.append(f"Middleware {name}: the internal entry point must route {path} to auth-verifier")
        if (
            "errors" in spec
            and (crd["errors"].get("service") or {}).get("name") != K8S_SERVICE_OF[spec["errors"]["service"]]
        ):
            problems.append(f"Middleware {name}: error pages must come from the gateway-pages Service")
    problems += _deployment_choice_problems(crds)
    return problems


def _deployment_choice_problems(crds: Mapping[str, Doc]) -> list[str]:
    """What dynamic.yml takes from the environment, written out for the cluster: sane and consistent."""
    problems: list[str] = []
    origins = ((crds.get("cors") or {}).get("headers") or {}).get("accessControlAllowOriginList") or []
    if not origins or "*" in origins or not all(re.fullmatch(r"https://[a-z0-9.-]+(:\d+)?", o) for o in origins):
        problems.append(f"Middleware cors: production needs an explicit list of https origins, not {origins}")
    for name, spec in crds.items():
        if "rateLimit" not in spec:
            continue
        average = int(spec["rateLimit"]["average"])
        query = ((crds.get(name.replace("-rate-limit", "-rate-limited")) or {}).get("errors") or {}).get("query", "")
        if spec["rateLimit"].get("period") != "1m" or query != f"/errors/429/{(average + 59) // average}":
            problems.append(f"Middleware {name}: its 429 page must say Retry-After {(average + 59) // average}")
    return problems
