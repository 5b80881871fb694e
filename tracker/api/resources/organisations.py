"""Organisations: placeholder, being written."""

from __future__ import annotations

from litestar import Controller


class OrganisationController(Controller):
    """Organisations."""

    path = "/organisations"
    tags = ("organisations",)
