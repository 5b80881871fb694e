"""Domain errors: each carries the data an API needs to explain a refusal."""

from uuid import UUID


class DomainError(Exception):
    """Base class of every refusal the domain makes."""


class IllegalTransition(DomainError):
    """The command is not possible in the aggregate's current state."""

    def __init__(self, command: str, state: str) -> None:
        super().__init__(f"cannot {command} when {state}")
        self.command = command
        self.state = state


class NotAllowed(DomainError):
    """A rule refuses the command; `rule` is a short stable slug."""

    def __init__(self, rule: str, by: UUID | None = None) -> None:
        super().__init__(rule if by is None else f"{rule} (by {by})")
        self.rule = rule
        self.by = by


class InvalidValue(DomainError):
    """A value given to a command is unacceptable."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
