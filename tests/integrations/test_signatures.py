"""The signature checks, on GitHub's published test vector and by property."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from takt.integrations.signatures import github_signature, github_valid, gitlab_valid

# From GitHub's documentation, "Validating webhook deliveries": the secret, the payload and the
# signature they give for it.
VECTOR_SECRET = "It's a Secret to Everybody"
VECTOR_PAYLOAD = b"Hello, World!"
VECTOR_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_githubs_published_test_vector() -> None:
    assert github_signature(VECTOR_SECRET, VECTOR_PAYLOAD) == VECTOR_SIGNATURE
    assert github_valid(VECTOR_SECRET, VECTOR_PAYLOAD, VECTOR_SIGNATURE)


def test_the_vector_fails_with_any_change() -> None:
    assert not github_valid(VECTOR_SECRET, b"Hello, World?", VECTOR_SIGNATURE)
    assert not github_valid("It's a secret to everybody", VECTOR_PAYLOAD, VECTOR_SIGNATURE)
    assert not github_valid(VECTOR_SECRET, VECTOR_PAYLOAD, VECTOR_SIGNATURE.upper())
    assert not github_valid(VECTOR_SECRET, VECTOR_PAYLOAD, VECTOR_SIGNATURE.removeprefix("sha256="))
    assert not github_valid(VECTOR_SECRET, VECTOR_PAYLOAD, None)
    assert not github_valid(VECTOR_SECRET, VECTOR_PAYLOAD, "")


@given(
    secret=st.text(min_size=1, max_size=64), body=st.binary(max_size=512), flip=st.integers(0, 63)
)
def test_a_signature_verifies_only_its_own_body(secret: str, body: bytes, flip: int) -> None:
    signature = github_signature(secret, body)
    assert github_valid(secret, body, signature)
    digits = list(signature)
    position = len("sha256=") + flip
    digits[position] = "0" if digits[position] != "0" else "1"
    assert not github_valid(secret, body, "".join(digits))
    assert not github_valid(secret, body + b"x", signature)


@given(token=st.text(min_size=1, max_size=100), other=st.text(max_size=100))
def test_a_gitlab_token_matches_only_itself(token: str, other: str) -> None:
    stored = hashlib.sha256(token.encode()).hexdigest()
    assert gitlab_valid(stored, token)
    assert gitlab_valid(stored, other) == (other == token)
