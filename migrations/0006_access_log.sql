-- The access log: who read what, and when. Infrastructure, not a domain stream; append-only.

CREATE TABLE access_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- clock_timestamp(): the moment of the read itself, not the start of its transaction.
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- No foreign key: the record of a read outlives the token that made it.
    token_id   uuid NOT NULL,
    token_name text NOT NULL,
    kind       text NOT NULL,
    method     text NOT NULL,
    path       text NOT NULL,
    query      text NOT NULL DEFAULT ''
);

CREATE INDEX access_log_at ON access_log (at);
CREATE INDEX access_log_token ON access_log (token_id, at);

CREATE FUNCTION access_log_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the access log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'TR001';
END
$$;

-- TRUNCATE does not fire row triggers, which keeps test resets possible for the owner.
CREATE TRIGGER access_log_append_only
    BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_reject_change();
