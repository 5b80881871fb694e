"""The layers keep to their own: only the event store touches `events`, audit knows no HTTP."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ON_EVENTS = re.compile(r"\b(FROM|JOIN|INTO|UPDATE)\s+events\b")  # SQL keywords, not prose


def modules(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py"))


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    return names | {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}


def test_only_the_event_store_runs_statements_on_the_events_table() -> None:
    outside = [
        str(p.relative_to(ROOT))
        for p in modules("tracker", "projections")
        if "eventstore" not in p.parts and ON_EVENTS.search(p.read_text())
    ]
    assert outside == []


def test_audit_imports_neither_the_api_nor_litestar() -> None:
    for path in modules("tracker/audit"):
        for name in imported(path):
            assert not name.startswith(("litestar", "tracker.api")), (path.name, name)


def test_the_history_access_decisions_import_only_the_domain_and_the_application() -> None:
    for name in imported(ROOT / "tracker/application/audit.py"):
        if name.startswith("tracker."):
            assert name.startswith(("tracker.domain", "tracker.application")), name
