"""Meetings: placeholder, being written."""

from __future__ import annotations

from litestar import Controller


class MeetingController(Controller):
    """Meetings."""

    path = "/meetings"
    tags = ("meetings",)
