"""RFC 9162 Merkle trees: heads, inclusion and consistency proofs, and forged proofs refused."""

from __future__ import annotations

import hashlib

import pytest

from tracker.audit.merkle import (
    EMPTY,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [leaf_hash(f"event {i}".encode()) for i in range(40)]


def subtree_of(leaves: list[bytes]):  # type: ignore[no-untyped-def]
    return lambda start, end: root(leaves[start:end])


def recursive_root(leaves: list[bytes]) -> bytes:
    """RFC 9162's recursive definition, to check the iterative one."""
    if not leaves:
        return EMPTY
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(recursive_root(leaves[:k]), recursive_root(leaves[k:]))


def test_the_head_matches_the_rfc_definition_for_every_size() -> None:
    for n in range(41):
        assert root(LEAVES[:n]) == recursive_root(LEAVES[:n])


def test_a_known_vector() -> None:
    assert root([]) == hashlib.sha256(b"").digest()
    assert (
        root([leaf_hash(b"")]).hex()
        == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )


def test_every_inclusion_proof_verifies_and_a_wrong_leaf_does_not() -> None:
    for size in range(1, 41):
        head, subtree = root(LEAVES[:size]), subtree_of(LEAVES[:size])
        for index in range(size):
            path = inclusion_proof(index, size, subtree)
            assert verify_inclusion(LEAVES[index], index, size, path, head)
            assert not verify_inclusion(leaf_hash(b"forged"), index, size, path, head)
            if size > 1:
                assert not verify_inclusion(LEAVES[index], (index + 1) % size, size, path, head)


def test_every_consistency_proof_verifies_and_a_rewritten_history_does_not() -> None:
    for new in range(1, 41):
        for old in range(1, new + 1):
            proof = consistency_proof(old, new, subtree_of(LEAVES[:new]))
            old_head, new_head = root(LEAVES[:old]), root(LEAVES[:new])
            assert verify_consistency(old, new, old_head, new_head, proof)
            forged = LEAVES[:new]
            forged[old - 1] = leaf_hash(b"rewritten")
            assert not verify_consistency(old, new, old_head, root(forged), proof)


@pytest.mark.parametrize("tamper", ["drop", "swap", "flip"])
def test_tampered_proofs_are_refused(tamper: str) -> None:
    size, index = 37, 11
    path = inclusion_proof(index, size, subtree_of(LEAVES[:size]))
    head = root(LEAVES[:size])
    if tamper == "drop":
        path = path[:-1]
    elif tamper == "swap":
        path[0], path[1] = path[1], path[0]
    else:
        path[2] = bytes(b ^ 1 for b in path[2])
    assert not verify_inclusion(LEAVES[index], index, size, path, head)
    old, new = 13, 37
    proof = consistency_proof(old, new, subtree_of(LEAVES[:new]))
    assert not verify_consistency(old, new, root(LEAVES[:old]), head, proof[:-1])
    assert not verify_consistency(old, new, root(LEAVES[:old]), head, [*proof, proof[0]])
