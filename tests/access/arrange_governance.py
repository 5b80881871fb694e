"""Arrange forum, purpose, agreement and meeting operations, all in forum A."""

from __future__ import annotations

from tests.access.arrange import Call, arranges, get, post, view
from tests.access.world import STARTS_AT, World


@arranges("conveneForum")
async def _convene(w: World) -> Call:
    return post("/forums", {"name": "Housing partnership", "convenor_id": w.id("member")}, None)


@arranges("getForum")
async def _get_forum(w: World) -> Call:
    return get(f"/forums/{w.forum()}")


@arranges("getAgreementsRegister")
async def _register(w: World) -> Call:
    await agreement(w, adopted=True)
    return await view(w, f"/forums/{w.forum()}/agreements")


@arranges("renameForum")
async def _rename_forum(w: World) -> Call:
    return post(f"/forums/{w.forum()}/renaming", {"name": "Warm rooms"})


@arranges("admitForumMember")
async def _admit(w: World) -> Call:
    return post(f"/forums/{w.forum()}/members", {"leader_id": w.id("departed")})


@arranges("recordMemberDeparture")
async def _depart(w: World) -> Call:
    return post(f"/forums/{w.forum()}/member-departures", {"leader_id": w.id("member")})


@arranges("appointSteward")
async def _appoint(w: World) -> Call:
    body = {"leader_id": w.id("member"), "role": "recorder"}
    return post(f"/forums/{w.forum()}/stewards", body)


@arranges("recordStewardDeparture")
async def _stand_down(w: World) -> Call:
    body = {"leader_id": w.id("steward"), "role": "recorder"}
    return post(f"/forums/{w.forum()}/steward-departures", body)


@arranges("proposePurpose")
async def _propose_purpose(w: World) -> Call:
    return post("/purposes", {"forum_id": w.forum(), "statement": "Nobody goes hungry"})


@arranges("listPurposes")
async def _list_purposes(w: World) -> Call:
    return await view(w, "/purposes", w.purpose())


@arranges("listForumPurposes")
async def _list_forum_purposes(w: World) -> Call:
    return await view(w, f"/forums/{w.forum()}/purposes", w.purpose())


@arranges("getPurpose")
async def _get_purpose(w: World) -> Call:
    return get(f"/purposes/{w.purpose()}")


@arranges("getPurposeView")
async def _purpose_view(w: World) -> Call:
    return await view(w, f"/purposes/{w.purpose()}/view")


@arranges("adoptPurpose")
async def _adopt_purpose(w: World) -> Call:
    return post(f"/purposes/{w.purpose()}/adoption", w.decision())


@arranges("revisePurpose")
async def _revise(w: World) -> Call:
    body = {"statement": "Nobody is cold", "reason": "Shorter"}
    return post(f"/purposes/{w.purpose()}/revisions", body)


@arranges("retirePurpose")
async def _retire(w: World) -> Call:
    return post(f"/purposes/{w.purpose()}/retirement", {"reason": "Done"})


@arranges("endorsePurpose")
async def _endorse(w: World) -> Call:
    return post(f"/purposes/{w.purpose()}/endorsements", {})


@arranges("withdrawPurposeEndorsement")
async def _withdraw_endorsement(w: World) -> Call:
    # Every member endorsed it, so each may withdraw their own endorsement.
    for member in ("owner", "requester", "member", "steward", "convenor"):
        await w.post(f"/purposes/{w.purpose()}/endorsements", {}, member)
    return post(f"/purposes/{w.purpose()}/endorsement-withdrawals", {})


def agreement_body(w: World) -> dict[str, str]:
    return {
        "scope": "forum",
        "scope_id": w.forum(),
        "kind": "decision_rule",
        "title": "How we decide",
        "text": "By consent of the members present",
    }


