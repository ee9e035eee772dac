"""Secrets Takt must use again later (webhook signing secrets, Slack webhook URLs) are stored
encrypted, never in plaintext: Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) under a
key derived from TAKT_SECRET_KEY with HKDF. Rotating TAKT_SECRET_KEY makes them unreadable:
their webhooks must then be given new secrets (docs/security.md)."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SealedSecretUnreadable(RuntimeError):
    """A stored secret doesn't open with this server's key (TAKT_SECRET_KEY changed)."""


class SecretBox:
    def __init__(self, secret_key: str) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"takt/secret-box/v1"
        ).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise SealedSecretUnreadable(
                "a stored secret can't be read with this TAKT_SECRET_KEY"
            ) from exc
