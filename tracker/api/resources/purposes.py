"""Purposes: placeholder, being written."""

from __future__ import annotations

from litestar import Controller


class PurposeController(Controller):
    """Purposes."""

    path = "/purposes"
    tags = ("purposes",)
