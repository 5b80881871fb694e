"""Who may do what: one row per API operation, one column per caller and relationship.

The matrix tests send every cell's request and expect exactly this outcome; an operation
without a row fails them, and docs/access.md is rendered from here.
"""

from __future__ import annotations

from collections.abc import Mapping

ALLOWED = 200  # any 2xx
UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, UNKNOWN_FORUM = 401, 403, 404, 422
Row = Mapping[str, int]

# The callers, each in one relationship to forum A and its resources (forum B is another forum).
COLUMNS: dict[str, str] = {
    "anonymous": "no token",
    "revoked": "a revoked token (an admin's)",
    "expired": "an expired token (an admin's)",
    "deactivated": "a deactivated leader, member of forum A",
    "admin": "an admin token",
    "auditor": "an auditor token",
    "integration": "an integration token with no forum limit",
    "limited_here": "an integration limited to forum A",
    "limited_other": "an integration limited to forum B",
    "owner": "the commitment's owner; the leader a leader operation names",
    "requester": "the commitment's requester",
    "member": "a plain member of forum A; the leader a handover is offered to",
    "steward": "a steward (recorder) of forum A",
    "convenor": "forum A's convenor",
    "other_forum": "a leader of forum B only",
    "departed": "a leader who has left forum A",
}
LEADERS = ("owner", "requester", "member", "steward", "convenor", "other_forum", "departed")
OUTSIDERS = ("limited_other", "other_forum", "departed")


def row(default: int, *allowed: str, **cells: int) -> dict[str, int]:
    """Every authenticated column at `default`, the named ones allowed, then `cells` on top."""
    out = {c: default for c in COLUMNS}
    out |= {"anonymous": 401, "revoked": 401, "expired": 401, "deactivated": 403}
    return out | dict.fromkeys(allowed, ALLOWED) | cells


HIDDEN = dict.fromkeys(OUTSIDERS, NOT_FOUND)  # outside the caller's forums: an unknown id
EVERYONE = ("admin", "auditor", "integration", "limited_here", "limited_other", *LEADERS)
IN_FORUM = ("admin", "auditor", "integration", "limited_here", *LEADERS[:5])
LOG = ("admin", "auditor")
RECORDERS = ("integration", "limited_here")
STEWARDS = ("steward", "convenor")
MEMBERS = ("owner", "requester", "member", "steward", "convenor")


def leader_step(*allowed: str) -> dict[str, int]:
    """A step a leader takes themselves: no admin, auditor or integration takes it."""
    return row(FORBIDDEN, *allowed, other_forum=NOT_FOUND, departed=NOT_FOUND)


def creation(*allowed: str) -> dict[str, int]:
    """Creating something in forum A by naming its id: to an outsider, an unknown forum."""
    return row(FORBIDDEN, *allowed, **dict.fromkeys(OUTSIDERS, UNKNOWN_FORUM))


def forum_business(*allowed: str) -> dict[str, int]:
    """Running forum A's business on an existing resource."""
    return row(FORBIDDEN, *allowed, **HIDDEN)


