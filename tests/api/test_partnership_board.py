"""A partnership board run over HTTP through two meetings, and what its chair reads out at the
second: a shared purpose adopted under the board's rule, commitments made in the room and for
an absent partner, then renegotiated, handed over, released, declined, disputed and completed
between the meetings."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tokens
from tests.clock import START, Clock

Client = AsyncTestClient[Litestar]
FIRST = START + timedelta(days=1)  # the November board
SECOND = FIRST + timedelta(days=21)  # the December board
PARTNERS = {
    "helen": ("County Council", "council", "Director of Adult Social Care"),
    "raj": ("Riverside NHS Trust", "nhs", "Head of Patient Flow"),
    "sarah": ("Vale GP Federation", "nhs", "Clinical Director"),
    "tom": ("Northgate Housing", "housing", "Head of Tenancy Support"),
    "priya": ("Carers Together", "voluntary", "Chief Executive"),
    "mark": ("County Police", "police", "Neighbourhood Inspector"),
}


def day(moment: datetime, days: int) -> str:
    return (moment.date() + timedelta(days=days)).isoformat()


class Board:
    """The board's people and the calls they make, each as themselves."""

    def __init__(self, client: Client, issue: Tokens) -> None:
        self.client, self.issue = client, issue
        self.headers: dict[str, dict[str, str]] = {}
        self.ids: dict[str, str] = {}
        self.at = 0

    async def call(self, who: str, path: str, body: Any = None, status: int = 200) -> Any:
        r = await self.client.post(path, json=body or {}, headers=self.headers[who])
        assert r.status_code == status, (path, r.text)
        found = r.json()
        # Read-your-writes: the view is read once it includes the latest write (minutes land
        # theirs under `meeting`).
        landed = found.get("meeting") or found
        self.at = max(self.at, found.get("position", 0), landed.get("position", 0))
        return found

    async def made(self, who: str, path: str, body: Any) -> str:
        return str((await self.call(who, path, body, 201))["stream_id"])

    def rule(self) -> dict[str, str]:
        """The board's decision rule in force, as a decision names it."""
        return {"decision_rule_id": self.ids["rule"]}


async def a_board(client: Client, issue: Tokens) -> Board:
    """Six partners, each a leader of their organisation, on one board chaired by Helen."""
    b = Board(client, issue)
    b.headers["admin"] = await issue.headers("admin")
    for name, (organisation, kind, title) in PARTNERS.items():
        org = await b.made("admin", "/organisations", {"name": organisation, "kind": kind})
        leader = await b.made("admin", "/leaders", {"name": name.title()})
        b.ids[name] = leader
        affiliation = {"organisation_id": org, "title": title, "from_on": "2024-04-01"}
        await b.call("admin", f"/leaders/{leader}/affiliations", affiliation)
        b.headers[name] = await issue.headers("leader", uuid.UUID(leader))
    forum = {"name": "Home from Hospital Board", "convenor_id": b.ids["helen"]}
    b.ids["forum"] = await b.made("admin", "/forums", forum)
    for name in PARTNERS:
        if name != "helen":
            await b.call("helen", f"/forums/{b.ids['forum']}/members", {"leader_id": b.ids[name]})
    return b


async def its_rule_and_purpose(b: Board) -> None:
    """The board adopts consent as its rule by everyone's consent, then its shared purpose."""
    rule = {
        "scope": "forum",
        "scope_id": b.ids["forum"],
        "kind": "decision_rule",
        "title": "Consent of partners present",
        "text": "A proposal stands unless a partner present has a reasoned objection",
    }
    b.ids["rule"] = await b.made("helen", "/agreements", rule)
    everyone = [b.ids[n] for n in PARTNERS]
    consent = {"bootstrap": "consent", "consented_by": everyone}
    await b.call("helen", f"/agreements/{b.ids['rule']}/adoption", consent)
    statement = "People fit to leave hospital are home, with support, within 48 hours"
    purpose = {"forum_id": b.ids["forum"], "statement": statement}
    b.ids["purpose"] = await b.made("helen", "/purposes", purpose)
    await b.call("helen", f"/purposes/{b.ids['purpose']}/adoption", b.rule())


