-- A token may expire. Set and judged by the application's clock (docs/time.md); NULL: never.
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
