"""Arrange leader, organisation, log, audit and service operations."""

from __future__ import annotations

from tests.access.arrange import Call, arranges, get, post, view
from tests.access.arrange_commitments import active
from tests.access.world import World
from tracker.audit.seals import seal


async def sealed_twice(w: World) -> tuple[int, int]:
    """Two seals of the log, a commitment apart, with the key the app serves."""
    key = w.client.app.state.signing_key
    first = await seal(w.pool, key, now=w.clock)
    await active(w)
    second = await seal(w.pool, key, now=w.clock)
    assert first is not None and second is not None
    return first.tree_size, second.tree_size


def leader_path(w: World, tail: str = "") -> str:
    return f"/leaders/{w.id('owner')}{tail}"


def organisation_path(w: World, tail: str = "") -> str:
    return f"/organisations/{w.organisations['owner'].id}{tail}"


@arranges("registerLeader")
async def _register_leader(w: World) -> Call:
    return post("/leaders", {"name": "Hana"}, None)


@arranges("getLeader")
async def _get_leader(w: World) -> Call:
    return get(leader_path(w))


@arranges("getLeaderCommitments")
async def _leader_commitments(w: World) -> Call:
    return await view(w, leader_path(w, "/commitments"), await active(w))


@arranges("recordAffiliation")
async def _affiliate(w: World) -> Call:
    org = str(w.organisations["member"].id)
    body = {"organisation_id": org, "title": "Trustee", "from_on": w.clock.today().isoformat()}
    return post(leader_path(w, "/affiliations"), body, None)


@arranges("endAffiliation")
async def _end_affiliation(w: World) -> Call:
    body = {
        "organisation_id": str(w.organisations["owner"].id),
        "to_on": w.clock.days(0).isoformat(),
    }
    return post(leader_path(w, "/affiliation-endings"), body, None)


@arranges("correctLeaderDetails")
async def _correct_details(w: World) -> Call:
    return post(leader_path(w, "/details-corrections"), {"name": "Ben Okafor"}, None)


@arranges("deactivateLeader")
async def _deactivate(w: World) -> Call:
    return post(leader_path(w, "/deactivation"), {"reason": "Retired"}, None)


@arranges("registerOrganisation")
async def _register_org(w: World) -> Call:
    return post("/organisations", {"name": "Riverside Trust", "kind": "voluntary"}, None)


@arranges("getOrganisation")
async def _get_org(w: World) -> Call:
    return get(organisation_path(w))


@arranges("renameOrganisation")
async def _rename_org(w: World) -> Call:
    return post(organisation_path(w, "/renaming"), {"name": "Ben Borough Council"}, None)


@arranges("archiveOrganisation")
async def _archive_org(w: World) -> Call:
    return post(organisation_path(w, "/archival"), {"reason": "Merged"}, None)


@arranges("recordOrganisationSuccessor")
async def _successor(w: World) -> Call:
    body = {"successor_id": str(w.organisations["member"].id)}
    return post(organisation_path(w, "/successor"), body, None)


@arranges("listEvents")
async def _events(w: World) -> Call:
    return get("/events")


@arranges("exportEvents")
async def _export(w: World) -> Call:
    return get("/events/export")


@arranges("listStreamEvents")
async def _stream(w: World) -> Call:
    return get(f"/streams/{await active(w)}/events")


@arranges("listSeals")
async def _seals(w: World) -> Call:
    await sealed_twice(w)
    return get("/audit/seals")


@arranges("getAuditPublicKey")
async def _public_key(w: World) -> Call:
    return get("/audit/public-key")


@arranges("getConsistencyProof")
async def _consistency(w: World) -> Call:
    first, second = await sealed_twice(w)
    return get("/audit/proofs/consistency", **{"from": str(first), "to": str(second)})


@arranges("getInclusionProof")
async def _inclusion(w: World) -> Call:
    _, size = await sealed_twice(w)
    return get("/audit/proofs/inclusion", position="1", tree_size=str(size))


@arranges("listProjections")
async def _projections(w: World) -> Call:
    return get("/projections")


@arranges("getHealth")
async def _health(w: World) -> Call:
    return get("/health")


@arranges("getReadiness")
async def _readiness(w: World) -> Call:
    return get("/health/ready")


@arranges("getLiveness")
async def _liveness(w: World) -> Call:
    return get("/health/live")


@arranges("getMetrics")
async def _metrics(w: World) -> Call:
    return get("/metrics")
