"""Holds and authorisation endpoints: list, show (and wait on), approve, deny, redeem, and the
public key set at ``/.well-known/jwks.json``.

Approving, denying and redeeming are acts: each one, refused or not, is recorded in the ledger,
including attempts that fail before the rules are reached (no key, a malformed body).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from redline.authorisation.holds import Hold, HoldStatus, hold_document
from redline.authorisation.verifier import TokenRefused
from redline.errors import InvalidField, RedlineError
from redline.gateway.app import Gateway
from redline.gateway.wire import error_body, error_response, json_response
from redline.ledger.authorisation_entry import Step
from redline.parse import read_json
from redline.principals import Principal

MAX_WAIT_S = 60.0
WAIT_POLL_S = 0.2
MAX_LIST = 500


async def list_holds(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    try:
        principal = gateway.authenticate(request, None)
        status = request.query_params.get("status")
        if status is not None and status not in HoldStatus.__members__.values():
            raise InvalidField(f"'status' must be one of {', '.join(HoldStatus)}", param="status")
        limit = _int_param(request, "limit", 100, MAX_LIST)
        holds = await gateway.authoriser.list(principal, status, limit)
    except RedlineError as exc:
        return error_response(exc, None)
    return json_response({"object": "list", "data": [_view(hold) for hold in holds]})


async def show_hold(request: Request) -> Response:
    """One hold; with ``?wait=N`` the answer waits up to N seconds for it to leave ``pending``."""
    gateway: Gateway = request.app.state.gateway
    endpoint = "/v1/holds/{id}"
    try:
        principal = gateway.authenticate(request, None)
        hold_id = request.path_params["hold_id"]
        wait = _float_param(request, "wait", 0.0, MAX_WAIT_S)
        deadline = time.monotonic() + wait
        hold = await gateway.authoriser.get(hold_id, principal, endpoint)
        while hold.status is HoldStatus.PENDING and time.monotonic() < deadline:
            await asyncio.sleep(min(WAIT_POLL_S, max(0.0, deadline - time.monotonic())))
            hold = await gateway.authoriser.get(hold_id, principal, endpoint)
    except RedlineError as exc:
        return error_response(exc, None)
    return json_response(_view(hold))


async def approve_hold(request: Request) -> Response:
    return await _act(request, "approve")


async def deny_hold(request: Request) -> Response:
    return await _act(request, "deny")


async def _act(request: Request, act: str) -> Response:
    gateway: Gateway = request.app.state.gateway
    endpoint = f"/v1/holds/{{id}}/{act}"
    principal: Principal | None = None
    reached = False  # past this point the authoriser records every outcome itself
    try:
        principal = gateway.authenticate(request, None)
        body = read_json(await gateway.read_body(request), gateway.bounds)
        hold_id = request.path_params["hold_id"]
        reached = True
        if act == "approve":
            hold = await gateway.authoriser.approve(
                hold_id, principal, body.get("reason"), endpoint
            )
        else:
            hold = await gateway.authoriser.deny(hold_id, principal, body.get("reason"), endpoint)
    except RedlineError as exc:
        if not reached:
            await _record_refusal(gateway, endpoint, principal, exc.code)
        return error_response(exc, None)
    return json_response(_view(hold))


async def redeem_token(request: Request) -> Response:
    """The effector's online check: verify a token for the call it is about to make, and spend
    its id so it can never authorise a second execution."""
    gateway: Gateway = request.app.state.gateway
    endpoint = "/v1/authorisation/redeem"
    principal: Principal | None = None
    reached = False
    try:
        principal = gateway.authenticate(request, None)
        body = read_json(await gateway.read_body(request), gateway.bounds)
        token, tool = body.get("token"), body.get("tool")
        if not isinstance(token, str) or not isinstance(tool, str):
            raise InvalidField("'token' and 'tool' must be strings", param="token")
        if "arguments" not in body:
            raise InvalidField("'arguments' is required", param="arguments")
        reached = True
        claims = await gateway.authoriser.redeem(
            token, tool, body["arguments"], principal, endpoint
        )
    except TokenRefused as refused:
        body = error_body(refused.message, "permission_error", refused.code, None, None)
        return json_response(body, 403)
    except RedlineError as exc:
        if not reached:
            await _record_refusal(gateway, endpoint, principal, exc.code)
        return error_response(exc, None)
    return json_response(
        {
            "valid": True,
            "token_id": claims.token_id,
            "hold": claims.hold_id,
            "tool": claims.tool,
            "approvers": list(claims.approvers),
            "requester": claims.requester,
            "expires_at": claims.expires_at,
        }
    )


async def jwks(request: Request) -> Response:
    """The public keys authorisation tokens are signed with (RFC 7517, OKP/Ed25519)."""
    gateway: Gateway = request.app.state.gateway
    keys = await asyncio.to_thread(gateway.keyring.jwks)
    return Response(
        orjson.dumps(keys),
        200,
        {"Cache-Control": "max-age=60"},
        media_type="application/jwk-set+json",
    )


async def _record_refusal(
    gateway: Gateway, endpoint: str, principal: Principal | None, code: str
) -> None:
    # If the ledger is down the act is refused anyway, and the answer says so.
    with contextlib.suppress(RedlineError):
        await gateway.authoriser.record(Step.REFUSED, endpoint, principal, None, code=code)


def _view(hold: Hold) -> dict[str, Any]:
    document = hold_document(hold)
    if hold.status is not HoldStatus.APPROVED:
        document.pop("token")
    return document


def _int_param(request: Request, name: str, default: int, limit: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= limit:
        raise InvalidField(f"'{name}' must be a whole number from 1 to {limit}", param=name)
    return int(raw)


def _float_param(request: Request, name: str, default: float, limit: float) -> float:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= limit:
        raise InvalidField(f"'{name}' must be a number of seconds from 0 to {limit:g}", param=name)
    return value
