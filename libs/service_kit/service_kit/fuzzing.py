"""Fuzzing a service's OpenAPI document against the app itself, in the test process (schemathesis).

The app (lifespan already running) is served by uvicorn on a loopback port of
this process; schemathesis generates requests from the document, valid ones and
invalid ones, sends them with a valid token and checks each answer against what
the document promises: no 5xx, only documented statuses, content types, bodies
and headers as described. Generation is derandomized, so a run is repeatable;
``FUZZ_EXAMPLES=500`` runs more examples per operation than the test asks for.
"""

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import hypothesis
import requests
import schemathesis
import uvicorn
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)


@dataclass(frozen=True)
class Finding:
    operation: str
    mode: str
    problem: str

    def __str__(self) -> str:
        return f"{self.operation} ({self.mode}): {self.problem}"


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Serves the app (whose lifespan the caller runs) on a free loopback port; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 20)


def fuzz(
    document: Mapping[str, Any],
    base_url: str,
    *,
    headers: Callable[[str], Mapping[str, str]],
    max_examples: int,
    known_paths: Callable[[str], Mapping[str, Any] | None] = lambda _: None,
) -> list[Finding]:
    """Every operation, in both generation modes; returns what contradicted the document (blocking: run it
    in a thread while the event loop serves the app).

    ``headers`` gives each operation's request headers by its ``METHOD /path`` label (a valid token, say);
    ``known_paths`` may give path parameters of things that exist (the caller's own listing, say), to fuzz
    the rest of the request against them as well (valid data only).
    """
    max_examples = int(os.environ.get("FUZZ_EXAMPLES", max_examples))
    schema = schemathesis.openapi.from_dict(dict(document))
    findings: list[Finding] = []
    with requests.Session() as session:
        for result in schema.get_all_operations():
            if isinstance(result, Err):
                findings.append(Finding("document", "-", f"not a valid operation: {result.err()}"))
                continue
            operation = result.ok()
            sent = dict(headers(operation.label))
            runs: list[tuple[str, schemathesis.GenerationMode, Mapping[str, Any] | None]] = [
                (mode.value, mode, None) for mode in MODES
            ]
            known = known_paths(operation.label)
            if known:
                runs.append(("positive, known path", schemathesis.GenerationMode.POSITIVE, known))
            for name, mode, path in runs:
                failure = _run(operation, mode, session, base_url, sent, max_examples, path)
                if failure is not None:
                    findings.append(Finding(operation.label, name, failure))
    return findings


def _run(
    operation: Any,
    mode: schemathesis.GenerationMode,
    session: requests.Session,
    base_url: str,
    headers: dict[str, str],
    max_examples: int,
    path_parameters: Mapping[str, Any] | None,
) -> str | None:
    strategy = operation.as_strategy(
        generation_mode=mode, headers=headers, path_parameters=dict(path_parameters) if path_parameters else None
    )

    @hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @hypothesis.given(case=strategy)
    def check(case: schemathesis.Case[Any]) -> None:
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        check()
    except hypothesis.errors.Unsatisfiable:
        return None  # nothing to make invalid (an operation without input has no negative cases)
    except (Exception, BaseExceptionGroup) as error:  # schemathesis' failure groups, anything a request raised
        return f"{type(error).__name__}: {error}"
    return None
