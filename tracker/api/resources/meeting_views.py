"""Placeholder, being written."""

from __future__ import annotations

from litestar import Controller


class MeetingViewController(Controller):
    """Read views."""

    path = "/meetings"
    tags = ("views",)
