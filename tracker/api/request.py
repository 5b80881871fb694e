"""The app's request class: a JSON body that cannot be read is the client's error, never a 500."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import SerializationException

from tracker.api.problems import FieldError, Refused, problem


class TrackerRequest(Request[Any, Any, Any]):
    """A request whose unreadable JSON body is a 400 naming the body."""

    async def json(self) -> Any:
        """The decoded body; malformed JSON, invalid UTF-8 or deep nesting is refused."""
        try:
            return await super().json()
        except SerializationException as error:
            raise malformed_body(f"not valid JSON: {error}") from None
        except UnicodeDecodeError:
            # msgspec reports bad UTF-8 inside a string this way rather than as a DecodeError.
            raise malformed_body("not valid UTF-8") from None
        except RecursionError:
            raise malformed_body("nested too deeply") from None


def malformed_body(reason: str) -> Refused:
    """A 400 problem naming the body."""
    return Refused(
        problem(
            400,
            "malformed-request",
            "Malformed request",
            f"body: {reason}",
            errors=[FieldError("body", reason)],
        )
    )
