"""Arrange every commitment operation: a commitment of forum A in the state the step needs."""

from __future__ import annotations

from tests.access.arrange import Call, arranges, get, post, view
from tests.access.world import World


def make_body(w: World, **extra: object) -> dict[str, object]:
    return {
        "forum_id": w.forum(),
        "owner_id": w.id("owner"),
        "description": "Open the library as a warm space on weekday evenings",
        "purpose_ids": [w.purpose()],
    } | extra


async def proposed(w: World) -> str:
    """Asked of the owner by the requester: it awaits the owner's answer."""
    return await w.created("/commitments", make_body(w), "requester")


async def active(w: World) -> str:
    cid = await proposed(w)
    await w.post(f"/commitments/{cid}/acceptance", None, "owner")
    return cid


async def then(w: World, cid: str, step: str, body: object, by: str) -> str:
    await w.post(f"/commitments/{cid}/{step}", body, by)
    return cid


def due(w: World) -> str:
    return w.clock.days(30).isoformat()


async def completed(w: World) -> str:
    return await then(w, await active(w), "completion", {}, "owner")


@arranges("makeCommitment")
async def _make(w: World) -> Call:
    return post("/commitments", make_body(w))


@arranges("listCommitments")
async def _list(w: World) -> Call:
    return await view(w, "/commitments", await active(w))


@arranges("getCommitment")
async def _get(w: World) -> Call:
    return get(f"/commitments/{await active(w)}")


@arranges("getCommitmentHistory")
async def _history(w: World) -> Call:
    return get(f"/commitments/{await active(w)}/history")


def step(operation_id: str, state: str, path: str, body: object = None) -> None:
    """An operation that posts `body` to a commitment in one of the states above."""
    states = {"proposed": proposed, "active": active, "completed": completed}

    async def arrange(w: World) -> Call:
        if state == "countered":
            cid = await then(w, await proposed(w), "counter-offers", {"due_on": due(w)}, "owner")
        elif state == "renegotiating":
            body_ = {"due_on": due(w), "reason": "Funding moved"}
            cid = await then(w, await active(w), "renegotiations", body_, "owner")
        elif state == "handing-over":
            cid = await then(
                w, await active(w), "handover-offers", {"to_id": w.id("member")}, "owner"
            )
        else:
            cid = await states[state](w)
        filled = body(w) if callable(body) else body
        return post(f"/commitments/{cid}/{path}", filled)

    arranges(operation_id)(arrange)


REASON = {"reason": "Plans changed"}
step("acceptCommitment", "proposed", "acceptance")
step("declineCommitment", "proposed", "declination", REASON)
step("counterOfferCommitment", "proposed", "counter-offers", lambda w: {"due_on": due(w)})
step("acceptCounterOffer", "countered", "counter-offer-acceptance")
step("withdrawCommitment", "proposed", "withdrawal", REASON)
step("reportProgress", "active", "progress-reports", {"percent": 40, "note": "Half open"})
step("renegotiateCommitment", "active", "renegotiations", lambda w: {"due_on": due(w), **REASON})
step("agreeRenegotiation", "renegotiating", "renegotiation-agreement")
step("rejectRenegotiation", "renegotiating", "renegotiation-rejection", REASON)
step("offerHandover", "active", "handover-offers", lambda w: {"to_id": w.id("member")})
step("acceptHandover", "handing-over", "handover-acceptance")
step("declineHandover", "handing-over", "handover-declination", REASON)
step("withdrawHandover", "handing-over", "handover-withdrawal")
step("releaseCommitment", "active", "release", REASON)
step("completeCommitment", "active", "completion", {})
step("acknowledgeCompletion", "completed", "acknowledgement")
step("disputeCompletion", "completed", "disputes", REASON)
step("cancelCommitment", "active", "cancellation", REASON)
step("reopenCommitment", "completed", "reopening", REASON)
step("linkPurpose", "active", "purpose-links", lambda w: {"purpose_id": w.purpose("a2")})
step("commentOnCommitment", "active", "comments", {"text": "Noted"})
step("correctCommitmentRecord", "active", "corrections", lambda w: {"due_on": due(w), **REASON})


@arranges("unlinkPurpose")
async def _unlink(w: World) -> Call:
    cid = await then(w, await active(w), "purpose-links", {"purpose_id": w.purpose("a2")}, "owner")
    return post(f"/commitments/{cid}/purpose-unlinks", {"purpose_id": w.purpose("a2")})
