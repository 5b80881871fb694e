"""Forums: placeholder, being written."""

from __future__ import annotations

from litestar import Controller


class ForumController(Controller):
    """Forums."""

    path = "/forums"
    tags = ("forums",)
