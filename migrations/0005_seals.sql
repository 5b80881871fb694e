-- Seals: a Merkle tree over the global log (RFC 9162 style) and signed heads of it.
-- Leaves, nodes and heads are written by the sealer in one transaction, and never changed.

-- One leaf per event, in global order: leaf_index is the event's place in the sealed log.
CREATE TABLE merkle_leaves (
    leaf_index bigint PRIMARY KEY CHECK (leaf_index >= 0),
    position   bigint NOT NULL UNIQUE,
    leaf_hash  bytea  NOT NULL CHECK (length(leaf_hash) = 32)
);

-- Every complete subtree above the leaves: node (level, node_index) is the hash of leaves
-- [node_index * 2^level, (node_index + 1) * 2^level), so any proof is a few indexed lookups.
CREATE TABLE merkle_nodes (
    level      integer NOT NULL CHECK (level BETWEEN 1 AND 62),
    node_index bigint  NOT NULL CHECK (node_index >= 0),
    hash       bytea   NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, node_index)
);

-- Signed tree heads; the signed message is tracker.audit.seals.signed_message.
CREATE TABLE seals (
    tree_size bigint      PRIMARY KEY CHECK (tree_size > 0),
    root_hash bytea       NOT NULL CHECK (length(root_hash) = 32),
    sealed_at timestamptz NOT NULL,
    key_id    text        NOT NULL,
    signature bytea       NOT NULL
);

-- Every public key that signed a seal, so heads stay verifiable after the key is replaced.
CREATE TABLE seal_keys (
    key_id        text        PRIMARY KEY,
    public_key    bytea       NOT NULL CHECK (length(public_key) = 32),
    first_used_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION seals_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'TR001';
END
$$;

-- As for events, TRUNCATE fires no row trigger, which keeps test resets possible for the owner.
CREATE TRIGGER merkle_leaves_append_only
    BEFORE UPDATE OR DELETE ON merkle_leaves
    FOR EACH ROW EXECUTE FUNCTION seals_reject_change();
CREATE TRIGGER merkle_nodes_append_only
    BEFORE UPDATE OR DELETE ON merkle_nodes
    FOR EACH ROW EXECUTE FUNCTION seals_reject_change();
CREATE TRIGGER seals_append_only
    BEFORE UPDATE OR DELETE ON seals
    FOR EACH ROW EXECUTE FUNCTION seals_reject_change();
CREATE TRIGGER seal_keys_append_only
    BEFORE UPDATE OR DELETE ON seal_keys
    FOR EACH ROW EXECUTE FUNCTION seals_reject_change();
