"""JWT verification with the auth service's public keys, and the revocation list.

Every service verifies tokens itself (defence in depth behind the gateway):
EdDSA only, keys picked by ``kid`` from the auth service's JWKS, ``exp``,
``iat`` and ``sub`` required. A verified token is cached until it expires; the
revocation check runs on every call against an in-memory set that Redis
pub/sub keeps current, so deleting a user takes effect at once.
"""

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import jwt
from cachetools import TLRUCache
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import Depends, Request, status
from fastapi.security import HTTPBearer
from redis.asyncio import Redis

from service_kit.errors import Refusal
from service_kit.openapi import BEARER, OPTIONAL_BEARER

logger = logging.getLogger(__name__)

ALGORITHMS = ["EdDSA"]
ISSUER = "marketplace-auth"
AUDIENCE = "marketplace"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "iss", "aud"]
_USER_ID = re.compile(r"[1-9][0-9]{0,18}")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    """The key as a JWK whose ``kid`` is its RFC 7638 thumbprint."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    members = {"crv": "Ed25519", "kty": "OKP", "x": _b64url(raw)}
    thumbprint = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest()
    return {**members, "kid": _b64url(thumbprint), "use": "sig", "alg": "EdDSA"}


class InvalidToken(Exception):
    """The token is malformed, expired, signed by an unknown key or revoked."""


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    role: str


@dataclass(frozen=True, slots=True)
class _Verified:
    principal: Principal
    expires_at: float


class KeySet:
    """Public keys by ``kid``; loaded from a JWKS document."""

    def __init__(self, jwks: dict[str, Any] | None = None) -> None:
        self._keys: dict[str, jwt.PyJWK] = {}
        if jwks is not None:
            self.load(jwks)

    def load(self, jwks: dict[str, Any]) -> None:
        self._keys = {key.key_id: key for key in jwt.PyJWKSet.from_dict(jwks).keys if key.key_id}

    def get(self, kid: str) -> jwt.PyJWK | None:
        return self._keys.get(kid)

    def __len__(self) -> int:
        return len(self._keys)


class RemoteKeySet(KeySet):
    """A KeySet fetched from a JWKS URL, refreshed when an unknown ``kid`` shows up."""

    def __init__(self, url: str, *, min_refresh_seconds: float = 30.0) -> None:
        super().__init__()
        self._url = url
        self._min_refresh = min_refresh_seconds
        self._last_refresh = 0.0
        self._lock = asyncio.Lock()

    async def refresh(self) -> bool:
        async with self._lock:
            if time.monotonic() - self._last_refresh < (self._min_refresh if len(self) else 2.0):
                return False
            self._last_refresh = time.monotonic()
            try:
                async with httpx.AsyncClient(timeout=5) as client:
                    response = await client.get(self._url)
                    response.raise_for_status()
                    self.load(response.json())
            except (httpx.HTTPError, ValueError, jwt.PyJWKSetError):
                logger.warning("cannot fetch JWKS", extra={"url": self._url})
                return False
            return True


class RevocationList:
    """User ids whose tokens are no longer accepted."""

    def __init__(self) -> None:
        self._revoked: set[int] = set()

    def add(self, *user_ids: int) -> None:
        self._revoked.update(user_ids)

    def __contains__(self, user_id: object) -> bool:
        return user_id in self._revoked


class RevocationFeed:
    """Keeps a RevocationList current from Redis: a set to load, a channel to follow.

    Redis is only the fast path: the auth service owns the truth in PostgreSQL
    and rewrites the set on start, and ``user.deleted`` events reach every
    service through RabbitMQ as well.
    """

    def __init__(self, redis: Redis, namespace: str, revocations: RevocationList) -> None:
        self._redis = redis
        self._set_key = f"{namespace}:auth:revoked-users"
        self._channel = f"{namespace}:auth:revocations"
        self.revocations = revocations
        self.listening = False

    async def publish(self, user_id: int) -> None:
        self.revocations.add(user_id)
        await self._redis.sadd(self._set_key, user_id)
        await self._redis.publish(self._channel, str(user_id))

    async def add_all(self, user_ids: list[int]) -> None:
        self.revocations.add(*user_ids)
        if user_ids:
            await self._redis.sadd(self._set_key, *user_ids)

    async def load(self) -> None:
        members = await self._redis.smembers(self._set_key)
        self.revocations.add(*(int(member) for member in members))

    async def follow(self, resync_seconds: float = 30.0) -> None:
        """Subscribe until cancelled; reloads the whole set after each (re)subscribe."""
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    await self.load()
                    self.listening = True
                    while True:
                        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=resync_seconds)
                        if message is None:
                            await self.load()
                        elif message["type"] == "message":
                            with contextlib.suppress(ValueError):
                                self.revocations.add(int(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("revocation feed lost Redis; retrying")
            self.listening = False
            await asyncio.sleep(1)


class TokenVerifier:
    def __init__(self, keys: KeySet, revocations: RevocationList, *, cache_size: int = 100_000) -> None:
        self.keys = keys
        self.revocations = revocations
        self._cache: TLRUCache[str, _Verified] = TLRUCache(
            maxsize=cache_size, ttu=lambda _token, verified, _now: verified.expires_at, timer=time.time
        )

    def verify(self, token: str) -> Principal:
        verified = self._cache.get(token)
        if verified is None:
            verified = self._decode(token)
            self._cache[token] = verified
        if verified.principal.user_id in self.revocations:
            raise InvalidToken("token revoked")
        return verified.principal

    async def verify_fetching_keys(self, token: str) -> Principal:
        """Like ``verify`` but fetches the JWKS once if the token's key is unknown."""
        try:
            return self.verify(token)
        except UnknownKey:
            if isinstance(self.keys, RemoteKeySet) and await self.keys.refresh():
                return self.verify(token)
            raise

    def _decode(self, token: str) -> _Verified:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as error:
            raise InvalidToken("malformed token") from error
        key = self.keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise UnknownKey("token signed by an unknown key")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": REQUIRED_CLAIMS},
            )
            subject, role = claims["sub"], claims["role"]
            if not (isinstance(subject, str) and _USER_ID.fullmatch(subject) and isinstance(role, str)):
                raise ValueError("malformed subject or role")
            principal = Principal(user_id=int(subject), role=role)
        except jwt.ExpiredSignatureError as error:
            raise InvalidToken("token expired") from error
        except (jwt.PyJWTError, KeyError, ValueError) as error:
            raise InvalidToken("invalid token") from error
        return _Verified(principal=principal, expires_at=float(claims["exp"]))


