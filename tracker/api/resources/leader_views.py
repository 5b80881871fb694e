"""Placeholder, being written."""

from __future__ import annotations

from litestar import Controller


class LeaderViewController(Controller):
    """Read views."""

    path = "/leaders"
    tags = ("views",)
