"""External references and derived ids: a reference belongs to the system that owns its name."""

from __future__ import annotations

import uuid
from uuid import UUID

import msgspec

from tracker.application.commands import Request
from tracker.application.principal import ADMIN, INTEGRATION, Principal
from tracker.domain import InvalidValue

# Ids derived from external references and retry keys live in their own UUID namespace.
EXTERNAL_IDS = uuid.UUID("7c1f4a52-3b0e-4f55-9d0e-5a7f0c1d2e3f")
# Derived ids are name-based (version 5). A caller choosing one could take the id another
# system's reference, or another caller's retry key, will derive, so none may be chosen.
DERIVED = 5
# The token kinds that record for a system; a leader's own token speaks for no system.
SYSTEM_KINDS = (INTEGRATION, ADMIN)


def owns(principal: Principal, source_system: str) -> bool:
    """Whether the caller speaks for this system: an integration or admin token named after it."""
    return principal.kind in SYSTEM_KINDS and principal.name == source_system


def owned(principal: Principal, source_system: str | None) -> None:
    """Refuse another system's source_system; the refusal never depends on what it holds."""
    if source_system is not None and not owns(principal, source_system):
        raise InvalidValue(
            "source_system",
            f"only an integration (or administrator) token named {source_system!r} records "
            "references of that system",
        )


def reference_id(source_system: str, external_id: str) -> UUID:
    """The id a resource created under this external reference has."""
    return uuid.uuid5(EXTERNAL_IDS, f"{source_system}:{external_id}")


def keyed_id(call: Request, *parts: str | int) -> UUID | None:
    """An id derived from the caller's scoped retry key, so a replay names the same resource."""
    if call.key is None:
        return None
    return uuid.uuid5(EXTERNAL_IDS, ":".join(["key", call.key, *map(str, parts)]))


def chosen(requested: UUID | None, field: str) -> None:
    """Refuse a chosen id of the kind the tracker derives."""
    if requested is not None and requested.version == DERIVED:
        raise InvalidValue(
            field, "version-5 UUIDs are reserved for ids derived from references and retry keys"
        )


def creation_id(
    call: Request, requested: UUID | None, source_system: str | None, external_id: str | None
) -> tuple[UUID, Request]:
    """The id a creation uses, and the request with an owned external reference as its key."""
    if (source_system is None) != (external_id is None):
        field = "external_id" if external_id is None else "source_system"
        raise InvalidValue(field, "source_system and external_id come together")
    if source_system is not None and external_id is not None:
        owned(call.principal, source_system)
        derived = reference_id(source_system, external_id)
        if requested is not None and requested != derived:
            raise InvalidValue("id", "conflicts with the id derived from the external reference")
        reference = f"{source_system}:{external_id}"
        return derived, msgspec.structs.replace(call, reference=reference)
    chosen(requested, "id")
    return requested or keyed_id(call) or uuid.uuid4(), call


def referenced_id(source_system: str | None, external_id: str | None) -> UUID | None:
    """The id a lookup by external reference finds, if one is asked for; both halves or none."""
    if source_system is None and external_id is None:
        return None
    if source_system is None or external_id is None:
        field = "external_id" if external_id is None else "source_system"
        raise InvalidValue(field, "source_system and external_id come together")
    return reference_id(source_system, external_id)
