"""The notifications domain knows no transport: sockets, Redis and the web stay behind its interfaces."""

import ast
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "notifications_service" / "domain"
TRANSPORTS = ("starlette", "fastapi", "redis", "websockets", "uvicorn", "aio_pika")


def imported_modules(source: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_domain_imports_no_transport() -> None:
    sources = sorted(DOMAIN.glob("**/*.py"))
    assert len(sources) >= 8, f"no domain modules found under {DOMAIN}"
    offending = {
        f"{source.name}: {module}"
        for source in sources
        for module in imported_modules(source)
        if module.split(".")[0] in TRANSPORTS
        or module.startswith(("notifications_service.api", "service_kit.fanout", "service_kit.presence"))
    }
    assert not offending


def test_domain_never_commits() -> None:
    for source in DOMAIN.glob("**/*.py"):
        text = source.read_text()
        assert ".commit(" not in text and ".begin()" not in text, source.name
