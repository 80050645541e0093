"""The approval rules on their own: pure functions over a hold, a principal and a time."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from redline.authorisation.holds import (
    Approval,
    Hold,
    HoldStatus,
    Person,
    ToolCall,
    approved,
    check_approval,
    check_denial,
    check_reason,
    hold_document,
    hold_from_document,
)
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
from redline.principals import Principal, Role

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def principal(human: str, unit: str | None, *roles: Role, key: str = "k1") -> Principal:
    return Principal(key, f"{human}-key", human, unit, frozenset(roles or (Role.AUTHORISER,)))


REQUESTER = principal("Sam Agent", "3-fires", Role.CLIENT, key="agent")
ALICE = principal("Alice Ames", "hq")
BOB = principal("Bob Burke", "legal")


@pytest.fixture
def hold() -> Hold:
    return Hold(
        id="hold_1",
        status=HoldStatus.PENDING,
        call=ToolCall("call_1", "engage_target", '{"target_id":"T-17"}', "ab" * 32, True),
        control="weapons-employment",
        clause="UOF-3",
        why="name matches 'engage_*'",
        decision_id="dec_1",
        conversation_sha256="cd" * 32,
        requester=Person.of(REQUESTER),
        policy_hash="sha256:00",
        approver_role="authoriser",
        required_approvals=2,
        requester_unit_may_approve=False,
        token_minutes=10,
        created_at=NOW,
        expires_at=NOW + dt.timedelta(hours=1),
    )


def test_two_distinct_approvals_complete_a_two_person_hold(hold: Hold) -> None:
    check_approval(hold, ALICE, NOW)
    once = approved(hold, Approval(Person.of(ALICE), "ok", NOW))
    assert once.status is HoldStatus.PENDING
    check_approval(once, BOB, NOW)
    twice = approved(once, Approval(Person.of(BOB), "ok", NOW))
    assert twice.status is HoldStatus.APPROVED
    assert twice.approvers == ("Alice Ames", "Bob Burke")


def test_the_same_human_with_another_key_cannot_approve_twice(hold: Hold) -> None:
    once = approved(hold, Approval(Person.of(ALICE), "ok", NOW))
    with pytest.raises(AlreadyApproved):
        check_approval(once, replace(ALICE, key_id="k2", name="alice-laptop"), NOW)


def test_the_requester_cannot_approve_under_any_key_or_role(hold: Hold) -> None:
    with pytest.raises(OwnHold):
        check_approval(hold, principal("Sam Agent", "elsewhere", Role.AUTHORISER, key="k9"), NOW)


def test_approval_needs_the_controls_role_and_admin_does_not_stand_in(hold: Hold) -> None:
    for roles in ((Role.CLIENT,), (Role.AUDITOR,), (Role.ADMIN,)):
        with pytest.raises(WrongRole):
            check_approval(hold, principal("Zed", "hq", *roles), NOW)


def test_the_requesters_unit_may_approve_only_when_the_control_allows(hold: Hold) -> None:
    colleague = principal("Cole", "3-fires")
    with pytest.raises(SameUnit):
        check_approval(hold, colleague, NOW)
    check_approval(replace(hold, requester_unit_may_approve=True), colleague, NOW)


def test_a_hold_past_its_expiry_is_expired_and_cannot_be_approved_or_denied(hold: Hold) -> None:
    later = hold.expires_at
    assert hold.status_at(later) is HoldStatus.EXPIRED
    with pytest.raises(HoldExpired):
        check_approval(hold, ALICE, later)
    with pytest.raises(HoldExpired):
        check_denial(hold, ALICE, later)


def test_closed_holds_refuse_further_approvals(hold: Hold) -> None:
    with pytest.raises(HoldDenied):
        check_approval(replace(hold, status=HoldStatus.DENIED), ALICE, NOW)
    with pytest.raises(HoldApproved):
        check_approval(replace(hold, status=HoldStatus.APPROVED), ALICE, NOW)


def test_a_call_with_malformed_arguments_can_be_denied_but_never_approved(hold: Hold) -> None:
    broken = replace(hold, call=replace(hold.call, arguments='{"target', arguments_valid=False))
    with pytest.raises(MalformedCall):
        check_approval(broken, ALICE, NOW)
    check_denial(broken, ALICE, NOW)


@pytest.mark.parametrize("reason", [None, "", "   ", 42, "x" * 4001])
def test_a_written_reason_is_required(reason: object) -> None:
    with pytest.raises(InvalidField):
        check_reason(reason)


def test_a_hold_survives_its_stored_form_unchanged(hold: Hold) -> None:
    decided = approved(hold, Approval(Person.of(ALICE), "PID confirmed", NOW))
    assert hold_from_document(hold_document(decided)) == decided
