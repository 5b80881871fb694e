"""Placeholder, being written."""

from __future__ import annotations

from litestar import Controller


class AgreementRegisterController(Controller):
    """Read views."""

    path = "/forums"
    tags = ("views",)
