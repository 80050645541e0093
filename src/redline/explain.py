"""Explain a decision as JSON: the red line, the clause, the reasons and the evidence.

``POST /v1/check`` and ``redline check`` print exactly this document, so other gateways and
scripts can use Redline as their policy point and see why it decided as it did.
"""

from __future__ import annotations

from typing import Any

from redline.decision import Decision
from redline.detectors import RequestView
from redline.policy import PolicyPack

_EXCERPT = 80


def explain(
    decision: Decision,
    *,
    pack: PolicyPack,
    pack_hash: str,
    view: RequestView,
    decision_id: str | None,
) -> dict[str, Any]:
    texts = {sv.segment.path: sv.segment.text for sv in view.segments}
    clause_title = None
    if decision.clause is not None:
        clause_title = pack.clause(decision.clause)[1].title
    return {
        "decision_id": decision_id,
        "decision": decision.kind.value,
        "red_line": decision.red_line,
        "clause": decision.clause,
        "clause_title": clause_title,
        "scores": decision.scores,
        "reasons": [
            {
                "code": reason.code,
                "detail": reason.detail,
                "red_line": reason.red_line,
                "clause": reason.clause,
                "category": reason.category,
                "score": reason.score,
                "evidence": [
                    {
                        "path": span.path,
                        "start": span.start,
                        "end": span.end,
                        "view": span.view,
                        "text": texts.get(span.path, "")[span.start : span.end][:_EXCERPT],
                    }
                    for span in reason.spans
                ],
            }
            for reason in decision.reasons
        ],
        "policy": {"id": pack.id, "version": pack.version, "hash": pack_hash},
    }
