-- An integration token may be limited to some forums; NULL means every forum.
ALTER TABLE api_tokens ADD COLUMN forum_ids uuid[];
