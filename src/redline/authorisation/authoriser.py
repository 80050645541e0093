"""The gateway's authorisation desk: it holds calls, takes approvals and denials, and redeems
tokens, recording every step (refusals included) in the ledger before the step takes effect.

Approvals and denials in one process are serialised by a lock; across processes sharing a store,
``Store.update_hold`` only succeeds on the version it read, so two approvers can never both be
counted as the last one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from redline.authorisation.controls import Governance
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
    iso_time,
    new_hold_id,
)
from redline.authorisation.keys import Keyring
from redline.authorisation.tokens import (
    TokenClaims,
    canonical_arguments,
    issue_token,
    new_claims,
)
from redline.authorisation.verifier import TokenRefused, verify
from redline.authorisation.withhold import HeldCall, ProposedCall
from redline.canonical import canonical_json, sha256_digest
from redline.errors import Conflict, LedgerUnavailable, NotFound, RedlineError
from redline.ledger import LedgerAppender, new_decision_id
from redline.ledger.authorisation_entry import AuthorisationDraft, HoldRef, Step
from redline.policy import PolicyPack
from redline.principals import Principal, Role
from redline.store import Content, Store

VIEWER_ROLES = (Role.AUTHORISER, Role.AUDITOR, Role.ADMIN)
MAX_SCAN = 5000  # holds read to answer a "pending" or "expired" listing


class Authoriser:
    def __init__(
        self,
        pack: PolicyPack,
        policy_hash: str,
        store: Store,
        appender: LedgerAppender,
        keyring: Keyring,
        issuer: str,
    ) -> None:
        self.pack = pack
        self.policy_hash = policy_hash
        self.store = store
        self.appender = appender
        self.keyring = keyring
        self.issuer = issuer
        self._lock = asyncio.Lock()

    # -- holding -----------------------------------------------------------------------------

    async def hold_calls(
        self,
        proposed: Sequence[ProposedCall],
        *,
        governance: Governance,
        requester: Principal,
        decision_id: str,
        findings: Sequence[str],
        conversation: Any,
        endpoint: str,
    ) -> list[HeldCall]:
        """Judge each proposed call; record and store a hold for each one that must wait."""
        held = []
        now = dt.datetime.now(dt.UTC)
        conversation_sha256: str | None = None
        for call in proposed:
            canonical = _canonical_arguments(call.arguments)
            verdict = governance.judge(call.tool, canonical is not None)
            if verdict.control is None:
                continue
            if conversation_sha256 is None:
                conversation_sha256 = sha256_digest(canonical_json(conversation))
            control = verdict.control
            arguments = canonical if canonical is not None else call.arguments
            hold = Hold(
                id=new_hold_id(),
                status=HoldStatus.PENDING,
                call=ToolCall(
                    call.call_id,
                    call.tool,
                    arguments,
                    hashlib.sha256(arguments.encode()).hexdigest(),
                    canonical is not None,
                ),
                control=control.id,
                clause=control.clause,
                why=verdict.why,
                decision_id=decision_id,
                conversation_sha256=conversation_sha256,
                requester=Person.of(requester),
                policy_hash=self.policy_hash,
                approver_role=control.approver_role,
                required_approvals=control.approvals,
                requester_unit_may_approve=control.requester_unit_may_approve,
                token_minutes=control.token_minutes,
                created_at=now,
                expires_at=now + dt.timedelta(minutes=control.hold_minutes),
                findings=tuple(findings),
            )
            await self.record(Step.HOLD_CREATED, endpoint, requester, hold)
            try:
                await asyncio.to_thread(self.store.create_hold, hold)
            except Exception as exc:  # the call stays withheld; the client is told why
                raise LedgerUnavailable(
                    f"the hold could not be stored ({type(exc).__name__}); the call is withheld"
                ) from exc
            held.append(HeldCall(call, hold.id, _notice(hold), _summary(hold)))
        return held

    # -- reading -----------------------------------------------------------------------------

    def visible(self, hold: Hold, principal: Principal) -> bool:
        return principal.human == hold.requester.human or any(
            role in principal.roles for role in VIEWER_ROLES
        )

    async def get(self, hold_id: str, principal: Principal, endpoint: str) -> Hold:
        hold = await asyncio.to_thread(self.store.get_hold, hold_id)
        if hold is None or not self.visible(hold, principal):
            raise NotFound(f"no hold '{hold_id}' visible to this key")
        return await self._settle_expiry(hold, endpoint)

    async def list(self, principal: Principal, status: str | None, limit: int) -> list[Hold]:
        mine_only = not any(role in principal.roles for role in VIEWER_ROLES)
        requester = principal.human if mine_only else None
        # Expiry is a matter of time, not of storage: a pending hold past its expiry lists as
        # expired (and is stored as such the first time it is acted on or read by id), so
        # "pending" and "expired" are filtered here rather than in the query.
        stored = None if status in ("pending", "expired") else status
        wanted = limit if stored == status else MAX_SCAN
        holds = await asyncio.to_thread(self.store.list_holds, stored, requester, wanted)
        now = dt.datetime.now(dt.UTC)
        return [h for h in holds if status is None or h.status_at(now) == status][:limit]

    # -- deciding ----------------------------------------------------------------------------

    async def approve(
        self, hold_id: str, principal: Principal, reason: object, endpoint: str
    ) -> Hold:
        async with self._lock:
            hold, text, now = await self._checked(
                hold_id, principal, reason, endpoint, check_approval
            )
            updated = approved(hold, Approval(Person.of(principal), text, now))
            token_id = None
            if updated.status is HoldStatus.APPROVED:
                updated = self._with_token(updated)
                token_id = updated.token_id
            await self.record(
                Step.APPROVED, endpoint, principal, updated, reason=text, token_id=token_id
            )
            await self._save(updated, hold, endpoint, principal)
            return updated

    async def deny(self, hold_id: str, principal: Principal, reason: object, endpoint: str) -> Hold:
        async with self._lock:
            hold, text, now = await self._checked(
                hold_id, principal, reason, endpoint, check_denial
            )
            updated = replace(
                hold,
                status=HoldStatus.DENIED,
                closed_by=Person.of(principal),
                closed_reason=text,
                closed_at=now,
            )
            await self.record(Step.DENIED, endpoint, principal, updated, reason=text)
            await self._save(updated, hold, endpoint, principal)
            return updated

    async def redeem(
        self, token: str, tool: str, arguments: Any, principal: Principal, endpoint: str
    ) -> TokenClaims:
        """Verify a token for the effector and spend its id, centrally; both outcomes recorded."""
        guard = _StoreReplayGuard(self.store)
        try:
            claims = await asyncio.to_thread(
                verify,
                token,
                self.keyring.public_keys(),
                tool=tool,
                arguments=arguments,
                replay=guard,
            )
        except TokenRefused as exc:
            await self.record(Step.REFUSED, endpoint, principal, None, code=exc.code)
            raise
        hold = await asyncio.to_thread(self.store.get_hold, claims.hold_id)
        await self.record(Step.REDEEMED, endpoint, principal, hold, token_id=claims.token_id)
        return claims

    # -- internals ---------------------------------------------------------------------------

    async def _checked(
        self,
        hold_id: str,
        principal: Principal,
        reason: object,
        endpoint: str,
        rule: Callable[[Hold, Principal, dt.datetime], None],
    ) -> tuple[Hold, str, dt.datetime]:
        """The hold, the reason and the time, once ``rule`` allows the act; a refusal is
        recorded before it is raised."""
        hold = await asyncio.to_thread(self.store.get_hold, hold_id)
        if hold is None:
            await self.record(Step.REFUSED, endpoint, principal, None, code="hold_not_found")
            raise NotFound(f"no hold '{hold_id}'")
        hold = await self._settle_expiry(hold, endpoint)
        now = dt.datetime.now(dt.UTC)
        try:
            text = check_reason(reason)
            rule(hold, principal, now)
        except RedlineError as exc:
            await self.record(Step.REFUSED, endpoint, principal, hold, code=exc.code)
            raise
        return hold, text, now

    async def _settle_expiry(self, hold: Hold, endpoint: str) -> Hold:
        """Store and record an expiry the first time it is noticed."""
        if hold.status_at(dt.datetime.now(dt.UTC)) is not HoldStatus.EXPIRED:
            return hold
        if hold.status is HoldStatus.EXPIRED:
            return hold
        expired = replace(hold, status=HoldStatus.EXPIRED, closed_at=hold.expires_at)
        await self.record(Step.EXPIRED, endpoint, None, expired)
        await asyncio.to_thread(
            self.store.update_hold, expired, expected_approvals=len(hold.approvals)
        )
        return expired

    def _with_token(self, hold: Hold) -> Hold:
        claims = new_claims(
            hold_id=hold.id,
            tool=hold.call.tool,
            arguments_sha256=hold.call.arguments_sha256,
            approvers=hold.approvers,
            requester=hold.requester.human,
            policy_hash=hold.policy_hash,
            issuer=self.issuer,
            lifetime_s=hold.token_minutes * 60,
        )
        return replace(
            hold, token=issue_token(claims, self.keyring.active()), token_id=claims.token_id
        )

    async def _save(self, updated: Hold, read: Hold, endpoint: str, principal: Principal) -> None:
        saved = await asyncio.to_thread(
            self.store.update_hold, updated, expected_approvals=len(read.approvals)
        )
        if not saved:
            # Another gateway process changed the hold after it was read: the step just
            # recorded did not take effect, and the record says so.
            await self.record(Step.REFUSED, endpoint, principal, read, code=Conflict.code)
            raise Conflict(f"hold {read.id} changed while this request was handled; try again")

    async def record(
        self,
        step: Step,
        endpoint: str,
        principal: Principal | None,
        hold: Hold | None,
        *,
        code: str | None = None,
        reason: str | None = None,
        token_id: str | None = None,
    ) -> None:
        decision_id = new_decision_id()
        contents: tuple[Content, ...] = ()
        reason_sha256 = None
        if reason is not None:
            body = reason.encode()
            reason_sha256 = sha256_digest(body)
            contents = (Content(decision_id, "reason", reason_sha256, body),)
        draft = AuthorisationDraft(
            decision_id=decision_id,
            time=dt.datetime.now(dt.UTC),
            step=step,
            endpoint=endpoint,
            principal=principal,
            hold=None if hold is None else _ref(hold),
            policy_id=self.pack.id,
            policy_hash=self.policy_hash,
            approvers=() if hold is None else hold.approvers,
            required_approvals=None if hold is None else hold.required_approvals,
            code=code,
            token_id=token_id,
            reason_sha256=reason_sha256,
            contents=contents,
        )
        await self.appender.append(draft)


class _StoreReplayGuard:
    """Token ids spent at the gateway, shared by every gateway process on the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def claim(self, token_id: str, expires_at: int) -> bool:
        at = dt.datetime.now(dt.UTC).isoformat()
        return self.store.redeem_token(token_id, expires_at, at)


