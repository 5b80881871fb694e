"""The HTTP API: litestar controllers, the composition root and error mapping."""