async def the_first_meeting(b: Board, clock: Clock) -> dict[str, str]:
    """The November board: five partners in the room, the police send apologies."""
    pathway = {
        "forum_id": b.ids["forum"],
        "owner_id": b.ids["raj"],
        "description": "Map the discharge pathway end to end",
        "purpose_ids": [b.ids["purpose"]],
    }
    c = {"pathway": await b.made("raj", "/commitments", pathway)}
    meeting = {"forum_id": b.ids["forum"], "title": "November board", "starts_at": str(FIRST)}
    b.ids["first"] = await b.made("helen", "/meetings", meeting)
    clock.moment = FIRST + timedelta(hours=2)
    present = [n for n in PARTNERS if n != "mark"]

    def line(owner: str, description: str, due: int | None, asked_by: str | None) -> Any:
        return {
            "owner_id": b.ids[owner],
            "description": description,
            "purpose_ids": [b.ids["purpose"]],
            "due_on": None if due is None else day(FIRST, due),
            "requester_id": None if asked_by is None else b.ids[asked_by],
        }

    minuted = {
        "huddle": line("raj", "Daily discharge huddle on every medical ward", 60, "helen"),
        "flats": line("tom", "Five step-down flats ready to let", 30, "helen"),
        "reviews": line("sarah", "GP review within a day of discharge", 10, "raj"),
        "welfare": line("mark", "Welfare checks for people discharged alone", 14, "priya"),
        "briefing": line("priya", "Carers' briefing pack for ward staff", 14, "helen"),
        "report": line("helen", "Report to the Health and Wellbeing Board", 14, None),
        "backlog": line("tom", "Clear the housing adaptations backlog", None, None),
        "keysafes": line("tom", "Key safes fitted before discharge", 30, "priya"),
    }
    minutes = {
        "attendance": [
            {"leader_id": b.ids[n], "status": "attended" if n in present else "apologies"}
            for n in PARTNERS
        ],
        "decisions": [{"text": "Adopt the shared discharge protocol"} | b.rule()],
        "commitments": list(minuted.values()),
    }
    recorded = await b.call("helen", f"/meetings/{b.ids['first']}/minutes", minutes)
    b.at = max(b.at, *(x["position"] for x in recorded["commitments"]))
    # Partners in the room made theirs there and then; the police's awaits their acceptance.
    cases = [x["case"] for x in recorded["commitments"]]
    assert cases == ["made_in_room"] * 3 + ["proposed_to_absent"] + ["made_in_room"] * 4
    c |= {key: str(x["stream_id"]) for key, x in zip(minuted, recorded["commitments"], strict=True)}
    return c


async def between_the_meetings(b: Board, clock: Clock, c: dict[str, str]) -> None:
    """Three weeks of work: each change made by whoever the rules say makes it."""

    async def on(who: str, key: str, action: str, body: Any = None) -> None:
        clock.advance(hours=20)
        await b.call(who, f"/commitments/{c[key]}/{action}", body)

    await on("sarah", "reviews", "renegotiations", {"due_on": day(FIRST, 30), "reason": "Locums"})
    await on("raj", "reviews", "renegotiation-agreement")
    await on("tom", "flats", "handover-offers", {"to_id": b.ids["priya"]})
    await on("priya", "flats", "handover-acceptance")
    await on(
        "mark", "welfare", "declination", {"reason": "Not a police role; refer to the council"}
    )
    await on("tom", "backlog", "release", {"reason": "Funded by the council from April instead"})
    await on("priya", "briefing", "completion", {"reason": "Sent to every ward manager"})
    await on("helen", "briefing", "acknowledgement")
    await on("tom", "keysafes", "completion")
    await on("priya", "keysafes", "disputes", {"reason": "Two flats still have no key safe"})
    await on("raj", "huddle", "progress-reports", {"percent": 40})
    clock.advance(hours=20)
    new = {
        "forum_id": b.ids["forum"],
        "owner_id": b.ids["sarah"],
        "description": "Pharmacy to prepare discharge medicines the day before",
        "purpose_ids": [b.ids["purpose"]],
        "due_on": day(SECOND, 30),
    }
    c["pharmacy"] = await b.made("sarah", "/commitments", new)


