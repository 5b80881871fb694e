"""The governance fold on its own, and the projection's tables built batch by batch against it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from projections.governance_fold import GovernanceFold
from projections.governance_view import GovernanceViews
from projections.runner import ProjectionRunner
from tests.api.seed import SEEDER, World, seed_world
from tests.decisions import BOOTSTRAP, RULED
from tracker.domain import AffiliationSnapshot, Agreement, Attendance, Meeting
from tracker.eventstore import EventStore, RecordedEvent
from tracker.eventstore.repository import Repository

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


class Log:
    """Hand-built recorded events, numbered as the log would number them."""

    def __init__(self) -> None:
        self.position = 0
        self.versions: dict[uuid.UUID, int] = {}

    def __call__(self, stream: uuid.UUID, type: str, **payload: Any) -> RecordedEvent:
        self.position += 1
        version = self.versions[stream] = self.versions.get(stream, 0) + 1
        return RecordedEvent(
            position=self.position,
            transaction_id=self.position,
            stream_id=stream,
            stream_type=type.split(".")[0],
            version=version,
            type=type,
            type_version=1,
            payload=payload,
            occurred_at=T0 + timedelta(minutes=self.position),
            recorded_at=T0,
            actor="system:test",
            on_behalf_of=None,
            source=None,
            correlation_id=None,
            causation_id=None,
            hash=b"",
        )


def ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def fold(*events: RecordedEvent) -> GovernanceFold:
    f = GovernanceFold()
    for e in events:
        f.apply(e)
    return f


def test_a_purpose_keeps_its_revisions_and_current_endorsements() -> None:
    e, purpose = Log(), uuid.uuid4()
    forum, amina, ben = ids(3)
    affiliation = {"organisation_id": ids(1)[0], "organisation_name": "NHS", "title": "Lead"}
    f = fold(
        e(purpose, "purpose.proposed", forum_id=forum, statement="Warm", proposed_by=amina),
        e(purpose, "purpose.revised", by=ben, statement="Warmer", reason="broader"),
        e(purpose, "purpose.endorsed", by=ben, affiliation=affiliation),
        e(purpose, "purpose.endorsed", by=amina, affiliation=None),
        e(purpose, "purpose.endorsement_withdrawn", by=amina),
        e(purpose, "purpose.adopted", decision_rule="consent", meeting_id=None),
    )
    row = f.purposes[str(purpose)]
    assert (row["statement"], row["original_statement"], row["status"]) == (
        "Warmer",
        "Warm",
        "adopted",
    )
    at = (T0 + timedelta(minutes=2)).isoformat()
    assert row["revisions"] == [{"statement": "Warmer", "reason": "broader", "by": ben, "at": at}]
    assert row["version"] == 6 and row["last_activity"] == (T0 + timedelta(minutes=6)).isoformat()
    assert list(f.endorsements) == [(str(purpose), ben)]
    assert f.endorsements[(str(purpose), ben)]["affiliation"] == affiliation
    assert f.withdrawn == {(str(purpose), amina)}


def test_endorsing_again_after_withdrawing_in_one_batch_keeps_the_endorsement() -> None:
    e, purpose = Log(), uuid.uuid4()
    forum, ben = ids(2)
    f = fold(
        e(purpose, "purpose.proposed", forum_id=forum, statement="Warm", proposed_by=ben),
        e(purpose, "purpose.endorsed", by=ben, affiliation=None),
        e(purpose, "purpose.endorsement_withdrawn", by=ben),
        e(purpose, "purpose.endorsed", by=ben, affiliation=None),
    )
    assert list(f.endorsements) == [(str(purpose), ben)] and f.withdrawn == set()


def test_a_purpose_scoped_agreement_belongs_to_the_purposes_forum() -> None:
    e, purpose, agreement = Log(), uuid.uuid4(), uuid.uuid4()
    forum, amina, meeting = ids(3)
    f = fold(
        e(purpose, "purpose.proposed", forum_id=forum, statement="Warm", proposed_by=amina),
        e(
            agreement,
            "agreement.proposed",
            scope="purpose",
            scope_id=str(purpose),
            kind="expectation",
            title="Report monthly",
            text="Monthly",
            proposed_by=amina,
        ),
        e(agreement, "agreement.amended", text="Every month", reason="clearer"),
        e(agreement, "agreement.adopted", decision_rule="consent", meeting_id=meeting),
        e(agreement, "agreement.rescinded", reason="superseded"),
    )
    row = f.agreements[str(agreement)]
    assert row["forum_id"] == forum and row["text"] == "Every month"
    assert [a["reason"] for a in row["amendments"]] == ["clearer"]
    assert (row["status"], row["adopted_meeting_id"], row["rescinded_reason"]) == (
        "rescinded",
        meeting,
        "superseded",
    )


def test_a_meeting_keeps_the_latest_attendance_and_every_decision() -> None:
    e, meeting = Log(), uuid.uuid4()
    forum, amina, ben, decision = ids(4)
    f = fold(
        # A v1 scheduled event has no location.
        e(meeting, "meeting.scheduled", forum_id=forum, title="Nov", starts_at=T0.isoformat()),
        e(meeting, "meeting.invited", leader_ids=[amina, ben]),
        e(meeting, "meeting.opened"),
        e(
            meeting,
            "meeting.attendance_recorded",
            attendees=[
                {"leader_id": amina, "presence": "apologies", "affiliation": None},
                {"leader_id": ben, "presence": "attended", "affiliation": None},
            ],
        ),
        e(
            meeting,
            "meeting.attendance_recorded",
            attendees=[{"leader_id": amina, "presence": "attended", "affiliation": None}],
        ),
        e(meeting, "meeting.decision_recorded", decision_id=decision, text="Pool rotas"),
        e(meeting, "meeting.record_finalised", record_version=1),
    )
    row = f.meetings[str(meeting)]
    assert (row["location"], row["status"], row["record_version"]) == ("", "finalised", 1)
    assert {k[1]: a["presence"] for k, a in f.attendance.items()} == {
        amina: "attended",
        ben: "attended",
    }
    assert [(d["decision_id"], d["position"]) for d in f.decisions] == [(decision, 6)]


async def history(repository: Repository) -> World:
    """A purpose, endorsements coming and going, agreements and two meetings, in several saves."""
    world = await seed_world(repository)
    assert world.forum is not None and world.purpose is not None
    forum, purpose = world.forum, world.purpose
    amina, ben, chloe = world.id("amina"), world.id("ben"), world.id("chloe")
    org = world.organisations["ben"]
    snapshot = AffiliationSnapshot(org.id, org.name, "Director")
    meeting = Meeting.schedule(uuid.uuid4(), forum.id, "November", T0, "Town Hall")
    other = Meeting.schedule(uuid.uuid4(), forum.id, "December", T0 + timedelta(days=30))
    purpose.endorse(ben, snapshot)
    purpose.endorse(chloe)
    await repository.save(purpose, meeting, other, context=SEEDER)
    purpose.withdraw_endorsement(chloe)
    purpose.revise(amina, "Nobody is cold or alone this winter", "loneliness too")
    meeting.open()
    meeting.record_attendance(
        [Attendance(ben, "attended", snapshot), Attendance(chloe, "apologies")]
    )
    meeting.record_decision(uuid.uuid4(), "Pool the volunteer rotas")
    other.cancel("venue closed")
    await repository.save(purpose, meeting, other, context=SEEDER)
    purpose.withdraw_endorsement(ben)
    purpose.endorse(ben, snapshot)
    purpose.adopt(RULED, meeting.id)
    meeting.finalise_record()
    rule = Agreement.propose(
        uuid.uuid4(), "forum", forum.id, "decision_rule", "Consent", "x", amina
    )
    rule.adopt(BOOTSTRAP, meeting.id, forum_has_decision_rule=False)
    scoped = Agreement.propose(
        uuid.uuid4(), "purpose", purpose.id, "expectation", "Monthly", "y", ben
    )
    scoped.amend("Report every month", "clearer")
    await repository.save(purpose, meeting, rule, scoped, context=SEEDER)
    return world


TABLES = {
    "purposes": lambda f: list(f.purposes.values()),
    "purpose_endorsements": lambda f: list(f.endorsements.values()),
    "agreements": lambda f: list(f.agreements.values()),
    "meetings": lambda f: list(f.meetings.values()),
    "meeting_attendance": lambda f: list(f.attendance.values()),
    "meeting_decisions": lambda f: f.decisions,
}


async def test_the_tables_built_two_events_at_a_time_equal_the_fold_of_the_whole_log(
    repository: Repository, store: EventStore, pool: asyncpg.Pool, database_url: str
) -> None:
    await history(repository)
    runner = ProjectionRunner(
        store, [GovernanceViews()], lambda: asyncpg.connect(database_url), batch_size=2
    )
    await runner.run_until_caught_up()
    whole = fold(*(await store.read_all(limit=10_000)).events)
    for table, rows_of in TABLES.items():
        built = await pool.fetchval(
            f"SELECT jsonb_agg(to_jsonb(t) ORDER BY to_jsonb(t)) FROM {table} t"
        )
        expected = await pool.fetchval(
            f"SELECT jsonb_agg(to_jsonb(t) ORDER BY to_jsonb(t)) "
            f"FROM jsonb_populate_recordset(NULL::{table}, $1::jsonb) t",
            rows_of(whole),
        )
        assert built == expected and built, table
    endorsers = await pool.fetch("SELECT leader_id FROM purpose_endorsements")
    assert len(endorsers) == 1  # ben endorsed again; chloe withdrew
