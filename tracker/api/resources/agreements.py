"""Agreements: how a forum decides, what members expect, what it honours; adopted by stewards."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec
from litestar import Controller, Response, get
from litestar.params import FromPath, JSONBody

from tracker.api.dependencies import Call, CommandsDep, PrincipalDep, RepositoryDep
from tracker.api.resources.common import (
    READ_ERRORS,
    created,
    new_id,
    post_command,
    post_creation,
    recorded,
    state,
)
from tracker.api.schemas import (
    ADOPTION_RULE,
    BOOTSTRAP_RULE,
    Adoption,
    Command,
    Creation,
    DecisionView,
    Name,
    Reason,
    Recorded,
    Text,
)
from tracker.api.time_travel import AsOfQuery, read_as_of
from tracker.application import agreements
from tracker.domain import Agreement
from tracker.domain.change import Change

PATH = "/agreements"

# How an amendment or rescission names its rule, for the operations' descriptions.
CHANGE_RULE = (
    "A forum with a decision rule in force names it by `decision_rule_id`, checked as an "
    "adoption's is (a 422 naming `decision_rule_id` if it is left out, unknown, another "
    "forum's, or not in force); a forum with none in force decides under no rule. A decision "
    "rule may be amended or rescinded under itself; the decision keeps its version before. "
    "With `meeting_id` (a 422 naming it if unknown or another forum's), the members the "
    "meeting records as attending are kept with the decision as `present`."
)
RESCIND_ONLY_RULE = (
    " Rescinding the forum's only decision rule leaves it with none: its next rule is "
    "adopted by bootstrap consent."
)


class ProposeAgreement(Creation, frozen=True, kw_only=True):
    """Propose an agreement for a forum, or for a purpose (in the purpose's forum)."""

    scope: Literal["forum", "purpose"]
    scope_id: UUID
    kind: Literal["decision_rule", "expectation", "constraint"]
    title: Name
    text: Text


class Amendment(Command, frozen=True, kw_only=True):
    """New text, why it changed, the forum's decision rule in force it was decided under
    (required while the forum has one) and the meeting it was decided at, if any."""

    text: Text
    reason: Reason
    decision_rule_id: UUID | None = None
    meeting_id: UUID | None = None


class Rescission(Command, frozen=True, kw_only=True):
    """Why, the forum's decision rule in force it was decided under (required while the forum
    has one) and the meeting it was decided at, if any."""

    reason: Reason
    decision_rule_id: UUID | None = None
    meeting_id: UUID | None = None


class ChangeView(msgspec.Struct, frozen=True, kw_only=True):
    """An amendment or rescission: why, the rule it was decided under (null if the forum had
    none in force, or if recorded before amendments and rescissions named one) and where."""

    reason: str
    decision: DecisionView | None
    meeting_id: UUID | None

    @classmethod
    def of(cls, c: Change | None) -> ChangeView | None:
        """The change as the API shows it."""
        if c is None:
            return None
        return cls(reason=c.reason, decision=DecisionView.of(c.decision), meeting_id=c.meeting_id)


class AgreementState(msgspec.Struct, frozen=True, kw_only=True):
    """An agreement as it stands now; `amendments` counts the amendments of its text,
    `last_amendment` is the latest (earlier ones are read with `as_of`), and `rescission` how
    it was taken out of force."""

    id: UUID
    version: int
    scope: str
    scope_id: UUID
    kind: str
    title: str
    text: str
    proposed_by: UUID
    status: str
    in_force: bool
    decision_rule: str | None
    decision: DecisionView | None
    meeting_id: UUID | None
    amendments: int
    last_amendment: ChangeView | None
    rescission: ChangeView | None
    created_on: datetime
    modified_on: datetime

    @classmethod
    def of(cls, a: Agreement) -> AgreementState:
        """The public view of the aggregate."""
        return cls(
            id=a.id,
            version=a.version,
            scope=a.scope,
            scope_id=a.scope_id,
            kind=a.kind,
            title=a.title,
            text=a.text,
            proposed_by=a.proposed_by,
            status=a.status,
            in_force=a.in_force,
            decision_rule=a.decision_rule,
            decision=DecisionView.of(a.decision),
            meeting_id=a.meeting_id,
            amendments=a.amendments,
            last_amendment=ChangeView.of(a.last_amendment),
            rescission=ChangeView.of(a.rescission),
            created_on=a.created_on,
            modified_on=a.modified_on,
        )


class AgreementController(Controller):
    """Agreements of a forum or a purpose, and their adoption, amendment and rescission."""

    path = PATH
    tags = ("agreements",)

    @post_creation(
        operation_id="proposeAgreement",
        summary="Propose an agreement for a forum or a purpose (a member)",
    )
    async def propose(
        self, data: JSONBody[ProposeAgreement], call: Call, commands: CommandsDep
    ) -> Response[Recorded]:
        """A member of the forum proposes; an integration names the member with On-Behalf-Of."""
        agreement_id, call = new_id(data, call)
        command = agreements.ProposeAgreement(
            agreement_id=agreement_id,
            scope=data.scope,
            scope_id=data.scope_id,
            kind=data.kind,
            title=data.title,
            text=data.text,
        )
        return created(await agreements.propose(commands, call, command), agreement_id, PATH)

    @get(
        "/{agreement_id:uuid}",
        operation_id="getAgreement",
        summary="Get an agreement's current state",
        responses=READ_ERRORS,
    )
    async def get_agreement(
        self,
        agreement_id: FromPath[UUID],
        principal: PrincipalDep,
        repository: RepositoryDep,
        as_of: AsOfQuery = None,
    ) -> Response[AgreementState]:
        """Loaded from its own stream; the ETag is its version."""
        agreement = await read_as_of(repository, principal, Agreement, agreement_id, as_of)
        return state(AgreementState.of(agreement), agreement.version)  # type: ignore[return-value]

    @post_command(
        "/{agreement_id:uuid}/adoption",
        operation_id="adoptAgreement",
        summary="Adopt the agreement under a rule in force, or by bootstrap consent (a steward)",
        description=ADOPTION_RULE + BOOTSTRAP_RULE,
    )
    async def adopt(
        self,
        agreement_id: FromPath[UUID],
        data: JSONBody[Adoption],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """The rule must be a decision rule of the forum in force, else a 422 naming
        `decision_rule_id`; a forum's first decision rule alone is adopted by bootstrap
        consent, and a consent that misses a member present is a 422 naming `consented_by`."""
        command = agreements.AdoptAgreement(
            agreement_id=agreement_id, basis=data.basis(), meeting_id=data.meeting_id
        )
        return recorded(await agreements.adopt(commands, call, command), agreement_id)

    @post_command(
        "/{agreement_id:uuid}/amendments",
        operation_id="amendAgreement",
        summary="Amend the text, with a reason, under the rule in force (a steward)",
        description=CHANGE_RULE,
    )
    async def amend(
        self,
        agreement_id: FromPath[UUID],
        data: JSONBody[Amendment],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """Proposed or adopted agreements may be amended; the text must change."""
        command = agreements.AmendAgreement(
            agreement_id=agreement_id,
            text=data.text,
            reason=data.reason,
            decision_rule_id=data.decision_rule_id,
            meeting_id=data.meeting_id,
        )
        return recorded(await agreements.amend(commands, call, command), agreement_id)

    @post_command(
        "/{agreement_id:uuid}/rescission",
        operation_id="rescindAgreement",
        summary="Take an adopted agreement out of force, under the rule in force (a steward)",
        description=CHANGE_RULE + RESCIND_ONLY_RULE,
    )
    async def rescind(
        self,
        agreement_id: FromPath[UUID],
        data: JSONBody[Rescission],
        call: Call,
        commands: CommandsDep,
    ) -> Response[Recorded]:
        """Rescinding a forum's only decision rule lets bootstrap consent be used again."""
        command = agreements.RescindAgreement(
            agreement_id=agreement_id,
            reason=data.reason,
            decision_rule_id=data.decision_rule_id,
            meeting_id=data.meeting_id,
        )
        return recorded(await agreements.rescind(commands, call, command), agreement_id)
