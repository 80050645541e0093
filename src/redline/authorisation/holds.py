"""Holds: a withheld force-related tool call, and the rules for approving or denying it.

Everything here is pure: the gateway loads a hold, asks ``check_approval`` or ``check_denial``
whether an act is allowed (an ``AuthorisationRefused`` says why not), records the act in the
ledger, and only then stores it. The rules are the agreement's: the right role; never the
requester (compared on the accountable human, not on the key, so a second key does not help);
optionally not the requester's unit; distinct humans up to the required number; nothing after a
hold is denied, expired or fully approved.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from redline.errors import (
    AlreadyApproved,
    HoldApproved,
    HoldDenied,
    HoldExpired,
    InvalidField,
    MalformedCall,
    OwnHold,
    SameUnit,
    WrongRole,
)
from redline.principals import Principal

MAX_REASON_CHARS = 4000


class HoldStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Person:
    """Who acted, as the record keeps it: the key, and the accountable human behind it."""

    key_id: str
    name: str
    human: str
    unit: str | None

    @classmethod
    def of(cls, principal: Principal) -> Person:
        return cls(principal.key_id, principal.name, principal.human, principal.unit)


@dataclass(frozen=True)
class Approval:
    person: Person
    reason: str
    at: dt.datetime


@dataclass(frozen=True)
class ToolCall:
    """The exact call held: ``arguments`` is its RFC 8785 canonical JSON, or the upstream's raw
    text when that was not a JSON object (such a call is held and can never be approved)."""

    call_id: str
    tool: str
    arguments: str
    arguments_sha256: str
    arguments_valid: bool


@dataclass(frozen=True)
class Hold:
    id: str
    status: HoldStatus
    call: ToolCall
    control: str
    clause: str
    why: str
    decision_id: str
    conversation_sha256: str
    requester: Person
    policy_hash: str
    approver_role: str
    required_approvals: int
    requester_unit_may_approve: bool
    token_minutes: float
    created_at: dt.datetime
    expires_at: dt.datetime
    approvals: tuple[Approval, ...] = ()
    closed_by: Person | None = None
    closed_reason: str | None = None
    closed_at: dt.datetime | None = None
    token: str | None = None
    token_id: str | None = None
    findings: tuple[str, ...] = field(default=())

    def status_at(self, now: dt.datetime) -> HoldStatus:
        if self.status is HoldStatus.PENDING and now >= self.expires_at:
            return HoldStatus.EXPIRED
        return self.status

    @property
    def approvers(self) -> tuple[str, ...]:
        return tuple(approval.person.human for approval in self.approvals)


def new_hold_id() -> str:
    return "hold_" + secrets.token_hex(12)


def check_reason(reason: object) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidField("a written 'reason' is required", param="reason")
    if len(reason) > MAX_REASON_CHARS:
        raise InvalidField(f"'reason' is over {MAX_REASON_CHARS} characters", param="reason")
    return reason.strip()


def check_open(hold: Hold, now: dt.datetime) -> None:
    status = hold.status_at(now)
    if status is HoldStatus.EXPIRED:
        raise HoldExpired(
            f"hold {hold.id} expired at {iso_time(hold.expires_at)}; it cannot be acted on"
        )
    if status is HoldStatus.DENIED:
        raise HoldDenied(f"hold {hold.id} was denied; a denied hold cannot be approved")
    if status is HoldStatus.APPROVED:
        raise HoldApproved(f"hold {hold.id} already has all its approvals")


def check_approval(hold: Hold, principal: Principal, now: dt.datetime) -> None:
    """Raise the first rule an approval by ``principal`` would break."""
    check_open(hold, now)
    if hold.approver_role not in principal.roles:
        raise WrongRole(
            f"approving hold {hold.id} needs the '{hold.approver_role}' role; key "
            f"'{principal.name}' has {', '.join(sorted(principal.roles)) or 'none'}"
        )
    if principal.human == hold.requester.human:
        raise OwnHold(
            f"{principal.human} requested this action and cannot approve it; another "
            "accountable human must"
        )
    if (
        not hold.requester_unit_may_approve
        and hold.requester.unit is not None
        and principal.unit == hold.requester.unit
    ):
        raise SameUnit(
            f"the policy does not let the requester's own unit ({principal.unit}) approve "
            f"control '{hold.control}'"
        )
    if principal.human in hold.approvers:
        raise AlreadyApproved(
            f"{principal.human} has already approved hold {hold.id}; the rule needs "
            f"{hold.required_approvals} distinct people"
        )
    if not hold.call.arguments_valid:
        raise MalformedCall(
            f"hold {hold.id} holds a call whose arguments are not a JSON object; it cannot be "
            "approved, only denied"
        )


def check_denial(hold: Hold, principal: Principal, now: dt.datetime) -> None:
    check_open(hold, now)
    if hold.approver_role not in principal.roles:
        raise WrongRole(f"denying hold {hold.id} needs the '{hold.approver_role}' role")


def approved(hold: Hold, approval: Approval) -> Hold:
    """The hold with one more approval; fully approved once the count is reached."""
    approvals = (*hold.approvals, approval)
    complete = len(approvals) >= hold.required_approvals
    return replace(
        hold,
        approvals=approvals,
        status=HoldStatus.APPROVED if complete else HoldStatus.PENDING,
        closed_at=approval.at if complete else None,
    )


def iso_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def hold_document(hold: Hold) -> dict[str, Any]:
    """The hold as JSON: what the store keeps and the API shows (the token only once approved)."""
    return {
        "id": hold.id,
        "status": hold.status.value,
        "call": {
            "id": hold.call.call_id,
            "tool": hold.call.tool,
            "arguments": hold.call.arguments,
            "arguments_sha256": hold.call.arguments_sha256,
            "arguments_valid": hold.call.arguments_valid,
        },
        "control": hold.control,
        "clause": hold.clause,
        "why": hold.why,
        "findings": list(hold.findings),
        "decision_id": hold.decision_id,
        "conversation_sha256": hold.conversation_sha256,
        "requester": _person(hold.requester),
        "policy_hash": hold.policy_hash,
        "approver_role": hold.approver_role,
        "required_approvals": hold.required_approvals,
        "requester_unit_may_approve": hold.requester_unit_may_approve,
        "token_minutes": hold.token_minutes,
        "created_at": iso_time(hold.created_at),
        "expires_at": iso_time(hold.expires_at),
        "approvals": [
            {"by": _person(a.person), "reason": a.reason, "at": iso_time(a.at)}
            for a in hold.approvals
        ],
        "closed_by": None if hold.closed_by is None else _person(hold.closed_by),
        "closed_reason": hold.closed_reason,
        "closed_at": None if hold.closed_at is None else iso_time(hold.closed_at),
        "token": hold.token,
        "token_id": hold.token_id,
    }


def hold_from_document(document: dict[str, Any]) -> Hold:
    call = document["call"]
    closed_by = document.get("closed_by")
    closed_at = document.get("closed_at")
    return Hold(
        id=document["id"],
        status=HoldStatus(document["status"]),
        call=ToolCall(
            call["id"],
            call["tool"],
            call["arguments"],
            call["arguments_sha256"],
            call["arguments_valid"],
        ),
        control=document["control"],
        clause=document["clause"],
        why=document["why"],
        findings=tuple(document["findings"]),
        decision_id=document["decision_id"],
        conversation_sha256=document["conversation_sha256"],
        requester=Person(**document["requester"]),
        policy_hash=document["policy_hash"],
        approver_role=document["approver_role"],
        required_approvals=document["required_approvals"],
        requester_unit_may_approve=document["requester_unit_may_approve"],
        token_minutes=document["token_minutes"],
        created_at=_parse(document["created_at"]),
        expires_at=_parse(document["expires_at"]),
        approvals=tuple(
            Approval(Person(**a["by"]), a["reason"], _parse(a["at"])) for a in document["approvals"]
        ),
        closed_by=None if closed_by is None else Person(**closed_by),
        closed_reason=document.get("closed_reason"),
        closed_at=None if closed_at is None else _parse(closed_at),
        token=document.get("token"),
        token_id=document.get("token_id"),
    )


def _person(person: Person) -> dict[str, Any]:
    return {
        "key_id": person.key_id,
        "name": person.name,
        "human": person.human,
        "unit": person.unit,
    }


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)
