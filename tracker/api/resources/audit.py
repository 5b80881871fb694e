"""GET /audit/...: the signing key, the seals, and inclusion and consistency proofs."""

from __future__ import annotations

import base64
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import QueryParameter

from tracker.api.dependencies import PrincipalDep
from tracker.api.problems import Refused, problem
from tracker.api.resources.common import COMMAND_ERRORS, READ_ERRORS, problem_response
from tracker.application import reads
from tracker.application.principal import Principal
from tracker.audit import seals, tree
from tracker.audit.keys import ALGORITHM, SigningKey, public_pem
from tracker.audit.seals import Seal
from tracker.database import MAX_BIGINT
from tracker.domain import InvalidValue

READ_RULE = "only-auditors-and-admins-read-seals"
SAMPLE_HASH = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
SAMPLE_KEY_ID = "9f86d081884c7d65"


KEY_ERRORS = READ_ERRORS | {422: COMMAND_ERRORS[422]}
SEAL_ERRORS = {401: READ_ERRORS[401], 403: COMMAND_ERRORS[403], 422: COMMAND_ERRORS[422]}
PROOF_ERRORS = SEAL_ERRORS | {
    400: problem_response("A required query parameter is missing"),
    404: problem_response("The position or tree size is not sealed (yet)"),
    500: problem_response("Stored tree rows are missing: the seal tables were tampered with"),
}
Hex = Annotated[str, msgspec.Meta(examples=[SAMPLE_HASH])]
HexPath = Annotated[list[str], msgspec.Meta(examples=[[SAMPLE_HASH, SAMPLE_HASH]])]
KeyId = Annotated[str, msgspec.Meta(examples=[SAMPLE_KEY_ID])]

DESCRIPTION = """\
Seals are signed heads of a Merkle tree (RFC 9162, Certificate Transparency style) over the
global log: leaf i is the i-th event in global order, its hash SHA-256(0x00 || leaf bytes),
where the leaf bytes are the JSON array [position, stream_id, version, recorded_at, chain hash
hex]. A seal signs `commitment-tracker tree head v1\\n` followed by the compact JSON array
[tree_size, root_hash hex, sealed_at, key_id] with Ed25519. Keep heads outside this server and
check new ones against them with consistency proofs.

**Access**: seals and proofs are for auditors and admins; the public key is for any caller.
"""


class PublicKey(msgspec.Struct, frozen=True):
    """The Ed25519 key that verifies seals."""

    key_id: KeyId
    algorithm: Annotated[str, msgspec.Meta(examples=[ALGORITHM])]
    public_key_pem: Annotated[str, msgspec.Meta(examples=["-----BEGIN PUBLIC KEY-----\n..."])]
    public_key_base64: Annotated[
        str, msgspec.Meta(examples=["11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="])
    ]
    current: bool


class SealView(msgspec.Struct, frozen=True):
    """A signed tree head; sealed_at is exactly the string that was signed."""

    tree_size: int
    root_hash: Hex
    sealed_at: Annotated[str, msgspec.Meta(examples=["2026-11-26T10:00:00.000000Z"])]
    key_id: KeyId
    signature: Annotated[str, msgspec.Meta(examples=[SAMPLE_HASH * 2])]

    @classmethod
    def of(cls, head: Seal) -> SealView:
        """The wire form of a seal: hex for bytes."""
        return cls(
            head.tree_size,
            head.root_hash.hex(),
            seals.timestamp(head.sealed_at),
            head.key_id,
            head.signature.hex(),
        )


class SealPage(msgspec.Struct, frozen=True):
    """Seals newest first; pass next_before as before for the next page (null on the last)."""

    items: list[SealView]
    next_before: int | None


class InclusionProof(msgspec.Struct, frozen=True):
    """The audit path from an event's leaf to the head of a tree of tree_size leaves."""

    position: int
    leaf_index: int
    tree_size: int
    leaf_hash: Hex
    audit_path: HexPath
    seal: SealView | None


class ConsistencyProof(msgspec.Struct, frozen=True):
    """The proof that the tree of from_size leaves is a prefix of the tree of to_size."""

    from_size: int
    to_size: int
    path: HexPath
    from_seal: SealView | None
    to_seal: SealView | None


def reader(principal: Principal) -> None:
    """Seals and proofs are for auditors and admins."""
    reads.require_log_reader(principal, READ_RULE)


def not_found(detail: str) -> Refused:
    """404 for what the sealed tree does not cover."""
    return Refused(problem(404, "not-sealed", "Not sealed", detail))


def damaged(error: tree.TreeDamaged) -> Refused:
    """500 naming what is missing, rather than an anonymous internal error."""
    return Refused(problem(500, "tree-damaged", "Merkle tree damaged", str(error)))


async def newest_size(state: State) -> int:
    """The size of the newest sealed tree; 404 before the first seal."""
    head = await seals.latest(state.pool)
    if head is None:
        raise not_found("nothing has been sealed yet")
    return head.tree_size


