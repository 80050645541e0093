"""Operations endpoints: models, one decision's ledger entry, health, readiness and metrics."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from redline.errors import InvalidField, NotFound, RedlineError
from redline.gateway.app import Gateway
from redline.gateway.wire import error_response
from redline.ledger.receipts import ReceiptError, consistency, receipt
from redline.principals import Role


def _json(document: object, status: int = 200) -> Response:
    return Response(orjson.dumps(document), status, media_type="application/json")


async def models(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    try:
        gateway.authenticate(request, Role.CLIENT)
    except RedlineError as exc:
        return error_response(exc, None)
    data = [
        {"id": model, "object": "model", "created": 0, "owned_by": upstream}
        for model, upstream in gateway.router.listed_models()
    ]
    return _json({"object": "list", "data": data})


async def decision(request: Request) -> Response:
    """The ledger entry of one decision, by decision id or by sequence number (auditors)."""
    gateway: Gateway = request.app.state.gateway
    try:
        gateway.authenticate(request, Role.AUDITOR)
        wanted = request.path_params["decision_id"]
        if wanted.isdigit():
            found = gateway.store.list_entries(int(wanted), 1)
            stored = found[0] if found and found[0].seq == int(wanted) else None
        else:
            stored = gateway.store.get_entry(wanted)
        if stored is None:
            raise NotFound("no decision with that id or sequence number")
    except RedlineError as exc:
        return error_response(exc, None)
    outcome = gateway.store.get_outcome(stored.decision_id)
    return _json(
        {
            "seq": stored.seq,
            "entry": orjson.loads(stored.entry),
            "outcome": None
            if outcome is None
            else {
                "status": outcome.status,
                "upstream_ms": outcome.upstream_ms,
                "response_digest": outcome.response_digest,
            },
        }
    )


async def checkpoint(request: Request) -> Response:
    """The latest signed checkpoint, as the C2SP signed-note text (any authenticated principal)."""
    gateway: Gateway = request.app.state.gateway
    try:
        gateway.authenticate(request, None)
        latest = gateway.store.latest_checkpoint()
        if latest is None:
            raise NotFound("no checkpoint has been signed yet")
    except RedlineError as exc:
        return error_response(exc, None)
    return Response(latest.note, media_type="text/plain; charset=utf-8")


async def ledger_receipt(request: Request) -> Response:
    """A decision's receipt: its entry, the latest checkpoint, and the inclusion proof."""
    gateway: Gateway = request.app.state.gateway
    try:
        gateway.authenticate(request, None)
        document = receipt(gateway.store, request.path_params["decision_id"])
    except RedlineError as exc:
        return error_response(exc, None)
    except ReceiptError as exc:
        return error_response(NotFound(str(exc)), None)
    return _json(document)


async def ledger_consistency(request: Request) -> Response:
    """Consistency proof between two tree sizes (``?from=OLD&to=NEW``)."""
    gateway: Gateway = request.app.state.gateway
    try:
        gateway.authenticate(request, None)
        old_size = int(request.query_params.get("from", ""))
        new_size = int(request.query_params.get("to", ""))
        proof = consistency(gateway.store, old_size, new_size)
    except RedlineError as exc:
        return error_response(exc, None)
    except (ValueError, ReceiptError) as exc:
        return error_response(InvalidField(f"from/to: {exc}", param="from"), None)
    return _json({"from": old_size, "to": new_size, "consistency_proof": proof})


async def ledger_key(request: Request) -> Response:
    """The verifier key for the checkpoint signatures (public: it verifies, it cannot sign)."""
    gateway: Gateway = request.app.state.gateway
    return Response(gateway.ledger_verifier + "\n", media_type="text/plain; charset=utf-8")


async def healthz(request: Request) -> Response:
    return _json({"status": "ok"})


async def readyz(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    checks = {"ledger": gateway.appender.healthy}
    try:
        gateway.store.ping()
        checks["store"] = True
    except Exception:
        checks["store"] = False
    ready = all(checks.values())
    return _json(
        {
            "status": "ready" if ready else "not ready",
            "checks": checks,
            "policy": gateway.pack_hash,
        },
        200 if ready else 503,
    )


async def metrics(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    return Response(
        gateway.metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )
