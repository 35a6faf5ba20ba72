"""Signing access tokens (EdDSA) and publishing the public keys as a JWKS."""

import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from service_kit.security import AUDIENCE, ISSUER, public_jwk


def load_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return key


class TokenIssuer:
    def __init__(self, private_key: Ed25519PrivateKey, previous_public_keys: list[Ed25519PublicKey], ttl_seconds: int):
        self._private_key = private_key
        self._jwk = public_jwk(private_key.public_key())
        self._ttl = ttl_seconds
        self.jwks: dict[str, Any] = {
            "keys": [self._jwk, *(public_jwk(key) for key in previous_public_keys)],
        }

    def issue(self, user_id: int, role: str) -> str:
        now = int(time.time())
        claims = {
            "sub": str(user_id),
            "role": role,
            "iat": now,
            "exp": now + self._ttl,
            "iss": ISSUER,
            "aud": AUDIENCE,
        }
        return jwt.encode(claims, self._private_key, algorithm="EdDSA", headers={"kid": self._jwk["kid"]})
