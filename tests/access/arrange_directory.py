"""Arrange the directory: the caller's own identity and the lists of who and what there is."""

from __future__ import annotations

from tests.access.arrange import Call, arranges, view
from tests.access.world import World


@arranges("getMe")
async def _me(w: World) -> Call:
    return await view(w, "/me")


@arranges("listOrganisations")
async def _organisations(w: World) -> Call:
    return await view(w, "/organisations")


@arranges("listLeaders")
async def _leaders(w: World) -> Call:
    # A plain member of forum A only: listed to those who see forum A, to no one else.
    return await view(w, "/leaders", w.id("member"))


@arranges("listForums")
async def _forums(w: World) -> Call:
    return await view(w, "/forums", w.forum())
