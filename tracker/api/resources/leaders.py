"""Leaders: placeholder, being written."""

from __future__ import annotations

from litestar import Controller


class LeaderController(Controller):
    """Leaders."""

    path = "/leaders"
    tags = ("leaders",)
