"""Token checks every service shares: claims, the socket token rule."""

import time

import pytest

from service_kit.security import AUDIENCE, ISSUER, InvalidToken, KeySet, RevocationList, TokenVerifier, token_from
from service_kit.testing import TokenFactory


def claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    return {"sub": "8", "role": "user", "iat": now, "exp": now + 60, "iss": ISSUER, "aud": AUDIENCE} | overrides


@pytest.mark.parametrize("subject", [" 8", "٥", "08", "-1", "8.0", "99999999999999999999", 8])
def test_only_plain_positive_integer_subjects_are_accepted(subject: object) -> None:
    tokens = TokenFactory()
    verifier = TokenVerifier(KeySet(tokens.jwks), RevocationList())
    assert verifier.verify(tokens.sign(claims())).user_id == 8
    with pytest.raises(InvalidToken):
        verifier.verify(tokens.sign(claims(sub=subject)))


def test_the_role_must_be_text() -> None:
    tokens = TokenFactory()
    verifier = TokenVerifier(KeySet(tokens.jwks), RevocationList())
    with pytest.raises(InvalidToken):
        verifier.verify(tokens.sign(claims(role=["user"])))


def test_revoked_users_are_refused_even_from_the_cache() -> None:
    tokens = TokenFactory()
    revocations = RevocationList()
    verifier = TokenVerifier(KeySet(tokens.jwks), revocations)
    token = tokens.token(5, "realtor")
    assert verifier.verify(token).user_id == 5
    revocations.add(5)
    with pytest.raises(InvalidToken, match="revoked"):
        verifier.verify(token)


@pytest.mark.parametrize(
    ("authorization", "query", "expected"),
    [
        ("Bearer A", [], "A"),
        (None, ["A"], "A"),
        (None, ["Bearer A"], "A"),
        ("Bearer A", ["A"], "A"),
        (None, [], None),
    ],
)
def test_one_socket_token(authorization: str | None, query: list[str], expected: str | None) -> None:
    assert token_from(authorization, query) == expected


@pytest.mark.parametrize(("authorization", "query"), [(None, ["A", "B"]), ("Bearer A", ["B"])])
def test_two_different_socket_tokens_are_ambiguous(authorization: str | None, query: list[str]) -> None:
    with pytest.raises(InvalidToken, match="ambiguous"):
        token_from(authorization, query)
