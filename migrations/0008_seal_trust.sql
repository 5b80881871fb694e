-- Trust that does not rest on the database: each seal also as a C2SP tlog-checkpoint signed
-- note, and key rotations signed by the key they replace.

-- The seal's tree head as a signed note (c2sp.org/tlog-checkpoint), exactly as published.
-- Seals made before this column existed have none.
ALTER TABLE seals ADD COLUMN checkpoint text;

-- A rotation statement: the previous key vouches for the next one. A verifier that pins the
-- first key follows these to trust the later ones; a key no statement introduces is a finding.
CREATE TABLE seal_key_rotations (
    key_id          text        PRIMARY KEY,
    public_key      bytea       NOT NULL CHECK (length(public_key) = 32),
    previous_key_id text        NOT NULL,
    rotated_at      timestamptz NOT NULL,
    signature       bytea       NOT NULL CHECK (length(signature) = 64)
);

CREATE TRIGGER seal_key_rotations_append_only
    BEFORE UPDATE OR DELETE ON seal_key_rotations
    FOR EACH ROW EXECUTE FUNCTION seals_reject_change();
