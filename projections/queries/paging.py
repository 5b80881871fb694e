"""Opaque keyset cursors and the page sizes every view list shares."""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Any

import msgspec

from tracker.domain import InvalidValue
from tracker.domain.time_range import within

# Items per page unless the caller asks for fewer or more, and the most they may ask for.
PAGE, MAX_PAGE = 50, 200
NOT_OURS = "not a cursor this API returned"


def encode(key: Any) -> str:
    """An opaque token for the place after the row with this key."""
    raw = msgspec.json.encode(key)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, kind: Any, field: str = "cursor") -> Any:
    """The key a cursor holds; 422 naming the field for anything this API did not hand out."""
    # kind is any type msgspec decodes (a tuple type too), so the caller types the answer.
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = msgspec.json.decode(raw, type=kind)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise InvalidValue(field, NOT_OURS) from None
    # A time beyond the span, or text with a NUL, could not even be sent to PostgreSQL; no
    # cursor holds one.
    for value in key if isinstance(key, tuple) else (key,):
        if (isinstance(value, date) and not within(value)) or (
            isinstance(value, str) and "\x00" in value
        ):
            raise InvalidValue(field, NOT_OURS)
    return key
