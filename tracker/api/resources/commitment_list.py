"""Placeholder, being written."""

from __future__ import annotations

from litestar import Controller


class CommitmentListController(Controller):
    """Read views."""

    path = "/commitments"
    tags = ("views",)
