"""One OpenAPI document out of every service's committed contract.

Paths are disjoint between services (the gateway routes each path to one
service), so they are copied as they are; a path in two documents is an error.
Components with the same name and the same content are kept once; when two
services mean different things by one name, each service's copy is renamed
``<Service><Name>`` and that service's ``$ref``s are rewritten to it.
"""

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

Document = dict[str, Any]
REF_PREFIX = "#/components/"


class MergeError(ValueError):
    """The service documents cannot be combined into one."""


def load_documents(directory: Path) -> dict[str, Document]:
    """``<service>.json`` files of a directory, by service name."""
    documents = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(directory.glob("*.json"))}
    if not documents:
        raise MergeError(f"no OpenAPI documents in {directory}")
    return documents


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        rewritten = {key: _rewrite_refs(value, renames) for key, value in node.items()}
        ref = node.get("$ref")
        if isinstance(ref, str) and ref in renames:
            rewritten["$ref"] = renames[ref]
        return rewritten
    if isinstance(node, list):
        return [_rewrite_refs(item, renames) for item in node]
    return node


def _prefixed(service: str, name: str) -> str:
    return service[:1].upper() + service[1:] + name


def merge(documents: dict[str, Document], *, title: str, version: str) -> Document:
    # Which services define each component, with which content.
    definitions: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for service, document in documents.items():
        for kind, entries in (document.get("components") or {}).items():
            for name, value in entries.items():
                definitions[(kind, name)][service] = json.dumps(value, sort_keys=True)
    taken = set(definitions)
    renames: dict[str, dict[str, str]] = defaultdict(dict)
    for (kind, name), contents in sorted(definitions.items()):
        if len(set(contents.values())) == 1:
            continue
        for service in sorted(contents):
            new_name = _prefixed(service, name)
            if (kind, new_name) in taken:
                raise MergeError(f"components/{kind}/{name}: renamed copy {new_name} of {service} is taken")
            taken.add((kind, new_name))
            renames[service][f"{REF_PREFIX}{kind}/{name}"] = f"{REF_PREFIX}{kind}/{new_name}"

    paths: Document = {}
    components: dict[str, Document] = defaultdict(dict)
    tags: list[Document] = []
    for service, document in documents.items():
        document = _rewrite_refs(document, renames[service])
        tags.append({"name": service, "description": document.get("info", {}).get("description", "")})
        for path, item in document.get("paths", {}).items():
            if path in paths:
                raise MergeError(f"path {path} is in two services' documents")
            paths[path] = _tag_operations(item, service)
        for kind, entries in (document.get("components") or {}).items():
            for name, value in entries.items():
                renamed = renames[service].get(f"{REF_PREFIX}{kind}/{name}", f"{REF_PREFIX}{kind}/{name}")
                components[kind][renamed.removeprefix(f"{REF_PREFIX}{kind}/")] = value
    openapi_versions = {document.get("openapi") for document in documents.values()}
    if len(openapi_versions) != 1:
        raise MergeError(f"the documents use different OpenAPI versions: {sorted(map(str, openapi_versions))}")
    merged: Document = {
        "openapi": openapi_versions.pop(),
        "info": {
            "title": title,
            "version": version,
            "description": "Every service's API as one document; each operation is tagged with its service. "
            "Per-service documents: /openapi/<service>.json.",
        },
        "tags": tags,
        "paths": dict(sorted(paths.items())),
    }
    if components:
        merged["components"] = {kind: dict(sorted(entries.items())) for kind, entries in sorted(components.items())}
    return merged


HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _tag_operations(item: Document, service: str) -> Document:
    """Every operation also carries its service's tag, so the docs page groups by service."""
    tagged = dict(item)
    for method, operation in item.items():
        if method in HTTP_METHODS and isinstance(operation, dict):
            tags = [tag for tag in operation.get("tags", []) if tag != service]
            tagged[method] = {**operation, "tags": [service, *tags]}
    return tagged


def unresolved_refs(document: Document) -> list[str]:
    """Every local ``$ref`` that points at nothing (empty when the document is whole)."""
    missing: list[str] = []

    def resolve(pointer: str) -> bool:
        node: Any = document
        for part in pointer.removeprefix("#/").split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and (not ref.startswith("#/") or not resolve(ref)):
                missing.append(ref)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    return missing