async def test_the_chair_reads_out_what_changed_since_the_last_board(
    client: Client, issue: Tokens, clock: Clock
) -> None:
    b = await a_board(client, issue)
    await its_rule_and_purpose(b)
    c = await the_first_meeting(b, clock)
    await between_the_meetings(b, clock, c)
    meeting = {"forum_id": b.ids["forum"], "title": "December board", "starts_at": str(SECOND)}
    second = await b.made("helen", "/meetings", meeting)
    clock.moment = SECOND + timedelta(minutes=5)
    here = [{"leader_id": b.ids[n], "status": "attended"} for n in ("helen", "raj", "priya")]
    await b.call("helen", f"/meetings/{second}/minutes", {"attendance": here})

    r = await client.get(
        f"/meetings/{second}/view", params={"min_position": b.at}, headers=b.headers["helen"]
    )

    assert r.status_code == 200, r.text
    view = r.json()
    assert (view["title"], view["previous_meeting"]["title"]) == (
        "December board",
        "November board",
    )
    assert [
        (g["organisation_name"], [(a["leader_name"], a["title"]) for a in g["attendees"]])
        for g in view["attendees"]
    ] == [
        ("Carers Together", [("Priya", "Chief Executive")]),
        ("County Council", [("Helen", "Director of Adult Social Care")]),
        ("Riverside NHS Trust", [("Raj", "Head of Patient Flow")]),
    ]
    key = {v: k for k, v in c.items()}
    read_out = {
        group: sorted(key[x["commitment_id"]] for x in items)
        for group, items in view["since_previous"].items()
    }
    assert read_out == {
        "done": ["briefing"],
        "changed_terms": ["reviews"],
        "handed_over": ["flats"],
        "no_longer_pursued": ["backlog", "welfare"],
        "new": ["huddle", "keysafes", "pharmacy"],
        "still_open": ["pathway"],
        "overdue": ["report"],
    }
    assert {g: view["counts"][g] for g in read_out} == {g: len(v) for g, v in read_out.items()}
    items = {key[x["commitment_id"]]: x for xs in view["since_previous"].values() for x in xs}

    def story(name: str) -> list[str]:
        return [ch["type"].removeprefix("commitment.") for ch in items[name]["changes"]]

    assert (items["briefing"]["status"], story("briefing")) == (
        "acknowledged",
        ["made", "completed", "acknowledged"],
    )
    assert items["reviews"]["due_on"] == day(FIRST, 30)
    assert story("reviews") == ["made", "renegotiation_proposed", "renegotiation_agreed"]
    # Handed over: named as its new owner, with the organisation and role they bring.
    assert names(items["flats"]) == ("Priya", "Carers Together", "Chief Executive", "Helen")
    assert [(ch["type"], ch["actor_name"]) for ch in items["flats"]["changes"][-2:]] == [
        ("commitment.handover_offered", "Tom"),
        ("commitment.handover_accepted", "Priya"),
    ]
    assert {items[k]["status"] for k in ("welfare", "backlog")} == {"declined", "released"}
    assert story("welfare") == ["made", "declined"]
    assert (items["keysafes"]["status"], story("keysafes")[-2:]) == (
        "active",
        ["completed", "disputed"],
    )
    assert (items["huddle"]["progress"], story("huddle")) == (40, ["made", "progress_reported"])
    # Made before the first meeting and untouched since: nothing to say but that it stands.
    assert items["pathway"]["changes"] == []
    assert items["report"]["due_on"] == day(FIRST, 14) < SECOND.date().isoformat()
    assert names(items["report"]) == ("Helen", "County Council", PARTNERS["helen"][2], None)

    first = await client.get(
        f"/meetings/{b.ids['first']}/view", params={"min_position": b.at}, headers=b.headers["tom"]
    )
    before = first.json()
    assert [
        (d["text"], d["decision_rule"], d["decision_rule_id"]) for d in before["decisions"]
    ] == [("Adopt the shared discharge protocol", "Consent of partners present", b.ids["rule"])]
    assert [a["leader_name"] for a in before["apologies"]] == ["Mark"]
    made = {x["description"]: names(x) for x in before["commitments_made"]}
    assert made["Welfare checks for people discharged alone"] == (
        "Mark",
        "County Police",
        "Neighbourhood Inspector",
        "Priya",
    )


def names(item: dict[str, Any]) -> tuple[str | None, ...]:
    """The names a listed commitment shows beside its owner, organisation and requester."""
    return tuple(
        item[k] for k in ("owner_name", "owner_organisation_name", "owner_role", "requester_name")
    )
