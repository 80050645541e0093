"""``POST /v1/chat/completions``: authenticate → parse & bound → inspect → record → enforce.

Exactly one ledger entry per request, written before anything is sent back or forwarded: refused
requests (bad input, no key, unknown model, a red line) are recorded as ``block`` with the reason.
"""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from redline.authorisation.controls import decide_with_controls
from redline.authorisation.withhold import (
    HeldCall,
    MalformedUpstream,
    Resolve,
    StreamWithholder,
    withhold_completion,
)
from redline.canonical import sha256_digest
from redline.errors import LedgerUnavailable, RedlineError, UpstreamError, UpstreamTimeout
from redline.gateway.app import Call, Gateway
from redline.gateway.wire import decision_headers, error_response, refusal_response
from redline.parse import parse_chat, read_json
from redline.policy import Action
from redline.principals import Role
from redline.providers import UpstreamReply
from redline.store import Content, Outcome

ENDPOINT = "/v1/chat/completions"
HOLDS_HEADER = "X-Redline-Holds"


async def chat_completions(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    call = Call(ENDPOINT)
    try:
        call.principal = gateway.authenticate(request, Role.CLIENT)
        call.raw = await gateway.read_body(request)
        gateway.require_cosignature()
        chat = parse_chat(read_json(call.raw, gateway.bounds), gateway.bounds)
        call.model = chat.model
        provider = gateway.router.route(chat.model)
        call.upstream = provider.config.name
    except RedlineError as exc:
        return _respond(gateway, await gateway.refuse(call, exc))

    started = time.perf_counter()
    inspection = await gateway.pipeline.inspect(chat.segments, call.principal.key_id)
    gateway.metrics.inspection_seconds.observe(time.perf_counter() - started)
    governance, decision = decide_with_controls(
        gateway.pack, chat.tools, inspection.findings, inspection.failures, inspection.decision
    )
    try:
        await gateway.record(call, decision)
    except LedgerUnavailable as exc:
        return _respond(gateway, error_response(exc, None))
    # A hold on the request itself is enforced on the answer: calls to its governed tools wait
    # for people. Without a governed tool there is nothing to hold, so it is refused.
    if decision.kind is Action.BLOCK or (decision.kind is Action.HOLD and not governance.tools):
        return _respond(gateway, refusal_response(gateway.pack, decision, call.decision_id))

    headers = decision_headers(call.decision_id, decision)
    upstream_started = time.perf_counter()
    try:
        reply = await provider.chat(call.raw, stream=chat.stream)
    except (UpstreamError, UpstreamTimeout) as exc:
        gateway.appender.record_outcome(Outcome(call.decision_id, exc.status, None, None))
        return _respond(gateway, error_response(exc, call.decision_id))
    upstream_ms = (time.perf_counter() - upstream_started) * 1000
    gateway.metrics.upstream_seconds.labels(provider.config.name).observe(upstream_ms / 1000)
    assert call.principal is not None
    resolve: Resolve = functools.partial(
        gateway.authoriser.hold_calls,
        governance=governance,
        requester=call.principal,
        decision_id=call.decision_id,
        findings=[reason.code for reason in decision.reasons],
        conversation=chat.body.get("messages"),
        endpoint=ENDPOINT,
    )

    if reply.chunks is not None:
        return _respond(
            gateway,
            StreamingResponse(
                _relay(
                    gateway,
                    call,
                    reply,
                    upstream_ms,
                    StreamWithholder(resolve, max_event_bytes=gateway.settings.max_body_bytes),
                ),
                status_code=reply.status,
                headers=headers | {"Cache-Control": "no-cache"},
                media_type=reply.content_type,
            ),
        )
    body = reply.body or b""
    held: list[HeldCall] = []
    if reply.status == 200:
        try:
            body, held = await withhold_completion(body, resolve)
        except (MalformedUpstream, LedgerUnavailable) as exc:
            # Tool calls that cannot be read or recorded are not passed: fail closed.
            failure = _withheld_failure(exc)
            gateway.appender.record_outcome(Outcome(call.decision_id, failure.status, None, None))
            return _respond(gateway, error_response(failure, call.decision_id))
    if held:
        headers[HOLDS_HEADER] = ",".join(item.hold_id for item in held)
    _record_outcome(gateway, call, reply.status, upstream_ms, body)
    return _respond(gateway, Response(body, reply.status, headers, media_type=reply.content_type))


async def _relay(
    gateway: Gateway,
    call: Call,
    reply: UpstreamReply,
    upstream_ms: float,
    withholder: StreamWithholder,
) -> AsyncIterator[bytes]:
    """Relay the upstream's SSE stream, withholding governed tool calls; a stream that breaks,
    or whose calls cannot be judged, ends with an error event."""
    assert reply.chunks is not None
    kept: list[bytes] = []
    size = 0
    status = reply.status
    try:
        async for chunk in reply.chunks:
            events = await withholder.feed(chunk) if status == 200 else [chunk]
            for event in events:
                if size < gateway.settings.max_body_bytes:
                    kept.append(event)
                    size += len(event)
                yield event
        for event in await withholder.finish():
            yield event
    except (MalformedUpstream, LedgerUnavailable) as exc:
        failure = _withheld_failure(exc)
        status = failure.status
        yield _error_event(failure.message, failure.error_type, failure.code, call.decision_id)
    except Exception as exc:  # the upstream broke off mid-stream; aiohttp raises several kinds
        status = 502
        message = f"upstream stream broke off ({type(exc).__name__})"
        yield _error_event(message, "upstream_error", "upstream_unavailable", call.decision_id)
    finally:
        _record_outcome(gateway, call, status, upstream_ms, b"".join(kept))


def _withheld_failure(exc: MalformedUpstream | LedgerUnavailable) -> RedlineError:
    if isinstance(exc, LedgerUnavailable):
        return exc
    return UpstreamError(f"{exc}; its tool calls were withheld")


def _error_event(message: str, error_type: str, code: str, decision_id: str) -> bytes:
    error = {
        "error": {
            "message": message,
            "type": error_type,
            "param": None,
            "code": code,
            "decision_id": decision_id,
        }
    }
    return b"data: " + orjson.dumps(error) + b"\n\n"


def _record_outcome(
    gateway: Gateway, call: Call, status: int, upstream_ms: float, body: bytes
) -> None:
    digest = sha256_digest(body) if body else None
    contents = []
    if digest is not None and gateway.settings.store_bodies:
        contents.append(Content(call.decision_id, "response", digest, body))
    gateway.appender.record_outcome(
        Outcome(call.decision_id, status, upstream_ms, digest), contents
    )


def _respond(gateway: Gateway, response: Response) -> Response:
    gateway.metrics.responses.labels(ENDPOINT, str(response.status_code)).inc()
    return response