def _canonical_arguments(arguments: str) -> str | None:
    """RFC 8785 text of the arguments, or None unless they are one JSON object that reads one
    way only (no repeated key, no number without an exact form): the bytes a token will bind."""
    try:
        canonical = canonical_arguments(arguments)
    except ValueError:
        return None
    return canonical.decode() if canonical.startswith(b"{") else None


def _ref(hold: Hold) -> HoldRef:
    return HoldRef(
        hold_id=hold.id,
        control=hold.control,
        clause=hold.clause,
        tool=hold.call.tool,
        arguments_sha256=hold.call.arguments_sha256,
        conversation_sha256=hold.conversation_sha256,
        origin_decision=hold.decision_id,
        requester=hold.requester.human,
    )


def _notice(hold: Hold) -> str:
    people = (
        "one authoriser"
        if hold.required_approvals == 1
        else (f"{hold.required_approvals} authorisers")
    )
    return (
        f"[Redline] The call {hold.call.tool} ({hold.call.call_id}) was withheld: under "
        f"{hold.clause} it needs approval by {people} before it may be carried out. "
        f"Hold {hold.id}; its status, and the authorisation token once approved, are at "
        f"GET /v1/holds/{hold.id}."
    )


def _summary(hold: Hold) -> dict[str, Any]:
    return {
        "id": hold.id,
        "status": hold.status.value,
        "tool": hold.call.tool,
        "call_id": hold.call.call_id,
        "clause": hold.clause,
        "required_approvals": hold.required_approvals,
        "expires_at": iso_time(hold.expires_at),
        "url": f"/v1/holds/{hold.id}",
    }
