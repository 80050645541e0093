"""``POST /v1/check``: the decision, as JSON, without calling any upstream.

Other gateways (a LiteLLM guardrail, Kong) use this as their policy point. The decision is
recorded like any other, so checks are accountable too.
"""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from redline.authorisation.controls import decide_with_controls
from redline.errors import LedgerUnavailable, RedlineError
from redline.explain import explain
from redline.gateway.app import Call, Gateway
from redline.gateway.wire import decision_headers, error_response
from redline.parse import parse_check, read_json
from redline.principals import Role

ENDPOINT = "/v1/check"


async def check(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    call = Call(ENDPOINT)
    try:
        call.principal = gateway.authenticate(request, Role.CLIENT)
        call.raw = await gateway.read_body(request)
        gateway.require_cosignature()
        segments, tools = parse_check(read_json(call.raw, gateway.bounds), gateway.bounds)
    except RedlineError as exc:
        return await gateway.refuse(call, exc)
    inspection = await gateway.pipeline.inspect(segments, call.principal.key_id)
    # The same decision the chat endpoint would make, governed tools included.
    _, decision = decide_with_controls(
        gateway.pack, tools, inspection.findings, inspection.failures, inspection.decision
    )
    try:
        await gateway.record(call, decision)
    except LedgerUnavailable as exc:
        return error_response(exc, None)
    document = explain(
        decision,
        pack=gateway.pack,
        pack_hash=gateway.pack_hash,
        view=inspection.view,
        decision_id=call.decision_id,
    )
    gateway.metrics.responses.labels(ENDPOINT, "200").inc()
    return Response(
        orjson.dumps(document),
        200,
        decision_headers(call.decision_id, decision),
        media_type="application/json",
    )
