"""Whether an authenticated caller may act at all: a deactivated leader may not."""

from __future__ import annotations

from tracker.application.errors import NotFound
from tracker.application.ports import Repository
from tracker.application.principal import LEADER, Principal
from tracker.domain import Leader, NotAllowed
from tracker.domain.leader import DEACTIVATED

RULE = "deactivated-leaders-cannot-act"


async def admit(repository: Repository, principal: Principal, *, fresh: bool) -> None:
    """Refuse every request of a deactivated leader's token: reads, commands and comments.

    With fresh, the leader's stream is read for newer events; without, the cached leader is
    used as it is (kept current with other processes' writes by following the log), so that a
    leader's request costs no query beyond the token's own lookup.
    """
    if principal.kind != LEADER or principal.leader_id is None:
        return
    try:
        # Inside a unit of work a cached aggregate is used without a query unless it is stale.
        with repository.unit_of_work():
            leader = await repository.read(Leader, principal.leader_id, fresh=fresh)
    except NotFound:
        # No such leader (tokens are issued only for registered ones): the resources' own rules
        # decide what a leader nobody registered may do.
        return
    if leader.status == DEACTIVATED:
        raise NotAllowed(RULE, principal.leader_id)