class UnknownKey(InvalidToken):
    pass


def token_from(authorization: str | None, query_tokens: list[str]) -> str | None:
    """The one token of a socket request: the bearer header or the ``token`` query value.

    The gateway's verifier and the chat service must agree on which token they
    checked, so several query tokens, or a header and a different query token,
    are refused rather than resolved by some precedence.
    """
    header = bearer_token(authorization)
    query = {value.removeprefix("Bearer ").strip() for value in query_tokens if value.strip()}
    if len(query) > 1 or (header is not None and query and query != {header}):
        raise InvalidToken("ambiguous credentials: send one token")
    return header or next(iter(query), None)


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class _BearerScheme(HTTPBearer):
    """Declares the bearer scheme in OpenAPI and hands over the token, or None: the caller decides."""

    async def __call__(self, request: Request) -> str | None:  # type: ignore[override]
        return bearer_token(request.headers.get("authorization"))


_BEARER_DESCRIPTION = "An access token from POST /users/token: `Authorization: Bearer <token>`"
_required_bearer = _BearerScheme(bearerFormat="JWT", scheme_name=BEARER, description=_BEARER_DESCRIPTION)
_optional_bearer = _BearerScheme(bearerFormat="JWT", scheme_name=OPTIONAL_BEARER, description=_BEARER_DESCRIPTION)


def _unauthorized(detail: str, code: str) -> Refusal:
    return Refusal(status.HTTP_401_UNAUTHORIZED, detail, code, headers={"WWW-Authenticate": "Bearer"})


async def _verified(request: Request, token: str) -> Principal:
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        return await verifier.verify_fetching_keys(token)
    except InvalidToken as error:
        raise _unauthorized(str(error), "token_invalid") from error


async def optional_principal(
    request: Request, token: Annotated[str | None, Depends(_optional_bearer)]
) -> Principal | None:
    """The caller, if a valid bearer token came; raises 401 for a bad one."""
    return None if token is None else await _verified(request, token)


async def require_principal(request: Request, token: Annotated[str | None, Depends(_required_bearer)]) -> Principal:
    if token is None:
        raise _unauthorized("Not authenticated: send 'Authorization: Bearer <token>'", "unauthorized")
    return await _verified(request, token)


def require_roles(*roles: str) -> Any:
    """Dependency that lets only the given roles through (403 for the others)."""

    async def dependency(principal: Annotated[Principal, Depends(require_principal)]) -> Principal:
        if principal.role not in roles:
            raise Refusal(status.HTTP_403_FORBIDDEN, f"Only roles {', '.join(roles)} may do this", "role_forbidden")
        return principal

    return Depends(dependency)
