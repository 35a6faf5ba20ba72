"""Activation codes: 6 digits from a CSPRNG, stored only as a keyed HMAC."""

import hashlib
import hmac
import secrets


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def code_hmac(secret: str, user_id: int, code: str) -> str:
    message = f"{user_id}:{code}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def code_matches(secret: str, user_id: int, code: str, stored_hmac: str) -> bool:
    return hmac.compare_digest(code_hmac(secret, user_id, code), stored_hmac)