ROWS: dict[str, Row] = {
    # Commitments
    "makeCommitment": creation("admin", *RECORDERS, *MEMBERS),
    "listCommitments": row(FORBIDDEN, *EVERYONE),
    "getCommitment": row(FORBIDDEN, *IN_FORUM, **HIDDEN),
    "getCommitmentHistory": row(FORBIDDEN, *IN_FORUM, **HIDDEN),
    "acceptCommitment": leader_step("owner"),
    "declineCommitment": leader_step("owner"),
    "counterOfferCommitment": leader_step("owner"),
    "acceptCounterOffer": leader_step("requester"),
    "withdrawCommitment": leader_step("requester"),
    "reportProgress": leader_step("owner"),
    "renegotiateCommitment": leader_step("owner"),
    "agreeRenegotiation": leader_step("requester"),
    "rejectRenegotiation": leader_step("requester"),
    "offerHandover": leader_step("owner"),
    "acceptHandover": leader_step("member"),
    "declineHandover": leader_step("member"),
    "withdrawHandover": leader_step("owner"),
    "releaseCommitment": leader_step("owner"),
    "completeCommitment": leader_step("owner"),
    "acknowledgeCompletion": leader_step("requester"),
    "disputeCompletion": leader_step("requester"),
    "cancelCommitment": leader_step("requester"),
    "reopenCommitment": leader_step("owner"),
    "linkPurpose": leader_step("owner", "requester", *STEWARDS),
    "unlinkPurpose": leader_step("owner", "requester", *STEWARDS),
    "correctCommitmentRecord": leader_step("owner", "requester", *STEWARDS),
    "commentOnCommitment": forum_business(*RECORDERS, *MEMBERS),
    # Purposes
    "proposePurpose": creation(*RECORDERS, *MEMBERS),
    "listPurposes": row(FORBIDDEN, *EVERYONE),
    "listForumPurposes": row(FORBIDDEN, *IN_FORUM, **HIDDEN),
    "getPurpose": row(FORBIDDEN, *IN_FORUM, **HIDDEN),
    "getPurposeView": row(FORBIDDEN, *IN_FORUM, **HIDDEN),
    "revisePurpose": forum_business(*RECORDERS, *MEMBERS),
    "endorsePurpose": leader_step(*MEMBERS),
    "withdrawPurposeEndorsement": leader_step(*MEMBERS),
    "adoptPurpose": forum_business("admin", *RECORDERS, *STEWARDS),
    "retirePurpose": forum_business("admin", *RECORDERS, *STEWARDS),
    # Agreements
    "proposeAgreement": creation(*RECORDERS, *MEMBERS),
    "listAgreements": row(FORBIDDEN, *EVERYONE),
    "getAgreement": row(FORBIDDEN, *IN_FORUM, **HIDDEN),
    "adoptAgreement": forum_business("admin", *RECORDERS, *STEWARDS),
    "amendAgreement": forum_business("admin", *RECORDERS, *STEWARDS),
    "rescindAgreement": forum_business("admin", *RECORDERS, *STEWARDS),
    # Forums
    "conveneForum": row(FORBIDDEN, "admin"),
    "getForum": row(FORBIDDEN, *IN_FORUM, **HIDDEN),
    "getAgreementsRegister": row(FORBIDDEN, *IN_FORUM, **HIDDEN),
    "renameForum": forum_business("admin", "convenor"),
    "admitForumMember": forum_business("admin", *STEWARDS),
    "recordMemberDeparture": forum_business("admin", "member", *STEWARDS),
    "appointSteward": forum_business("admin", "convenor"),
    "recordStewardDeparture": forum_business("admin", *STEWARDS),
    # Meetings
    "scheduleMeeting": creation("admin", *RECORDERS, *STEWARDS),
    "listMeetings": row(FORBIDDEN, *EVERYONE),
    "listForumMeetings": row(FORBIDDEN, *IN_FORUM, **HIDDEN),
    "getMeeting": row(FORBIDDEN, *IN_FORUM, **HIDDEN),
    "getMeetingView": row(FORBIDDEN, *IN_FORUM, **HIDDEN),
    "openMeeting": forum_business("admin", *RECORDERS, *STEWARDS),
    "cancelMeeting": forum_business("admin", *RECORDERS, *STEWARDS),
    "inviteToMeeting": forum_business("admin", *RECORDERS, *STEWARDS),
    "recordMeetingAttendance": forum_business("admin", *RECORDERS, *STEWARDS),
    "recordMeetingDecision": forum_business("admin", *RECORDERS, *STEWARDS),
    "recordMeetingMinutes": forum_business("admin", *RECORDERS, *STEWARDS),
    "finaliseMeetingRecord": forum_business("admin", *RECORDERS, *STEWARDS),
    "reopenMeetingRecord": forum_business("admin", *RECORDERS, *STEWARDS),
    # Leaders: `owner` is the leader the path names
    "registerLeader": row(FORBIDDEN, "admin"),
    "getLeader": row(FORBIDDEN, *EVERYONE),
    "getLeaderCommitments": row(FORBIDDEN, *EVERYONE),
    "recordAffiliation": row(FORBIDDEN, "admin", "owner"),
    "endAffiliation": row(FORBIDDEN, "admin", "owner"),
    "correctLeaderDetails": row(FORBIDDEN, "admin", "owner"),
    "deactivateLeader": row(FORBIDDEN, "admin"),
    # Organisations
    "registerOrganisation": row(FORBIDDEN, "admin"),
    "getOrganisation": row(FORBIDDEN, *EVERYONE),
    "renameOrganisation": row(FORBIDDEN, "admin"),
    "archiveOrganisation": row(FORBIDDEN, "admin"),
    "recordOrganisationSuccessor": row(FORBIDDEN, "admin"),
    # The directory: who the caller is, and who and what there is (lists show what the caller
    # may see: every organisation; the leaders and forums of the caller's forums)
    "getMe": row(FORBIDDEN, *EVERYONE),
    "listOrganisations": row(FORBIDDEN, *EVERYONE),
    "listLeaders": row(FORBIDDEN, *EVERYONE),
    "listForums": row(FORBIDDEN, *EVERYONE),
    # The log and its proofs
    "listEvents": row(FORBIDDEN, *LOG),
    "exportEvents": row(FORBIDDEN, *LOG),
    "listStreamEvents": row(FORBIDDEN, *IN_FORUM, **HIDDEN),
    "listSeals": row(FORBIDDEN, *LOG),
    "getConsistencyProof": row(FORBIDDEN, *LOG),
    "getInclusionProof": row(FORBIDDEN, *LOG),
    "getAuditPublicKey": row(FORBIDDEN, *EVERYONE),
    # Subscriptions to the change feed: each is its owner's (here the owner leader's); admins
    # manage all; to everyone else another's is an unknown id. What a subscription carries is
    # listStreamEvents' row (tests/access/test_feed.py)
    "streamEvents": row(FORBIDDEN, *EVERYONE),
    "createSubscription": row(FORBIDDEN, *EVERYONE),
    "listSubscriptions": row(FORBIDDEN, *EVERYONE),
    "getSubscription": row(NOT_FOUND, "admin", "owner"),
    "pauseSubscription": row(NOT_FOUND, "admin", "owner"),
    "resumeSubscription": row(NOT_FOUND, "admin", "owner"),
    "rotateSubscriptionSecret": row(NOT_FOUND, "admin", "owner"),
    "deleteSubscription": row(NOT_FOUND, "admin", "owner"),
    "listSubscriptionDeliveries": row(NOT_FOUND, "admin", "owner"),
    "listDeadLetters": row(NOT_FOUND, "admin", "owner"),
    "redeliverDeadLetters": row(NOT_FOUND, "admin", "owner"),
    # The service: health answers without a token, but not with a refused one
    "listProjections": row(FORBIDDEN, *EVERYONE),
    "getHealth": row(FORBIDDEN, *EVERYONE, anonymous=ALLOWED),
    "getReadiness": row(FORBIDDEN, *EVERYONE, anonymous=ALLOWED),
    "getLiveness": row(FORBIDDEN, *EVERYONE, anonymous=ALLOWED),
    # Metrics name no forum's business, but show the whole service's load and backlog
    # (public instead with TRACKER_METRICS_PUBLIC=true, for scrapers on a trusted network)
    "getMetrics": row(FORBIDDEN, *LOG),
}


