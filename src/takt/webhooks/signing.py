"""Standard Webhooks 1.0 signatures of outbound deliveries, made by the spec's reference library
(`standardwebhooks`), so what we send is what receivers' verifiers expect."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from math import floor

from standardwebhooks import Webhook

from takt import __version__

USER_AGENT = f"Takt-Webhooks/{__version__}"


def signature(secrets: Sequence[str], msg_id: str, timestamp: datetime, body: bytes) -> str:
    """The `webhook-signature` value: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`
    for each secret, space-separated (during a rotation's overlap a receiver still holding the
    previous secret verifies the second one)."""
    text = body.decode()
    return " ".join(Webhook(secret).sign(msg_id, timestamp, text) for secret in secrets)


def signed_headers(
    secrets: Sequence[str], msg_id: str, timestamp: datetime, body: bytes
) -> dict[str, str]:
    """Every header of a delivery but `host`: the signature's three and the content's."""
    return {
        "webhook-id": msg_id,
        # The library signs the whole seconds of `timestamp`; the header says the same.
        "webhook-timestamp": str(floor(timestamp.timestamp())),
        "webhook-signature": signature(secrets, msg_id, timestamp, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