async def seal_view(state: State, size: int) -> SealView | None:
    """The seal of a tree of exactly size leaves, if one was made."""
    head = await seals.seal_at(state.pool, size)
    return None if head is None else SealView.of(head)


def _q(description: str, ge: int | None = None, le: int | None = None) -> QueryParameter:
    return QueryParameter(description=description, ge=ge, le=le)


def _count(description: str, name: str | None = None) -> QueryParameter:
    """A position or tree size: from 1 up to what PostgreSQL's bigint holds."""
    return QueryParameter(name=name, description=description, ge=1, le=MAX_BIGINT)


class AuditController(Controller):
    """Auditors check here, without trusting the server, that the log was never altered."""

    path = "/audit"
    tags = ("audit",)

    @get(
        "/public-key",
        operation_id="getAuditPublicKey",
        summary="Get the Ed25519 public key that verifies seals",
        description="The current key, or with key_id a key that signed earlier seals.",
        responses=KEY_ERRORS,
    )
    async def public_key(
        self,
        state: State,
        key_id: Annotated[
            str | None,
            QueryParameter(
                description="A key that signed earlier seals: 16 hex digits",
                pattern=r"^[0-9a-f]{16}$",
            ),
        ] = None,
    ) -> PublicKey:
        """Any caller may read the public key: it is public."""
        current: SigningKey = state.signing_key
        if key_id is None or key_id == current.key_id:
            raw = current.public_raw
        else:
            found = await seals.public_key(state.pool, key_id)
            if found is None:
                detail = f"no seal was signed with key {key_id}"
                raise Refused(problem(404, "not-found", "Not found", detail))
            raw = found
        encoded = base64.b64encode(raw).decode()
        return PublicKey(
            key_id or current.key_id, ALGORITHM, public_pem(raw), encoded, raw == current.public_raw
        )

    @get(
        "/seals",
        operation_id="listSeals",
        summary="List signed tree heads, newest first",
        description=DESCRIPTION,
        responses=SEAL_ERRORS,
    )
    async def list_seals(
        self,
        principal: PrincipalDep,
        state: State,
        before: Annotated[int | None, _count("Only trees smaller than this (next_before)")] = None,
        limit: Annotated[int, _q("Seals per page (at most 500)", ge=1, le=500)] = 50,
    ) -> SealPage:
        """Keyset pages by tree size."""
        reader(principal)
        found = await seals.seals_before(state.pool, before, limit + 1)
        more = len(found) > limit
        items = [SealView.of(s) for s in found[:limit]]
        return SealPage(items, items[-1].tree_size if more else None)

    @get(
        "/proofs/inclusion",
        operation_id="getInclusionProof",
        summary="Prove that an event is in a sealed tree",
        description="Verify with RFC 9162 2.1.3.2 against the seal's root_hash.",
        responses=PROOF_ERRORS,
    )
    async def inclusion(
        self,
        principal: PrincipalDep,
        state: State,
        position: Annotated[int, _count("The event's global position")],
        tree_size: Annotated[int | None, _count("Tree size (default: newest seal)")] = None,
    ) -> InclusionProof:
        """The audit path of the event at position, and the seal of that tree if there is one."""
        reader(principal)
        size = tree_size or await newest_size(state)
        try:
            found = await tree.inclusion(state.pool, position, size)
        except tree.OutsideTree as error:
            raise not_found(str(error)) from None
        except tree.TreeDamaged as error:
            raise damaged(error) from None
        except ValueError as error:
            raise InvalidValue("position", str(error)) from None
        return InclusionProof(
            position,
            found.leaf_index,
            size,
            found.leaf_hash.hex(),
            [p.hex() for p in found.path],
            await seal_view(state, size),
        )

    @get(
        "/proofs/consistency",
        operation_id="getConsistencyProof",
        summary="Prove that an older sealed tree is a prefix of a newer one",
        description="Verify with RFC 9162 2.1.4.2 against the two seals' root hashes.",
        responses=PROOF_ERRORS,
    )
    async def consistency(
        self,
        principal: PrincipalDep,
        state: State,
        from_size: Annotated[int, _count("Older size", name="from")],
        to_size: Annotated[int | None, _count("Newer size (default: newest)", name="to")] = None,
    ) -> ConsistencyProof:
        """The consistency path between two tree sizes, with their seals if they were sealed."""
        reader(principal)
        size = to_size or await newest_size(state)
        if from_size > size:
            raise InvalidValue("from", f"must not exceed to ({size})")
        try:
            path = await tree.consistency(state.pool, from_size, size)
        except tree.OutsideTree as error:
            raise not_found(str(error)) from None
        except tree.TreeDamaged as error:
            raise damaged(error) from None
        return ConsistencyProof(
            from_size,
            size,
            [p.hex() for p in path],
            await seal_view(state, from_size),
            await seal_view(state, size),
        )
