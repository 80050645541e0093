"""The OpenAI wire format's error bodies, built in one place.

Every refusal names its decision id, in the body and in the ``X-Redline-Decision-Id`` header, so a
client can always find the ledger entry behind an answer.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from redline.decision import Decision
from redline.errors import RedlineError
from redline.policy import PolicyPack

DECISION_HEADER = "X-Redline-Decision-Id"
OUTCOME_HEADER = "X-Redline-Decision"


def decision_headers(decision_id: str | None, decision: Decision | None) -> dict[str, str]:
    headers = {}
    if decision_id is not None:
        headers[DECISION_HEADER] = decision_id
    if decision is not None:
        headers[OUTCOME_HEADER] = decision.kind.value
        if decision.red_line is not None:
            headers["X-Redline-Red-Line"] = decision.red_line
            headers["X-Redline-Clause"] = decision.clause or ""
    return headers


def error_response(exc: RedlineError, decision_id: str | None) -> Response:
    body = error_body(exc.message, exc.error_type, exc.code, exc.param, decision_id)
    headers = decision_headers(decision_id, None)
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return json_response(body, exc.status, headers)


def refusal_response(pack: PolicyPack, decision: Decision, decision_id: str) -> Response:
    """A policy refusal: HTTP 403, ``policy_violation``, the red line as code, the clause named."""
    if decision.clause is None:
        # Fail closed without a clause: a detector failed; this is the gateway's fault, not the
        # client's, so it is a 503 rather than a 403.
        codes = ", ".join(reason.code for reason in decision.reasons)
        body = error_body(
            f"Redline could not complete its checks ({codes}); the request was refused "
            "and recorded.",
            "server_error",
            "detector_error",
            None,
            decision_id,
        )
        return json_response(body, 503, decision_headers(decision_id, decision))
    red_line, clause = pack.clause(decision.clause)
    message = (
        f"Refused by Redline under the red line '{red_line.title}' ({red_line.id}), "
        f"clause {clause.id}: {clause.title}. Decision {decision_id}."
    )
    body = error_body(message, "policy_violation", red_line.id, None, decision_id)
    body["error"]["clause"] = clause.id
    body["error"]["reasons"] = [reason.code for reason in decision.reasons]
    return json_response(body, 403, decision_headers(decision_id, decision))


def error_body(
    message: str, error_type: str, code: str, param: str | None, decision_id: str | None
) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": error_type,
            "param": param,
            "code": code,
            "decision_id": decision_id,
        }
    }


def json_response(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type="application/json")
