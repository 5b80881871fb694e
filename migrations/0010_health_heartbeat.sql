-- One row that GET /health/ready updates and commits: proof that the database accepts writes.
CREATE TABLE health_heartbeat (
    id      smallint PRIMARY KEY CHECK (id = 1),
    beat_at timestamptz NOT NULL
);
