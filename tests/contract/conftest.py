"""`tracker serve` on the test database, shared with the fuzzing run."""

from tests.fuzz.fuzz_api import server

__all__ = ["server"]
