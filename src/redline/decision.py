"""Decide: a pure function from the policy and the findings to one explained decision.

No I/O happens here. The same inputs always give the same decision, which is what lets
``redline check`` and ``redline eval`` stand in for the gateway.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from redline.detectors import Finding, Span
from redline.policy import Action, PolicyPack


@dataclass(frozen=True)
class DetectorFailure:
    """A detector that raised or ran past its time budget; it never counts as a pass."""

    detector: str
    kind: str  # "exception" or "timeout"
    detail: str


@dataclass(frozen=True)
class Reason:
    """Why a decision went the way it did: the code, and the clause and evidence behind it."""

    code: str
    detail: str
    red_line: str | None = None
    clause: str | None = None
    category: str | None = None
    detector: str | None = None
    rule: str | None = None
    score: float | None = None
    spans: tuple[Span, ...] = ()


@dataclass(frozen=True)
class Decision:
    kind: Action
    red_line: str | None = None
    clause: str | None = None
    reasons: tuple[Reason, ...] = ()
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        return self.kind is Action.BLOCK


def decide(pack: PolicyPack, findings: list[Finding], failures: list[DetectorFailure]) -> Decision:
    scores: dict[str, float] = {}
    for finding in findings:
        scores[finding.category] = max(scores.get(finding.category, 0.0), finding.score)
    scores = {name: round(score, 4) for name, score in sorted(scores.items())}

    if failures:
        reasons = tuple(
            Reason(
                code=f"detector_error:{failure.detector}",
                detail=f"detector '{failure.detector}' failed ({failure.kind}): {failure.detail}",
                detector=failure.detector,
            )
            for failure in failures
        )
        return Decision(Action.BLOCK, reasons=reasons, scores=scores)

    triggered: list[tuple[Action, Reason]] = []
    for finding in findings:
        category = pack.categories.get(finding.category)
        if category is None:
            # A category the pack does not know is a misconfigured detector: fail closed.
            reason = Reason(
                code=f"unknown_category:{finding.category}",
                detail=f"detector '{finding.detector}' reported a category the policy lacks",
                detector=finding.detector,
                category=finding.category,
            )
            triggered.append((Action.BLOCK, reason))
            continue
        clause_id = finding.clause or category.clause
        if clause_id is None or finding.score < category.threshold:
            continue
        red_line, clause = pack.clause(clause_id)
        triggered.append(
            (
                clause.action,
                Reason(
                    code=f"{finding.detector}:{finding.rule or finding.category}",
                    detail=f"{clause.id} {clause.title}",
                    red_line=red_line.id,
                    clause=clause.id,
                    category=finding.category,
                    detector=finding.detector,
                    rule=finding.rule,
                    score=round(finding.score, 4),
                    spans=finding.spans,
                ),
            )
        )
    if not triggered:
        return Decision(Action.ALLOW, scores=scores)
    triggered.sort(key=lambda item: (item[0].severity, item[1].score or 0.0), reverse=True)
    action, top = triggered[0]
    return Decision(
        kind=action,
        red_line=top.red_line,
        clause=top.clause,
        reasons=tuple(reason for _, reason in triggered),
        scores=scores,
    )
