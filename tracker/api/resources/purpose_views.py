"""Placeholder, being written."""

from __future__ import annotations

from litestar import Controller


class PurposeViewController(Controller):
    """Read views."""

    path = "/purposes"
    tags = ("views",)
