"""Stable type names for every event and stream: the log's published language.

Names are written out, not derived from class names, so renaming a class never renames
stored events. Map names to the aggregates' own classes (`Commitment.Accepted`), which
apply themselves when replayed.
"""

from eventsourcing.domain import Aggregate

from tracker.domain.agreement import Agreement
from tracker.domain.commitment import Commitment
from tracker.domain.forum import Forum
from tracker.domain.leader import Leader
from tracker.domain.meeting import Meeting
from tracker.domain.organisation import Organisation
from tracker.domain.purpose import Purpose

STREAM_TYPES: dict[type[Aggregate], str] = {
    Forum: "forum",
    Leader: "leader",
    Organisation: "organisation",
    Purpose: "purpose",
    Meeting: "meeting",
    Commitment: "commitment",
    Agreement: "agreement",
}

EVENT_TYPES: dict[str, type] = {
    "forum.convened": Forum.Convened,
    "forum.renamed": Forum.Renamed,
    "forum.member_joined": Forum.MemberJoined,
    "forum.member_left": Forum.MemberLeft,
    "forum.steward_appointed": Forum.StewardAppointed,
    "forum.steward_stood_down": Forum.StewardStoodDown,
    "forum.decision_rule_adopted": Forum.DecisionRuleAdopted,
    "forum.decision_rule_rescinded": Forum.DecisionRuleRescinded,
    "leader.registered": Leader.Registered,
    "leader.affiliation_recorded": Leader.AffiliationRecorded,
    "leader.affiliation_ended": Leader.AffiliationEnded,
    "leader.details_corrected": Leader.DetailsCorrected,
    "leader.deactivated": Leader.Deactivated,
    "organisation.registered": Organisation.Registered,
    "organisation.renamed": Organisation.Renamed,
    "organisation.successor_recorded": Organisation.SuccessorRecorded,
    "organisation.archived": Organisation.Archived,
    "purpose.proposed": Purpose.Proposed,
    "purpose.revised": Purpose.Revised,
    "purpose.endorsed": Purpose.Endorsed,
    "purpose.endorsement_withdrawn": Purpose.EndorsementWithdrawn,
    "purpose.adopted": Purpose.Adopted,
    "purpose.retired": Purpose.Retired,
    "meeting.scheduled": Meeting.Scheduled,
    "meeting.invited": Meeting.Invited,
    "meeting.attendance_recorded": Meeting.AttendanceRecorded,
    "meeting.opened": Meeting.Opened,
    "meeting.decision_recorded": Meeting.DecisionRecorded,
    "meeting.record_finalised": Meeting.RecordFinalised,
    "meeting.reopened": Meeting.Reopened,
    "meeting.cancelled": Meeting.Cancelled,
    "commitment.made": Commitment.Made,
    "commitment.accepted": Commitment.Accepted,
    "commitment.declined": Commitment.Declined,
    "commitment.counter_offered": Commitment.CounterOffered,
    "commitment.counter_offer_accepted": Commitment.CounterOfferAccepted,
    "commitment.withdrawn": Commitment.Withdrawn,
    "commitment.progress_reported": Commitment.ProgressReported,
    "commitment.renegotiated": Commitment.Renegotiated,
    "commitment.renegotiation_proposed": Commitment.RenegotiationProposed,
    "commitment.renegotiation_agreed": Commitment.RenegotiationAgreed,
    "commitment.renegotiation_rejected": Commitment.RenegotiationRejected,
    "commitment.handover_offered": Commitment.HandoverOffered,
    "commitment.handover_accepted": Commitment.HandoverAccepted,
    "commitment.handover_declined": Commitment.HandoverDeclined,
    "commitment.handover_withdrawn": Commitment.HandoverWithdrawn,
    "commitment.released": Commitment.Released,
    "commitment.completed": Commitment.Completed,
    "commitment.acknowledged": Commitment.Acknowledged,
    "commitment.disputed": Commitment.Disputed,
    "commitment.cancelled": Commitment.Cancelled,
    "commitment.reopened": Commitment.Reopened,
    "commitment.purpose_linked": Commitment.PurposeLinked,
    "commitment.purpose_unlinked": Commitment.PurposeUnlinked,
    "commitment.commented": Commitment.Commented,
    "commitment.record_corrected": Commitment.RecordCorrected,
    "agreement.proposed": Agreement.Proposed,
    "agreement.adopted": Agreement.Adopted,
    "agreement.amended": Agreement.Amended,
    "agreement.rescinded": Agreement.Rescinded,
}

TYPE_NAMES: dict[type, str] = {cls: name for name, cls in EVENT_TYPES.items()}
