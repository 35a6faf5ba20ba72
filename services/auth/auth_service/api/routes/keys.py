"""The public signing keys, for every service and client that verifies tokens."""

from typing import Any

from fastapi import APIRouter, Response

from auth_service.api.deps import Container

router = APIRouter(tags=["keys"])


@router.get("/.well-known/jwks.json")
async def jwks(container: Container, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "public, max-age=300"
    return container.issuer.jwks