def counts() -> dict[str, int]:
    """How many cells the table has, and how many of them allow or refuse."""
    cells = [v for r in ROWS.values() for v in r.values()]
    allowed = sum(v == ALLOWED for v in cells)
    return {"cells": len(cells), "allowed": allowed, "refused": len(cells) - allowed}


HEADER = """# Who may do what

Generated from `tracker/application/access.py` by `uv run tracker access`; a test fails when
this page differs from the table, when an operation of the API has no row, or when any cell's
request does not get the outcome written here. Each cell is a caller in one relationship to
forum A and its resources (a commitment owned by one leader and requested by another, a
purpose, an agreement, a meeting); forum B is another partnership. **ok** means the request
succeeds; a number is the status of the refusal, an RFC 9457 problem, and a refused request
writes nothing. 404 is the answer an unknown id gets: what lies outside a caller's forums does
not exist for them. 422 is, byte for byte but the id, the answer to a creation naming a forum
that does not exist: naming a forum outside the caller's forums confirms nothing either.
"""


def render() -> str:
    """The table as a Markdown page."""
    names = list(COLUMNS)
    legend = [f"| {i + 1} | `{c}` | {COLUMNS[c]} |" for i, c in enumerate(names)]
    head = "| operation | " + " | ".join(str(i + 1) for i in range(len(names))) + " |"
    rule = "|---|" + "---|" * len(names)
    lines = [
        f"| `{op}` | " + " | ".join(_cell(r[c]) for c in names) + " |" for op, r in ROWS.items()
    ]
    total = counts()
    summary = (
        f"{len(ROWS)} operations by {len(names)} callers: {total['cells']} cells, "
        f"{total['allowed']} allowed and {total['refused']} refused."
    )
    parts = [
        HEADER,
        "| | caller | relationship |",
        "|---|---|---|",
        *legend,
        "",
        summary,
        "",
        head,
        rule,
        *lines,
    ]
    return "\n".join(parts) + "\n"


def _cell(outcome: int) -> str:
    return "ok" if outcome == ALLOWED else str(outcome)
