"""Standard Webhooks 1.0 signatures: whsec_ secrets and v1 HMAC-SHA256 over id.timestamp.body."""

from __future__ import annotations

import base64
import binascii
import functools
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
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    # hmac.digest is the one-shot C path: every delivery signs, so the HMAC object's cost shows.
    digest = hmac.digest(_key(secret), signed, "sha256")
    return "v1," + base64.b64encode(digest).decode()


@functools.lru_cache(maxsize=1024)
def _key(secret: str) -> bytes:
    """A secret's key bytes, decoded once per secret rather than once per delivery."""
    return base64.b64decode(secret.removeprefix(PREFIX))


def signatures(keys: Iterable[str], webhook_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header: one signature per valid secret, space separated."""
    return " ".join(signature(key, webhook_id, timestamp, body) for key in keys)


def signed_content(webhook_id: str, timestamp: int, body: bytes) -> bytes:
    """What a signature covers: `id.timestamp.body`, the same for every subscription."""
    return f"{webhook_id}.{timestamp}.".encode() + body


def header_value(keys: Iterable[str], signed: bytes) -> bytes:
    """The webhook-signature header's value over signed content, as it goes on the wire."""
    # Built from bytes: one delivery in a busy round costs little beyond its HMAC.
    return b" ".join(
        b"v1," + binascii.b2a_base64(hmac.digest(_key(key), signed, "sha256"), newline=False)
        for key in keys
    )
