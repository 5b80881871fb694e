"""Audit: Merkle tree heads over the log, seals, proofs, export and verification."""
