"""The access matrix runs on the API tests' app and client."""

from tests.api.conftest import app, session_client

__all__ = ["app", "session_client"]
