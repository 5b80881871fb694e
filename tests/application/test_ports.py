"""The application's ports: what it imports, and the errors storage raises through them."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import pytest

from tracker.application.errors import NotFound
from tracker.domain import Forum
from tracker.eventstore.repository import Repository

APPLICATION = Path(__file__).resolve().parents[2] / "tracker" / "application"
INWARD = ("tracker.application", "tracker.domain", "msgspec", "eventsourcing")
OUTWARD = ("tracker", "litestar", "asyncpg", "projections")


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_application_imports_only_the_domain_and_its_own_ports() -> None:
    for path in APPLICATION.glob("*.py"):
        outward = {
            name
            for name in imported(path)
            if name.startswith(OUTWARD) and not name.startswith(INWARD)
        }
        assert not outward, f"{path.name} imports {sorted(outward)}"


async def test_the_repository_raises_the_applications_not_found(repository: Repository) -> None:
    missing = uuid.uuid4()
    with pytest.raises(NotFound) as caught:
        await repository.read(Forum, missing)
    assert (caught.value.kind, caught.value.aggregate_id) == ("forum", missing)