async def agreement(w: World, adopted: bool = False) -> str:
    aid = await w.created("/agreements", agreement_body(w), "owner")
    if adopted:
        await w.post(f"/agreements/{aid}/adoption", w.decision(), "convenor")
    return aid


@arranges("proposeAgreement")
async def _propose_agreement(w: World) -> Call:
    return post("/agreements", agreement_body(w))


@arranges("listAgreements")
async def _list_agreements(w: World) -> Call:
    return await view(w, "/agreements", await agreement(w))


@arranges("getAgreement")
async def _get_agreement(w: World) -> Call:
    return get(f"/agreements/{await agreement(w)}")


@arranges("adoptAgreement")
async def _adopt_agreement(w: World) -> Call:
    return post(f"/agreements/{await agreement(w)}/adoption", w.decision())


@arranges("amendAgreement")
async def _amend(w: World) -> Call:
    body = {"text": "By vote", "reason": "Quicker", **w.decision()}
    return post(f"/agreements/{await agreement(w, adopted=True)}/amendments", body)


@arranges("rescindAgreement")
async def _rescind(w: World) -> Call:
    body = {"reason": "Unused", **w.decision()}
    return post(f"/agreements/{await agreement(w, adopted=True)}/rescission", body)


def meeting_body(w: World) -> dict[str, str]:
    return {"forum_id": w.forum(), "title": "December board", "starts_at": STARTS_AT}


async def meeting(w: World, *steps: str) -> str:
    mid = await w.created("/meetings", meeting_body(w), "convenor")
    for s in steps:
        await w.post(f"/meetings/{mid}/{s}", None, "convenor")
    return mid


@arranges("scheduleMeeting")
async def _schedule(w: World) -> Call:
    return post("/meetings", meeting_body(w))


@arranges("listMeetings")
async def _list_meetings(w: World) -> Call:
    return await view(w, "/meetings", await meeting(w))


@arranges("listForumMeetings")
async def _list_forum_meetings(w: World) -> Call:
    return await view(w, f"/forums/{w.forum()}/meetings", await meeting(w))


@arranges("getMeeting")
async def _get_meeting(w: World) -> Call:
    return get(f"/meetings/{await meeting(w)}")


@arranges("getMeetingView")
async def _meeting_view(w: World) -> Call:
    mid = await meeting(w)
    return await view(w, f"/meetings/{mid}/view")


@arranges("openMeeting")
async def _open(w: World) -> Call:
    return post(f"/meetings/{await meeting(w)}/opening")


@arranges("cancelMeeting")
async def _cancel_meeting(w: World) -> Call:
    return post(f"/meetings/{await meeting(w)}/cancellation", {"reason": "Snow"})


@arranges("inviteToMeeting")
async def _invite(w: World) -> Call:
    return post(f"/meetings/{await meeting(w)}/invitations", {"leader_ids": [w.id("member")]})


@arranges("recordMeetingAttendance")
async def _attendance(w: World) -> Call:
    body = {"attendees": [{"leader_id": w.id("owner"), "status": "attended"}]}
    return post(f"/meetings/{await meeting(w, 'opening')}/attendance", body)


@arranges("recordMeetingDecision")
async def _decision(w: World) -> Call:
    body = {"text": "Open on Sundays"} | w.decision()
    return post(f"/meetings/{await meeting(w, 'opening')}/decisions", body)


@arranges("recordMeetingMinutes")
async def _minutes(w: World) -> Call:
    body = {"decisions": [{"text": "Open on Sundays"} | w.decision()]}
    return post(f"/meetings/{await meeting(w, 'opening')}/minutes", body)


@arranges("finaliseMeetingRecord")
async def _finalise(w: World) -> Call:
    return post(f"/meetings/{await meeting(w, 'opening')}/record")


@arranges("reopenMeetingRecord")
async def _reopen_record(w: World) -> Call:
    mid = await meeting(w, "opening", "record")
    return post(f"/meetings/{mid}/reopening", {"reason": "A decision was missed"})
