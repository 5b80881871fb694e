"""Standard Webhooks 1.0 signatures: whsec_ secrets and v1 HMAC-SHA256 over id.timestamp.body."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

PREFIX = "whsec_"
# 24 random bytes: the length the reference libraries generate.
SECRET_BYTES = 24


def new_secret() -> str:
    """A fresh signing secret, `whsec_` and base64."""
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of a message with one secret."""
    key = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signatures(keys: Iterable[str], webhook_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header: one signature per valid secret, space separated."""
    return " ".join(signature(key, webhook_id, timestamp, body) for key in keys)
