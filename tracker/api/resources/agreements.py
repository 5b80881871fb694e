"""Agreements: placeholder, being written."""

from __future__ import annotations

from litestar import Controller


class AgreementController(Controller):
    """Agreements."""

    path = "/agreements"
    tags = ("agreements",)
