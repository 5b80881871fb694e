-- API tokens: infrastructure, not domain streams. Only a SHA-256 of each token is kept.

CREATE TABLE api_tokens (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('leader', 'integration', 'auditor', 'admin')),
    leader_id   uuid,
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CHECK ((kind = 'leader') = (leader_id IS NOT NULL))
);
