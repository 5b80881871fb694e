"""Schemathesis's command line, guarded against a CPython 3.11 bug in ast.parse."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from hypothesis.internal import lambda_sources
from schemathesis.cli import schemathesis

_describe: Callable[[Any], str] = lambda_sources.lambda_description


def _guarded(f: Any) -> str:
    """Hypothesis's description of a filter's lambda, or a placeholder where CPython 3.11.7's
    ast.parse fails with "AST constructor recursion depth mismatch" (fixed in later releases):
    the description only names the filter in reprs, and the run must not die of it."""
    try:
        return _describe(f)
    except SystemError:
        return "lambda: <source not parsed>"


lambda_sources.lambda_description = _guarded

if __name__ == "__main__":
    sys.exit(schemathesis())
