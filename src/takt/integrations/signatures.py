"""Checking that a delivery comes from the provider, on the raw body, in constant time.

GitHub signs each delivery: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body under the
secret>`. GitLab sends the secret token itself in `X-Gitlab-Token`; Takt keeps only its SHA-256
and compares the SHA-256 of what came. Both comparisons are `hmac.compare_digest`, so the time
they take doesn't tell how much of a guess was right.
"""

from __future__ import annotations

import hashlib
import hmac

GITHUB_PREFIX = "sha256="
# Compared against when the repository is unknown, so that answer takes as long as a bad
# signature's (the two answers are the same).
DUMMY_SECRET = "takt-unknown-repository"


def github_signature(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` value GitHub sends for `body` under `secret`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return GITHUB_PREFIX + digest


def github_valid(secret: str, body: bytes, header: str | None) -> bool:
    expected = github_signature(secret, body)
    presented = header or ""
    return hmac.compare_digest(expected.encode(), presented.strip().encode("utf-8", "replace"))


def gitlab_valid(token_hash: str, header: str | None) -> bool:
    presented = hashlib.sha256((header or "").encode("utf-8", "replace")).hexdigest()
    return hmac.compare_digest(token_hash.encode(), presented.encode())
