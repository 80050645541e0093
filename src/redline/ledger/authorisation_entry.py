"""The ledger entry for one step of a human authorisation, schema ``redline.authorisation.v1``.

Holds, approvals, denials, expiries, token redemptions, and every refused attempt at one of these
are entries in the same log as the decisions, so the chain from "the model proposed this call" to
"these two people approved exactly it" to "the effector redeemed the token" is verifiable offline
like any decision. Like ``redline.decision.v1`` the bytes are RFC 8785 canonical JSON and final;
written reasons are kept as digests (their text is in the content store, under retention).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from redline.canonical import canonical_json
from redline.ledger.entry import entry_time, principal_document
from redline.principals import Principal
from redline.store import Content

AUTHORISATION_SCHEMA = "redline.authorisation.v1"


class Step(StrEnum):
    HOLD_CREATED = "hold_created"
    APPROVED = "approved"  # one approval; ``token_id`` is set on the approval that completes it
    DENIED = "denied"
    EXPIRED = "expired"
    REFUSED = "refused"  # an approval, denial or redemption the rules refused; ``code`` says why
    REDEEMED = "redeemed"  # an effector redeemed the token with the gateway


@dataclass(frozen=True)
class HoldRef:
    """The held call an entry is about."""

    hold_id: str
    control: str
    clause: str
    tool: str
    arguments_sha256: str
    conversation_sha256: str
    origin_decision: str
    requester: str


@dataclass(frozen=True)
class AuthorisationDraft:
    decision_id: str
    time: dt.datetime
    step: Step
    endpoint: str
    principal: Principal | None
    hold: HoldRef | None
    policy_id: str
    policy_hash: str
    approvers: tuple[str, ...] = ()
    required_approvals: int | None = None
    code: str | None = None
    token_id: str | None = None
    reason_sha256: str | None = None
    contents: tuple[Content, ...] = field(default=())

    def index(self) -> tuple[str, str | None, str | None]:
        key_id = None if self.principal is None else self.principal.key_id
        return self.step.value, "use-of-force", key_id

    def encode(self, seq: int) -> bytes:
        return canonical_json(self.document(seq))

    def document(self, seq: int) -> dict[str, Any]:
        hold = self.hold
        return {
            "schema": AUTHORISATION_SCHEMA,
            "seq": seq,
            "decision_id": self.decision_id,
            "time": entry_time(self.time),
            "endpoint": self.endpoint,
            "step": self.step.value,
            "code": self.code,
            "principal": principal_document(self.principal),
            "hold": None
            if hold is None
            else {
                "id": hold.hold_id,
                "control": hold.control,
                "clause": hold.clause,
                "tool": hold.tool,
                "arguments_sha256": hold.arguments_sha256,
                "conversation_sha256": hold.conversation_sha256,
                "origin_decision": hold.origin_decision,
                "requester": hold.requester,
            },
            "approvers": list(self.approvers),
            "required_approvals": self.required_approvals,
            "token_id": self.token_id,
            "reason_sha256": self.reason_sha256,
            "policy": {"id": self.policy_id, "hash": self.policy_hash},
        }
